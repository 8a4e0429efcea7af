"""The immutable index: registered models, their versions, and ``models:/`` resolution."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from registry_gen.errors import InvalidRegistry, ModelNotFound, RecordError
from registry_gen.paths import MODEL_FILE, MODELS_DIR, VERSION_FILE
from registry_gen.resolve import describe_versions, resolve, version_not_found
from registry_gen.schema import DvcOutput, ModelRecord, Policy, VersionRecord
from registry_gen.uri import ModelUri


@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model: its record and its artifact pointer."""

    name: str
    record: VersionRecord
    pointer: DvcOutput | None
    folder: str  # "models/NAME/VERSION", POSIX, relative to the registry root

    @property
    def version(self) -> int:
        """The version number."""
        return self.record.version

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

    @property
    def name(self) -> str:
        """The model's name (also its folder's name)."""
        return self.record.name

    @property
    def aliases(self) -> Mapping[str, int]:
        """Alias → version number."""
        return self.record.aliases

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
        known = ", ".join(sorted(self.models)[:10]) or "none yet"
        raise ModelNotFound(f"no registered model named {name!r}; registered models: {known}")

    def resolve(self, uri: str | ModelUri) -> ModelVersion:
        """The version a ``models:/`` URI points to, as MLflow resolves it.

        >>> index.resolve("models:/churn@champion").version  # doctest: +SKIP
        3

        Raises:
            InvalidUri: ``uri`` is not a ``models:/`` URI.
            ModelNotFound: no such model.
            VersionNotFound: no such version, alias or stage holder.
        """
        parsed = uri if isinstance(uri, ModelUri) else ModelUri.parse(uri)
        model = self.model(parsed.name)
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
