"""The one-model scan: ``registry.yaml`` and ``models/NAME/`` listed and stat'ed.

The loader's full resolution of a checkout reads only these files, and the
saved resolution keeps their stat signatures to know later that nothing
changed. (The write side uses the same scan; it is on its way to the store.)
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from registry_gen.paths import MODEL_FILE, MODELS_DIR, POLICY_FILE, VERSION_FILE, safe_join
from registry_gen.uri import check_model_name

if TYPE_CHECKING:
    from registry_gen.store import FileEntry

__all__ = ["FolderScan", "Signature", "listing", "scan_model_folder", "signature"]

Signature = tuple[int, int, int, int, int]  # (mode, size, mtime_ns, inode, ctime_ns)


def signature(info: os.stat_result) -> Signature:
    """What must stay equal for a file to count as unchanged (as git's index keeps)."""
    return (info.st_mode, info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns)


def listing(folder: str) -> list[str]:
    """A folder's entries, sorted, with ``/`` after folders and ``@`` after symlinks."""
    with os.scandir(folder) as entries:
        return sorted(e.name + ("@" if e.is_symlink() else "/" if e.is_dir() else "")
                      for e in entries)


def _reads(rel: str) -> bool:
    """Whether the index reads ``rel`` (the rule of :func:`registry_gen.store.build_index`)."""
    parts = rel.split("/")
    return (parts == [POLICY_FILE] or (len(parts) == 3 and parts[2] == MODEL_FILE)
            or (len(parts) == 4 and (parts[3] == VERSION_FILE or parts[3].endswith(".dvc"))))


@dataclass
class FolderScan:
    """``registry.yaml`` and ``models/NAME/`` as listed (and stat'ed) before being read."""

    files: list[tuple[str, os.stat_result]]  # every file, at any depth (lstat)
    listings: dict[str, list[str]]  # models/NAME and each folder in it
    symlinks: bool = False

    def entries(self) -> list[FileEntry]:
        """The scanned files as the store's file entries (for ``build_index``)."""
        from registry_gen.store import GIT_SYMLINK_MODE, FileEntry

        found = []
        for rel, info in self.files:
            if stat.S_ISLNK(info.st_mode):
                mode = GIT_SYMLINK_MODE
            else:
                mode = 0o100755 if info.st_mode & stat.S_IXUSR else 0o100644
            found.append(FileEntry(rel, mode, info.st_size))
        return found

    def signatures(self) -> dict[str, Signature | None]:
        """The signature of every file the index reads (``registry.yaml``: None if absent)."""
        read: dict[str, Signature | None] = {POLICY_FILE: None}
        read.update({rel: signature(info) for rel, info in self.files if _reads(rel)})
        return read


def scan_model_folder(root: Path, name: str) -> FolderScan | None:
    """List and lstat ``registry.yaml`` and ``models/NAME/``; None if there is no such folder.

    >>> scan_model_folder(Path("/srv/registry"), "churn").listings["models/churn"]  # doctest: +SKIP
    ['1/', '2/', 'model.yaml']

    Raises:
        UnsafePath: ``models/NAME`` is a symlink or ``name`` is not a model name.
    """
    folder = safe_join(root, MODELS_DIR, check_model_name(name))  # refuses a symlinked folder
    if not folder.is_dir():
        return None
    scan = FolderScan([], {})
    policy = root / POLICY_FILE
    if policy.exists() or policy.is_symlink():
        scan.files.append((POLICY_FILE, policy.lstat()))
    base = f"{MODELS_DIR}/{name}"
    for current, dirs, files in os.walk(folder):
        rel = Path(current).relative_to(root).as_posix()
        if rel.count("/") <= 2:  # models/NAME and models/NAME/VERSION: what the index reads
            scan.listings[rel] = listing(current)
        for sub in dirs:  # symlinked folders are listed (never followed), as files
            if Path(current, sub).is_symlink():
                scan.files.append((f"{rel}/{sub}", Path(current, sub).lstat()))
        scan.files.extend((f"{rel}/{file}", Path(current, file).lstat()) for file in files)
    scan.symlinks = any(stat.S_ISLNK(info.st_mode) for _, info in scan.files) or any(
        n.endswith("@") for names in scan.listings.values() for n in names)
    scan.files.sort(key=lambda item: item[0])
    return scan if base in scan.listings else None  # None: the folder vanished meanwhile
