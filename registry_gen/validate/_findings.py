"""Rules, findings and the report: the validator's vocabulary (pure).

:data:`RULES` is the table of rule codes (``docs/rules.md`` documents it);
:class:`Findings` collects findings while the rules run and looks up the line of
each key path at the end, in one pass over the record texts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from registry_gen.errors import RecordError
from registry_gen.policy import Problem, ProblemCode
from registry_gen.yamlio import KeyPath, YamlDocument, parse_yaml

Severity = Literal["error", "warning", "notice"]


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
        Rule(
            "RG101",
            "invalid-record",
            "error",
            "model.yaml and version.yaml are valid YAML and match their schema",
        ),
        Rule("RG102", "invalid-policy", "error", "registry.yaml is valid and names known stages"),
        Rule(
            "RG103",
            "invalid-dvc-pointer",
            "error",
            "a .dvc pointer has one output and only the fields DVC writes for it (no remote, "
            "push or cache): a relative path, an md5, a size >= 0, nfiles for a folder",
        ),
        Rule(
            "RG104",
            "missing-record",
            "error",
            "every model folder has model.yaml, every version folder version.yaml",
        ),
        Rule(
            "RG201",
            "invalid-model-name",
            "error",
            "model folder names are lowercase slugs ([a-z0-9][a-z0-9._-]*, at most 64)",
        ),
        Rule("RG202", "name-folder-mismatch", "error", "model.yaml's name equals its folder"),
        Rule("RG203", "reserved-name", "error", "model names are not reserved by the website"),
        Rule(
            "RG204",
            "name-collision",
            "error",
            "no two model names are equal after case-folding and Unicode normalisation",
        ),
        Rule("RG205", "symlink", "error", "no symlinks in registry.yaml or under models/"),
        Rule(
            "RG206",
            "binary-in-git",
            "error",
            "artifacts and large files go through DVC, never committed to git",
        ),
        Rule("RG207", "stray-file", "error", "only registry files sit under models/"),
        Rule(
            "RG208",
            "gitignore-content",
            "error",
            "a version folder's .gitignore holds only its artifact's ignore line",
        ),
        Rule(
            "RG209",
            "model-redirect",
            "error",
            "a renamed model's models/OLD/moved.yaml is valid, points at a registered model "
            "(not another redirect) and is the only file left in models/OLD/",
        ),
        Rule(
            "RG301",
            "version-folder-mismatch",
            "error",
            "version folders are numbers and match the version in version.yaml",
        ),
        Rule("RG302", "version-gap", "error", "a model's versions are 1..N with no gaps"),
        Rule("RG303", "version-number", "error", "a new version is the base's highest + 1"),
        Rule("RG304", "version-deleted", "error", "merged versions and models are never deleted"),
        Rule(
            "RG305",
            "immutable-field",
            "error",
            "version, artifact, every field of its .dvc pointer, lineage, created_at/by never "
            "change once merged",
        ),
        Rule(
            "RG401",
            "unknown-stage",
            "error",
            "a version's stage is one of registry.yaml's stages, exact case",
        ),
        Rule(
            "RG402",
            "stage-transition",
            "error",
            "a stage change is an allowed transition in the base's registry.yaml",
        ),
        Rule(
            "RG403",
            "initial-stage",
            "error",
            "a new version starts in the default stage or one reachable from it",
        ),
        Rule(
            "RG404",
            "single-holder",
            "error",
            "single-holder stages (default Production) hold at most one version per model",
        ),
        Rule(
            "RG405",
            "stage-requirement",
            "error",
            "a version meets its stage's requirements (default Production: description, metrics)",
        ),
        Rule("RG501", "alias-target", "error", "an alias points at an existing version"),
        Rule("RG502", "alias-name", "error", "an alias is not a number, latest or a stage name"),
        Rule(
            "RG503",
            "alias-stage",
            "error",
            "an alias does not point at a version in alias_forbidden_stages (default Archived)",
        ),
        Rule("RG601", "lineage-parent", "error", "lineage parents resolve to a model version"),
        Rule("RG602", "lineage-cycle", "error", "no version is its own ancestor"),
        Rule(
            "RG603",
            "lineage-unpinned",
            "warning",
            "lineage parents name an exact version, not a stage, alias or latest",
        ),
        Rule(
            "RG701",
            "unsafe-markup",
            "warning",
            "descriptions hold no raw HTML or javascript:/data: links (the site strips them)",
        ),
        Rule(
            "RG702",
            "markdown-limits",
            "warning",
            "descriptions stay within the site's Markdown render limits",
        ),
        Rule(
            "RG801",
            "approval-needed",
            "notice",
            "who must approve: owners of changed models and of a changed redirect's old and new "
            "targets, approvers of target stages",
        ),
        Rule(
            "RG802",
            "codeowners-stale",
            "error",
            ".github/CODEOWNERS (if present) matches `registry-gen codeowners`",
        ),
        Rule(
            "RG803",
            "owner-format",
            "warning",
            "owners are @user, @org/team or an e-mail, so CODEOWNERS can enforce them",
        ),
        Rule(
            "RG804",
            "governance-change",
            "warning",
            "a change to a governance file (.github/, registry.yaml, .dvc/, mkdocs.yml, "
            "CODEOWNERS, what CI installs or runs) needs the registry's admins",
        ),
        Rule(
            "RG901",
            "missing-pointer",
            "error",
            "every version has the .dvc pointer of its artifact",
        ),
        Rule(
            "RG902",
            "pointer-path",
            "error",
            "the .dvc pointer tracks the artifact version.yaml names",
        ),
        Rule(
            "RG903",
            "artifact-not-in-remote",
            "error",
            "with --check-remote: each new artifact exists in the DVC remote",
        ),
        Rule(
            "RG904",
            "pointer-kind",
            "error",
            "the .dvc pointer tracks a folder exactly when the format needs one (mlflow)",
        ),
        Rule(
            "RG905",
            "artifact-not-committed",
            "error",
            "with the in-repository DVC remote: each artifact's objects (a folder's .dir "
            "manifest and its files too) are committed with the version",
        ),
        Rule(
            "RG906",
            "trusted-type",
            "error",
            "artifact.trusted_types are dotted names of importable types, none that reach "
            "the system or the interpreter (builtins.eval, os.*, subprocess.*...)",
        ),
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
        return {
            "code": self.code,
            "title": self.title,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "field": self.field,
        }


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
    default_stage: str | None = None  # the head policy's, for the summary in words
    archive_stage: str | None = None


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


# The rule each of the policy's problems is reported under.
PROBLEM_RULES: Mapping[ProblemCode, str] = {
    "name-collision": "RG204",
    "transition": "RG402",
    "initial-stage": "RG403",
    "single-holder": "RG404",
    "requirement": "RG405",
    "alias-stage": "RG503",
}


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

    # One argument per field of a finding; the optional ones are keyword-only.
    def add(
        self,
        code: str,
        message: str,
        file: str | None = None,
        key: KeyPath | None = None,
        *,
        line: int | None = None,
        severity: Severity | None = None,
        field: str | None = None,
    ) -> None:
        """Add a finding of rule ``code``; its line comes from ``key`` unless ``line`` is given."""
        dotted = field or (".".join(str(k) for k in key) if key else None)
        self.pending.append(
            _Pending(code, message, file, key, line, severity or RULES[code].severity, dotted)
        )

    def add_problem(
        self, problem: Problem | None, file: str | None, key: KeyPath | None = None
    ) -> None:
        """Add a policy :class:`~registry_gen.policy.Problem` (nothing for None)."""
        if problem is not None:
            self.add(PROBLEM_RULES[problem.code], problem.message, file, key)

    def resolve_lines(self, blobs: Mapping[str, bytes]) -> list[Finding]:
        """Findings with the line of each key path, from the record texts in ``blobs``."""
        documents: dict[str, YamlDocument | None] = {}
        for pending in self.pending:
            file = pending.file
            if (
                pending.key is not None
                and pending.line is None
                and file is not None
                and file in blobs
            ):
                if file not in documents:
                    try:
                        documents[file] = parse_yaml(blobs[file], file)
                    except RecordError:
                        documents[file] = None
                document = documents[file]
                if document is not None:
                    pending.line = document.line_of(pending.key)
        found = [
            Finding(p.code, p.message, p.file, p.line, p.severity, p.field) for p in self.pending
        ]
        return sorted(found, key=lambda f: (f.file or "", f.line or 0, f.code, f.message))

    def files_needing_lines(self) -> set[str]:
        return {
            p.file
            for p in self.pending
            if p.key is not None and p.line is None and p.file is not None
        }
