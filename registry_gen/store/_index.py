"""The immutable index: registered models, their versions, and ``models:/`` resolution."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property

from registry_gen.errors import InvalidRegistry, ModelNotFound, RecordError
from registry_gen.paths import MODEL_FILE, MODELS_DIR, VERSION_FILE
from registry_gen.resolve import describe_versions, follow_rename, resolve, version_not_found
from registry_gen.schema import DvcOutput, ModelRecord, Policy, VersionRecord
from registry_gen.uri import ModelUri


def millis(value: datetime) -> int:
    """``value`` as MLflow's timestamps are: milliseconds since the epoch (naive means UTC).

    >>> millis(datetime(2024, 5, 1, tzinfo=UTC))
    1714521600000
    """
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return round(aware.timestamp() * 1000)


@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model: its record and its artifact pointer.

    It has MLflow's ``ModelVersion`` properties with MLflow's types: ``name``,
    ``version``, ``creation_timestamp`` and ``last_updated_timestamp`` (ms),
    ``current_stage``, ``description``, ``user_id``, ``source``, ``run_id``,
    ``run_link``, ``status``, ``status_message``, ``tags`` (dict) and
    ``aliases`` (list). ``version`` is an ``int``, as MLflow's database store
    returns it (its REST client returns a ``str``; ``models:/NAME/{version}``
    reads the same either way).
    """

    name: str
    record: VersionRecord
    pointer: DvcOutput | None
    folder: str  # "models/NAME/VERSION", POSIX, relative to the registry root
    # Aliases live in model.yaml: RegisteredModel fills this in for its versions.
    alias_names: tuple[str, ...] = field(default=(), compare=False)

    @property
    def version(self) -> int:
        """The version number."""
        return self.record.version

    @property
    def creation_timestamp(self) -> int:
        """When the version was registered, in milliseconds since the epoch (MLflow's unit)."""
        return millis(self.record.created_at)

    @property
    def last_updated_timestamp(self) -> int:
        """The creation time: records keep no update time (git history does)."""
        return self.creation_timestamp

    @property
    def current_stage(self) -> str:
        """The stage the version is in (MLflow's name for :attr:`stage`)."""
        return self.record.stage

    @property
    def description(self) -> str:
        """The version's Markdown description."""
        return self.record.description

    @property
    def user_id(self) -> str:
        """Who registered the version (``created_by``)."""
        return self.record.created_by

    @property
    def source(self) -> str:
        """The artifact's path relative to the registry root (MLflow's artifact source)."""
        return self.artifact_path

    @property
    def run_id(self) -> str | None:
        """The training run's id (``lineage.run_id``)."""
        return self.record.lineage.run_id

    @property
    def run_link(self) -> str | None:
        """A link to the training run (``lineage.run_url``)."""
        return self.record.lineage.run_url

    @property
    def status(self) -> str:
        """Always ``READY``: a version exists once its record is written."""
        return "READY"

    @property
    def status_message(self) -> str | None:
        """Always None (MLflow's message for a failed registration)."""
        return None

    @property
    def tags(self) -> dict[str, str]:
        """Tag key → value (a copy)."""
        return dict(self.record.tags)

    @property
    def aliases(self) -> list[str]:
        """The model's aliases that point at this version, sorted."""
        return list(self.alias_names)

    @property
    def stage(self) -> str:
        """The stage the version is in."""
        return self.record.stage

    @property
    def uri(self) -> ModelUri:
        """The exact ``models:/NAME/VERSION`` URI of this version."""
        return ModelUri(name=self.name, version=self.record.version)

    @property
    def artifact_path(self) -> str:
        """Path of the artifact relative to the registry root."""
        return f"{self.folder}/{self.record.artifact.path}"

    @property
    def artifact_md5(self) -> str | None:
        """The artifact's MD5 as its DVC pointer records it (None without a pointer)."""
        return self.pointer.md5 if self.pointer else None

    @property
    def record_file(self) -> str:
        """Path of ``version.yaml`` relative to the registry root."""
        return f"{self.folder}/{VERSION_FILE}"


@dataclass(frozen=True)
class RegisteredModel:
    """A registered model: its ``model.yaml`` and its versions, oldest first."""

    record: ModelRecord
    versions: tuple[ModelVersion, ...]

    def __post_init__(self) -> None:
        # Each version carries the aliases pointing at it, as MLflow's do.
        by_version: dict[int, list[str]] = {}
        for alias, number in sorted(self.record.aliases.items()):
            by_version.setdefault(number, []).append(alias)
        versions = tuple(
            replace(v, alias_names=tuple(by_version.get(v.version, ()))) for v in self.versions
        )
        object.__setattr__(self, "versions", versions)

    @property
    def name(self) -> str:
        """The model's name (also its folder's name)."""
        return self.record.name

    @property
    def description(self) -> str:
        """The model's Markdown description."""
        return self.record.description

    @property
    def tags(self) -> dict[str, str]:
        """Tag key → value (a copy)."""
        return dict(self.record.tags)

    @property
    def creation_timestamp(self) -> int | None:
        """The first version's registration time in ms; None without versions.

        ``model.yaml`` keeps no time of its own.
        """
        return min((v.creation_timestamp for v in self.versions), default=None)

    @property
    def last_updated_timestamp(self) -> int | None:
        """The newest version's registration time in ms (MLflow's last update); None without."""
        return max((v.last_updated_timestamp for v in self.versions), default=None)

    @property
    def latest_versions(self) -> list[ModelVersion]:
        """The highest version in each stage, in stage order of first appearance, as MLflow."""
        latest: dict[str, ModelVersion] = {}
        for v in self.versions:
            latest[v.stage] = v
        return sorted(latest.values(), key=lambda v: v.version)

    @property
    def aliases(self) -> dict[str, int]:
        """Alias → version number (a copy)."""
        return dict(self.record.aliases)

    @property
    def record_file(self) -> str:
        """Path of ``model.yaml`` relative to the registry root."""
        return f"{MODELS_DIR}/{self.name}/{MODEL_FILE}"

    @cached_property
    def _by_number(self) -> dict[int, ModelVersion]:
        return {v.version: v for v in self.versions}

    @cached_property
    def version_stages(self) -> Mapping[int, str]:
        """Version number → stage: what :func:`registry_gen.resolve.resolve` reads."""
        return {v.version: v.stage for v in self.versions}

    def version(self, number: int) -> ModelVersion:
        """The version numbered ``number``.

        Raises:
            VersionNotFound: there is no such version; the message says which exist.
        """
        try:
            return self._by_number[number]
        except KeyError:
            raise version_not_found(self.name, number, self._by_number) from None

    @property
    def latest(self) -> ModelVersion | None:
        """The highest version, in any stage (``models:/NAME/latest``)."""
        return self.versions[-1] if self.versions else None

    def in_stage(self, stage: str) -> list[ModelVersion]:
        """Versions in ``stage`` (exact spelling), highest first."""
        return [v for v in reversed(self.versions) if v.stage == stage]

    def aliases_of(self, number: int) -> list[str]:
        """Aliases pointing at version ``number``, sorted."""
        return sorted(a for a, v in self.record.aliases.items() if v == number)

    def describe_versions(self) -> str:
        """``versions 1-3``, ``version 2`` or ``no versions``: for messages."""
        return describe_versions([v.version for v in self.versions])


@dataclass(frozen=True)
class RegistryIndex:
    """Every registered model of one registry at one revision. Immutable; query freely.

    ``errors`` holds the records that could not be read; a model with broken
    records is left out of ``models`` and asking for it raises
    :class:`InvalidRegistry` with the reasons.
    """

    policy: Policy
    models: Mapping[str, RegisteredModel]
    errors: tuple[RecordError, ...] = ()
    broken: Mapping[str, tuple[RecordError, ...]] = field(default_factory=dict)
    revision: str | None = None  # commit SHA, or None for a working tree
    moved: Mapping[str, str] = field(default_factory=dict)  # old name -> new (moved.yaml)

    def model(self, name: str) -> RegisteredModel:
        """The registered model called ``name``.

        Raises:
            InvalidRegistry: the model's records cannot be read (the errors say why).
            ModelNotFound: there is no such model; the message lists some that exist.
        """
        if name in self.models:
            return self.models[name]
        if name in self.broken:
            raise InvalidRegistry(list(self.broken[name]))
        if name in self.moved:
            raise ModelNotFound(
                f"no registered model named {name!r}: it was renamed to {self.moved[name]!r}"
            )
        known = ", ".join(sorted(self.models)[:10]) or "none yet"
        raise ModelNotFound(f"no registered model named {name!r}; registered models: {known}")

    def resolve(self, uri: str | ModelUri) -> ModelVersion:
        """The version a ``models:/`` URI points to, as MLflow resolves it.

        A renamed model's old name resolves to the new name's versions (the
        returned version's ``name`` is the new one).

        >>> index.resolve("models:/churn@champion").version  # doctest: +SKIP
        3

        Raises:
            InvalidUri: ``uri`` is not a ``models:/`` URI.
            ModelNotFound: no such model.
            VersionNotFound: no such version, alias or stage holder.
        """
        parsed = uri if isinstance(uri, ModelUri) else ModelUri.parse(uri)
        if parsed.name in self.broken:
            raise InvalidRegistry(list(self.broken[parsed.name]))
        model = self.model(follow_rename(parsed.name, self.models, self.moved))
        number = resolve(parsed, model.version_stages, model.aliases, self.policy.stages)
        return model.version(number)

    def versions(self) -> Iterator[ModelVersion]:
        """Every version of every model, by model name then version."""
        for name in sorted(self.models):
            yield from self.models[name].versions

    def require_valid(self) -> RegistryIndex:
        """This index, if every record could be read.

        Raises:
            InvalidRegistry: some record could not be read.
        """
        if self.errors:
            raise InvalidRegistry(list(self.errors))
        return self
