"""The registry's record files as strict pydantic schemas.

* ``registry.yaml`` → :class:`Policy`: stages, allowed transitions, single-holder
  stages, what each stage requires, who approves.
* ``models/NAME/model.yaml`` → :class:`ModelRecord`.
* ``models/NAME/VERSION/version.yaml`` → :class:`VersionRecord`.
* ``models/NAME/VERSION/ARTIFACT.dvc`` → :class:`DvcPointer` (written by DVC).

Unknown keys and wrong types are rejected; :func:`parse_record` turns every
pydantic error into a :class:`~registry_gen.errors.RecordError` naming the file,
line and field.

Example:
    >>> record = parse_record(
    ...     "name: churn\\nowners: ['@ml-team']\\n", "models/churn/model.yaml", ModelRecord
    ... )
    >>> record.owners
    ['@ml-team']
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# Defined once in _constants (the warm load path reads them without pydantic); re-exported.
from ._constants import MAX_DESCRIPTION_CHARS
from ._constants import MD5_PATTERN as MD5_PATTERN
from ._constants import UNSAFE_FORMATS as UNSAFE_FORMATS
from ._sharing import share_fields_set, share_parts
from .errors import InvalidName, InvalidUri, Location, RecordError
from .uri import ModelUri, check_alias, check_model_name, check_stage_name, check_version
from .yamlio import YamlDocument, parse_yaml

DEFAULT_STAGE = "None"
DEFAULT_ARCHIVE_STAGE = "Archived"
DEFAULT_STAGES = ("None", "Staging", "Production", DEFAULT_ARCHIVE_STAGE)
ArtifactFormat = Literal[
    "skops", "joblib", "pickle", "onnx", "pytorch", "safetensors", "mlflow", "path"
]
ScalarValue = str | int | float | bool | None


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    # Records are frozen: equal sets of set fields and equal parts are shared (_sharing).
    def model_post_init(self, context: Any, /) -> None:
        """Share this record's set of set fields with every record that set the same."""
        share_fields_set(self)

    def __setstate__(self, state: dict[Any, Any]) -> None:
        """Unpickled (from the parsing worker): share the set of set fields likewise."""
        super().__setstate__(state)
        share_fields_set(self)


Text = Annotated[str, Field(max_length=MAX_DESCRIPTION_CHARS)]
ShortText = Annotated[str, Field(max_length=500)]
Timestamp = Annotated[datetime, Field(strict=False)]


# ---------------------------------------------------------------------------
# registry.yaml


class StageRequirement(_Record):
    """What a version must have before it may enter a stage."""

    description: bool = False
    metrics: bool | list[ShortText] = False
    signature: bool = False
    run: bool = Field(False, description="lineage.run_id or lineage.run_url is set")


class Policy(_Record):
    """``registry.yaml``: the rules the validator enforces on every pull request."""

    stages: list[str] = Field(default_factory=lambda: list(DEFAULT_STAGES))
    default_stage: str = DEFAULT_STAGE
    archive_stage: str | None = Field(
        None, description="where retired versions go; unset: the stage named Archived, if any"
    )
    transitions: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "None": ["Staging", "Production", "Archived"],
            "Staging": ["None", "Production", "Archived"],
            "Production": ["Staging", "Archived"],
            "Archived": ["None", "Staging"],
        }
    )
    single_holder: list[str] = Field(default_factory=lambda: ["Production"])
    requires: dict[str, StageRequirement] = Field(
        default_factory=lambda: {"Production": StageRequirement(description=True, metrics=True)}
    )
    approvers: dict[str, list[ShortText]] = Field(default_factory=dict)
    admins: list[ShortText] = Field(
        default_factory=list,
        description="who reviews governance changes (.github/, registry.yaml, .dvc/, ...); "
        "unset: every approver",
    )
    alias_forbidden_stages: list[str] = Field(default_factory=lambda: ["Archived"])
    max_git_file_bytes: int = Field(
        200_000, ge=1, description="larger files under models/ must go through DVC"
    )
    max_in_repo_artifact_mb: float = Field(
        50, gt=0, description="larger artifacts are refused by the in-repository DVC remote"
    )

    @model_validator(mode="before")
    @classmethod
    def _default_archive_stage(cls, data: Any) -> Any:
        # Not a plain default: a policy with its own stages may have no Archived stage.
        if isinstance(data, dict) and data.get("archive_stage") is None:
            stages = data.get("stages", DEFAULT_STAGES)
            if isinstance(stages, list | tuple):
                folded = DEFAULT_ARCHIVE_STAGE.casefold()
                found = [s for s in stages if isinstance(s, str) and s.casefold() == folded]
                data = {**data, "archive_stage": found[0] if found else None}
        return data

    @field_validator("stages")
    @classmethod
    def _stages_valid(cls, stages: list[str]) -> list[str]:
        for stage in stages:
            check_stage_name(stage)
        folded = [s.casefold() for s in stages]
        if len(set(folded)) != len(folded):
            raise ValueError("stage names must be unique (ignoring case)")
        if not stages:
            raise ValueError("at least one stage is needed")
        return stages

    @model_validator(mode="after")
    def _references_known_stages(self) -> Policy:
        known = set(self.stages)

        def need(stage: str, where: str) -> None:
            if stage not in known:
                raise ValueError(f"{where} names unknown stage {stage!r}; stages are {self.stages}")

        need(self.default_stage, "default_stage")
        if self.archive_stage is not None:
            need(self.archive_stage, "archive_stage")
        for source, targets in self.transitions.items():
            need(source, "transitions")
            for target in targets:
                need(target, f"transitions.{source}")
        for stage in self.single_holder:
            need(stage, "single_holder")
        for stage in self.requires:
            need(stage, "requires")
        for stage in self.approvers:
            need(stage, "approvers")
        for stage in self.alias_forbidden_stages:
            need(stage, "alias_forbidden_stages")
        return self

    def canonical_stage(self, stage: str) -> str | None:
        """The stage as spelled in the policy, matched case-insensitively (as MLflow does)."""
        folded = stage.casefold()
        return next((s for s in self.stages if s.casefold() == folded), None)

    def allows(self, source: str, target: str) -> bool:
        """Whether a version may move from ``source`` to ``target``."""
        return source == target or target in self.transitions.get(source, [])


# ---------------------------------------------------------------------------
# model.yaml


class ModelRecord(_Record):
    """``models/NAME/model.yaml``: a registered model."""

    name: str
    description: Text = ""
    owners: list[ShortText] = Field(default_factory=list)
    tags: dict[ShortText, ShortText] = Field(default_factory=dict)
    aliases: dict[str, int] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name_valid(cls, name: str) -> str:
        return _as_value_error(check_model_name, name)

    @field_validator("aliases")
    @classmethod
    def _aliases_valid(cls, aliases: dict[str, int]) -> dict[str, int]:
        for alias, version in aliases.items():
            _as_value_error(check_alias, alias)
            _as_value_error(check_version, version)
        return aliases


# ---------------------------------------------------------------------------
# version.yaml


class Artifact(_Record):
    """The artifact's path inside the version folder and how to load it."""

    path: ShortText
    format: ArtifactFormat = "path"
    trusted_types: list[ShortText] = Field(
        default_factory=list, description="skops types trusted at registration"
    )
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        default=None,
        description="the reviewed sha256 a pickle/joblib/mlflow artifact is "
        "loaded by (registry_gen.formats.artifact_sha256)",
    )

    @field_validator("path")
    @classmethod
    def _path_inside_folder(cls, path: str) -> str:
        _check_relative_path(path)
        if path.endswith(".dvc") or path in {"version.yaml", ".gitignore"}:
            raise ValueError(f"{path!r} is a registry file name, not an artifact")
        return path


class CodeRef(_Record):
    """``lineage.code``: the repository and commit that trained the version."""

    repo: ShortText
    commit: Annotated[str, Field(pattern=r"^[0-9a-f]{7,64}$")]


class Dataset(_Record):
    """One entry of ``lineage.datasets``: a training dataset, by path or URL and md5."""

    name: ShortText
    path: ShortText | None = None
    url: ShortText | None = None
    md5: Annotated[str, Field(pattern=MD5_PATTERN)] | None = None


class Lineage(_Record):
    """``lineage``: the run, code, datasets and parent models a version came from."""

    run_id: ShortText | None = None
    run_url: ShortText | None = None
    code: CodeRef | None = None
    datasets: list[Dataset] = Field(default_factory=list)
    parents: list[str] = Field(default_factory=list)

    @field_validator("parents")
    @classmethod
    def _parents_are_uris(cls, parents: list[str]) -> list[str]:
        for parent in parents:
            _as_value_error(ModelUri.parse, parent)
        return parents


class TensorSpec(_Record):
    """One input or output of a version's ``signature``: name, type and shape."""

    name: ShortText | None = None
    type: ShortText
    shape: list[int] | None = None


class Signature(_Record):
    """``signature``: the tensors a version takes and returns."""

    inputs: list[TensorSpec] = Field(default_factory=list)
    outputs: list[TensorSpec] = Field(default_factory=list)


# Every version of a model usually has the same signature and artifact: shared, they
# save 10 objects and 3 KB of memory a version.
_SHARED_FIELDS = ("signature", "artifact")


class VersionRecord(_Record):
    """``models/NAME/VERSION/version.yaml``: one model version."""

    version: int
    stage: str = DEFAULT_STAGE
    description: Text = ""
    created_at: Timestamp
    created_by: ShortText
    artifact: Artifact
    lineage: Lineage = Field(default_factory=Lineage)
    params: dict[ShortText, ScalarValue] = Field(default_factory=dict)
    metrics: dict[ShortText, float] = Field(default_factory=dict)
    signature: Signature | None = None
    tags: dict[ShortText, ShortText] = Field(default_factory=dict)

    @field_validator("version")
    @classmethod
    def _version_valid(cls, version: int) -> int:
        return _as_value_error(check_version, version)

    @field_validator("stage")
    @classmethod
    def _stage_valid(cls, stage: str) -> str:
        return _as_value_error(check_stage_name, stage)

    def model_post_init(self, context: Any, /) -> None:
        """Share the parts many versions have equal (see :func:`share_parts`)."""
        super().model_post_init(context)
        share_parts(self, _SHARED_FIELDS)

    def __setstate__(self, state: dict[Any, Any]) -> None:
        """Unpickled: share the parts many versions have equal, likewise."""
        super().__setstate__(state)
        share_parts(self, _SHARED_FIELDS)


# ---------------------------------------------------------------------------
# .dvc pointers (written by DVC; read here as untrusted data)


class DvcOutput(_Record):
    """The one output of a ``.dvc`` pointer: exactly the fields DVC 3 writes for it.

    Closed on purpose: DVC also reads ``remote:`` (fetch from another remote),
    ``push: false`` and ``cache: false`` per output, which would let a pull
    request choose where an artifact comes from or keep it out of the remote.
    A folder's md5 ends in ``.dir`` and comes with ``nfiles``; a file's has neither.
    """

    path: ShortText
    md5: Annotated[str, Field(pattern=MD5_PATTERN)]
    size: Annotated[int, Field(ge=0)] | None = None
    nfiles: Annotated[int, Field(ge=0)] | None = None
    hash: Literal["md5"] | None = None
    isexec: bool | None = None

    @field_validator("path")
    @classmethod
    def _path_inside_folder(cls, path: str) -> str:
        _check_relative_path(path)
        return path

    @model_validator(mode="after")
    def _folder_has_nfiles(self) -> DvcOutput:
        if self.is_dir and self.nfiles is None:
            raise ValueError(
                "a folder's pointer (md5 ending in .dir) also records nfiles; run `dvc add` again"
            )
        if not self.is_dir and self.nfiles is not None:
            raise ValueError(
                "nfiles belongs to a folder's pointer, but the md5 is a file's "
                "(no .dir); run `dvc add` again"
            )
        return self

    @property
    def is_dir(self) -> bool:
        """Whether the artifact is a folder (DVC's md5 ends in ``.dir``)."""
        return self.md5.endswith(".dir")


class DvcPointer(_Record):
    """A version's ``.dvc`` file, as DVC writes it: exactly one output."""

    outs: list[DvcOutput]

    @field_validator("outs")
    @classmethod
    def _exactly_one(cls, outs: list[DvcOutput]) -> list[DvcOutput]:
        if len(outs) != 1:
            raise ValueError(f"a version's .dvc file tracks exactly one output, not {len(outs)}")
        return outs

    @property
    def out(self) -> DvcOutput:
        """The pointer's one output."""
        return self.outs[0]


# ---------------------------------------------------------------------------
# Parsing with file:line errors

RecordT = TypeVar("RecordT", bound=BaseModel)


def parse_record(text: str | bytes, file: str, schema: type[RecordT]) -> RecordT:
    """Parse and validate one record file; raise :class:`RecordError` naming file:line (field)."""
    document = parse_yaml(text, file, lines=False)  # lines only for an error: see below
    try:
        return validate_document(document, schema)
    except RecordError:
        return validate_document(parse_yaml(text, file), schema)  # raises, with its line


def validate_document(document: YamlDocument, schema: type[RecordT]) -> RecordT:
    """Validate parsed YAML against ``schema``; errors name file:line (field).

    Raises:
        RecordError: the data does not match ``schema``; its ``problems`` hold every
            problem of the file, each with its own line and field.
    """
    data = document.data if document.data is not None else {}
    if not isinstance(data, dict):
        raise RecordError(
            Location(document.file, 1), "the file must be a YAML mapping (key: value)"
        )
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        raise RecordError.grouped(record_errors(document, error)) from None


def record_errors(document: YamlDocument, error: ValidationError) -> list[RecordError]:
    """Every pydantic error of ``error`` as a RecordError naming file:line (field)."""
    found = []
    for detail in error.errors():
        loc = tuple(
            part
            for part in detail["loc"]
            if not isinstance(part, str) or not part.startswith(("function-", "constrained-"))
        )
        field = ".".join(str(p) for p in loc) or None
        message = _friendly(detail)
        found.append(RecordError(Location(document.file, document.line_of(loc), field), message))
    return found


_MAX_SHOWN = 80


def _friendly(detail: Any) -> str:
    kind = detail["type"]
    value = detail.get("input")
    if kind == "extra_forbidden":
        return "unknown key; check its spelling against the schema in docs/records.md"
    if kind == "missing":
        return "required field is missing"
    message = str(detail["msg"]).removeprefix("Value error, ")
    if kind in {"int_type", "string_type", "float_type", "bool_type", "dict_type", "list_type"}:
        shown = repr(value)
        if len(shown) > _MAX_SHOWN:  # a 900 KB value would fill every report it reaches
            shown = f"{shown[:_MAX_SHOWN]}… ({len(shown):,} characters)"
        return f"{message}, got {type(value).__name__} {shown}"
    return message


_T = TypeVar("_T")


def _as_value_error(check: Callable[[_T], object], value: _T) -> _T:
    try:
        check(value)
    except (InvalidName, InvalidUri) as error:
        raise ValueError(str(error)) from None
    return value


_DRIVE = re.compile(r"[A-Za-z]:")


def _check_relative_path(path: str) -> None:
    if not path or path.startswith(("/", "\\")) or _DRIVE.match(path):
        raise ValueError(f"{path!r} must be a relative path inside the version folder")
    parts = path.replace("\\", "/").split("/")
    if any(part in {"", ".", ".."} for part in parts):
        raise ValueError(f"{path!r} must stay inside the version folder (no '..' or empty parts)")
    if any(ord(c) < 32 for c in path):
        raise ValueError(f"{path!r} contains control characters")
