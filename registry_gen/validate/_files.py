"""RG1xx-RG3xx from the store's record errors, RG2xx from the list of files (pure)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from registry_gen.errors import RecordCode, RecordError
from registry_gen.paths import MODEL_FILE, MODELS_DIR, MOVED_FILE, POLICY_FILE, VERSION_FILE
from registry_gen.policy import name_collision
from registry_gen.store import FileEntry, RegistryIndex, path_parts
from registry_gen.uri import fold_name, is_reserved_name

from ._findings import Findings

# Files that may sit directly in models/ (init_repo keeps the empty folder in git).
MODELS_DIR_FILES = frozenset({".gitkeep"})

# The rule of each kind of record error, where the file's kind does not decide it.
_RECORD_RULES: Mapping[RecordCode, str] = {
    "missing-file": "RG104",
    "model-folder-name": "RG201",
    "name-mismatch": "RG202",
    "version-folder-name": "RG301",
    "version-mismatch": "RG301",
}
# What to do, where the store's message says only what is wrong.
_RECORD_HINTS: Mapping[RecordCode, str] = {
    "name-mismatch": "; rename the folder or fix the field (names and numbers never change)",
    "version-mismatch": "; rename the folder or fix the field (names and numbers never change)",
    "version-folder-name": "; version folders are named 1, 2, 3, ...",
}


def record_rule(error: RecordError) -> str:
    """The rule code of a record error, from its ``code`` and the kind of file it is in.

    >>> from registry_gen.errors import Location
    >>> record_rule(RecordError(Location("models/churn/model.yaml", 2), "bad", code="schema"))
    'RG101'
    """
    file = error.location.file
    if error.code in ("yaml", "schema"):
        if file.endswith(f"/{MOVED_FILE}"):
            return "RG209"
        if file == POLICY_FILE:
            return "RG102"
        return "RG103" if file.endswith(".dvc") else "RG101"
    if error.code == "model-folder-name" and is_reserved_name(PurePosixPath(file).name):
        return "RG203"
    return _RECORD_RULES[error.code]


def record_error_findings(errors: Iterable[RecordError], out: Findings) -> None:
    """Every problem of every record error the store collected, as a finding."""
    for error in errors:
        for problem in error.problems:
            where = problem.location
            code = record_rule(problem)
            message = problem.message + _RECORD_HINTS.get(problem.code, "")
            if where.field and code not in {"RG202", "RG301"}:
                message = f"{where.field}: {message}"
            out.add(code, message, where.file, line=where.line, field=where.field)


@dataclass(frozen=True)
class _FileRules:
    """What the file rules need to know about the tree, computed once."""

    artifacts: Mapping[str, frozenset[str]]  # version folder -> artifact path(s) inside it
    gitignores: Mapping[str, bytes]
    limit: int
    working_tree: bool


def _artifact_paths(files: Sequence[FileEntry], index: RegistryIndex) -> dict[str, frozenset[str]]:
    """Version folder → artifact path(s) inside it.

    A healthy version's is the one its record names. A folder the index could not
    read (its model is broken) has, as its artifacts, whatever its ``X.dvc`` files
    track: its files are still judged, without guessing more than that.
    """
    found: dict[str, set[str]] = defaultdict(set)
    for entry in files:
        parts = path_parts(entry.path)
        if len(parts) == 4 and parts[0] == MODELS_DIR and parts[3].endswith(".dvc"):
            found["/".join(parts[:3])].add(parts[3][: -len(".dvc")])
    known = {v.folder: frozenset({v.record.artifact.path}) for v in index.versions()}
    return {**{folder: frozenset(paths) for folder, paths in found.items()}, **known}


def file_findings(
    files: Sequence[FileEntry],
    index: RegistryIndex,
    gitignores: Mapping[str, bytes],
    out: Findings,
    *,
    working_tree: bool,
    names: Iterable[str] | None = None,
) -> None:
    """Every file under ``models/`` is a known registry file or a finding.

    Known files: ``models/.gitkeep``, ``models/NAME/model.yaml``, and in a version
    folder ``version.yaml``, the artifact's ``.dvc`` pointer and DVC's ``.gitignore``.
    Anything else, at any depth, is a stray file (RG207), a file too large for git
    (RG206) or a committed artifact (RG206); every file, known ones included, is held
    to ``max_git_file_bytes``. In a working tree the artifact bytes next to their
    pointer (ignored by git through DVC's .gitignore) are expected; in git they are
    an artifact committed directly.

    Two model names that differ only in case collide (RG204): among ``names``,
    every model folder (with a ``model.yaml``) of the tree, when ``files`` are
    only some of its files; else among those in ``files``.
    """
    rules = _FileRules(
        _artifact_paths(files, index), gitignores, index.policy.max_git_file_bytes, working_tree
    )
    folded: dict[str, list[str]] = defaultdict(list)
    for entry in files:
        parts = path_parts(entry.path)
        if entry.is_symlink:
            out.add(
                "RG205",
                "symlinks are not allowed in a registry (they can point outside "
                "it); replace it with the file itself",
                entry.path,
            )
        elif parts[0] == MODELS_DIR:
            if names is None and len(parts) == 3 and parts[2] == MODEL_FILE:
                folded[fold_name(parts[1])].append(parts[1])
            _models_file(entry, parts, rules, out)
    for name in names or ():
        folded[fold_name(name)].append(name)
    for alike in folded.values():
        for name in sorted(alike) if len(alike) > 1 else ():  # one name cannot collide
            out.add_problem(
                name_collision(name, alike), f"{MODELS_DIR}/{name}/{MODEL_FILE}", ("name",)
            )


def _models_file(
    entry: FileEntry, parts: tuple[str, ...], rules: _FileRules, out: Findings
) -> None:
    """RG206/RG207 for one file under ``models/``, by its depth."""
    if len(parts) == 2:
        if parts[1] not in MODELS_DIR_FILES:
            out.add(
                "RG207",
                "only model folders may sit in models/; move or delete this file",
                entry.path,
            )
        else:
            _size_limit(entry, rules, out)
    elif len(parts) == 3:
        if parts[2] not in (MODEL_FILE, MOVED_FILE):
            out.add(
                "RG207",
                f"only {MODEL_FILE} and version folders (or a renamed model's {MOVED_FILE}) "
                "may sit in a model folder; put documentation in the model's description",
                entry.path,
            )
        else:
            _size_limit(entry, rules, out)
    else:
        _version_file(entry, parts, rules, out)


def _size_limit(entry: FileEntry, rules: _FileRules, out: Findings) -> bool:
    """RG206 if a registry file is over ``max_git_file_bytes``; whether it was."""
    if entry.size <= rules.limit:
        return False
    out.add(
        "RG206",
        f"{entry.size:,} bytes is more than max_git_file_bytes ({rules.limit:,}); "
        "registry files are small text",
        entry.path,
    )
    return True


def _version_file(
    entry: FileEntry, parts: tuple[str, ...], rules: _FileRules, out: Findings
) -> None:
    """RG206/RG207/RG208 for one file inside a version folder (at any depth)."""
    folder, inner = "/".join(parts[:3]), "/".join(parts[3:])
    artifacts = rules.artifacts.get(folder, frozenset())
    if any(inner == a or inner.startswith(a + "/") for a in artifacts):
        if not rules.working_tree:
            out.add(
                "RG206",
                f"the artifact {inner.split('/')[0]!r} is committed to git; track "
                f"it with DVC instead (git rm --cached {entry.path}; dvc add; dvc push)",
                entry.path,
            )
        return
    if inner in {VERSION_FILE, ".gitignore"} or (
        inner.endswith(".dvc") and inner[: -len(".dvc")] in artifacts
    ):
        if _size_limit(entry, rules, out):
            return  # not read further: a huge .gitignore is its own finding
        if inner == ".gitignore" and entry.path in rules.gitignores and len(artifacts) == 1:
            _check_gitignore(entry.path, rules.gitignores[entry.path], next(iter(artifacts)), out)
        return
    if entry.size > rules.limit:
        out.add(
            "RG206",
            f"a {entry.size:,}-byte file committed directly; artifacts go through "
            "DVC (dvc add, dvc push) and only the .dvc pointer is committed",
            entry.path,
        )
        return
    artifact = next(iter(artifacts)) if len(artifacts) == 1 else None
    expected = (
        f"{VERSION_FILE}, {artifact}.dvc and .gitignore"
        if artifact
        else f"{VERSION_FILE}, the artifact's .dvc pointer and .gitignore"
    )
    out.add(
        "RG207", f"a version folder holds only {expected}; move or delete this file", entry.path
    )


def _check_gitignore(path: str, raw: bytes, artifact: str, out: Findings) -> None:
    lines = [line.strip() for line in raw.decode("utf-8", errors="replace").splitlines()]
    entries = [line for line in lines if line and not line.startswith("#")]
    allowed = {f"/{artifact}", artifact}
    extra = [e for e in entries if e not in allowed]
    if extra:
        out.add(
            "RG208",
            f"the .gitignore of a version folder holds only '/{artifact}' (written "
            f"by dvc add); remove {', '.join(repr(e) for e in extra)}",
            path,
            line=lines.index(extra[0]) + 1,
        )
