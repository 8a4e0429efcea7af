"""What every registry kind resolves a URI to, and the full (parsing) resolution.

:class:`ResolvedArtifact` is the answer of every :class:`Registry`. A checkout
and a git URL resolve by reading records with the store (pydantic, YAML), which
is imported only here and only when a full resolution is needed; the version
itself is chosen by :func:`registry_gen.resolve.resolve`, the one resolver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Protocol

from registry_gen._dvc import DvcSource
from registry_gen._inputs import InputSpec, input_specs
from registry_gen.errors import ArtifactError, InvalidRegistry
from registry_gen.resolve import follow_rename, moved_note, resolve
from registry_gen.uri import ModelUri

if TYPE_CHECKING:  # the store (and so pydantic and yaml) is imported only for a full resolution
    from registry_gen.store import FileEntry, ModelVersion, RegistryIndex, Source

__all__ = [
    "Registry",
    "ResolvedArtifact",
    "build_index",
    "build_index_following",
    "resolve_in_index",
]


@dataclass(frozen=True)
class ResolvedArtifact:
    """What one URI resolved to, once: the exact version and the md5 of its bytes."""

    uri: ModelUri  # as asked for
    name: str
    version: int
    stage: str
    md5: str
    path: str  # the artifact, relative to the registry root (POSIX)
    format: str
    trusted_types: tuple[str, ...]
    size: int | None
    source: DvcSource
    registry: str  # where it was resolved, for messages
    sha256: str | None = None  # the reviewed sha256 of a gated format (artifact.sha256)
    inputs: tuple[InputSpec, ...] | None = None  # the recorded signature's inputs

    @property
    def exact_uri(self) -> ModelUri:
        """``models:/NAME/VERSION``: the version this resolution chose."""
        return ModelUri.for_version(self.name, self.version)

    @property
    def moved_note(self) -> str | None:
        """Set when the URI named a renamed model: what it was renamed to (for a log line)."""
        return moved_note(self.uri.name, self.name) if self.uri.name != self.name else None

    @property
    def filename(self) -> str:
        """The artifact's file (or folder) name."""
        return PurePosixPath(self.path).name


class Registry(Protocol):
    """A registry that can resolve a URI (a checkout, a git URL, a website)."""

    label: str

    def resolve(self, uri: ModelUri) -> ResolvedArtifact:
        """What ``uri`` names in this registry."""
        ...


def build_index(source: Source, files: list[FileEntry] | None, uri: ModelUri) -> RegistryIndex:
    """The index of ``files`` (default: all) of ``source``, strict about ``uri``'s model.

    Raises:
        InvalidRegistry: ``registry.yaml`` or a record of ``uri``'s model does not parse.
    """
    from registry_gen.store import build_index as store_build_index

    index = store_build_index(source, files)
    if uri.name not in index.broken and index.errors:
        raise InvalidRegistry(list(index.errors))
    return index


def build_index_following(
    source: Source,
    files_of: Callable[[str], list[FileEntry] | None],
    uri: ModelUri,
) -> tuple[RegistryIndex, bool]:
    """The index of ``uri``'s model's files, and of its new name's too when it was renamed.

    ``files_of(name)`` lists ``registry.yaml`` and ``models/NAME/`` (None: no such
    folder). Returns the index and whether a redirect was followed.

    Raises:
        InvalidRegistry: as :func:`build_index`.
    """
    files = files_of(uri.name) or []
    index = build_index(source, files, uri)
    target = index.moved.get(uri.name)
    if target is None or uri.name in index.models:
        return index, False
    seen = {entry.path for entry in files}
    more = [entry for entry in files_of(target) or [] if entry.path not in seen]
    return build_index(source, files + more, uri), True


def chosen_version(index: RegistryIndex, uri: ModelUri) -> ModelVersion:
    """The version of ``index`` that ``uri`` names, chosen by the one resolver.

    A renamed model's old name is followed to its new one (``models/OLD/moved.yaml``).

    Raises:
        ModelNotFound: no such model. VersionNotFound: no such version, alias or stage holder.
    """
    model = index.model(follow_rename(uri.name, index.models, index.moved))
    number = resolve(
        uri, {v.version: v.stage for v in model.versions}, model.aliases, index.policy.stages
    )
    return model.version(number)


def resolve_in_index(
    index: RegistryIndex,
    uri: ModelUri,
    label: str,
    dvc: DvcSource,
) -> ResolvedArtifact:
    """Resolve ``uri`` in a full index; ``dvc`` says where the registry's DVC config is.

    Raises:
        ModelNotFound, VersionNotFound: as :func:`chosen_version`.
        ArtifactError: the chosen version's artifact has no ``.dvc`` pointer.
    """
    version = chosen_version(index, uri)
    record = version.record
    if version.pointer is None:
        raise ArtifactError(
            f"{version.artifact_path}.dvc is missing in {label}: the artifact of "
            f"{version.uri} is not tracked by DVC"
        )
    pointer = version.pointer
    # The pointer's own ``remote:`` is never used: the base configuration's remote is.
    source_for_version = DvcSource(
        repo_root=dvc.repo_root, rev=dvc.rev, legacy=pointer.hash != "md5"
    )
    return ResolvedArtifact(
        uri=uri,
        name=version.name,
        version=version.version,
        stage=version.stage,
        md5=pointer.md5,
        path=version.artifact_path,
        format=record.artifact.format,
        trusted_types=tuple(record.artifact.trusted_types),
        size=pointer.size,
        source=source_for_version,
        registry=label,
        sha256=record.artifact.sha256,
        inputs=input_specs(record.signature.inputs) if record.signature else None,
    )
