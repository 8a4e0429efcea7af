"""DVC's ``.dir`` manifest of a folder artifact: checked against its md5, paths made safe.

A folder artifact's md5 is ``<md5 of the manifest>.dir``; the manifest is a JSON
list of ``{"md5": ..., "relpath": ...}`` (DVC 3's ``Tree.as_bytes``), one entry per
file. The paths come from a remote, so they are untrusted.

Example:
    >>> import hashlib, json
    >>> data = json.dumps([{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "a"}]).encode()
    >>> parse_manifest(data, hashlib.md5(data).hexdigest() + ".dir")
    [('a', 'd41d8cd98f00b204e9800998ecf8427e')]
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePosixPath

from ._constants import MD5_PATTERN
from .errors import ArtifactError, HashMismatch

__all__ = ["object_paths", "parse_manifest"]


def object_paths(md5: str) -> tuple[str, str]:
    """Where a DVC remote keeps object ``md5``: DVC 3's layout, then DVC 2's.

    >>> object_paths("d41d8cd98f00b204e9800998ecf8427e")
    ('files/md5/d4/1d8cd98f00b204e9800998ecf8427e', 'd4/1d8cd98f00b204e9800998ecf8427e')
    """
    return f"files/md5/{md5[:2]}/{md5[2:]}", f"{md5[:2]}/{md5[2:]}"


def parse_manifest(data: bytes, md5: str) -> list[tuple[str, str]]:
    """Check a DVC ``.dir`` manifest against ``md5`` and return its (relpath, md5) pairs.

    Relative paths are untrusted: ``..``, absolute paths and empty parts are refused.
    """
    actual = hashlib.md5(data).hexdigest()  # noqa: S324
    if actual + ".dir" != md5:
        raise HashMismatch(f"the folder manifest of {md5} has md5 {actual}.dir")
    try:
        entries = json.loads(data)
    except ValueError as error:
        raise ArtifactError(f"the folder manifest of {md5} is not JSON: {error}") from None
    if not isinstance(entries, list):
        raise ArtifactError(f"the folder manifest of {md5} is not a list")
    out: list[tuple[str, str]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ArtifactError(f"the folder manifest of {md5} has a malformed entry")
        relpath, file_md5 = entry.get("relpath"), entry.get("md5")
        if not isinstance(relpath, str) or not isinstance(file_md5, str):
            raise ArtifactError(f"the folder manifest of {md5} has a malformed entry")
        parts = PurePosixPath(relpath).parts
        if any(ord(c) < 32 or c == "\x7f" for c in relpath):  # NUL, newline...: never a path
            raise ArtifactError(
                f"the folder manifest of {md5} has a path with a control character "
                f"{relpath!r}; the artifact cannot be fetched"
            )
        if (
            not parts
            or relpath.startswith("/")
            or "\\" in relpath
            or any(p in {"", ".", ".."} for p in parts)
        ):
            raise ArtifactError(f"the folder manifest of {md5} has an unsafe path {relpath!r}")
        if not MD5_PATTERN.match(file_md5) or file_md5.endswith(".dir"):
            raise ArtifactError(f"the folder manifest of {md5} has a bad md5 for {relpath!r}")
        out.append((relpath, file_md5))
    return out
