"""The verified object cache: deserialised models kept next to their cache entries.

Deserialising a skops file means importing skops, which
builds the list of every scikit-learn estimator at import (half a second), and
auditing the file's types. After a skops load that enforced the trusted types
recorded in ``version.yaml``, from bytes verified against their md5, the loader
stores ``pickle.dumps(model)`` next to the entry (:meth:`ArtifactCache.put_object`),
keyed by the md5, the trusted types and the Python, scikit-learn and skops
versions, with the sha256 of the pickle bytes in a sidecar. A later load checks
the sidecar and unpickles it without importing skops (:meth:`ArtifactCache.get_object`).
Why this is safe: the registry's bytes are never unpickled; the pickle was
written by this user's own process from an object skops had audited, into a
folder only this user can write (0700, files 0600) — the trust Python gives its
own ``__pycache__`` ``.pyc`` files. Anyone able to write there can already run
code as this user (e.g. through those ``.pyc`` files or ``~/.bashrc``), and a
cache folder or file that someone else could write is refused outright
(:mod:`registry_gen._cache_guard`). The sha256 catches corruption (a truncated
file, a disk error), not an attacker.
Anything wrong (a missing or mismatched sidecar, an unpickling error) deletes
the pair and the loader falls back to skops. ``REGISTRY_GEN_NO_OBJECT_CACHE=1``
(or ``load_model(..., object_cache=False)``) turns it off.

Files, next to the entry ``<cache>/objects/ab/cdef…``::

    cdef….obj-KEY.pickle        the pickled object
    cdef….obj-KEY.pickle.json   its sidecar: md5, key and the sha256 of the pickle bytes
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._cache_guard import UnsafeCache, require_private
from .errors import ArtifactError
from .paths import atomic_write

if TYPE_CHECKING:
    from .cache import ArtifactCache

__all__ = ["get_object", "put_object", "read_private"]

log = logging.getLogger("registry_gen.cache")


def get_object(cache: ArtifactCache, md5: str, key: str) -> Any | None:
    """The object cached for ``md5`` under ``key``, or None (then load it the slow way).

    The pickle's sha256 must match its sidecar; anything wrong deletes both
    files and returns None. Only call this for a ``key`` that a previous load
    stored after enforcing the artifact's trusted types (see the module doc).
    """
    import pickle

    pickled = cache.object_path(md5, key)
    sidecar = pickled.with_name(pickled.name + ".json")
    try:
        if not cache.check_private(pickled.parent):
            return None
        meta = json.loads(read_private(sidecar))
        data = read_private(pickled)
    except FileNotFoundError:
        return None
    except UnsafeCache:
        raise  # not ours to delete or to trust: the user must look (see _cache_guard)
    except (OSError, ValueError, ArtifactError) as error:
        log.warning("the object cache of %s is unreadable (%s); deleting it", md5, error)
        _drop_object(pickled)
        return None
    if (
        not isinstance(meta, dict)
        or meta.get("md5") != md5
        or meta.get("key") != key
        or meta.get("sha256") != hashlib.sha256(data).hexdigest()
    ):
        log.warning("the object cache of %s does not match its sidecar; deleting it", md5)
        _drop_object(pickled)
        return None
    try:
        # Our own bytes, checked above: see "The object cache" in the module doc.
        obj = pickle.loads(data)  # noqa: S301
    except Exception as error:  # any unpickling failure: a stale or damaged file
        log.warning("the object cache of %s cannot be unpickled (%s); deleting it", md5, error)
        _drop_object(pickled)
        return None
    cache._touch(pickled)
    return obj


def put_object(
    cache: ArtifactCache,
    md5: str,
    key: str,
    obj: Any,
    info: dict[str, Any],
) -> Path | None:
    """Store ``pickle.dumps(obj)`` for ``md5`` under ``key``; None if it cannot be pickled.

    Call it only with an object deserialised by an audited loader from the
    verified entry ``md5`` (the loader does, after a skops load). The pickle
    is written first and the sidecar with its sha256 last, each atomically
    (0600, in the 0700 cache): a reader sees both or treats it as a miss.
    """
    import pickle

    try:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:  # an object skops can rebuild but pickle cannot
        log.info("not caching the object of %s: it cannot be pickled (%s)", md5, error)
        return None
    pickled = cache.object_path(md5, key)
    if not cache.path_for(md5).exists():
        return None  # the entry was pruned meanwhile: do not leave an orphan
    meta = {
        **info,
        "md5": md5,
        "key": key,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "created_at": time.time(),
    }
    try:
        atomic_write(pickled, data)
        atomic_write(pickled.with_name(pickled.name + ".json"), json.dumps(meta, indent=1))
    except OSError as error:  # a read-only or full cache: loads still work without it
        log.info("could not write the object cache of %s: %s", md5, error)
        _drop_object(pickled)
        return None
    return pickled


def _drop_object(pickled: Path) -> None:
    with contextlib.suppress(OSError):
        pickled.unlink(missing_ok=True)
        pickled.with_name(pickled.name + ".json").unlink(missing_ok=True)


def read_private(path: Path) -> bytes:
    """Read a file we wrote ourselves, refusing one another user could have replaced.

    Raises:
        UnsafeCache: ``path`` is a symlink, another user's, or writable by others.
        FileNotFoundError: ``path`` does not exist.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as error:
        if error.errno == errno.ELOOP:  # O_NOFOLLOW met a symlink
            require_private(os.lstat(path), path, "cache entry")
        raise
    with os.fdopen(fd, "rb") as handle:
        require_private(os.fstat(handle.fileno()), path, "cache entry")
        return handle.read()
