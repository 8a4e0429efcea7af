"""A registry checkout on disk: only ``registry.yaml`` and ``models/NAME/`` are read."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from registry_gen._dvc import DvcSource
from registry_gen.cache import ArtifactCache
from registry_gen.errors import ModelNotFound, UsageError
from registry_gen.locate._resolved import (
    ResolvedArtifact,
    build_index_following,
    resolve_in_index,
)
from registry_gen.locate._saved import SavedResolution
from registry_gen.paths import MODELS_DIR, POLICY_FILE
from registry_gen.store import scan_model_folder
from registry_gen.uri import ModelUri

if TYPE_CHECKING:
    from registry_gen.store import FileEntry, FolderScan, Source

__all__ = ["LocalRegistry"]


class LocalRegistry:
    """A registry checkout on disk, read as it is (uncommitted edits included).

    With a ``cache``, resolutions are saved and reused while the files they
    read are unchanged (see :mod:`registry_gen.locate._saved`).

    >>> registry = LocalRegistry(Path("/srv/registry"))  # doctest: +SKIP
    >>> registry.resolve(ModelUri.parse("models:/churn/1")).md5  # doctest: +SKIP
    '5d41402abc4b2a76b9719d911017c592'

    Raises:
        UsageError: ``root`` has neither ``registry.yaml`` nor ``models/``.
    """

    def __init__(self, root: Path, *, cache: ArtifactCache | None = None) -> None:
        self.root = root.expanduser().resolve()
        self.label = str(self.root)
        self.cache = cache
        if not (self.root / POLICY_FILE).is_file() and not (self.root / MODELS_DIR).is_dir():
            raise UsageError(
                f"{self.root} is not a registry: it has no {POLICY_FILE} "
                f"and no {MODELS_DIR}/ folder"
            )

    def resolve(self, uri: ModelUri) -> ResolvedArtifact:
        """What ``uri`` names in the checkout: from the saved resolution, else by parsing.

        Raises:
            ModelNotFound, VersionNotFound, InvalidRegistry, ArtifactError: see
                :func:`registry_gen.locate._resolved.resolve_in_index`.
        """
        saved = SavedResolution(self.cache, self.root, uri.name) if self.cache else None
        if saved is not None:
            hit = saved.resolve(uri, self.label)
            if hit is not None:
                return hit
        scan = scan_model_folder(self.root, uri.name)  # stat before reading: see SavedResolution
        if scan is None:
            raise ModelNotFound(f"no registered model named {uri.name!r} in {self.label}")
        from registry_gen.store import WorkingTree

        source = _RecordingSource(WorkingTree(self.root))
        index, followed = build_index_following(source, self._entries(uri.name, scan), uri)
        resolved = resolve_in_index(index, uri, self.label, DvcSource(repo_root=self.root))
        if saved is not None and not followed:  # a redirect's answer rests on two folders
            saved.save(index, scan, source.blobs)
        return resolved

    def _entries(self, name: str, first: FolderScan) -> Callable[[str], list[FileEntry] | None]:
        def files_of(wanted: str) -> list[FileEntry] | None:
            scan = first if wanted == name else scan_model_folder(self.root, wanted)
            return scan.entries() if scan is not None else None

        return files_of


class _RecordingSource:
    """A source that keeps the bytes it read, so the saved resolution can hash them."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.label = source.label
        self.blobs: dict[str, bytes] = {}

    def list_files(self) -> list[FileEntry]:
        return self.source.list_files()

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        out = self.source.read_many(paths)
        self.blobs.update(out)
        return out
