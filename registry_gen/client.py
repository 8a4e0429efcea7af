"""The Python API: MLflow's model-registry client, over a git repository instead of a server.

:class:`RegistryClient` has MLflow's method names and arguments where they fit,
so code written against ``mlflow.MlflowClient`` reads the same. Reads return the
store's immutable :class:`~registry_gen.store.RegisteredModel` and
:class:`~registry_gen.store.ModelVersion`; writes change files in the working
tree (records with the smallest diff, artifacts through DVC) and, with
``branch=True`` or ``branch="NAME"``, make a branch and one commit ready to push
as a pull request.

Three ways to add a model, all writing the same layout::

    log_model(model, "churn", registry=".", input_example=X[:5])     # from training code
    register_model("out/model.skops", "churn", registry=".")          # a file or folder
    client.create_registered_model("churn"); client.create_model_version("churn", "model.skops")

Example:
    >>> client = RegistryClient("/path/to/registry")                          # doctest: +SKIP
    >>> client.transition_model_version_stage("churn", 3, "production",        # doctest: +SKIP
    ...                                       archive_existing_versions=True)
    >>> client.get_model_version_by_alias("churn", "champion").version        # doctest: +SKIP
    3
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import ValidationError

from . import artifacts, gitops
from .errors import (
    AlreadyExists,
    ArtifactError,
    InvalidRegistry,
    ModelNotFound,
    RuleViolation,
    UsageError,
    VersionNotFound,
)
from .filters import (
    MODEL_KEYS,
    MODEL_PREFIXES,
    VERSION_KEYS,
    VERSION_PREFIXES,
    parse_filter,
    parse_order_by,
    sort_key,
)
from .paths import MODEL_FILE, MODELS_DIR, POLICY_FILE, VERSION_FILE, safe_join
from .schema import (
    ArtifactFormat,
    ModelRecord,
    Policy,
    Signature,
    TensorSpec,
    VersionRecord,
)
from .store import (
    GitRevision,
    ModelVersion,
    RegisteredModel,
    RegistryIndex,
    edit_record,
    load_index,
    load_model_scope,
    write_record,
)
from .uri import ModelUri, check_alias, check_model_name, check_version, fold_name

log = logging.getLogger(__name__)

Branch = bool | str | None
FORMATS: tuple[str, ...] = get_args(ArtifactFormat)
_SUFFIX_FORMATS = {
    ".pkl": "pickle", ".pickle": "pickle", ".joblib": "joblib", ".skops": "skops",
    ".onnx": "onnx", ".pt": "pytorch", ".pth": "pytorch", ".safetensors": "safetensors",
}


def infer_format(path: Path) -> str:
    """The artifact format a path's name suggests (``path`` when nothing does).

    >>> infer_format(Path("model.pkl")), infer_format(Path("weights.safetensors"))
    ('pickle', 'safetensors')
    """
    if path.is_dir():
        return "mlflow" if (path / "MLmodel").is_file() else "path"
    return _SUFFIX_FORMATS.get(path.suffix.lower(), "path")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def version_fields(version: ModelVersion) -> dict[str, Any]:
    """A version as the flat mapping the filter and order_by syntax reads."""
    record = version.record
    fields: dict[str, Any] = {
        "name": version.name,
        "version_number": version.version,
        "current_stage": version.stage,
        "run_id": record.lineage.run_id,
        "run_url": record.lineage.run_url,
        "description": record.description,
        "creation_timestamp": _aware(record.created_at),
        "created_by": record.created_by,
        "format": record.artifact.format,
    }
    fields.update({f"tags.{k}": v for k, v in record.tags.items()})
    fields.update({f"metrics.{k}": v for k, v in record.metrics.items()})
    fields.update({f"params.{k}": v for k, v in record.params.items()})
    return fields


def model_fields(model: RegisteredModel) -> dict[str, Any]:
    """A registered model as the flat mapping the filter and order_by syntax reads."""
    created = [_aware(v.record.created_at) for v in model.versions]
    fields: dict[str, Any] = {
        "name": model.name,
        "description": model.record.description,
        "creation_timestamp": min(created) if created else None,
        "last_updated_timestamp": max(created) if created else None,
    }
    fields.update({f"tags.{k}": v for k, v in model.record.tags.items()})
    return fields


def _validated(schema: type[Any], data: Mapping[str, Any], what: str) -> Any:
    """Validate arguments against a record schema; errors name the argument, not a file."""
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        detail = error.errors()[0]
        field = ".".join(str(p) for p in detail["loc"])
        message = str(detail["msg"]).removeprefix("Value error, ")
        raise UsageError(f"invalid {what}: {field}: {message}") from None


WriteT = TypeVar("WriteT", bound=Callable[..., Any])


def _fresh(method: WriteT) -> WriteT:
    """Re-read the working tree before a change, so its checks never act on stale records."""

    @wraps(method)
    def wrapper(self: RegistryClient, *args: Any, **kwargs: Any) -> Any:
        self._forget()
        return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class RegistryClient:
    """Read and change the registry in the git repository at ``path``.

    Reads use the working tree as last read (call :meth:`refresh` to see edits
    made meanwhile by others); every change re-reads it first, so its checks
    never act on stale records. A question about one model (get, resolve,
    change) reads only ``registry.yaml`` and ``models/NAME/`` until something
    needs the whole registry (search, :attr:`index`), so it costs the same in a
    registry of 10 versions or 10,000.

    >>> client = RegistryClient(".")                         # doctest: +SKIP
    >>> [m.name for m in client.search_registered_models("name LIKE 'ch%'")]  # doctest: +SKIP
    ['churn']
    """

    def __init__(self, path: Path | str = ".") -> None:
        self.root = Path(path).resolve()
        if not self.root.is_dir():
            raise UsageError(f"no registry folder at {path}")
        self._index: RegistryIndex | None = None
        self._scopes: dict[str, RegistryIndex] = {}  # model name → its model-scoped index

    # -- reading ----------------------------------------------------------------

    @property
    def index(self) -> RegistryIndex:
        """The registry as last read from the working tree."""
        if self._index is None:
            self._index = load_index(self.root)
        return self._index

    def refresh(self) -> RegistryIndex:
        """Re-read the working tree."""
        self._forget()
        return self.index

    def _forget(self) -> None:
        self._index = None
        self._scopes.clear()

    def _index_for(self, name: str) -> RegistryIndex:
        """An index that answers every question about the model ``name``.

        The whole registry when it has been read; else ``registry.yaml`` and
        ``models/NAME/`` alone (what :func:`registry_gen.locate.scan_model_folder`
        lists), which hold everything that decides ``name``'s records, versions,
        stages and aliases. When that narrow read does not find a healthy model
        (no such folder, a symlink on the way, a broken record), the whole
        registry is read instead, so errors and messages are exactly the whole
        index's ("registered models: ...").
        """
        if self._index is not None:
            return self._index
        scoped = self._scopes.get(name)
        if scoped is None:
            scoped = load_model_scope(self.root, name)
            if scoped is None:
                return self.index
            self._scopes[name] = scoped
        return scoped

    @property
    def policy(self) -> Policy:
        """``registry.yaml``; :class:`InvalidRegistry` if it cannot be read."""
        return _policy_of(self.index)

    def _policy_for(self, name: str) -> Policy:
        """``registry.yaml`` as read with the model ``name`` (see :meth:`_index_for`)."""
        return _policy_of(self._index_for(name))

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The registered model ``name`` with its versions."""
        checked = check_model_name(name)
        return self._index_for(checked).model(checked)

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """Version ``version`` of ``name``."""
        return self.get_registered_model(name).version(check_version(version))

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``name@alias`` points to."""
        uri = ModelUri(name=check_model_name(name), alias=check_alias(alias))
        return self._index_for(uri.name).resolve(uri)

    def resolve(self, uri: str | ModelUri) -> ModelVersion:
        """The version a ``models:/`` URI names (``models:/churn/Production``, ``...@champion``)."""
        parsed = uri if isinstance(uri, ModelUri) else ModelUri.parse(uri)
        return self._index_for(parsed.name).resolve(parsed)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The highest version in each of ``stages`` (every stage when None), as MLflow does."""
        model = self.get_registered_model(name)
        policy = self._policy_for(model.name)
        wanted = [self._stage(s, policy) for s in stages] if stages else list(policy.stages)
        found = []
        for stage in wanted:
            holders = model.in_stage(stage)
            if holders:
                found.append(holders[0])
        return found

    def search_registered_models(
        self, filter_string: str | None = None, max_results: int | None = None,
        order_by: Sequence[str] | None = None,
    ) -> list[RegisteredModel]:
        """Registered models matching an MLflow filter, e.g. ``"name LIKE 'ch%'"``.

        Keys: ``name``, ``description``, ``tags.KEY``; ordered by ``name`` unless
        ``order_by`` says otherwise (``["last_updated_timestamp DESC"]``).
        """
        flt = parse_filter(filter_string, MODEL_KEYS, MODEL_PREFIXES)
        order = parse_order_by(order_by, MODEL_KEYS, MODEL_PREFIXES) or parse_order_by(
            ["name"], MODEL_KEYS)
        rows = [(model_fields(m), m) for m in self.index.models.values()]
        matched = [(f, m) for f, m in rows if flt.matches(f)]
        matched.sort(key=lambda row: sort_key(row[0], order))
        return [m for _, m in matched][: max_results or None]

    def search_model_versions(
        self, filter_string: str | None = None, max_results: int | None = None,
        order_by: Sequence[str] | None = None,
    ) -> list[ModelVersion]:
        """Versions matching an MLflow filter, e.g. ``"name = 'churn' AND tags.team = 'risk'"``.

        Keys: ``name``, ``version_number``, ``current_stage``, ``run_id``,
        ``creation_timestamp``, ``tags.KEY``, ``metrics.KEY``, ``params.KEY``.
        Ordered by name, then newest version first, unless ``order_by`` is given.
        """
        flt = parse_filter(filter_string, VERSION_KEYS, VERSION_PREFIXES)
        order = parse_order_by(order_by) or parse_order_by(["name", "version_number DESC"])
        rows = [(version_fields(v), v) for v in self.index.versions()]
        matched = [(f, v) for f, v in rows if flt.matches(f)]
        matched.sort(key=lambda row: sort_key(row[0], order))
        return [v for _, v in matched][: max_results or None]

    def next_version(self, name: str, base: str | None = None) -> int:
        """1 + the highest version of ``name`` in the working tree or on ``base``.

        ``base`` defaults to the current branch's upstream, else HEAD, so two
        people registering from the same base get the same number and the
        second pull request conflicts visibly instead of silently.
        """
        check_model_name(name)
        numbers = [0]
        folder = self.root / MODELS_DIR / name
        if folder.is_dir() and not folder.is_symlink():
            numbers += [int(p.name) for p in folder.iterdir() if p.name.isdigit() and p.is_dir()]
        ref = base if base is not None else gitops.default_base(self.root)
        if ref is not None:
            prefix = f"{MODELS_DIR}/{name}/"
            for entry in GitRevision(self.root, ref).list_files():
                if entry.path.startswith(prefix):
                    part = entry.path[len(prefix):].split("/", 1)[0]
                    if part.isdigit():
                        numbers.append(int(part))
        return max(numbers) + 1

    # -- registered models -------------------------------------------------------

    @_fresh
    def create_registered_model(
        self, name: str, description: str = "", tags: Mapping[str, str] | None = None,
        *, owners: Sequence[str] = (), branch: Branch = None,
    ) -> RegisteredModel:
        """Create ``models/NAME/model.yaml``. :class:`AlreadyExists` if the name (or a case
        variant of it) is taken."""
        check_model_name(name)
        self._check_new_name(name)
        record = _validated(ModelRecord, {"name": name, "description": description,
                                          "owners": list(owners), "tags": dict(tags or {})},
                            "registered model")
        path = safe_join(self.root, MODELS_DIR, name, MODEL_FILE)

        def write() -> None:
            write_record(path, record)

        self._apply(branch, f"create/{name}", f"Create registered model {name}",
                    [self._rel(path)], write)
        return self.get_registered_model(name)

    @_fresh
    def update_registered_model(
        self, name: str, description: str | None = None, *, branch: Branch = None,
    ) -> RegisteredModel:
        """Change the model's Markdown description."""
        model = self.get_registered_model(name)
        if description is None:
            return model
        return self._edit_model(model, lambda d: d.__setitem__("description", description),
                                branch, f"describe/{name}", f"Describe {name}")

    @_fresh
    def set_registered_model_tag(self, name: str, key: str, value: str, *,
                                 branch: Branch = None) -> RegisteredModel:
        """Set the tag ``key`` of the registered model."""
        model = self.get_registered_model(name)
        _check_tag(key, value)

        def mutate(data: dict[str, Any]) -> None:
            if "tags" not in data or data["tags"] is None:
                data["tags"] = {}
            data["tags"][key] = value

        return self._edit_model(model, mutate, branch, f"tag/{name}-{key}",
                                f"Tag {name}: {key}={value}")

    @_fresh
    def delete_registered_model_tag(self, name: str, key: str, *,
                                    branch: Branch = None) -> RegisteredModel:
        """Remove the tag ``key`` of the registered model (:class:`NotFound` if absent)."""
        model = self.get_registered_model(name)
        if key not in model.record.tags:
            raise VersionNotFound(f"{name} has no tag {key!r}")
        return self._edit_model(model, _remove("tags", key), branch,
                                f"tag/{name}-{key}-delete", f"Remove tag {key} from {name}")

    @_fresh
    def set_registered_model_alias(self, name: str, alias: str, version: int | str, *,
                                   branch: Branch = None) -> ModelVersion:
        """Point ``name@alias`` at ``version`` (a one-line change when the alias exists)."""
        policy = self._policy_for(check_model_name(name))
        check_alias(alias, tuple(policy.stages))
        target = self.get_model_version(name, version)
        model = self.get_registered_model(name)
        if target.stage in policy.alias_forbidden_stages:
            raise RuleViolation(
                f"{name} v{target.version} is {target.stage}; registry.yaml forbids aliases on "
                f"versions in {', '.join(policy.alias_forbidden_stages)}")
        before = model.aliases.get(alias)
        if before == target.version:
            if branch:
                raise RuleViolation(f"{name}@{alias} already points at v{target.version}")
            return target

        def mutate(data: dict[str, Any]) -> None:
            if "aliases" not in data or data["aliases"] is None:
                data["aliases"] = {}
            data["aliases"][alias] = target.version

        message = (f"Point {name}@{alias} at v{target.version}" if before is None
                   else f"Move {name}@{alias}: v{before} → v{target.version}")
        self._edit_model(model, mutate, branch, f"alias/{name}-{alias}-v{target.version}",
                         message)
        return self.get_model_version(name, target.version)

    @_fresh
    def delete_registered_model_alias(self, name: str, alias: str, *,
                                      branch: Branch = None) -> None:
        """Remove ``name@alias``."""
        model = self.get_registered_model(name)
        if alias not in model.aliases:
            known = ", ".join(f"@{a}" for a in sorted(model.aliases)) or "none"
            raise VersionNotFound(f"{name} has no alias {alias!r}; its aliases: {known}")
        was = model.aliases[alias]
        self._edit_model(model, _remove("aliases", alias), branch,
                         f"alias/{name}-{alias}-delete", f"Remove {name}@{alias} (was v{was})")

    # -- model versions ------------------------------------------------------------

    def create_model_version(
        self, name: str, source: Path | str, description: str = "", tags: Mapping[str, str]
        | None = None, *, run_id: str | None = None, run_url: str | None = None,
        code: Mapping[str, str] | None = None, datasets: Sequence[Mapping[str, Any]] = (),
        parents: Sequence[str] = (), params: Mapping[str, Any] | None = None,
        metrics: Mapping[str, float] | None = None, signature: Signature | Mapping[str, Any]
        | None = None, format: str | None = None, trusted_types: Sequence[str] = (),
        stage: str | None = None, push: bool = True, base: str | None = None,
        branch: Branch = None, create_model: bool = False, created_at: datetime | None = None,
    ) -> ModelVersion:
        """Add the next version of ``name`` from the file or folder ``source``.

        The artifact is copied to ``models/NAME/N/``, tracked with ``dvc add``
        and pushed to the default DVC remote (``push=False`` skips the upload);
        then ``version.yaml`` is written. On any failure the half-made version
        folder is removed. The model must exist unless ``create_model`` is true
        (as :func:`register_model` does). ``created_at`` defaults to now; give it
        when importing history from another registry.

        >>> client.create_model_version("churn", "model.skops", "Retrained on May data",
        ...                             run_id="a1b2", metrics={"auc": 0.91})  # doctest: +SKIP
        """
        check_model_name(name)
        source_path = Path(source)
        if not source_path.exists():
            raise UsageError(f"no file or folder at {source}")
        fmt = format or infer_format(source_path)
        if fmt not in FORMATS:
            raise UsageError(f"unknown artifact format {fmt!r}; formats: {', '.join(FORMATS)}")
        index = self.refresh()
        policy = self.policy
        new_model = name not in index.models
        if new_model:
            if name in index.broken:
                raise InvalidRegistry(list(index.broken[name]))
            if not create_model:
                raise ModelNotFound(
                    f"no registered model named {name!r}; create it first "
                    "(create_registered_model) or use register_model")
            self._check_new_name(name)
        number = self.next_version(name, base)
        artifact_name = source_path.name
        record = _validated(VersionRecord, {
            "version": number,
            "stage": self._stage(stage) if stage else policy.default_stage,
            "description": description,
            "created_at": _aware(created_at or datetime.now(UTC)).replace(microsecond=0),
            "created_by": gitops.user_name(self.root),
            "artifact": {"path": artifact_name, "format": fmt,
                         "trusted_types": list(trusted_types)},
            "lineage": {"run_id": run_id, "run_url": run_url,
                        "code": dict(code) if code else None,
                        "datasets": [dict(d) for d in datasets], "parents": list(parents)},
            "params": dict(params or {}),
            "metrics": {k: float(v) for k, v in (metrics or {}).items()},
            "signature": signature.model_dump() if isinstance(signature, Signature)
            else signature,
            "tags": dict(tags or {}),
        }, "model version")
        if record.stage != policy.default_stage:
            self._check_requirements(policy, name, record, record.stage)
        if not artifacts.is_dvc_repo(self.root):
            raise ArtifactError(f"{self.root} has no DVC set up; run `dvc init` there "
                                "(or create registries with `registry-gen init`)")
        remote = artifacts.default_remote(self.root) if push else None
        if push and remote is None:
            raise ArtifactError("the registry has no default DVC remote; add one with "
                                "`dvc remote add -d NAME URL`, or pass --no-push")
        model_dir = safe_join(self.root, MODELS_DIR, name)
        folder = safe_join(self.root, MODELS_DIR, name, str(number))
        folder_rel = self._rel(folder)
        artifact_rel = f"{folder_rel}/{artifact_name}"
        model_path = model_dir / MODEL_FILE

        def write() -> None:
            if folder.exists():
                raise AlreadyExists(f"{folder_rel} already exists; remove it or register again")
            model_dir_existed = model_dir.exists()
            try:
                folder.mkdir(parents=True)
                if source_path.is_dir():
                    shutil.copytree(source_path, folder / artifact_name, symlinks=False)
                else:
                    shutil.copy2(source_path, folder / artifact_name)
                artifacts.track(self.root, artifact_rel)
                if remote is not None:
                    artifacts.push(self.root, artifact_rel, remote.name)
                write_record(folder / VERSION_FILE, record)
                if new_model:
                    write_record(model_path, ModelRecord(name=name))
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                if new_model:
                    model_path.unlink(missing_ok=True)
                    if not model_dir_existed:
                        shutil.rmtree(model_dir, ignore_errors=True)
                raise

        paths = [folder_rel] + ([self._rel(model_path)] if new_model else [])
        extra: list[str] = []
        store = remote.local_folder(self.root) if remote else None
        if store is not None and store.is_relative_to(self.root):
            extra.append(self._rel(store))  # a remote inside the repo travels with the commit
        self._apply(branch, f"register/{name}-v{number}", f"Register {name} v{number}",
                    paths, write, extra)
        return self.get_model_version(name, number)

    @_fresh
    def update_model_version(self, name: str, version: int | str,
                             description: str | None = None, *,
                             branch: Branch = None) -> ModelVersion:
        """Change a version's Markdown description."""
        target = self.get_model_version(name, version)
        if description is None:
            return target
        return self._edit_version(target, lambda d: d.__setitem__("description", description),
                                  branch, f"describe/{name}-v{target.version}",
                                  f"Describe {name} v{target.version}")

    @_fresh
    def set_model_version_tag(self, name: str, version: int | str, key: str, value: str, *,
                              branch: Branch = None) -> ModelVersion:
        """Set the tag ``key`` of one version."""
        target = self.get_model_version(name, version)
        _check_tag(key, value)

        def mutate(data: dict[str, Any]) -> None:
            if "tags" not in data or data["tags"] is None:
                data["tags"] = {}
            data["tags"][key] = value

        return self._edit_version(target, mutate, branch,
                                  f"tag/{name}-v{target.version}-{key}",
                                  f"Tag {name} v{target.version}: {key}={value}")

    @_fresh
    def delete_model_version_tag(self, name: str, version: int | str, key: str, *,
                                 branch: Branch = None) -> ModelVersion:
        """Remove the tag ``key`` of one version."""
        target = self.get_model_version(name, version)
        if key not in target.record.tags:
            raise VersionNotFound(f"{name} v{target.version} has no tag {key!r}")
        return self._edit_version(target, _remove("tags", key), branch,
                                  f"tag/{name}-v{target.version}-{key}-delete",
                                  f"Remove tag {key} from {name} v{target.version}")

    @_fresh
    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str,
        archive_existing_versions: bool = False, *, branch: Branch = None,
    ) -> ModelVersion:
        """Move a version to ``stage``, matched case-insensitively, spelled as the policy does.

        Checks registry.yaml before writing anything: the transition must be
        allowed, the version must meet the stage's requirements, and a
        single-holder stage (Production) already held by another version needs
        ``archive_existing_versions=True``, which moves the other holders to
        Archived in the same change. The diff is one line per version moved.
        """
        policy = self._policy_for(check_model_name(name))
        model = self.get_registered_model(name)
        target = model.version(check_version(version))
        stage_name = self._stage(stage, policy)
        current = target.stage
        if stage_name == current:
            if branch:
                raise RuleViolation(f"{name} v{target.version} is already in {stage_name}")
            return target
        if not policy.allows(current, stage_name):
            allowed = ", ".join(policy.transitions.get(current, [])) or "nothing"
            raise RuleViolation(
                f"{name} v{target.version}: {current} → {stage_name} is not allowed by "
                f"registry.yaml; from {current} a version may move to: {allowed}")
        others = [v for v in model.in_stage(stage_name) if v.version != target.version]
        moved: list[ModelVersion] = []
        archived = policy.canonical_stage("Archived")
        if others and archive_existing_versions:
            if archived is None:
                raise RuleViolation("registry.yaml has no Archived stage to archive versions to")
            for other in others:
                if not policy.allows(other.stage, archived):
                    raise RuleViolation(f"{name} v{other.version}: {other.stage} → {archived} "
                                        "is not allowed by registry.yaml")
                self._check_alias_stage(policy, model, other, archived)
            moved = others
        elif others and stage_name in policy.single_holder:
            holders = ", ".join(f"v{v.version}" for v in others)
            raise RuleViolation(
                f"{stage_name} holds one version of {name} and {holders} is there; pass "
                f"--archive-existing (archive_existing_versions=True) to move it to Archived")
        self._check_requirements(policy, name, target.record, stage_name)
        self._check_alias_stage(policy, model, target, stage_name)

        def write() -> None:
            for other in moved:
                edit_record(self.root / other.record_file, VersionRecord,
                            _setter("stage", archived))
            edit_record(self.root / target.record_file, VersionRecord,
                        _setter("stage", stage_name))

        verb = "Archive" if stage_name == archived else "Promote"
        message = f"{verb} {name} v{target.version}: {current} → {stage_name}"
        if moved:
            message += " (archive " + ", ".join(f"v{v.version}" for v in moved) + ")"
        self._apply(branch, f"{verb.lower()}/{name}-v{target.version}-{stage_name}", message,
                    [target.record_file, *[v.record_file for v in moved]], write)
        return self.get_model_version(name, target.version)

    # -- internals -------------------------------------------------------------------

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _stage(self, stage: str, policy: Policy | None = None) -> str:
        policy = policy if policy is not None else self.policy
        canonical = policy.canonical_stage(stage)
        if canonical is None:
            raise UsageError(f"{stage!r} is not a stage of this registry; stages: "
                             f"{', '.join(policy.stages)}")
        return canonical

    def _check_new_name(self, name: str) -> None:
        models = self.root / MODELS_DIR
        existing = [p.name for p in models.iterdir()] if models.is_dir() else []
        for other in existing:
            if other == name and (models / other / MODEL_FILE).exists():
                raise AlreadyExists(f"registered model {name!r} already exists")
            if other != name and fold_name(other) == fold_name(name):
                raise AlreadyExists(f"{name!r} collides with the existing model {other!r}")

    @staticmethod
    def _check_requirements(policy: Policy, name: str, record: VersionRecord,
                            stage: str) -> None:
        need = policy.requires.get(stage)
        if need is None:
            return
        missing = []
        if need.description and not record.description.strip():
            missing.append("a description")
        if need.metrics is True and not record.metrics:
            missing.append("metrics")
        elif isinstance(need.metrics, list):
            missing += [f"metric {m!r}" for m in need.metrics if m not in record.metrics]
        if need.signature and record.signature is None:
            missing.append("a signature")
        if need.run and not (record.lineage.run_id or record.lineage.run_url):
            missing.append("a run (lineage.run_id or run_url)")
        if missing:
            raise RuleViolation(f"{name} v{record.version} cannot enter {stage}: registry.yaml "
                                f"requires {', '.join(missing)}")

    @staticmethod
    def _check_alias_stage(policy: Policy, model: RegisteredModel, version: ModelVersion,
                           stage: str) -> None:
        aliases = model.aliases_of(version.version)
        if aliases and stage in policy.alias_forbidden_stages:
            names = ", ".join(f"@{a}" for a in aliases)
            raise RuleViolation(
                f"{model.name} v{version.version} has {names}; registry.yaml forbids aliases on "
                f"{stage} versions: move or delete the alias first "
                f"(registry-gen alias {model.name} {aliases[0]} VERSION)")

    def _edit_model(self, model: RegisteredModel, mutate: Callable[[dict[str, Any]], None],
                    branch: Branch, branch_name: str, message: str) -> RegisteredModel:
        path = self.root / model.record_file

        def write() -> None:
            edit_record(path, ModelRecord, mutate)

        self._apply(branch, branch_name, message, [model.record_file], write)
        return self.get_registered_model(model.name)

    def _edit_version(self, version: ModelVersion, mutate: Callable[[dict[str, Any]], None],
                      branch: Branch, branch_name: str, message: str) -> ModelVersion:
        path = self.root / version.record_file

        def write() -> None:
            edit_record(path, VersionRecord, mutate)

        self._apply(branch, branch_name, message, [version.record_file], write)
        return self.get_model_version(version.name, version.version)

    def _apply(self, branch: Branch, default_branch: str, message: str, paths: list[str],
               write: Callable[[], None], extra_paths: Iterable[str] = ()) -> None:
        try:
            if branch:
                name = gitops.branch_name(default_branch) if branch is True else str(branch)
                with gitops.change_on_branch(self.root, name, paths, message,
                                             list(extra_paths)):
                    write()
            else:
                write()
        finally:
            self._forget()
        log.info("%s", message)


def _policy_of(index: RegistryIndex) -> Policy:
    broken = [e for e in index.errors if e.location.file == POLICY_FILE]
    if broken:
        raise InvalidRegistry(broken)
    return index.policy


def _setter(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data[key] = value

    return mutate


def _remove(section: str, key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        del data[section][key]
        if not data[section]:
            del data[section]

    return mutate


def _check_tag(key: str, value: str) -> None:
    if not isinstance(key, str) or not key.strip() or len(key) > 500:
        raise UsageError(f"tag key {key!r} must be a non-empty string of at most 500 characters")
    if not isinstance(value, str) or len(value) > 500:
        raise UsageError(f"tag value for {key!r} must be a string of at most 500 characters")


# -----------------------------------------------------------------------------
# Module-level helpers, as in mlflow.register_model / mlflow.sklearn.log_model


def register_model(path: Path | str, name: str, *, registry: Path | str | None = None,
                   **kwargs: Any) -> ModelVersion:
    """Register the file or folder at ``path`` as the next version of ``name``.

    Creates the registered model if it is new. Keyword arguments are those of
    :meth:`RegistryClient.create_model_version` (description, tags, run_id,
    metrics, params, datasets, parents, format, push, branch, ...).

    >>> register_model("out/model.onnx", "churn", registry=".",  # doctest: +SKIP
    ...                metrics={"auc": 0.9})
    """
    client = RegistryClient(registry if registry is not None else ".")
    return client.create_model_version(name, path, create_model=True, **kwargs)


def infer_signature(model: Any, input_example: Any) -> Signature:
    """Input and output schema from an example batch (a NumPy array or pandas DataFrame)."""
    import numpy as np

    def spec(data: Any) -> list[TensorSpec]:
        columns = getattr(data, "columns", None)
        dtypes = getattr(data, "dtypes", None)
        if columns is not None and dtypes is not None:
            return [TensorSpec(name=str(c), type=str(t)) for c, t in zip(columns, dtypes,
                                                                         strict=True)]
        array = np.asarray(data)
        return [TensorSpec(type=str(array.dtype), shape=[-1, *array.shape[1:]])]

    outputs: list[TensorSpec] = []
    predict = getattr(model, "predict", None)
    if callable(predict):
        outputs = spec(predict(input_example))
    return Signature(inputs=spec(input_example), outputs=outputs)


def log_model(model: Any, name: str, *, registry: Path | str | None = None,
              input_example: Any = None, format: str = "skops", **kwargs: Any) -> ModelVersion:
    """Serialise a scikit-learn model and register it as the next version of ``name``.

    The default format is skops, which loads without running code from the
    file; the types skops does not trust by default are recorded in
    ``artifact.trusted_types`` (the registrant vouches for them).
    ``format="joblib"`` or ``"pickle"`` only when asked: loading those runs
    code. With ``input_example`` the signature is inferred from it.

    >>> log_model(clf, "churn", registry=".", input_example=X[:5],       # doctest: +SKIP
    ...           metrics={"auc": 0.91}, run_id="run-42")
    """
    if format not in {"skops", "joblib", "pickle"}:
        raise UsageError(f"log_model writes skops, joblib or pickle, not {format!r}; "
                         "use register_model for other formats")
    if input_example is not None and "signature" not in kwargs:
        kwargs["signature"] = infer_signature(model, input_example)
    with tempfile.TemporaryDirectory(prefix="registry-gen-") as tmp:
        suffix = {"skops": "skops", "joblib": "joblib", "pickle": "pkl"}[format]
        path = Path(tmp) / f"model.{suffix}"
        trusted: list[str] = []
        if format == "skops":
            import skops.io

            data = skops.io.dumps(model)
            trusted = sorted(skops.io.get_untrusted_types(data=data))
            path.write_bytes(data)
        elif format == "joblib":
            import joblib

            joblib.dump(model, path)
        else:
            import pickle

            with path.open("wb") as handle:
                pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
        return register_model(path, name, registry=registry, format=format,
                              trusted_types=trusted, **kwargs)
