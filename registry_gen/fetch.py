"""Fetch an artifact's bytes, by md5, from the registry's DVC remote into the cache.

The remote is read in DVC's own content-addressed layout by
:mod:`registry_gen._remote_fs`, without DVC (a local folder, HTTP(S), S3 and
S3-compatible stores, GCS, Azure, or a folder committed into a git URL's
repository). Which remote is the registry's base configuration's, or the one the
published site's JSON API names. Only the one object (or the objects of one
``.dir`` folder, several at a time) is read, into the cache's temporary folder,
hashed on the way and published only if its md5 matches.

A download that breaks off leaves its partial file (``<cache>/tmp/MD5.partial``);
the next fetch of that md5 continues from where it stopped (a ranged read where
the filesystem offers one) and, if the result does not verify, starts over once.

Progress goes to :func:`registry_gen.progress.step` (``churn v3: downloading 40%``),
which the CLI draws on a terminal; the library itself never prints.

Example:
    >>> fetch_artifact("ab12…", DvcSource(repo_root=Path(".")), ArtifactCache())  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from . import progress
from ._dvc import DvcSource
from ._manifest import parse_manifest
from ._remote_fs import RemoteFs, Stream, open_remote
from .cache import CHUNK, ArtifactCache, CacheWriter, md5_of_file
from .errors import ArtifactError, HashMismatch, NotFound, RegistryError
from .paths import safe_join

log = logging.getLogger(__name__)

__all__ = ["DvcSource", "RemoteObjectMissing", "fetch_artifact"]

# Files of a folder artifact downloaded at once (network-bound: threads are enough).
PARALLEL = 8
_PROGRESS_EVERY_S = 0.2


class RemoteObjectMissing(ArtifactError, NotFound):
    """The DVC remote does not hold the object the registry records."""


def fetch_artifact(
    md5: str,
    source: DvcSource,
    cache: ArtifactCache,
    *,
    info: dict[str, Any] | None = None,
    label: str | None = None,
    size: int | None = None,
) -> Path:
    """Download the artifact ``md5`` into ``cache`` (if it is not there yet) and return its entry.

    ``label`` (e.g. ``churn v3``) and ``size`` are for progress. (A gated format's
    reviewed sha256 is checked by the loader, which knows whether ``trust_pickle`` waives it.)

    Raises:
        HashMismatch: the remote's bytes do not match (nothing is cached).
        RemoteObjectMissing: the remote does not have the object.
        MissingExtra: the remote's filesystem library is not installed.
    """
    with _disk_errors(cache), cache.writer(md5) as writer:
        if writer.entry is not None:  # another process fetched it while we waited
            return writer.entry
        remote = open_remote(source)
        log.info("fetching %s from the DVC remote %s", md5, remote.label)
        meter = _Meter(label or md5[:8], size)
        if md5.endswith(".dir"):
            return _fetch_dir(md5, remote, source, cache, writer, meter, info or {})
        part = cache.partial_path(md5)
        candidates = remote.candidates(md5, legacy=source.legacy)
        for attempt in (1, 2):
            resumed = part.exists()
            actual = _download(remote, candidates, part, md5, meter)
            if actual == md5:
                break
            part.unlink(missing_ok=True)
            if not resumed or attempt == 2:
                raise HashMismatch(
                    f"downloaded bytes have md5 {actual}, but the registry records {md5}; "
                    "the remote object is corrupt or was replaced. Nothing was cached."
                )
            log.info("the resumed download of %s did not verify; downloading it again", md5)
            meter.restart()
        meter.finish()
        return writer.publish_file(part, info or {}, md5=md5)


def _fetch_dir(  # noqa: PLR0917 - one fetch's state, passed along once
    md5: str,
    remote: RemoteFs,
    source: DvcSource,
    cache: ArtifactCache,
    writer: CacheWriter,
    meter: _Meter,
    info: dict[str, Any],
) -> Path:
    manifest = _read_all(remote, remote.candidates(md5, legacy=source.legacy), md5)
    entries = parse_manifest(manifest, md5)
    folder = cache.partial_path(md5)
    folder.mkdir(mode=0o700, exist_ok=True)

    def one(rel: str, file_md5: str) -> None:
        target = safe_join(folder, rel)
        if target.is_file() and md5_of_file(target) == file_md5:
            meter.advance(target.stat().st_size)  # finished by an earlier, broken fetch
            return
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        where = remote.candidates(file_md5, legacy=source.legacy)
        _download(remote, where, target, f"{md5}:{rel}", meter)

    with ThreadPoolExecutor(max_workers=max(1, min(PARALLEL, len(entries)))) as pool:
        futures = [pool.submit(one, rel, file_md5) for rel, file_md5 in entries]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future in (*done, *pending):
            if not future.cancelled() and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
    meter.finish()
    return writer.publish_dir(folder, manifest, info)


def _open(remote: RemoteFs, candidates: list[str], offset: int, what: str) -> tuple[Any, int]:
    """The first candidate path that exists, opened at ``offset``."""
    for index, path in enumerate(candidates):
        try:
            handle, start = remote.fs.open_at(path, offset)
        except FileNotFoundError:
            if index + 1 < len(candidates):
                continue
            raise RemoteObjectMissing(
                f"the DVC remote {remote.label} has no object {what} (looked for {path}); "
                "was the artifact pushed with `dvc push`?"
            ) from None
        except RegistryError:
            raise
        except Exception as error:
            raise ArtifactError(
                f"could not read {path} from {remote.label}: {_one_line(error)}"
            ) from None
        return _Reader(handle, f"{path} from {remote.label}"), start
    raise AssertionError("no candidate paths")  # pragma: no cover


def _read_all(remote: RemoteFs, candidates: list[str], what: str) -> bytes:
    reader, _ = _open(remote, candidates, 0, what)
    with reader:
        chunks = []
        while chunk := reader.read(CHUNK):
            chunks.append(chunk)
    return b"".join(chunks)


def _download(
    remote: RemoteFs, candidates: list[str], target: Path, what: str, meter: _Meter
) -> str:
    """Stream the object into ``target`` (continuing a partial one); return its md5."""
    offset = target.stat().st_size if target.is_file() else 0
    reader, start = _open(remote, candidates, offset, what)
    md5 = hashlib.md5()  # noqa: S324 - DVC's content address
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    flags |= os.O_APPEND if start else os.O_TRUNC
    # 0600 whatever the umask: the cache accepts only private files.
    try:
        with reader, os.fdopen(os.open(target, flags, 0o600), "wb") as raw:
            if start:
                log.info("resuming %s at byte %d", what, start)
                _hash_prefix(target, start, md5)
                meter.advance(start)
            _copy(reader, _Hashing(raw, md5), meter)
            raw.flush()
            os.fsync(raw.fileno())
    except OSError:
        target.unlink(missing_ok=True)  # a write failed (a full disk): nothing to resume
        raise
    return md5.hexdigest()


def _hash_prefix(path: Path, length: int, digest: Any) -> None:
    with path.open("rb") as handle:
        while length > 0 and (chunk := handle.read(min(CHUNK, length))):
            length -= len(chunk)
            digest.update(chunk)


def _copy(source: _Reader, out: _Hashing, meter: _Meter) -> None:
    while chunk := source.read(CHUNK):
        out.write(chunk)  # OSError (a full disk): _disk_errors says it in one line
        meter.advance(len(chunk))


class _Hashing:
    """A file being written whose bytes are hashed on the way."""

    def __init__(self, out: IO[bytes], digest: Any) -> None:
        self.out = out
        self.digest = digest

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.out.write(data)

    def flush(self) -> None:
        self.out.flush()


class _Reader:
    """A remote object's stream whose read errors are one line naming the object."""

    def __init__(self, handle: Stream, what: str) -> None:
        self.handle = handle
        self.what = what

    def read(self, size: int) -> bytes:
        try:
            return self.handle.read(size)
        except Exception as error:
            raise ArtifactError(f"could not read {self.what}: {_one_line(error)}") from None

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError, ValueError):  # a broken connection: a read said it
            self.handle.close()


class _Meter:
    """Bytes downloaded so far, reported to :mod:`registry_gen.progress` a few times a second."""

    def __init__(self, label: str, total: int | None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._last = 0.0
        self._lock = threading.Lock()

    def advance(self, count: int) -> None:
        with self._lock:
            self.done += count
            now = time.monotonic()
            if now - self._last < _PROGRESS_EVERY_S:
                return
            self._last = now
        self._report()

    def restart(self) -> None:
        with self._lock:
            self.done = 0

    def finish(self) -> None:
        self._report()

    def _report(self) -> None:
        done = _megabytes(self.done)
        if self.total:
            percent = min(100, self.done * 100 // max(self.total, 1))
            progress.step(
                self.label, f"downloading {percent}% ({done} of {_megabytes(self.total)})"
            )
        else:
            progress.step(self.label, f"downloading {done}")


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:500]


@contextmanager
def _disk_errors(cache: ArtifactCache) -> Iterator[None]:
    """A full disk (or any write failure) in the cache as one line."""
    try:
        yield
    except RegistryError:
        raise
    except OSError as error:
        reason = (
            "the disk is full" if error.errno in (errno.ENOSPC, errno.EDQUOT) else _one_line(error)
        )
        raise ArtifactError(
            f"could not write the artifact into the cache {cache.root}: {reason}; nothing was "
            "cached. Free some space (`registry-gen cache prune`) or set REGISTRY_GEN_CACHE "
            "to a folder on another disk"
        ) from None
