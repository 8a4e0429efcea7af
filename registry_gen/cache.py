"""A content-addressed, verified, private cache of artifacts, shared by every process.

An artifact is stored under its DVC md5, so two versions with the same bytes
share one entry and a changed artifact can never be served from a stale one::

    <cache>/objects/ab/cdef…            a file artifact (md5 abcdef…)
    <cache>/objects/ab/cdef….dir/       a folder artifact (DVC ``.dir`` md5)
    <cache>/objects/ab/cdef….dir.json   its DVC manifest (relpath → md5 of each file)
    <cache>/objects/ab/cdef….info       where it came from, for ``registry-gen cache list``
    <cache>/objects/ab/cdef….obj-KEY.pickle       the verified object cache (_object_cache)
    <cache>/objects/ab/cdef….obj-KEY.pickle.json  its sidecar: sha256 of the pickle bytes
    <cache>/resolved/KEY.json           stat-validated resolutions (:mod:`registry_gen.locate`)
    <cache>/tmp/                        downloads in progress (same filesystem: rename is atomic)
    <cache>/locks/                      one lock file per md5

The folder is ``REGISTRY_GEN_CACHE`` if set, else the user cache folder
(platformdirs), created private (0700), and refused (:class:`UnsafeCache`) if it,
a folder in it or an entry read is a symlink, another user's, or writable by
group or others (:mod:`registry_gen._cache_guard`). Every entry is checked against its md5
when it is written and again before each use: a corrupted or tampered entry is
deleted, never loaded. Writers hold a per-md5 :class:`filelock.FileLock` and
publish with a rename, so concurrent loads and killed downloads never leave a
partial entry behind.

**The object cache** of deserialised models, next to the entries, is
described (and implemented) in :mod:`registry_gen._object_cache`.

Example:
    >>> cache = ArtifactCache()  # doctest: +SKIP
    >>> with cache.writer("d41d8cd98f00b204e9800998ecf8427e") as w:  # doctest: +SKIP
    ...     if w.entry is None:
    ...         w.publish_file(downloaded_tmp_path, info={"uri": "models:/m/1"})
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _object_cache
from ._cache_guard import UnsafeCache, check_private, require_private
from ._constants import MD5_PATTERN
from ._manifest import parse_manifest as parse_manifest  # re-exported: its old home
from .errors import ArtifactError, HashMismatch, UsageError
from .paths import atomic_write, safe_join

log = logging.getLogger(__name__)

# The key of an object-cache file: hex digits only, so it is safe in a file name.
OBJECT_KEY_PATTERN = re.compile(r"^[0-9a-f]{16,64}\Z")
OBJECT_INFIX = ".obj-"
CACHE_ENV = "REGISTRY_GEN_CACHE"
NO_OBJECT_CACHE_ENV = "REGISTRY_GEN_NO_OBJECT_CACHE"
RESOLVED_DIR = "resolved"
CHUNK = 1024 * 1024
LOCK_TIMEOUT_S = 600.0
# A download in tmp/ untouched for this long is from a dead process.
STALE_TMP_S = 24 * 3600.0


def default_cache_dir() -> Path:
    """``REGISTRY_GEN_CACHE``, else the platform's user cache folder for registry-gen."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_path

    return user_cache_path("registry-gen", appauthor=False)


def check_md5(md5: str) -> str:
    """Return ``md5`` if it is a DVC md5 (32 hex digits, optionally ``.dir``)."""
    if not isinstance(md5, str) or not MD5_PATTERN.match(md5):
        raise UsageError(f"{md5!r} is not a DVC md5 (32 lowercase hex digits, optionally .dir)")
    return md5


def md5_of_file(path: Path) -> str:
    """The md5 of a file's bytes, read in chunks."""
    digest = hashlib.md5()  # noqa: S324 - DVC's content address, not a security boundary alone
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def object_cache_enabled() -> bool:
    """False if ``REGISTRY_GEN_NO_OBJECT_CACHE`` turns the verified object cache off."""
    return os.environ.get(NO_OBJECT_CACHE_ENV, "").strip().lower() not in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class CacheEntry:
    """One cached artifact (``size`` counts its object-cache files too)."""

    md5: str
    path: Path
    size: int
    last_used: float  # POSIX time of the last load (the entry's mtime)
    info: dict[str, Any]
    objects: int = 0  # how many object-cache pickles it has

    @property
    def is_dir(self) -> bool:
        """Whether the entry is a folder artifact (a DVC ``.dir`` md5)."""
        return self.md5.endswith(".dir")


class ArtifactCache:
    """The artifact cache in ``root`` (default: :func:`default_cache_dir`)."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    # -- layout -------------------------------------------------------------

    def ensure(self) -> Path:
        """Create the cache folder (mode 0700) and return it.

        Raises:
            UnsafeCache: the folder, or one of its own folders, is a symlink, belongs
                to another user or is writable by others (see :mod:`registry_gen._cache_guard`).
        """
        for folder in (self.root, self.root / "objects", self.root / "tmp", self.root / "locks"):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.check_private(folder)
        self.root.chmod(0o700)  # after the check: never through a symlink
        return self.root

    def check_private(self, path: Path, what: str = "cache folder") -> bool:
        """True if ``path`` exists and only this user could have written it; False if missing.

        ``path`` is the cache root or inside it; the folders between the root and
        ``path`` are checked too (a few ``lstat`` calls).

        >>> ArtifactCache("/nonexistent/cache").check_private(Path("/nonexistent/cache"))
        False

        Raises:
            UnsafeCache: a symlink, another user's, or writable by group or others.
        """
        if not check_private(self.root, "cache folder"):
            return False
        rel = path.relative_to(self.root)
        current = self.root
        for index, part in enumerate(rel.parts):
            current = current / part
            last = index == len(rel.parts) - 1
            if not check_private(current, what if last else "cache folder"):
                return False
        return True

    def path_for(self, md5: str) -> Path:
        """Where the entry for ``md5`` lives (whether or not it exists)."""
        check_md5(md5)  # hex digits only: safe as path components
        return self.root / "objects" / md5[:2] / md5[2:]

    def _sidecar(self, md5: str, suffix: str) -> Path:
        path = self.path_for(md5)
        return path.with_name(path.name + suffix)

    def object_path(self, md5: str, key: str) -> Path:
        """Where the object-cache pickle of ``md5`` under ``key`` lives (see the module doc)."""
        if not isinstance(key, str) or not OBJECT_KEY_PATTERN.match(key):
            raise UsageError(f"{key!r} is not an object-cache key (16-64 hex digits)")
        return self._sidecar(md5, f"{OBJECT_INFIX}{key}.pickle")

    def _object_files(self, md5: str) -> list[Path]:
        path = self.path_for(md5)
        if not path.parent.is_dir():
            return []
        return sorted(path.parent.glob(f"{path.name}{OBJECT_INFIX}*"))

    # -- reading --------------------------------------------------------------

    def get(self, md5: str, *, verify: bool = True) -> Path | None:
        """The verified entry for ``md5``, or None if it is missing.

        An entry that fails verification is deleted (with a warning) and None is
        returned, so the caller fetches it again.
        """
        path = self.path_for(md5)
        if not self.check_private(path, "cache entry"):
            return None
        if verify:
            try:
                self.verify(md5)
            except UnsafeCache:
                raise
            except (HashMismatch, ArtifactError, OSError) as error:
                log.warning("cached artifact %s is corrupt (%s); deleting it", md5, error)
                self.remove(md5)
                return None
        self._touch(path)
        return path

    def verify(self, md5: str) -> None:
        """Raise :class:`HashMismatch` unless the entry's bytes match ``md5``."""
        path = self.path_for(md5)
        if not md5.endswith(".dir"):
            if not path.is_file() or path.is_symlink():
                raise HashMismatch(f"cached artifact {md5} is not a regular file")
            actual = md5_of_file(path)
            if actual != md5:
                raise HashMismatch(f"cached artifact {md5} has md5 {actual}")
            return
        manifest = self._sidecar(md5, ".json")
        if (
            not self.check_private(manifest, "cache entry")
            or not path.is_dir()
            or path.is_symlink()
        ):
            raise HashMismatch(f"cached folder {md5} is incomplete")
        expected = dict(parse_manifest(manifest.read_bytes(), md5))
        seen: set[str] = set()
        for folder, dirs, files in os.walk(path):
            base = Path(folder)
            for name in dirs:
                if (base / name).is_symlink():
                    raise HashMismatch(f"cached folder {md5} contains a symlink")
            for name in files:
                file = base / name
                rel = file.relative_to(path).as_posix()
                require_private(os.lstat(file), file, "cache entry")
                if file.is_symlink() or rel not in expected:
                    raise HashMismatch(f"cached folder {md5} has an unexpected file {rel!r}")
                if md5_of_file(file) != expected[rel]:
                    raise HashMismatch(f"cached folder {md5}: {rel!r} does not match its md5")
                seen.add(rel)
        missing = set(expected) - seen
        if missing:
            raise HashMismatch(f"cached folder {md5} is missing {sorted(missing)[:3]}")

    def _touch(self, path: Path) -> None:
        with contextlib.suppress(OSError):  # a read-only cache still serves loads
            os.utime(path)

    # -- the verified object cache (registry_gen._object_cache) -------------

    def get_object(self, md5: str, key: str) -> Any | None:
        """The object cached for ``md5`` under ``key``, or None (then load it the slow way).

        The pickle's sha256 must match its sidecar; anything wrong deletes both
        files and returns None. Only call this for a ``key`` that a previous load
        stored after enforcing the artifact's trusted types (see
        :mod:`registry_gen._object_cache`).
        """
        return _object_cache.get_object(self, md5, key)

    def put_object(self, md5: str, key: str, obj: Any, info: dict[str, Any]) -> Path | None:
        """Store ``pickle.dumps(obj)`` for ``md5`` under ``key``; None if it cannot be pickled.

        Call it only with an object deserialised by an audited loader from the
        verified entry ``md5`` (the loader does, after a skops load).
        """
        return _object_cache.put_object(self, md5, key, obj, info)

    # -- writing --------------------------------------------------------------

    @contextmanager
    def writer(self, md5: str) -> Iterator[CacheWriter]:
        """Hold the lock for ``md5`` while checking for and publishing its entry.

        Inside the block, ``writer.entry`` is the verified entry if another process
        finished it first; otherwise call ``writer.publish_file``/``publish_dir``.
        Leftover temporary files of ``md5`` (from a killed download) are removed,
        which is safe because nobody else may write ``md5`` while we hold the lock.
        """
        from filelock import FileLock, Timeout

        check_md5(md5)
        self.ensure()
        lock = FileLock(str(self.root / "locks" / f"{md5}.lock"), timeout=LOCK_TIMEOUT_S)
        try:
            with lock:
                # temp_path() names are "<md5>.<pid>.<random>" (the digit keeps a file md5
                # from matching the temporary files of "<md5>.dir").
                for stale in (self.root / "tmp").glob(f"{md5}.[0-9]*"):
                    log.info("removing the partial download %s", stale.name)
                    _remove_path(stale)
                yield CacheWriter(self, md5, self.get(md5))
        except Timeout:
            raise ArtifactError(
                f"timed out after {LOCK_TIMEOUT_S:.0f}s waiting for another process "
                f"downloading {md5} (lock {lock.lock_file})"
            ) from None

    def temp_path(self, md5: str) -> Path:
        """A fresh temporary path in the cache for downloading ``md5``."""
        self.ensure()
        return self.root / "tmp" / f"{md5}.{os.getpid()}.{os.urandom(4).hex()}"

    def partial_path(self, md5: str) -> Path:
        """Where a download of ``md5`` is kept between attempts (use it under its writer's lock)."""
        self.ensure()
        return self.root / "tmp" / f"{md5}.partial"

    def remove(self, md5: str) -> None:
        """Delete the entry for ``md5``, its sidecars and its object-cache files."""
        path = self.path_for(md5)
        # Rename first, so a reader never sees a half-deleted folder as an entry.
        if path.exists() or path.is_symlink():
            doomed = self.temp_path(md5) if (self.root / "tmp").is_dir() else path
            try:
                path.replace(doomed)
            except OSError:
                doomed = path
            _remove_path(doomed)
        for suffix in (".json", ".info"):
            self._sidecar(md5, suffix).unlink(missing_ok=True)
        for derived in self._object_files(md5):
            derived.unlink(missing_ok=True)

    # -- listing and pruning --------------------------------------------------

    def list_entries(self) -> list[CacheEntry]:
        """Every cached artifact, most recently used first."""
        objects = self.root / "objects"
        found: list[CacheEntry] = []
        if not objects.is_dir():
            return found
        for prefix in sorted(objects.iterdir()):
            if not prefix.is_dir():
                continue
            for item in prefix.iterdir():
                md5 = prefix.name + item.name
                if not MD5_PATTERN.match(md5):
                    continue  # sidecars
                info: dict[str, Any] = {}
                sidecar = item.with_name(item.name + ".info")
                if sidecar.is_file():
                    try:
                        info = json.loads(sidecar.read_text(encoding="utf-8"))
                    except ValueError:
                        info = {}
                try:
                    derived = self._object_files(md5)
                    size = _size_of(item) + sum(p.stat().st_size for p in derived)
                    last_used = max(
                        [item.stat().st_mtime]
                        + [p.stat().st_mtime for p in derived if p.suffix == ".pickle"]
                    )
                    pickles = sum(p.suffix == ".pickle" for p in derived)
                    found.append(CacheEntry(md5, item, size, last_used, info, pickles))
                except FileNotFoundError:  # removed by a concurrent prune
                    continue
        return sorted(found, key=lambda e: e.last_used, reverse=True)

    def prune(
        self,
        *,
        older_than_days: float | None = None,
        keep_bytes: int | None = None,
        dry_run: bool = False,
    ) -> list[CacheEntry]:
        """Delete entries not used for ``older_than_days`` and/or the least recently
        used ones until at most ``keep_bytes`` remain; return what was (or would be)
        deleted (with their object-cache files). Stale partial downloads, object-cache
        files whose artifact is gone, and resolution-cache files older than
        ``older_than_days`` are cleaned up too (they are not listed: they are small
        and rebuilt on the next load).

        >>> ArtifactCache().prune(older_than_days=30)  # doctest: +SKIP
        """
        if older_than_days is None and keep_bytes is None:
            raise UsageError("say what to prune: older_than_days and/or keep_bytes")
        now = time.time()
        entries = self.list_entries()  # newest first
        doomed: list[CacheEntry] = []
        kept = 0
        for entry in entries:
            idle = now - entry.last_used
            too_old = older_than_days is not None and idle > older_than_days * 86400
            too_big = keep_bytes is not None and kept + entry.size > keep_bytes
            if too_old or too_big:
                doomed.append(entry)
            else:
                kept += entry.size
        if dry_run:
            return doomed
        for entry in doomed:
            with self.writer(entry.md5):
                self.remove(entry.md5)
        tmp = self.root / "tmp"
        if tmp.is_dir():
            for stale in tmp.iterdir():
                if now - stale.lstat().st_mtime > STALE_TMP_S:
                    _remove_path(stale)
        self._prune_orphan_objects()
        resolved = self.root / RESOLVED_DIR
        if older_than_days is not None and resolved.is_dir():
            for saved in resolved.iterdir():
                with contextlib.suppress(FileNotFoundError):
                    if now - saved.lstat().st_mtime > older_than_days * 86400:
                        saved.unlink()
        return doomed

    def _prune_orphan_objects(self) -> None:
        """Delete object-cache files whose artifact entry no longer exists."""
        objects = self.root / "objects"
        if not objects.is_dir():
            return
        for derived in objects.glob(f"*/*{OBJECT_INFIX}*"):
            md5 = derived.parent.name + derived.name.partition(OBJECT_INFIX)[0]
            if not MD5_PATTERN.match(md5) or not self.path_for(md5).exists():
                derived.unlink(missing_ok=True)


class CacheWriter:
    """Publishes one verified entry; obtained from :meth:`ArtifactCache.writer`."""

    def __init__(self, cache: ArtifactCache, md5: str, entry: Path | None) -> None:
        self.cache = cache
        self.md5 = md5
        self.entry = entry

    def publish_file(self, tmp: Path, info: dict[str, Any], *, md5: str | None = None) -> Path:
        """Verify ``tmp`` against the md5 and rename it into place (deleting it on mismatch).

        ``md5`` is the caller's own hash of the bytes it wrote (then they are not read again).
        """
        actual = md5 or md5_of_file(tmp)
        if actual != self.md5:
            tmp.unlink(missing_ok=True)
            raise HashMismatch(
                f"downloaded bytes have md5 {actual}, but the registry records {self.md5}; "
                "the remote object is corrupt or was replaced. Nothing was cached."
            )
        return self._publish(tmp, info)

    def publish_dir(self, tmp: Path, manifest: bytes, info: dict[str, Any]) -> Path:
        """Verify the folder ``tmp`` against ``manifest`` and rename it into place."""
        expected = parse_manifest(manifest, self.md5)
        self._make_prefix()
        try:
            for rel, md5 in expected:
                actual = md5_of_file(safe_join(tmp, rel))
                if actual != md5:
                    raise HashMismatch(
                        f"downloaded file {rel!r} of folder {self.md5} has md5 {actual}, "
                        f"expected {md5}. Nothing was cached."
                    )
        except BaseException:
            _remove_path(tmp)
            raise
        atomic_write(self.cache._sidecar(self.md5, ".json"), manifest)
        return self._publish(tmp, info)

    def _make_prefix(self) -> None:
        # Before any sidecar is written: atomic_write would create it with the umask's mode.
        self.cache.path_for(self.md5).parent.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _publish(self, tmp: Path, info: dict[str, Any]) -> Path:
        final = self.cache.path_for(self.md5)
        self._make_prefix()
        info = {**info, "md5": self.md5, "added_at": time.time()}
        atomic_write(self.cache._sidecar(self.md5, ".info"), json.dumps(info, indent=1))
        if final.exists() or final.is_symlink():  # failed verification; we hold the lock
            _remove_path(final)
        tmp.replace(final)  # the commit point: before it, there is no entry
        self.entry = final
        return final


def _size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
