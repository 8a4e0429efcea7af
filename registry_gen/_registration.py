"""Registering a version: its record, then copy, ``dvc add``, push, write, or roll back.

The client decides *whether* a version may be registered (names, policy); this
module does the registering: it builds the validated :class:`VersionRecord`
from the caller's arguments and makes the version folder, leaving nothing
behind when any step fails.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

from pydantic import ValidationError

from . import artifacts, gitops, progress
from ._search import aware
from ._trusted_types import check_trusted_types
from .errors import AlreadyExists, ArtifactError, InvalidRegistry, ModelNotFound, UsageError
from .formats import reviewed_sha256, skops_untrusted_types
from .paths import MODEL_FILE, MODELS_DIR, VERSION_FILE, safe_join
from .policy import name_collision
from .schema import ArtifactFormat, ModelRecord, Signature, VersionRecord
from .store import GitRevision, RegistryIndex, write_record
from .uri import check_model_name

FORMATS: tuple[str, ...] = get_args(ArtifactFormat)
_SUFFIX_FORMATS = {
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "joblib",
    ".skops": "skops",
    ".onnx": "onnx",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".safetensors": "safetensors",
}


def infer_format(path: Path) -> str:
    """The artifact format a path's name suggests (``path`` when nothing does).

    >>> infer_format(Path("model.pkl")), infer_format(Path("weights.safetensors"))
    ('pickle', 'safetensors')
    """
    if path.is_dir():
        return "mlflow" if (path / "MLmodel").is_file() else "path"
    return _SUFFIX_FORMATS.get(path.suffix.lower(), "path")


def validated(schema: type[Any], data: Mapping[str, Any], what: str) -> Any:
    """Validate arguments against a record schema; errors name the argument, not a file.

    Raises:
        UsageError: an argument does not fit the schema (the first problem, by field).
    """
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        detail = error.errors()[0]
        field = ".".join(str(p) for p in detail["loc"])
        message = str(detail["msg"]).removeprefix("Value error, ")
        raise UsageError(f"invalid {what}: {field}: {message}") from None


def version_record(
    number: int, stage: str, source: Path, fmt: str, *, created_by: str, fields: Mapping[str, Any]
) -> VersionRecord:
    """The record of a new version from the caller's arguments (``fields``: the rest).

    ``fields["created_at"]`` defaults to now.

    Raises:
        UsageError: an argument does not fit the schema of ``version.yaml``.
    """
    signature = fields.get("signature")
    data = {
        "version": number,
        "stage": stage,
        "description": fields.get("description", ""),
        "created_at": aware(fields.get("created_at") or datetime.now(UTC)).replace(microsecond=0),
        "created_by": created_by,
        "artifact": {
            "path": source.name,
            "format": fmt,
            "trusted_types": recorded_trusted_types(source, fmt, fields.get("trusted_types", ())),
            "sha256": reviewed_sha256(source, fmt),
        },
        "lineage": {
            "run_id": fields.get("run_id"),
            "run_url": fields.get("run_url"),
            "code": dict(fields["code"]) if fields.get("code") else None,
            "datasets": [dict(d) for d in fields.get("datasets", ())],
            "parents": list(fields.get("parents", ())),
        },
        "params": dict(fields.get("params") or {}),
        "metrics": {k: float(v) for k, v in (fields.get("metrics") or {}).items()},
        "signature": signature.model_dump() if isinstance(signature, Signature) else signature,
        "tags": dict(fields.get("tags") or {}),
    }
    record: VersionRecord = validated(VersionRecord, data, "model version")
    return record


def recorded_trusted_types(source: Path, fmt: str, extra: Sequence[str] = ()) -> list[str]:
    """What ``artifact.trusted_types`` records: a skops artifact's own types, plus ``extra``.

    Every registration route records them (the registrant vouches for them, the
    pull request shows them), so every route's version loads. Each type must pass
    :func:`registry_gen._trusted_types.trusted_type_problem` here, where it was saved.

    Raises:
        UsageError: a type is refused, or ``extra`` is given for an artifact that is not skops.
        ArtifactError: the skops artifact cannot be read.
        MissingExtra: skops is not installed.
    """
    if fmt != "skops":
        if extra:
            raise UsageError(
                f"trusted types apply to skops artifacts only; this artifact is {fmt} "
                f"(drop {', '.join(sorted(extra))})"
            )
        return []
    return check_trusted_types([*skops_untrusted_types(source), *extra], require_installed=True)


def registrant(root: Path, created_by: str | None) -> str:
    """Who a new version's ``created_by`` credits: ``created_by`` when given, else the
    registering user's git identity for ``root`` (see :func:`registry_gen.gitops.user_name`,
    which says so in a warning when git has none and it falls back).

    Raises:
        UsageError: ``created_by`` is given but blank.
    """
    if created_by is None:
        return gitops.user_name(root)
    if not created_by.strip():
        raise UsageError("created_by is blank; give a name, or leave it out to use git's user.name")
    return created_by.strip()


def dvc_remote(root: Path, push: bool) -> artifacts.Remote | None:
    """The DVC remote a new artifact is pushed to (None with ``push=False``).

    Raises:
        ArtifactError: the registry has no DVC set up, or no default remote to push to.
    """
    if not artifacts.is_dvc_repo(root):
        raise ArtifactError(
            f"{root} has no DVC set up; run `dvc init` there "
            "(or create registries with `registry-gen init`)"
        )
    remote = artifacts.default_remote(root) if push else None
    if push and remote is None:
        raise ArtifactError(
            "the registry has no default DVC remote; add one with "
            "`dvc remote add -d NAME URL`, or pass --no-push"
        )
    return remote


def check_new_name(root: Path, name: str) -> None:
    """Refuse a new model name that exists, or that folds to the name of another model.

    Raises:
        AlreadyExists: the model exists, or another model's name folds to the same name.
    """
    models = root / MODELS_DIR
    existing = [p.name for p in models.iterdir()] if models.is_dir() else []
    if name in existing and (models / name / MODEL_FILE).exists():
        raise AlreadyExists(f"registered model {name!r} already exists")
    problem = name_collision(name, existing)
    if problem is not None:
        raise AlreadyExists(problem.message)


def model_is_new(index: RegistryIndex, root: Path, name: str, create_model: bool) -> bool:
    """Whether registering a version of ``name`` creates the model (refused unless asked).

    Raises:
        InvalidRegistry: the model's records are broken.
        ModelNotFound: no such model, and ``create_model`` is false.
        AlreadyExists: a new name that folds to the name of an existing model.
    """
    if name in index.models:
        return False
    if name in index.broken:
        raise InvalidRegistry(list(index.broken[name]))
    if not create_model:
        raise ModelNotFound(
            f"no registered model named {name!r}; create it first "
            "(create_registered_model) or use register_model"
        )
    check_new_name(root, name)
    return True


def next_version(root: Path, name: str, base: str | None = None) -> int:
    """1 + the highest version of ``name`` in the working tree or on ``base``.

    ``base`` defaults to the current branch's upstream, else HEAD.

    Raises:
        InvalidName: ``name`` is not a model name.
        GitError: ``base`` is not a commit.
    """
    check_model_name(name)
    numbers = [0]
    folder = root / MODELS_DIR / name
    if folder.is_dir() and not folder.is_symlink():
        numbers += [int(p.name) for p in folder.iterdir() if p.name.isdigit() and p.is_dir()]
    ref = base if base is not None else gitops.default_base(root)
    if ref is not None:
        prefix = f"{MODELS_DIR}/{name}/"
        for entry in GitRevision(root, ref).list_files():
            if entry.path.startswith(prefix):
                part = entry.path[len(prefix) :].split("/", 1)[0]
                if part.isdigit():
                    numbers.append(int(part))
    return max(numbers) + 1


@dataclass(frozen=True)
class NewVersion:
    """Where a new version goes: ``models/NAME/N/`` under ``root``."""

    root: Path
    name: str
    record: VersionRecord
    new_model: bool

    @property
    def model_dir(self) -> Path:
        return safe_join(self.root, MODELS_DIR, self.name)

    @property
    def folder(self) -> Path:
        return safe_join(self.root, MODELS_DIR, self.name, str(self.record.version))

    def paths(self) -> list[str]:
        """The paths the change commits (the model's record too when the model is new)."""
        folder = self.folder.relative_to(self.root).as_posix()
        model = f"{MODELS_DIR}/{self.name}/{MODEL_FILE}"
        return [folder, model] if self.new_model else [folder]

    def write(self, source: Path, remote: artifacts.Remote | None) -> None:
        """Copy ``source`` in, ``dvc add`` it, push it, write the records; undo on failure.

        Raises:
            AlreadyExists: the version folder is already there.
            ArtifactError: DVC could not track or push the artifact.
        """
        folder, model_dir = self.folder, self.model_dir
        rel = folder.relative_to(self.root).as_posix()
        if folder.exists():
            raise AlreadyExists(f"{rel} already exists; remove it or register again")
        model_dir_existed = model_dir.exists()
        artifact = folder / self.record.artifact.path
        try:
            folder.mkdir(parents=True)
            progress.step(f"{self.name} v{self.record.version}", "copying")
            if source.is_dir():
                shutil.copytree(source, artifact, symlinks=False)
            else:
                shutil.copy2(source, artifact)
            artifact_rel = f"{rel}/{self.record.artifact.path}"
            progress.step(f"{self.name} v{self.record.version}", "hashing")
            artifacts.track(self.root, artifact_rel)
            if remote is not None:
                progress.step(f"{self.name} v{self.record.version}", f"pushing to {remote.url}")
                artifacts.push(self.root, artifact_rel, remote.name)
            write_record(folder / VERSION_FILE, self.record)
            if self.new_model:
                write_record(model_dir / MODEL_FILE, ModelRecord(name=self.name))
        except BaseException:
            self._roll_back(model_dir_existed)
            raise

    def _roll_back(self, model_dir_existed: bool) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.new_model:
            (self.model_dir / MODEL_FILE).unlink(missing_ok=True)
            if not model_dir_existed:
                shutil.rmtree(self.model_dir, ignore_errors=True)


def local_source(source: Path | str) -> Path:
    """The local path a version's ``source`` names: a path, or a ``file:`` URI.

    >>> local_source("file:///tmp/model.skops").as_posix()
    '/tmp/model.skops'

    Raises:
        UsageError: ``source`` is a URI of another scheme (``runs:/`` needs the MLflow plugin).
    """
    text = str(source)
    if text.startswith("file:"):
        from urllib.parse import unquote, urlparse

        return Path(unquote(urlparse(text).path))
    if "://" in text or text.startswith(("runs:/", "models:/")):
        raise UsageError(
            f"source {text!r} is not a local path; register a local file or "
            "folder (MLflow's runs:/ sources go through registry-gen[mlflow]'s "
            "store plugin)"
        )
    return Path(source)


def checked_source(source: Path | str, fmt: str | None) -> tuple[Path, str]:
    """The local path of a new version's ``source`` and its format (given, or inferred).

    Raises:
        UsageError: ``source`` is not a local path, does not exist, or the format is unknown.
    """
    path = local_source(source)
    if not path.exists():
        raise UsageError(f"no file or folder at {source}")
    chosen = fmt or infer_format(path)
    if chosen not in FORMATS:
        raise UsageError(f"unknown artifact format {chosen!r}; formats: {', '.join(FORMATS)}")
    return path, chosen


def in_repo_remote(root: Path, remote: artifacts.Remote | None) -> list[str]:
    """The DVC remote's folder if it lies inside the registry: it travels with the commit."""
    store = remote.local_folder(root) if remote else None
    if store is not None and store.is_relative_to(root):
        return [store.relative_to(root).as_posix()]
    return []
