"""Fetch an artifact's bytes, by md5, from the registry's DVC remote into the cache.

Any remote DVC supports works (a local folder, S3, GCS, Azure, SSH, HTTP...),
because the remote is opened by DVC itself from the registry's ``.dvc/config``
(plus ``config.local`` and DVC's credential handling), or, for a registry read
from its published website, from the remote URL the site's JSON API names.
Only the one object (or the objects of one ``.dir`` folder) is read, straight
into the cache's temporary folder, hashed on the way and published only if the
md5 matches.

The remote is opened through :mod:`registry_gen._dvc`, the one DVC edge, which
imports DVC only then: a warm load (a cache hit) never pays for it.

Example:
    >>> fetch_artifact("ab12…", DvcSource(repo_root=Path(".")), ArtifactCache())  # doctest: +SKIP
"""

from __future__ import annotations

import errno
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from ._dvc import DvcSource, RemoteFs, open_remote
from .cache import CHUNK, ArtifactCache, CacheWriter, parse_manifest
from .errors import ArtifactError, NotFound, RegistryError
from .paths import safe_join

log = logging.getLogger(__name__)

__all__ = ["DvcSource", "RemoteObjectMissing", "fetch_artifact"]


class RemoteObjectMissing(ArtifactError, NotFound):
    """The DVC remote does not hold the object the registry records."""


def fetch_artifact(
    md5: str,
    source: DvcSource,
    cache: ArtifactCache,
    *,
    info: dict[str, Any] | None = None,
) -> Path:
    """Download the artifact ``md5`` into ``cache`` (if it is not there yet) and return its entry.

    Raises :class:`~registry_gen.errors.HashMismatch` when the remote's bytes do
    not match (nothing is cached), :class:`RemoteObjectMissing` when the remote
    does not have the object.
    """
    with _disk_errors(cache), cache.writer(md5) as writer:
        if writer.entry is not None:  # another process fetched it while we waited
            return writer.entry
        with open_remote(source) as remote:
            log.info("fetching %s from the DVC remote %s", md5, remote.label)
            if md5.endswith(".dir"):
                return _fetch_dir(md5, remote, source, cache, writer=writer, info=info or {})
            tmp = cache.temp_path(md5)
            try:
                _download(remote, _object_paths(remote, md5, source), tmp, md5)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            return writer.publish_file(tmp, info or {})


def _fetch_dir(
    md5: str,
    remote: RemoteFs,
    source: DvcSource,
    cache: ArtifactCache,
    *,
    writer: CacheWriter,
    info: dict[str, Any],
) -> Path:
    tmp = cache.temp_path(md5)
    try:
        manifest_file = tmp.with_name(tmp.name + ".manifest")
        _download(remote, _object_paths(remote, md5, source), manifest_file, md5)
        manifest = manifest_file.read_bytes()
        manifest_file.unlink()
        entries = parse_manifest(manifest, md5)
        tmp.mkdir(mode=0o700)
        for rel, file_md5 in entries:
            target = safe_join(tmp, rel)
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _download(remote, _object_paths(remote, file_md5, source), target, f"{md5}:{rel}")
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        tmp.with_name(tmp.name + ".manifest").unlink(missing_ok=True)
        raise
    return writer.publish_dir(tmp, manifest, info)


def _object_paths(remote: RemoteFs, md5: str, source: DvcSource) -> list[str]:
    """Where DVC keeps the object: ``files/md5/ab/cd…`` (DVC 3) or ``ab/cd…`` (DVC 2)."""
    modern = remote.fs.join(remote.path, "files", "md5", md5[:2], md5[2:])
    legacy = remote.fs.join(remote.path, md5[:2], md5[2:])
    if source.legacy:
        return [legacy]
    return [modern] if source.repo_root is not None else [modern, legacy]


def _download(remote: RemoteFs, candidates: list[str], target: Path, what: str) -> None:
    for index, path in enumerate(candidates):
        try:
            handle = remote.fs.open(path, mode="rb")
        except FileNotFoundError:
            if index + 1 < len(candidates):
                continue
            raise RemoteObjectMissing(
                f"the DVC remote {remote.label} has no object {what} (looked for {path}); "
                "was the artifact pushed with `dvc push`?"
            ) from None
        except (OSError, ValueError) as error:
            raise ArtifactError(f"could not read {path} from {remote.label}: {error}") from None
        # O_EXCL and 0600 whatever the umask: the cache accepts only private files.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with handle, os.fdopen(fd, "wb") as out, _progress(remote, path, target.name) as progress:
            _copy(_Reader(handle, f"{path} from {remote.label}"), out, progress)
            out.flush()
            os.fsync(out.fileno())
        return


class _Reader:
    """A remote object's stream whose read errors are one line naming the object."""

    def __init__(self, handle: BinaryIO, what: str) -> None:
        self.handle = handle
        self.what = what

    def read(self, size: int) -> bytes:
        try:
            return self.handle.read(size)
        except (OSError, ValueError) as error:  # fsspec and aiohttp raise many types
            raise ArtifactError(f"could not read {self.what}: {_one_line(error)}") from None


def _copy(source: _Reader, out: BinaryIO, progress: Any) -> None:
    while chunk := source.read(CHUNK):
        out.write(chunk)  # OSError (a full disk): _disk_errors says it in one line
        if progress is not None:
            progress.update(len(chunk))


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:500]


@contextmanager
def _disk_errors(cache: ArtifactCache) -> Iterator[None]:
    """A full disk (or any write failure) in the cache as one line; temp files are gone by now."""
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


@contextmanager
def _progress(remote: RemoteFs, path: str, name: str) -> Iterator[Any]:
    """A tqdm bar on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm  # type: ignore[import-untyped]

    try:
        total = int(remote.fs.size(path))
    except (OSError, TypeError, ValueError):
        total = None
    with tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=name[:12],
        file=sys.stderr,
        leave=False,
    ) as bar:
        yield bar
