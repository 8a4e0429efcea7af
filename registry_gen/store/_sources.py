"""Where a registry's files come from: the working tree, or a git revision read from objects.

Light on purpose (no pydantic, no YAML): the loader's warm path lists and
stats one model's folder with :func:`scan_model_folder` before it decides
whether anything must be parsed at all.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from registry_gen import _git
from registry_gen.errors import GitError, UnsafePath
from registry_gen.paths import (
    MODEL_FILE,
    MODELS_DIR,
    MOVED_FILE,
    POLICY_FILE,
    VERSION_FILE,
    safe_join,
)
from registry_gen.uri import check_model_name

GIT_SYMLINK_MODE = 0o120000


@dataclass(frozen=True, slots=True)  # slots: 330,000 of them at 100,000 versions
class FileEntry:
    """A file of the registry: path relative to the root (POSIX), git-style mode, size."""

    path: str
    mode: int
    size: int

    @property
    def is_symlink(self) -> bool:
        """Whether the entry is a symlink (never followed)."""
        return self.mode == GIT_SYMLINK_MODE


def _git_mode(st_mode: int) -> int:
    """The mode git would record for a file with this ``st_mode``."""
    if stat.S_ISLNK(st_mode):
        return GIT_SYMLINK_MODE
    return 0o100755 if st_mode & stat.S_IXUSR else 0o100644


def is_record_path(rel: str) -> bool:
    """Whether the index reads the file ``rel``: the registry's one rule for it.

    >>> is_record_path("models/churn/3/version.yaml"), is_record_path("models/churn/3/m.pkl")
    (True, False)
    """
    parts = rel.split("/")
    return (
        parts == [POLICY_FILE]
        or (len(parts) == 3 and parts[2] in (MODEL_FILE, MOVED_FILE))
        or (len(parts) == 4 and (parts[3] == VERSION_FILE or parts[3].endswith(".dvc")))
    )


class Source(Protocol):
    """Where a registry's files are read from."""

    label: str

    def list_files(self) -> list[FileEntry]:
        """``registry.yaml`` and every file under ``models/``."""
        ...

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        """The bytes of each path (paths that are missing are left out)."""
        ...


class WorkingTree:
    """The registry as it is on disk, including uncommitted edits."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.label = "working tree"

    def list_files(self) -> list[FileEntry]:
        """``registry.yaml`` and every file under ``models/``, sorted; symlinks not followed."""
        found: list[FileEntry] = []
        policy = self.root / POLICY_FILE
        if policy.is_file() or policy.is_symlink():
            found.append(self._entry(policy))
        models = self.root / MODELS_DIR
        if models.is_symlink():
            found.append(self._entry(models))
            return found
        # os.scandir with string paths: at 30,000 files, pathlib's objects cost seconds.
        pending = [(os.fspath(models), MODELS_DIR)]
        while pending:
            folder, rel = pending.pop()
            try:
                with os.scandir(folder) as listing:
                    children = list(listing)
            except OSError:
                continue  # as os.walk: an unreadable or vanished folder lists nothing
            for child in children:
                child_rel = f"{rel}/{child.name}"
                if not child.is_symlink() and child.is_dir(follow_symlinks=False):
                    pending.append((child.path, child_rel))
                else:
                    found.append(self._stat_entry(child_rel, child.stat(follow_symlinks=False)))
        found.sort(key=lambda e: e.path)
        return found

    def _entry(self, path: Path) -> FileEntry:
        return self._stat_entry(path.relative_to(self.root).as_posix(), path.lstat())

    @staticmethod
    def _stat_entry(rel: str, info: os.stat_result) -> FileEntry:
        return FileEntry(rel, _git_mode(info.st_mode), info.st_size)

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        """The bytes of each regular file of ``paths``.

        Raises:
            UnsafePath: a path is not relative, holds ``..``, or passes a symlink.
        """
        out: dict[str, bytes] = {}
        root = os.fspath(self.root)
        # What safe_join checks (no "..", no absolute part, no symlink on the way), with
        # each folder checked once per call: at 30,000 records, a stat per component
        # per file and pathlib objects cost seconds.
        checked: set[str] = set()  # folders known to be real folders (or plain files)
        for rel in paths:
            folder = rel.rpartition("/")[0]
            pieces = rel.split("/")
            if "\\" in rel or rel.startswith("/") or any(p in {"", ".", ".."} for p in pieces):
                path = safe_join(self.root, rel)  # raises its UnsafePath error
                if path.is_file():
                    out[rel] = path.read_bytes()
                continue
            if (
                folder
                and folder not in checked
                and not self._check_folder(root, pieces[:-1], checked)
            ):
                continue  # a folder on the way is missing: so is the file
            data = self._read_regular(os.path.join(root, rel))  # noqa: PTH118 - see above
            if data is not None:
                out[rel] = data
        return out

    @staticmethod
    def _read_regular(full: str) -> bytes | None:
        """The bytes of ``full`` if it is a regular file, None if it is missing or special."""
        try:
            info = os.lstat(full)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if stat.S_ISLNK(info.st_mode):
            raise UnsafePath(f"refusing to follow the symlink {full}")
        if not stat.S_ISREG(info.st_mode):
            return None
        with open(full, "rb") as handle:  # noqa: PTH123
            return handle.read()

    @staticmethod
    def _check_folder(root: str, pieces: list[str], checked: set[str]) -> bool:
        """Check each component of a folder once; False if one does not exist."""
        prefix = ""
        for piece in pieces:
            prefix = f"{prefix}/{piece}" if prefix else piece
            if prefix in checked:
                continue
            full = os.path.join(root, prefix)  # noqa: PTH118
            try:
                info = os.lstat(full)
            except (FileNotFoundError, NotADirectoryError):
                return False
            if stat.S_ISLNK(info.st_mode):
                raise UnsafePath(f"refusing to follow the symlink {full}")
            checked.add(prefix)
        return True


class GitRevision:
    """The registry at a git revision, read from git objects (no checkout).

    ``root`` is the top folder of the repository (or a bare repository); git
    does not look for one in the folders above it.

    >>> GitRevision("/srv/registry", "origin/main").commit  # doctest: +SKIP
    '3f2c...'

    Raises:
        GitError: ``root`` is not a git repository, or ``rev`` is not a commit in it.
    """

    def __init__(self, root: Path | str, rev: str = "HEAD") -> None:
        self.root = Path(root)
        _git.check_rev(rev)
        if not self.root.is_dir():
            raise GitError(f"{self.root} is not a git repository")
        found = _git.rev_parse_commit(self.root, rev)
        if found is None:
            if not _git.is_top_level(self.root):
                raise GitError(f"{self.root} is not a git repository")
            raise GitError(f"{rev!r} is not a commit in {self.root}")
        self.commit = found[-1]
        self.label = f"{rev} ({self.commit[:10]})"
        self._oids: dict[str, str] = {}

    def list_files(self, *under: str) -> list[FileEntry]:
        """``registry.yaml`` and every file under ``models/`` at the commit, from one ``ls-tree``.

        ``under``: only these paths (files, or folders and what they hold); then
        :meth:`read_many` reads only files listed so.

        Raises:
            GitError: git failed.
        """
        out = _git.run(
            self.root,
            "ls-tree",
            "-r",
            "-l",
            "-z",
            "--full-tree",
            self.commit,
            "--",
            *(under or (POLICY_FILE, MODELS_DIR)),
        )
        assert out is not None  # check=True
        entries = []
        for item in out.split("\0"):
            if not item:
                continue
            meta, _, path = item.partition("\t")
            mode, kind, oid, size = meta.split()
            if kind != "blob":
                continue
            self._oids[path] = oid
            entries.append(FileEntry(path, int(mode, 8), int(size) if size != "-" else 0))
        return entries

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        """The bytes of each of ``paths`` at the commit, from one ``cat-file --batch``.

        Raises:
            GitError: git failed.
        """
        if not self._oids:
            self.list_files()
        wanted = {p: self._oids[p] for p in paths if p in self._oids}
        blobs = _git.read_blobs(self.root, wanted.values())
        return {path: blobs[oid] for path, oid in wanted.items() if oid in blobs}

    def read_file(self, path: str) -> bytes | None:
        """The bytes of any file at the commit (``.github/CODEOWNERS``); None if it is not one.

        Raises:
            GitError: git could not run.
        """
        return _git.run_bytes(self.root, "cat-file", "blob", f"{self.commit}:{path}", check=False)

    def changed_paths(self, base: str, *under: str) -> list[str]:
        """Paths under ``under`` that differ between commit ``base`` and this one (no renames).

        Raises:
            GitError: ``base`` is not a revision, or git failed.
        """
        out = _git.run(
            self.root,
            "diff",
            "--name-only",
            "-z",
            "--no-renames",
            "--end-of-options",
            _git.check_rev(base),
            self.commit,
            "--",
            *under,
        )
        assert out is not None  # check=True
        return [path for path in out.split("\0") if path]


def open_source(root: Path | str = ".", rev: str | None = None) -> Source:
    """The working tree at ``root``, or the git revision ``rev`` of the repository there.

    >>> open_source("/srv/registry", "main").label  # doctest: +SKIP
    'main (3f2c9a1b07)'

    Raises:
        GitError: as :class:`GitRevision`.
    """
    return WorkingTree(root) if rev is None else GitRevision(root, rev)


# ---------------------------------------------------------------------------
# One model's folder, listed and stat'ed before it is read

Signature = tuple[int, int, int, int, int]  # (mode, size, mtime_ns, inode, ctime_ns)


def signature(info: os.stat_result) -> Signature:
    return (info.st_mode, info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns)


def listing(folder: str) -> list[str]:
    """A folder's entries, sorted, with ``/`` after folders and ``@`` after symlinks."""
    with os.scandir(folder) as entries:
        return sorted(
            e.name + ("@" if e.is_symlink() else "/" if e.is_dir() else "") for e in entries
        )


@dataclass
class FolderScan:
    """``registry.yaml`` and ``models/NAME/`` as listed (and stat'ed) before being read."""

    files: list[tuple[str, os.stat_result]]  # every file, at any depth (lstat)
    listings: dict[str, list[str]]  # models/NAME and each folder in it
    symlinks: bool = False

    def entries(self) -> list[FileEntry]:
        """The scanned files as a source lists them (for :func:`build_index`)."""
        return [FileEntry(rel, _git_mode(info.st_mode), info.st_size) for rel, info in self.files]

    def signatures(self) -> dict[str, Signature | None]:
        """The signature of every file the index reads (``registry.yaml``: None if absent)."""
        read: dict[str, Signature | None] = {POLICY_FILE: None}
        read.update({rel: signature(info) for rel, info in self.files if is_record_path(rel)})
        return read


def scan_model_folder(root: Path, name: str) -> FolderScan | None:
    """List and lstat ``registry.yaml`` and ``models/NAME/``; None if there is no such folder.

    >>> scan_model_folder(Path("/srv/registry"), "churn").entries()[0].path  # doctest: +SKIP
    'models/churn/1/model.skops.dvc'

    Raises:
        InvalidName: ``name`` is not a model name.
        UnsafePath: ``models/NAME`` is a symlink.
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
        n.endswith("@") for names in scan.listings.values() for n in names
    )
    scan.files.sort(key=lambda item: item[0])
    return scan if base in scan.listings else None  # None: the folder vanished meanwhile
