"""A digest of registry-gen's own code: what the build caches are keyed by.

A cache made by other code (another release, or a checkout with edits) must be a
miss, so the caches hash the source files that shape their contents rather than
trust a version number alone.
"""

from __future__ import annotations

import hashlib
from importlib import resources

from . import __version__

__all__ = ["code_digest"]


def code_digest(fmt: int, package: str, modules: tuple[str, ...] = ()) -> hashlib._Hash:
    """A running SHA-256 of the cache ``fmt``, the version, ``package``'s ``.py``
    files and registry-gen's ``modules``; callers may add more before ``hexdigest``.

    >>> len(code_digest(1, "registry_gen.history", ("yamlio.py",)).hexdigest())
    64
    """
    digest = hashlib.sha256(f"{fmt}\0{__version__}".encode())
    files = resources.files(package)
    for entry in sorted(files.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".py"):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    for module in modules:
        digest.update((resources.files("registry_gen") / module).read_bytes())
    return digest
