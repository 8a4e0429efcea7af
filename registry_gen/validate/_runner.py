"""The validator's IO edge: read one tree or both sides of a change, run the rules.

A change is judged by the base's policy (and, when it changes the policy, by the
new one as well): see :func:`_judged_heads`. Every changed path, not only those
under ``models/``, is listed once, for the models it touches and for the
governance files it changes (RG804, :mod:`._governance`). The head is read as far
as the change can reach (:mod:`._scope`), or whole when it can alter every record.

Records come through the store's :class:`~registry_gen.store.Source` (the
working tree, or a git revision read from git objects with no checkout); the few
other questions (what git ignores, which models a change touches, the
CODEOWNERS file) go through the one git edge, :mod:`registry_gen._git`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from registry_gen import _dvc, _git
from registry_gen._manifest import parse_manifest
from registry_gen._remote_fs import open_remote
from registry_gen.codeowners import governance_owners
from registry_gen.errors import ArtifactError, UsageError
from registry_gen.paths import MODELS_DIR, POLICY_FILE
from registry_gen.schema import Policy
from registry_gen.store import (
    FileEntry,
    GitRevision,
    ModelVersion,
    RegistryIndex,
    Source,
    WorkingTree,
    build_index,
    collector_paused,
)

from ._change import change_findings
from ._committed import committed_findings
from ._findings import Finding, Findings, Report
from ._governance import governance_findings
from ._scope import full_reason, model_of, scoped_head
from ._tree import CODEOWNERS_FILE, codeowners_findings, tree_findings

log = logging.getLogger(__name__)


def validate_tree(
    root: Path | str = ".", rev: str | None = None, *, check_remote: bool = False
) -> Report:
    """Check a whole registry: the working tree at ``root``, or git revision ``rev``.

    >>> report = validate_tree("/path/to/registry")  # doctest: +SKIP
    >>> report.failed()  # doctest: +SKIP
    False

    Raises:
        UsageError: ``root`` holds no registry.
        GitError: ``rev`` is not a commit of the repository at ``root``.
        ArtifactError: with ``check_remote``, the DVC remote cannot be asked.
    """
    with collector_paused():  # the index lives only until the report is made (see there)
        return _validate_tree(Path(root), rev, check_remote)


def _validate_tree(root: Path, rev: str | None, check_remote: bool) -> Report:
    side = _load(root, rev)
    out = Findings()
    gitignores = _gitignores(side)
    tree_findings(
        side.index,
        side.files,
        gitignores,
        _read_codeowners(side.source),
        out,
        working_tree=rev is None,
    )
    committed_findings(root, side.source, list(side.index.versions()), out)
    if check_remote:
        remote_findings(root, list(side.index.versions()), out)
    return Report(tuple(_finish(side, out, gitignores)), None, side.source.label)


def validate_change(
    root: Path | str, base: str, head: str = "HEAD", *, check_remote: bool = False
) -> Report:
    """Check ``head`` as a change from ``base``, both read from git objects.

    The head is judged by what the change touches and what that can reach
    (:mod:`._scope`): its unchanged files are the base's, byte for byte. A change
    that can alter how every record reads (the policy, a redirect) is judged in full.

    >>> validate_change("/path/to/registry", "origin/main", "HEAD").change  # doctest: +SKIP

    Raises:
        GitError: ``base`` or ``head`` is not a commit of the repository at ``root``.
        ArtifactError: with ``check_remote``, the DVC remote cannot be asked.
    """
    return _judge_change(Path(root), base, head, check_remote=check_remote)


def _judge_change(
    root: Path, base: str, head: str, *, check_remote: bool = False, scoped: bool = True
) -> Report:
    """:func:`validate_change`; ``scoped=False`` reads the whole head (the tests compare)."""
    with collector_paused():  # both indexes live only until the report is made
        return _validate_change(root, base, head, check_remote, scoped)


def _validate_change(root: Path, base: str, head: str, check_remote: bool, scoped: bool) -> Report:
    head_source = GitRevision(root, head)
    base_source = GitRevision(root, base)
    paths = head_source.changed_paths(base_source.commit)
    changed = {name for path in paths if (name := model_of(path)) is not None}
    base_index = build_index(base_source, _base_files(base_source, changed))
    codeowners = _read_codeowners(head_source)
    head_side = _head_side(
        head_source,
        paths=paths,
        changed=changed,
        base=base_index,
        codeowners=codeowners,
        scoped=scoped,
    )
    out = Findings()
    summary = change_findings(
        base_index,
        head_side.index,
        out,
        base_label=base_source.label,
        head_label=head_source.label,
        changed=changed,
    )
    governance_findings(paths, governance_owners(base_index.policy), out)
    touched: set[tuple[str, int | None]] = set()
    for change in summary.models:
        touched.add((change.name, None))
        touched.update((change.name, n) for n, _ in change.registered)
        touched.update((change.name, n) for n in change.edited)
        touched.update((change.name, n) for n, _, _ in change.stage_changes)
    gitignores = _gitignores(head_side)
    for index, judges_codeowners in _judged_heads(base_index.policy, head_side.index):
        tree_findings(
            index,
            head_side.files,
            gitignores,
            codeowners if judges_codeowners and head_side.names is None else None,
            out,
            working_tree=False,
            markup_only=touched,
            names=head_side.names,
            lineage_only=head_side.lineage,
        )
    if head_side.owners is not None:
        codeowners_findings(head_side.owners, codeowners, out)
    registered = {(c.name, n) for c in summary.models for n, _ in c.registered}
    new = [v for v in head_side.index.versions() if (v.name, v.version) in registered]
    committed_findings(root, head_source, new, out)
    if check_remote:
        remote_findings(root, new, out)
    return Report(tuple(_finish(head_side, out, gitignores)), summary, head_source.label)


# Beyond this many touched models the base is listed whole (one argument each otherwise).
_LISTED_APART = 1_000


def _base_files(base: GitRevision, changed: set[str]) -> list[FileEntry]:
    """``registry.yaml`` and the base's files of the models ``changed``: only those are
    parsed on the base side, and only they are listed when they are few (at 10,000
    versions, listing all costs more than the rest of a one-model change)."""
    if len(changed) <= _LISTED_APART:
        folders = [f"{MODELS_DIR}/{name}" for name in sorted(changed)]
        found = base.list_files(POLICY_FILE, *folders)
    else:
        found = base.list_files()
    return [e for e in found if e.path == POLICY_FILE or model_of(e.path) in changed]


def _head_side(
    source: GitRevision,
    *,
    paths: Sequence[str],
    changed: set[str],
    base: RegistryIndex,
    codeowners: bytes | None,
    scoped: bool,
) -> _Side:
    """The head as the change's rules read it: scoped (:mod:`._scope`), or whole."""
    files = source.list_files()
    reason = full_reason(paths) if scoped else "asked for"
    head = scoped_head(source, files, changed, base) if reason is None else reason
    if isinstance(head, str):
        log.info("validate: judging the whole head: %s", head)
        return _Side(source, files, build_index(source, files))
    side = _Side(source, head.files, head.index, head.names, lineage=head.lineage)
    # CODEOWNERS renders every model's owners: read them all only when the change can
    # alter it (else it is the base's file for the base's owners, which passed).
    if codeowners is not None and (
        CODEOWNERS_FILE in paths or _owners_moved(base, head.index, changed)
    ):
        side.owners = head.owners(source)
    return side


def _owners_moved(base: RegistryIndex, head: RegistryIndex, changed: set[str]) -> bool:
    """Whether a touched model is registered, or owned, differently in base and head.

    What CODEOWNERS renders differs only so: a line per owned model (and per
    redirect whose old name is no model), the policy's admins (a policy change is
    judged whole).
    """

    def owners(index: RegistryIndex, name: str) -> tuple[str, ...] | None:
        model = index.models.get(name)
        return tuple(model.record.owners) if model is not None else None

    return any(owners(base, name) != owners(head, name) for name in changed)


def _judged_heads(base_policy: Policy, head: RegistryIndex) -> list[tuple[RegistryIndex, bool]]:
    """The head's records under each policy that judges them, and which one checks CODEOWNERS.

    The rules in force are the base's: a pull request that renames a stage, drops
    ``single_holder`` or loosens ``requires`` in its own registry.yaml is judged by
    the old rules. A pull request that changes the policy must also leave the tree
    valid under the new one (else the next pull request inherits its errors), so
    the head's own policy judges it too; CODEOWNERS is generated from the head's.
    """
    if head.policy == base_policy:
        return [(head, True)]
    return [(replace(head, policy=base_policy), False), (head, True)]


# ---------------------------------------------------------------------------
# Reading


@dataclass
class _Side:
    source: Source
    files: list[FileEntry]  # the files the tree rules judge
    index: RegistryIndex
    # A scoped head (see _scope): every model name, as ``files`` list only some of them;
    # every model's owners, when CODEOWNERS must be rendered again.
    names: list[str] | None = None
    owners: RegistryIndex | None = None
    lineage: frozenset[tuple[str, int]] | None = None  # the versions whose lineage is judged


def _load(root: Path, rev: str | None) -> _Side:
    source: Source = WorkingTree(root) if rev is None else GitRevision(root, rev)
    if rev is None and not (root / POLICY_FILE).is_file() and not (root / MODELS_DIR).is_dir():
        raise UsageError(
            f"{root} is not a registry: it has no {POLICY_FILE} and no {MODELS_DIR}/ folder"
        )
    files = source.list_files()
    if rev is None:
        ignored = _ignored_by_git(root)
        files = [entry for entry in files if entry.path not in ignored]
    return _Side(source, files, build_index(source, files))


def _read_codeowners(source: Source) -> bytes | None:
    """``.github/CODEOWNERS`` of the source (it is not a registry file the Source lists)."""
    if isinstance(source, GitRevision):
        return source.read_file(CODEOWNERS_FILE)
    if isinstance(source, WorkingTree):
        path = source.root / CODEOWNERS_FILE
        return path.read_bytes() if path.is_file() and not path.is_symlink() else None
    return None


def _ignored_by_git(root: Path) -> set[str]:
    """Untracked files under models/ that git ignores: they can never reach a pull request.

    That covers the artifact bytes DVC keeps next to their pointer and an editor's
    or the OS's litter (``.DS_Store``) excluded by the user's own ignore rules.
    One ``git`` process, whatever the size of the registry; empty outside git.
    """
    out = _git.run_bytes(
        root,
        "ls-files",
        "-z",
        "--others",
        "--ignored",
        "--exclude-standard",
        "--",
        MODELS_DIR,
        check=False,
    )
    if out is None:
        return set()
    # Paths are relative to the current folder (root), like FileEntry.path.
    return {p for p in out.decode("utf-8", errors="replace").split("\0") if p}


def _gitignores(side: _Side) -> dict[str, bytes]:
    folders = {v.folder for v in side.index.versions()}
    wanted = [
        e.path
        for e in side.files
        if e.path.endswith("/.gitignore")
        and e.path.rsplit("/", 1)[0] in folders
        and not e.is_symlink
    ]
    return side.source.read_many(wanted)


def _finish(side: _Side, out: Findings, gitignores: Mapping[str, bytes]) -> list[Finding]:
    needed = out.files_needing_lines() - set(gitignores)
    # A tree judged under two policies gives the findings both agree on twice.
    return list(dict.fromkeys(out.resolve_lines(side.source.read_many(sorted(needed)))))


# ---------------------------------------------------------------------------
# RG903 artifacts in the DVC remote


def remote_findings(root: Path, versions: Sequence[ModelVersion], out: Findings) -> None:
    """RG903: each version's artifact exists in the default DVC remote (no download).

    A local-folder remote is checked in DVC 3's layout (``REMOTE/files/md5/ab/cdef...``)
    with plain ``stat`` calls; any other remote through DVC's filesystem ``exists``.
    A folder artifact's files are checked too: its ``.dir`` manifest (a few hundred
    bytes a file) is the only object read.

    Raises:
        ArtifactError: DVC could not read its configuration or reach the remote.
    """
    wanted = {v.artifact_md5: v for v in versions if v.artifact_md5}
    if not wanted:
        return
    checked = _dvc.missing_objects(root, wanted)
    folders = {m: v for m, v in wanted.items() if m.endswith(".dir") and m not in checked.missing}
    contents = _folder_contents(root, sorted(folders))
    inside = {m for files in contents.values() for m in files}
    lacking = _dvc.missing_objects(root, inside).missing if inside else frozenset()
    for md5, version in sorted(wanted.items(), key=lambda kv: kv[1].record_file):
        files = [m for m in contents.get(md5, ()) if m in lacking]
        if md5 in checked.missing:
            what = "is not"
        elif files:
            what = f"has {len(files)} of its {len(contents[md5])} files (first md5 {files[0]}) not"
        else:
            continue
        out.add(
            "RG903",
            f"the artifact of {version.name} v{version.version} (md5 {md5}) {what} "
            f"in the {checked.remote}; run `dvc push {version.artifact_path}.dvc`",
            f"{version.artifact_path}.dvc",
            ("outs", 0, "md5"),
        )


def _folder_contents(root: Path, manifests: Sequence[str]) -> dict[str, list[str]]:
    """The file md5s each ``.dir`` manifest in the remote lists.

    Raises:
        ArtifactError: the remote cannot be opened, or a manifest is not DVC's JSON.
    """
    if not manifests:
        return {}
    found: dict[str, list[str]] = {}
    remote = open_remote(_dvc.DvcSource(repo_root=root))
    for md5 in manifests:
        path = remote.candidates(md5, legacy=False)[0]
        try:
            stream, _ = remote.fs.open_at(path, 0)
            try:
                data = stream.read()
            finally:
                stream.close()
            found[md5] = [entry_md5 for _relpath, entry_md5 in parse_manifest(data, md5)]
        except (OSError, ArtifactError) as error:
            raise ArtifactError(
                f"cannot read the folder manifest {md5} in the DVC remote {remote.label}: {error}"
            ) from error
    return found
