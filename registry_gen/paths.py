"""The one way a filesystem path is built from registry identifiers.

Example:
    >>> from pathlib import Path
    >>> safe_join(Path("/reg"), "models", "churn", "3").as_posix()
    '/reg/models/churn/3'
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import UnsafePath

MODELS_DIR = "models"
POLICY_FILE = "registry.yaml"
MODEL_FILE = "model.yaml"
VERSION_FILE = "version.yaml"
MOVED_FILE = "moved.yaml"  # models/OLD/moved.yaml: a renamed model's redirect (to: NEW)


def safe_join(root: Path, *parts: str | int) -> Path:
    """Join ``parts`` under ``root``, refusing ``..``, absolute parts and symlinks.

    Every existing component below ``root`` must be a real file or folder, so a
    symlink committed under ``models/`` cannot make the registry read or write
    outside the repository.
    """
    path = root
    for raw in parts:
        part = str(raw)
        pieces = part.replace("\\", "/").split("/")
        if not part or part.startswith(("/", "\\")) or any(p in {"", ".", ".."} for p in pieces):
            raise UnsafePath(f"refusing unsafe path component {part!r} under {root}")
        for piece in pieces:
            path = path / piece
            if path.is_symlink():
                raise UnsafePath(f"refusing to follow the symlink {path}")
    return path


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Readers see the old file or the new one, never half of it; a crash leaves
    at most a stray ``.tmp`` file, never a truncated record.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        raise UnsafePath(f"refusing to write through the symlink {path}")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes 0600; a file is as readable as any the user writes (the umask),
        # except in a private folder (no group/other access, e.g. the cache): it stays 0600.
        private = path.parent.stat().st_mode & 0o077 == 0
        os.fchmod(fd, 0o600 if private else 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    current = os.umask(0o022)  # elsewhere: set and restore (briefly process-wide)
    os.umask(current)
    return current
