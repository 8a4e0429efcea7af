"""The pull-request validator: every rule of the registry, as findings with file:line.

The rules are pure functions over a :class:`~registry_gen.store.RegistryIndex`
(and, for a change, the base branch's index) plus the list of files; they
return :class:`Finding` values and never stop at the first problem. The IO is
at the edges: :func:`validate_tree` reads the working tree or one git revision,
:func:`validate_change` reads both sides of a pull request from git objects (no
checkout), so CI runs the *base* branch's validator on the PR's data and a PR
cannot weaken the check that judges it.

Rule codes are stable (``RG1xx`` schema, ``RG2xx`` names and files, ``RG3xx``
versions, ``RG4xx`` stages, ``RG5xx`` aliases, ``RG6xx`` lineage, ``RG7xx``
annotations, ``RG8xx`` approvals, ``RG9xx`` artifacts); :data:`RULES` is the
table, documented in ``docs/rules.md``.

Example:
    >>> report = validate_change("/path/to/registry", "origin/main", "HEAD")  # doctest: +SKIP
    >>> [f.code for f in report.errors]                                        # doctest: +SKIP
    ['RG404']
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from .errors import ArtifactError, NotFound, RecordError, RegistryError, UsageError
from .paths import MODEL_FILE, MODELS_DIR, POLICY_FILE, VERSION_FILE
from .schema import Policy
from .store import (
    FileEntry,
    GitRevision,
    ModelVersion,
    RegisteredModel,
    RegistryIndex,
    Source,
    WorkingTree,
    build_index,
    collector_paused,
    path_parts,
)
from .uri import RESERVED_NAMES, ModelUri, check_alias, fold_name
from .yamlio import KeyPath, YamlDocument, parse_yaml

log = logging.getLogger(__name__)

Severity = Literal["error", "warning", "notice"]
CODEOWNERS_FILE = ".github/CODEOWNERS"
# Files that may sit directly in models/ (init_repo keeps the empty folder in git).
MODELS_DIR_FILES = frozenset({".gitkeep"})


# ---------------------------------------------------------------------------
# Rules and findings


@dataclass(frozen=True)
class Rule:
    """One rule of the validator: a stable code, a short title and what it checks."""

    code: str
    title: str
    severity: Severity
    checks: str


RULES: Mapping[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule("RG101", "invalid-record", "error",
             "model.yaml and version.yaml are valid YAML and match their schema"),
        Rule("RG102", "invalid-policy", "error", "registry.yaml is valid and names known stages"),
        Rule("RG103", "invalid-dvc-pointer", "error",
             "a .dvc pointer has exactly one output, a relative path inside its folder, an md5"),
        Rule("RG104", "missing-record", "error",
             "every model folder has model.yaml, every version folder version.yaml"),
        Rule("RG201", "invalid-model-name", "error",
             "model folder names are lowercase slugs ([a-z0-9][a-z0-9._-]*, at most 64)"),
        Rule("RG202", "name-folder-mismatch", "error", "model.yaml's name equals its folder"),
        Rule("RG203", "reserved-name", "error", "model names are not reserved by the website"),
        Rule("RG204", "name-collision", "error",
             "no two model names are equal after case-folding and Unicode normalisation"),
        Rule("RG205", "symlink", "error", "no symlinks in registry.yaml or under models/"),
        Rule("RG206", "binary-in-git", "error",
             "artifacts and large files go through DVC, never committed to git"),
        Rule("RG207", "stray-file", "error", "only registry files sit under models/"),
        Rule("RG208", "gitignore-content", "error",
             "a version folder's .gitignore holds only its artifact's ignore line"),
        Rule("RG301", "version-folder-mismatch", "error",
             "version folders are numbers and match the version in version.yaml"),
        Rule("RG302", "version-gap", "error", "a model's versions are 1..N with no gaps"),
        Rule("RG303", "version-number", "error", "a new version is the base's highest + 1"),
        Rule("RG304", "version-deleted", "error", "merged versions and models are never deleted"),
        Rule("RG305", "immutable-field", "error",
             "version, artifact, its hash, lineage, created_at/by never change once merged"),
        Rule("RG401", "unknown-stage", "error",
             "a version's stage is one of registry.yaml's stages, exact case"),
        Rule("RG402", "stage-transition", "error",
             "a stage change is an allowed transition in the base's registry.yaml"),
        Rule("RG403", "initial-stage", "error",
             "a new version starts in the default stage or one reachable from it"),
        Rule("RG404", "single-holder", "error",
             "single-holder stages (default Production) hold at most one version per model"),
        Rule("RG405", "stage-requirement", "error",
             "a version meets its stage's requirements (default Production: description, metrics)"),
        Rule("RG501", "alias-target", "error", "an alias points at an existing version"),
        Rule("RG502", "alias-name", "error", "an alias is not a number, latest or a stage name"),
        Rule("RG503", "alias-stage", "error",
             "an alias does not point at a version in alias_forbidden_stages (default Archived)"),
        Rule("RG601", "lineage-parent", "error", "lineage parents resolve to a model version"),
        Rule("RG602", "lineage-cycle", "error", "no version is its own ancestor"),
        Rule("RG603", "lineage-unpinned", "warning",
             "lineage parents name an exact version, not a stage, alias or latest"),
        Rule("RG701", "unsafe-markup", "warning",
             "descriptions hold no raw HTML or javascript:/data: links (the site strips them)"),
        Rule("RG801", "approval-needed", "notice",
             "who must approve: owners of changed models, approvers of target stages"),
        Rule("RG802", "codeowners-stale", "error",
             ".github/CODEOWNERS (if present) matches `registry-gen codeowners`"),
        Rule("RG803", "owner-format", "warning",
             "owners are @user, @org/team or an e-mail, so CODEOWNERS can enforce them"),
        Rule("RG901", "missing-pointer", "error",
             "every version has the .dvc pointer of its artifact"),
        Rule("RG902", "pointer-path", "error",
             "the .dvc pointer tracks the artifact version.yaml names"),
        Rule("RG903", "artifact-not-in-remote", "error",
             "with --check-remote: each new artifact exists in the DVC remote"),
    )
}


@dataclass(frozen=True)
class Finding:
    """One problem (or notice) the validator found, with where it is and what to do.

    >>> str(Finding("RG404", "two versions in Production", "models/churn/3/version.yaml", 2))
    'models/churn/3/version.yaml:2: RG404 error: two versions in Production'
    """

    code: str
    message: str
    file: str | None = None
    line: int | None = None
    severity: Severity = "error"
    field: str | None = None

    @property
    def title(self) -> str:
        return RULES[self.code].title

    @property
    def where(self) -> str:
        if self.file is None:
            return "(registry)"
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def __str__(self) -> str:
        return f"{self.where}: {self.code} {self.severity}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "title": self.title, "severity": self.severity,
                "message": self.message, "file": self.file, "line": self.line,
                "field": self.field}


@dataclass(frozen=True)
class ModelChange:
    """What a change does to one registered model, for the summary in words."""

    name: str
    created: bool = False
    registered: tuple[tuple[int, str], ...] = ()  # (version, stage)
    stage_changes: tuple[tuple[int, str, str], ...] = ()  # (version, from, to)
    aliases_set: tuple[tuple[str, int | None, int], ...] = ()  # (alias, old, new)
    aliases_removed: tuple[tuple[str, int], ...] = ()
    edited: tuple[int, ...] = ()  # versions whose mutable fields changed
    record_edited: bool = False  # model.yaml changed beyond aliases
    approvers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeSummary:
    """The change from ``base`` to ``head``: per model, and whether the policy changed."""

    base: str
    head: str
    models: tuple[ModelChange, ...] = ()
    policy_changed: bool = False
    stage_order: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """Everything :func:`validate_tree` / :func:`validate_change` found."""

    findings: tuple[Finding, ...]
    change: ChangeSummary | None = None
    revision: str = "working tree"

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def notices(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "notice"]

    def failed(self, strict: bool = False) -> bool:
        """True if there is an error, or (``strict``) a warning."""
        return bool(self.errors or (strict and self.warnings))


# ---------------------------------------------------------------------------
# Collecting findings; lines are looked up at the end, one batched read


@dataclass
class _Pending:
    code: str
    message: str
    file: str | None
    key: KeyPath | None
    line: int | None
    severity: Severity
    field: str | None


class Findings:
    """Collects findings; the line of a key path is resolved later by :func:`resolve_lines`."""

    def __init__(self) -> None:
        self.pending: list[_Pending] = []

    def add(self, code: str, message: str, file: str | None = None, key: KeyPath | None = None,
            *, line: int | None = None, severity: Severity | None = None) -> None:
        dotted = ".".join(str(k) for k in key) if key else None
        self.pending.append(_Pending(code, message, file, key, line,
                                     severity or RULES[code].severity, dotted))

    def resolve_lines(self, blobs: Mapping[str, bytes]) -> list[Finding]:
        """Findings with the line of each key path, from the record texts in ``blobs``."""
        documents: dict[str, YamlDocument | None] = {}
        for pending in self.pending:
            file = pending.file
            if pending.key is not None and pending.line is None and file is not None \
                    and file in blobs:
                if file not in documents:
                    try:
                        documents[file] = parse_yaml(blobs[file], file)
                    except RecordError:
                        documents[file] = None
                document = documents[file]
                if document is not None:
                    pending.line = document.line_of(pending.key)
        found = [Finding(p.code, p.message, p.file, p.line, p.severity, p.field)
                 for p in self.pending]
        return sorted(found, key=lambda f: (f.file or "", f.line or 0, f.code, f.message))

    def files_needing_lines(self) -> set[str]:
        return {p.file for p in self.pending
                if p.key is not None and p.line is None and p.file is not None}


# ---------------------------------------------------------------------------
# RG1xx-RG3xx from the errors the store collected while reading


def record_error_findings(errors: Iterable[RecordError], out: Findings) -> None:
    """Map the store's :class:`RecordError` values to rule codes."""
    for error in errors:
        where = error.location
        parts = PurePosixPath(where.file).parts
        message = error.message
        if where.file == POLICY_FILE:
            code = "RG102"
        elif where.file.endswith(".dvc"):
            code = "RG103"
        elif message.startswith("missing:"):
            code = "RG104"
        elif "does not match its folder" in message:
            code = "RG202" if where.field == "name" else "RG301"
            message += "; rename the folder or fix the field (names and numbers never change)"
        elif len(parts) == 2 and parts[0] == MODELS_DIR:
            code = "RG203" if parts[1] in RESERVED_NAMES else "RG201"
        elif len(parts) == 3 and parts[0] == MODELS_DIR:
            code = "RG301"
            message += "; version folders are named 1, 2, 3, ..."
        else:
            code = "RG101"
        if where.field and code not in {"RG202", "RG301"}:
            message = f"{where.field}: {message}"
        out.add(code, message, where.file, line=where.line)


# ---------------------------------------------------------------------------
# RG2xx names and files


def _artifact_paths(index: RegistryIndex) -> dict[str, str]:
    """Version folder → artifact path inside it, for every healthy version."""
    return {v.folder: v.record.artifact.path for v in index.versions()}


def file_findings(
    files: Sequence[FileEntry], index: RegistryIndex, gitignores: Mapping[str, bytes],
    out: Findings, *, working_tree: bool,
) -> None:
    """Symlinks, collisions, stray files, binaries in git and .gitignore contents.

    In a working tree the artifact bytes next to their pointer (ignored by git
    through DVC's .gitignore) are expected; in git they are an artifact committed
    directly.
    """
    artifacts = _artifact_paths(index)
    healthy = set(index.models)
    folded: dict[str, list[str]] = defaultdict(list)
    limit = index.policy.max_git_file_bytes
    for entry in files:
        parts = path_parts(entry.path)
        if entry.is_symlink:
            out.add("RG205", "symlinks are not allowed in a registry (they can point outside "
                    "it); replace it with the file itself", entry.path)
            continue
        if parts[0] != MODELS_DIR:
            continue
        if len(parts) == 2:
            if parts[1] not in MODELS_DIR_FILES:
                out.add("RG207", "only model folders may sit in models/; move or delete this file",
                        entry.path)
            continue
        name = parts[1]
        if len(parts) == 3 and parts[2] == MODEL_FILE:
            folded[fold_name(name)].append(name)
        if name not in healthy:
            continue  # its records are broken: RG1xx/RG2xx already say why
        if len(parts) == 3:
            if parts[2] != MODEL_FILE:
                out.add("RG207", f"only {MODEL_FILE} and version folders may sit in a model "
                        "folder; put documentation in the model's description", entry.path)
            continue
        folder = "/".join(parts[:3])
        artifact = artifacts.get(folder)
        inner = "/".join(parts[3:])
        if artifact is not None and (inner == artifact or inner.startswith(artifact + "/")):
            if not working_tree:
                out.add("RG206", f"the artifact {artifact!r} is committed to git; track it with "
                        f"DVC instead (git rm --cached {entry.path}; dvc add; dvc push)",
                        entry.path)
            continue
        if artifact is not None and inner in {VERSION_FILE, f"{artifact}.dvc", ".gitignore"}:
            if inner == ".gitignore" and entry.path in gitignores:
                _check_gitignore(entry.path, gitignores[entry.path], artifact, out)
            if entry.size > limit and inner != ".gitignore":
                out.add("RG206", f"{entry.size} bytes is more than max_git_file_bytes "
                        f"({limit}); keep records small", entry.path)
            continue
        if entry.size > limit:
            out.add("RG206", f"a {entry.size}-byte file committed directly; artifacts go through "
                    "DVC (dvc add, dvc push) and only the .dvc pointer is committed", entry.path)
        else:
            expected = f"{VERSION_FILE}, {artifact}.dvc and .gitignore" if artifact else \
                f"{VERSION_FILE}, the artifact's .dvc pointer and .gitignore"
            out.add("RG207", f"a version folder holds only {expected}; move or delete this file",
                    entry.path)
    for names in folded.values():
        if len(set(names)) > 1:
            for name in sorted(names):
                others = ", ".join(repr(n) for n in sorted(names) if n != name)
                out.add("RG204", f"model name {name!r} collides with {others} after case-folding "
                        "and Unicode normalisation; URLs and case-insensitive file systems "
                        "cannot tell them apart. Rename one.",
                        f"{MODELS_DIR}/{name}/{MODEL_FILE}", ("name",))


def _check_gitignore(path: str, raw: bytes, artifact: str, out: Findings) -> None:
    lines = [line.strip() for line in raw.decode("utf-8", errors="replace").splitlines()]
    entries = [line for line in lines if line and not line.startswith("#")]
    allowed = {f"/{artifact}", artifact}
    extra = [e for e in entries if e not in allowed]
    if extra:
        out.add("RG208", f"the .gitignore of a version folder holds only '/{artifact}' (written "
                f"by dvc add); remove {', '.join(repr(e) for e in extra)}", path,
                line=lines.index(extra[0]) + 1)


# ---------------------------------------------------------------------------
# Tree rules: RG3xx gaps, RG4xx stages, RG5xx aliases, RG6xx lineage, RG7xx, RG9xx


def version_gap_findings(index: RegistryIndex, out: Findings) -> None:
    for model in index.models.values():
        numbers = [v.version for v in model.versions]
        expected = list(range(1, len(numbers) + 1))
        if numbers != expected:
            missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
            first_bad = next(n for n, e in zip(numbers, expected, strict=True) if n != e)
            out.add("RG302", f"{model.name} has {model.describe_versions()}: versions are "
                    f"numbered 1..N with no gaps; missing {', '.join(map(str, missing))}",
                    model.version(first_bad).record_file, ("version",))


def stage_findings(index: RegistryIndex, out: Findings) -> None:
    """Stage names, single-holder stages and stage requirements on the whole tree."""
    policy = index.policy
    known = set(policy.stages)
    for model in index.models.values():
        for version in model.versions:
            if version.stage not in known:
                canonical = policy.canonical_stage(version.stage)
                hint = (f"write {canonical!r} (stages are case-sensitive in records)" if canonical
                        else f"use one of {', '.join(policy.stages)} (registry.yaml)")
                out.add("RG401", f"stage {version.stage!r} is not a stage of this registry; "
                        f"{hint}", version.record_file, ("stage",))
                continue
            _requirement_findings(policy, version, out)
        for stage in policy.single_holder:
            holders = model.in_stage(stage)
            if len(holders) > 1:
                listed = ", ".join(f"v{v.version}" for v in reversed(holders))
                for holder in holders:
                    out.add("RG404", f"{model.name} has {len(holders)} versions in {stage} "
                            f"({listed}) but {stage} holds one; move the others out (e.g. "
                            f"registry-gen promote {model.name} {holders[0].version} {stage} "
                            "--archive-existing)", holder.record_file, ("stage",))


def _requirement_findings(policy: Policy, version: ModelVersion, out: Findings) -> None:
    requirement = policy.requires.get(version.stage)
    if requirement is None:
        return
    record = version.record
    missing: list[str] = []
    if requirement.description and not record.description.strip():
        missing.append("a description")
    if requirement.metrics is True and not record.metrics:
        missing.append("metrics")
    elif isinstance(requirement.metrics, list):
        absent = [m for m in requirement.metrics if m not in record.metrics]
        if absent:
            missing.append("metrics " + ", ".join(absent))
    if requirement.signature and record.signature is None:
        missing.append("a signature")
    if requirement.run and not (record.lineage.run_id or record.lineage.run_url):
        missing.append("lineage.run_id or lineage.run_url")
    if missing:
        out.add("RG405", f"{version.stage} requires {' and '.join(missing)} (registry.yaml "
                f"requires.{version.stage}); add them to this version.yaml",
                version.record_file, ("stage",))


def alias_findings(index: RegistryIndex, out: Findings) -> None:
    policy = index.policy
    stages = tuple(policy.stages)
    for model in index.models.values():
        for alias, number in model.aliases.items():
            key: KeyPath = ("aliases", alias)
            try:
                check_alias(alias, stages)
            except RegistryError as error:
                out.add("RG502", f"{error}; models:/{model.name}@{alias} would be ambiguous",
                        model.record_file, key)
            try:
                target = model.version(number)
            except NotFound:
                out.add("RG501", f"alias {alias!r} points at v{number}, but {model.name} has "
                        f"{model.describe_versions()}; point it at an existing version",
                        model.record_file, key)
                continue
            if target.stage in policy.alias_forbidden_stages:
                out.add("RG503", f"alias {alias!r} points at v{number}, which is {target.stage}; "
                        f"move the alias to a live version or remove it (registry.yaml "
                        "alias_forbidden_stages)", model.record_file, key)


def lineage_findings(index: RegistryIndex, out: Findings) -> None:
    """Parents resolve against this index; no version is its own ancestor."""
    edges: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for version in index.versions():
        node = (version.name, version.version)
        edges[node] = []
        for i, parent in enumerate(version.record.lineage.parents):
            key: KeyPath = ("lineage", "parents", i)
            uri = ModelUri.parse(parent)  # the schema already checked the grammar
            try:
                resolved = index.resolve(uri)
            except RegistryError as error:
                out.add("RG601", f"lineage parent {parent} does not resolve: {error}",
                        version.record_file, key)
                continue
            if uri.version is None:
                out.add("RG603", f"lineage parent {parent} moves when stages or aliases change; "
                        f"pin it: {resolved.uri}", version.record_file, key)
            edges[node].append((resolved.name, resolved.version))
    reported: set[tuple[str, int]] = set()
    for cycle in _cycles(edges):
        first = min(cycle)
        if first in reported:
            continue
        reported.update(cycle)
        path = " → ".join(f"{n}/{v}" for n, v in [*cycle, cycle[0]])
        model = index.models[first[0]]
        out.add("RG602", f"lineage cycle: {path}; a version cannot be its own ancestor, fix "
                "lineage.parents", model.version(first[1]).record_file, ("lineage", "parents"))


def _cycles(edges: Mapping[tuple[str, int], list[tuple[str, int]]]) -> Iterator[
        list[tuple[str, int]]]:
    """Each cycle found by an iterative depth-first search (linear in nodes + edges)."""
    state: dict[tuple[str, int], int] = {}  # 1 on the stack, 2 done
    for start in edges:
        if state.get(start):
            continue
        stack = [(start, iter(edges.get(start, ())))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                yield path[path.index(child):]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(edges.get(child, ()))))


_MAY_HOLD_MARKUP = re.compile(r"<|\]\s*[(:]")


def markup_findings(index: RegistryIndex, out: Findings,
                    only: set[tuple[str, int | None]] | None = None) -> None:
    """Descriptions the website's sanitiser would change (``only``: changed records)."""
    from .markup import find_unsafe_markup

    seen: dict[str, list[str]] = {}

    def check(text: str, file: str, what: str) -> None:
        # Rendering Markdown costs ~1 ms a text. Everything the sanitiser removes is
        # raw HTML (needs '<') or a link target (after '](' or a '[ref]:' definition).
        if not _MAY_HOLD_MARKUP.search(text):
            return
        if text not in seen:
            seen[text] = find_unsafe_markup(text)
        problems = seen[text]
        if problems:
            out.add("RG701", f"{what} contains {'; '.join(problems)}: the website removes "
                    "it; use plain Markdown (links to http(s) or mailto only)",
                    file, ("description",))

    for model in index.models.values():
        if only is None or (model.name, None) in only:
            check(model.record.description, model.record_file, "the model description")
        for version in model.versions:
            if only is None or (model.name, version.version) in only:
                check(version.record.description, version.record_file, "the description")


def pointer_findings(index: RegistryIndex, out: Findings) -> None:
    for version in index.versions():
        artifact = version.record.artifact.path
        pointer_file = f"{version.folder}/{artifact}.dvc"
        if version.pointer is None:
            out.add("RG901", f"no DVC pointer {artifact}.dvc for the artifact {artifact!r}; "
                    "run `dvc add` on it (registry-gen register does) and commit the .dvc file",
                    version.record_file, ("artifact", "path"))
        elif version.pointer.path != artifact:
            out.add("RG902", f"{artifact}.dvc tracks {version.pointer.path!r} but version.yaml "
                    f"names the artifact {artifact!r}; they must be the same file",
                    pointer_file, ("outs", 0, "path"))


def owner_findings(index: RegistryIndex, out: Findings) -> None:
    from .codeowners import owner_problem

    for model in index.models.values():
        for i, owner in enumerate(model.record.owners):
            problem = owner_problem(owner)
            if problem:
                out.add("RG803", problem, model.record_file, ("owners", i))


def codeowners_findings(index: RegistryIndex, current: bytes | None, out: Findings) -> None:
    """RG802: an existing CODEOWNERS must be what ``registry-gen codeowners`` writes."""
    from .codeowners import render_codeowners

    if current is None:
        return
    expected = render_codeowners(index)
    if current.decode("utf-8", errors="replace") != expected:
        out.add("RG802", "CODEOWNERS does not match the owners in model.yaml and the approvers "
                "in registry.yaml; run `registry-gen codeowners` and commit the result",
                CODEOWNERS_FILE)


def tree_findings(index: RegistryIndex, files: Sequence[FileEntry],
                  gitignores: Mapping[str, bytes], codeowners: bytes | None, out: Findings,
                  *, working_tree: bool, markup_only: set[tuple[str, int | None]] | None = None,
                  ) -> None:
    """Every rule that looks at one tree (the PR's head, or the working tree)."""
    record_error_findings(index.errors, out)
    file_findings(files, index, gitignores, out, working_tree=working_tree)
    version_gap_findings(index, out)
    stage_findings(index, out)
    alias_findings(index, out)
    lineage_findings(index, out)
    markup_findings(index, out, markup_only)
    pointer_findings(index, out)
    owner_findings(index, out)
    codeowners_findings(index, codeowners, out)


# ---------------------------------------------------------------------------
# Change rules: base → head


def _immutable(version: ModelVersion) -> dict[str, tuple[KeyPath, object]]:
    record = version.record
    pointer = version.pointer
    return {
        "version": (("version",), record.version),
        "artifact.path": (("artifact", "path"), record.artifact.path),
        "artifact.format": (("artifact", "format"), record.artifact.format),
        "artifact.trusted_types": (("artifact", "trusted_types"), record.artifact.trusted_types),
        "artifact md5 (.dvc)": (("outs", 0, "md5"), pointer.md5 if pointer else None),
        "artifact size (.dvc)": (("outs", 0, "size"), pointer.size if pointer else None),
        "lineage": (("lineage",), record.lineage),
        "created_at": (("created_at",), record.created_at),
        "created_by": (("created_by",), record.created_by),
    }


def change_findings(base: RegistryIndex, head: RegistryIndex, out: Findings,
                    base_label: str = "base", head_label: str = "head",
                    changed: set[str] | None = None) -> ChangeSummary:
    """RG303/RG304/RG305 versions, RG402/RG403 transitions, RG801 approvals; the summary.

    ``changed`` limits the comparison to those model names (the models whose files
    differ); ``base`` then needs to hold only those models.
    """
    policy = base.policy  # the rules in force are the base's: a PR cannot loosen its own check
    changes: list[ModelChange] = []
    for name in sorted(set(base.models) - set(head.models) - set(head.broken)):
        model = base.models[name]
        out.add("RG304", f"the registered model {name} ({model.describe_versions()}) is deleted; "
                "merged models are never deleted: archive its versions instead",
                model.record_file)
    for name in sorted(head.models if changed is None else set(head.models) & changed):
        new = head.models[name]
        old = base.models.get(name)
        if old is None and name in base.broken:
            continue  # the base could not be read: nothing to compare against
        change = _model_change(policy, old, new, out)
        if change is not None:
            changes.append(change)
    policy_changed = base.policy != head.policy
    approvers = list(dict.fromkeys(a for stage in policy.stages
                                   for a in policy.approvers.get(stage, [])))
    if policy_changed and approvers:
        out.add("RG801", f"changes to {POLICY_FILE} (the registry's rules) need approval from "
                f"{', '.join(approvers)}", POLICY_FILE)
    return ChangeSummary(base=base_label, head=head_label, models=tuple(changes),
                         policy_changed=policy_changed,
                         stage_order=tuple(head.policy.stages))


def _model_change(policy: Policy, old: RegisteredModel | None, new: RegisteredModel,
                  out: Findings) -> ModelChange | None:
    name = new.name
    base_versions = {v.version: v for v in old.versions} if old else {}
    head_versions = {v.version: v for v in new.versions}
    for number in sorted(set(base_versions) - set(head_versions)):
        out.add("RG304", f"{name} v{number} is deleted or renumbered; merged versions are never "
                "deleted: restore its folder and set its stage to Archived instead",
                base_versions[number].record_file)
    registered: list[tuple[int, str]] = []
    stage_changes: list[tuple[int, str, str]] = []
    edited: list[int] = []
    base_max = max(base_versions, default=0)
    added = sorted(set(head_versions) - set(base_versions))
    for i, number in enumerate(added, start=1):
        version = head_versions[number]
        registered.append((number, version.stage))
        if number != base_max + i:
            out.add("RG303", f"new version {number} of {name} should be {base_max + i}: the "
                    f"base has {old.describe_versions() if old else 'no versions'}, and new "
                    "versions continue from its highest", version.record_file, ("version",))
        default = policy.default_stage
        if version.stage in policy.stages and not policy.allows(default, version.stage):
            out.add("RG403", f"a new version starts in {default} or a stage reachable from it "
                    f"({', '.join(policy.transitions.get(default, []))}), not "
                    f"{version.stage}; register it first, then promote it",
                    version.record_file, ("stage",))
    for number in sorted(set(base_versions) & set(head_versions)):
        before, after = base_versions[number], head_versions[number]
        old_fields, new_fields = _immutable(before), _immutable(after)
        for label, (key, value) in new_fields.items():
            if old_fields[label][1] != value:
                file = after.record_file if "(.dvc)" not in label else \
                    f"{after.folder}/{after.record.artifact.path}.dvc"
                out.add("RG305", f"{label} of {name} v{number} changed; it is immutable once "
                        f"merged: revert it, or register the new artifact as a new version",
                        file, key)
        if before.stage != after.stage:
            stage_changes.append((number, before.stage, after.stage))
            if (after.stage in policy.stages and before.stage in policy.stages
                    and not policy.allows(before.stage, after.stage)):
                allowed = ", ".join(policy.transitions.get(before.stage, [])) or "nothing"
                out.add("RG402", f"{name} v{number} may not move {before.stage} → {after.stage}; "
                        f"from {before.stage} it may move to {allowed} (registry.yaml "
                        "transitions)", after.record_file, ("stage",))
        elif before.record != after.record or before.pointer != after.pointer:
            edited.append(number)
    old_aliases = dict(old.aliases) if old else {}
    aliases_set = tuple((a, old_aliases.get(a), v) for a, v in sorted(new.aliases.items())
                        if old_aliases.get(a) != v)
    aliases_removed = tuple((a, v) for a, v in sorted(old_aliases.items())
                            if a not in new.aliases)
    record_edited = old is not None and (
        old.record.model_copy(update={"aliases": {}}) != new.record.model_copy(
            update={"aliases": {}}))
    touched = bool(old is None or registered or stage_changes or edited or aliases_set
                   or aliases_removed or record_edited or set(base_versions) - set(head_versions))
    if not touched:
        return None
    approvers = _approvals(policy, old, new, registered, stage_changes, out)
    return ModelChange(name=name, created=old is None, registered=tuple(registered),
                       stage_changes=tuple(stage_changes), aliases_set=aliases_set,
                       aliases_removed=aliases_removed, edited=tuple(edited),
                       record_edited=record_edited, approvers=approvers)


def _approvals(policy: Policy, old: RegisteredModel | None, new: RegisteredModel,
               registered: list[tuple[int, str]], stage_changes: list[tuple[int, str, str]],
               out: Findings) -> tuple[str, ...]:
    """RG801 notices: the owners of the changed model and the approvers of target stages."""
    who: list[str] = []
    owners = list(old.record.owners) if old else list(new.record.owners)
    if owners:
        who += owners
        out.add("RG801", f"changes to {new.name} need a review by its owners: "
                f"{', '.join(owners)}", new.record_file)
    targets = sorted({stage for _, stage in registered} | {to for _, _, to in stage_changes})
    for stage in targets:
        approvers = policy.approvers.get(stage, [])
        if approvers:
            who += approvers
            versions = [n for n, s in registered if s == stage] + \
                [n for n, _, to in stage_changes if to == stage]
            out.add("RG801", f"moving {new.name} {', '.join(f'v{n}' for n in versions)} into "
                    f"{stage} needs approval from {', '.join(approvers)} (registry.yaml "
                    f"approvers.{stage})", new.version(versions[0]).record_file, ("stage",))
    return tuple(dict.fromkeys(who))


# ---------------------------------------------------------------------------
# RG903 artifacts in the DVC remote (IO edge)


def remote_findings(root: Path, versions: Sequence[ModelVersion], out: Findings) -> None:
    """RG903: each version's artifact exists in the default DVC remote (no download).

    A local-folder remote is checked in DVC 3's layout (``REMOTE/files/md5/ab/cdef...``)
    with plain ``stat`` calls; any other remote through DVC's filesystem ``exists``.
    """
    wanted = {v.artifact_md5: v for v in versions if v.artifact_md5}
    if not wanted:
        return
    try:
        from dvc.repo import Repo

        with Repo(str(root)) as repo:
            remote = repo.cloud.get_remote()
            if remote.fs.protocol in ("local", "file"):
                base = Path(remote.path) / "files" / "md5"
                present = {md5 for md5 in wanted if (base / md5[:2] / md5[2:]).is_file()}
            else:
                present = set(remote.odb.oids_exist(list(wanted)))
            label = f"DVC remote {remote.name!r}"
    except Exception as error:  # DVC raises many unrelated types for config/network problems
        raise ArtifactError(f"cannot check the DVC remote of {root}: {error}") from error
    for md5, version in sorted(wanted.items(), key=lambda kv: kv[1].record_file):
        if md5 not in present:
            out.add("RG903", f"the artifact of {version.name} v{version.version} (md5 {md5}) is "
                    f"not in the {label}; run `dvc push {version.artifact_path}.dvc`",
                    f"{version.artifact_path}.dvc", ("outs", 0, "md5"))


# ---------------------------------------------------------------------------
# IO edge


def _read_codeowners(source: Source) -> bytes | None:
    if isinstance(source, GitRevision):
        return source.read_file(CODEOWNERS_FILE)
    if isinstance(source, WorkingTree):
        path = source.root / CODEOWNERS_FILE
        return path.read_bytes() if path.is_file() and not path.is_symlink() else None
    return None


@dataclass
class _Side:
    source: Source
    files: list[FileEntry]
    index: RegistryIndex
    blobs: dict[str, bytes] = field(default_factory=dict)


def _load(root: Path, rev: str | None) -> _Side:
    source: Source = WorkingTree(root) if rev is None else GitRevision(root, rev)
    if rev is None and not (root / POLICY_FILE).is_file() and not (root / MODELS_DIR).is_dir():
        raise UsageError(f"{root} is not a registry: it has no {POLICY_FILE} and no "
                         f"{MODELS_DIR}/ folder")
    files = source.list_files()
    if rev is None:
        ignored = _ignored_by_git(root)
        files = [entry for entry in files if entry.path not in ignored]
    return _Side(source, files, build_index(source, files))


def _ignored_by_git(root: Path) -> set[str]:
    """Untracked files under models/ that git ignores: they can never reach a pull request.

    That covers the artifact bytes DVC keeps next to their pointer and an editor's
    or the OS's litter (``.DS_Store``) excluded by the user's own ignore rules.
    One ``git`` process, whatever the size of the registry; empty outside git.
    """
    result = subprocess.run(
        ["git", "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--",
         MODELS_DIR], cwd=root, capture_output=True, check=False,
    )
    if result.returncode != 0:
        return set()
    # Paths are relative to the current folder (root), like FileEntry.path.
    return {p for p in result.stdout.decode("utf-8", errors="replace").split("\0") if p}


def _finish(side: _Side, out: Findings, gitignores: Mapping[str, bytes]) -> list[Finding]:
    needed = out.files_needing_lines() - set(gitignores)
    return out.resolve_lines(side.source.read_many(sorted(needed)))


def _gitignores(side: _Side) -> dict[str, bytes]:
    folders = {v.folder for v in side.index.versions()}
    wanted = [e.path for e in side.files if e.path.endswith("/.gitignore")
              and e.path.rsplit("/", 1)[0] in folders and not e.is_symlink]
    return side.source.read_many(wanted)


def _model_of(path: str) -> str | None:
    parts = path.split("/")
    return parts[1] if len(parts) >= 3 and parts[0] == MODELS_DIR else None


def _changed_models(head: GitRevision, base_commit: str) -> set[str]:
    """Names of the model folders whose files differ between ``base_commit`` and head."""
    names = head.changed_paths(base_commit, MODELS_DIR)
    return {name for path in names if (name := _model_of(path)) is not None}


def validate_tree(root: Path | str = ".", rev: str | None = None, *,
                  check_remote: bool = False) -> Report:
    """Check a whole registry: the working tree at ``root``, or git revision ``rev``.

    >>> report = validate_tree("/path/to/registry")  # doctest: +SKIP
    >>> report.failed()                               # doctest: +SKIP
    False
    """
    with collector_paused():  # the index lives only until the report is made (see there)
        return _validate_tree(Path(root), rev, check_remote)


def _validate_tree(root: Path, rev: str | None, check_remote: bool) -> Report:
    side = _load(root, rev)
    out = Findings()
    gitignores = _gitignores(side)
    tree_findings(side.index, side.files, gitignores, _read_codeowners(side.source), out,
                  working_tree=rev is None)
    if check_remote:
        remote_findings(root, list(side.index.versions()), out)
    return Report(tuple(_finish(side, out, gitignores)), None, side.source.label)


def validate_change(root: Path | str, base: str, head: str = "HEAD", *,
                    check_remote: bool = False) -> Report:
    """Check ``head`` as a whole and as a change from ``base``, both read from git objects.

    >>> validate_change("/path/to/registry", "origin/main", "HEAD").change  # doctest: +SKIP
    """
    with collector_paused():  # both indexes live only until the report is made
        return _validate_change(Path(root), base, head, check_remote)


def _validate_change(root: Path, base: str, head: str, check_remote: bool) -> Report:
    head_side = _load(root, head)
    assert isinstance(head_side.source, GitRevision)
    base_source = GitRevision(root, base)
    changed = _changed_models(head_side.source, base_source.commit)
    # Only the models the change touches are parsed on the base side: reading a
    # 10,000-version base costs one `git ls-tree`, not 10,000 parses.
    base_files = [e for e in base_source.list_files()
                  if e.path == POLICY_FILE or _model_of(e.path) in changed]
    base_index = build_index(base_source, base_files)
    out = Findings()
    summary = change_findings(base_index, head_side.index, out, base_source.label,
                              head_side.source.label, changed)
    touched: set[tuple[str, int | None]] = set()
    for change in summary.models:
        touched.add((change.name, None))
        touched.update((change.name, n) for n, _ in change.registered)
        touched.update((change.name, n) for n in change.edited)
        touched.update((change.name, n) for n, _, _ in change.stage_changes)
    gitignores = _gitignores(head_side)
    tree_findings(head_side.index, head_side.files, gitignores,
                  _read_codeowners(head_side.source), out, working_tree=False,
                  markup_only=touched)
    if check_remote:
        new = [v for v in head_side.index.versions()
               if (v.name, v.version) in {(c.name, n) for c in summary.models
                                          for n, _ in c.registered}]
        remote_findings(root, new, out)
    return Report(tuple(_finish(head_side, out, gitignores)), summary, head_side.source.label)
