"""The cache trusts only what this user alone could have written.

The artifact cache holds bytes the loader deserialises and resolutions it acts
on, so anyone able to write there could run code as the user who loads (a
planted saved resolution naming a planted object-cache pickle, say). Every
folder of the cache and every entry read is therefore checked with ``lstat``
before use: it must not be a symlink, must belong to this user (the effective
uid) and must not be writable by group or others. A failed check raises
:class:`UnsafeCache`, one line that names the path and says what to do; nothing
in such a cache is read. The checks are a few ``lstat`` calls per load
(microseconds), so the warm path keeps them.

On a system without POSIX ownership (Windows) only the symlink check applies.

Example:
    >>> check_private(Path("/nonexistent/registry-gen"), "cache folder")
    False
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import ArtifactError

__all__ = ["UnsafeCache", "check_private", "require_private"]


class UnsafeCache(ArtifactError, PermissionError):
    """The cache or one of its entries could have been written by another user."""


def _problem(info: os.stat_result) -> str | None:
    if stat.S_ISLNK(info.st_mode):
        return "is a symlink"
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        return f"belongs to uid {info.st_uid}, not to you (uid {os.geteuid()})"
    if hasattr(os, "geteuid") and info.st_mode & 0o022:
        return f"is writable by group or others (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def check_private(path: Path | str, what: str) -> bool:
    """True if ``path`` exists and is private to this user, False if it does not exist.

    Raises:
        UnsafeCache: ``path`` is a symlink, belongs to another user, or is
            writable by group or others.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    problem = _problem(info)
    if problem is not None:
        raise UnsafeCache(
            f"refusing the registry-gen {what} {path}: it {problem}, so another local user "
            "could have planted what it holds; delete it (or `chmod go-w` it if it is yours "
            "and you trust its contents), or set REGISTRY_GEN_CACHE to a private folder"
        )
    return True


def require_private(info: os.stat_result, path: Path | str, what: str) -> None:
    """Like :func:`check_private`, for an ``fstat``/``lstat`` result already at hand.

    Raises:
        UnsafeCache: as :func:`check_private`.
    """
    problem = _problem(info)
    if problem is not None:
        raise UnsafeCache(
            f"refusing the registry-gen {what} {path}: it {problem}; delete it, or set "
            "REGISTRY_GEN_CACHE to a private folder"
        )
