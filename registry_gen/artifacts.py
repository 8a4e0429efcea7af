"""A registry's DVC operations: set up a registry's DVC remote, track an artifact, push its bytes.

DVC is reached only through :mod:`registry_gen._dvc` (its command line for
these writes: see there why), and the default remote is read by its one
``.dvc/config`` reader.

Example:
    >>> pointer = track(Path("/reg"), "models/churn/4/model.skops")  # doctest: +SKIP
    >>> pointer.md5  # doctest: +SKIP
    '5d41402abc4b2a76b9719d911017c592'
"""

from __future__ import annotations

from pathlib import Path

from ._dvc import DVC_DIR, Remote, default_remote
from ._dvc import run as run_dvc
from .errors import ArtifactError, RecordError
from .schema import DvcOutput, DvcPointer, parse_record

__all__ = [
    "DVC_DIR",
    "Remote",
    "add_remote",
    "default_remote",
    "init_dvc",
    "is_dvc_repo",
    "push",
    "run_dvc",
    "track",
]


def is_dvc_repo(root: Path) -> bool:
    """Whether ``root`` has a DVC project (a ``.dvc/config`` file)."""
    return (root / DVC_DIR / "config").is_file()


def init_dvc(root: Path) -> None:
    """``dvc init`` in an existing git repository."""
    run_dvc(root, "init")


def add_remote(root: Path, name: str, url: str, *, default: bool = True) -> Remote:
    """Add a DVC remote (``dvc remote add [-d] NAME URL``)."""
    args = ["remote", "add", "--force"]
    if default:
        args.append("--default")
    run_dvc(root, *args, name, url)
    remote = default_remote(root) if default else None
    return remote or Remote(name, url)


def track(root: Path, relative: str) -> DvcOutput:
    """``dvc add`` the file or folder at ``relative`` (POSIX, from ``root``); return its pointer.

    DVC writes ``ARTIFACT.dvc`` and a ``.gitignore`` next to the artifact and
    copies the bytes into its cache.
    """
    run_dvc(root, "add", relative)
    pointer_file = f"{relative}.dvc"
    try:
        return parse_record((root / pointer_file).read_bytes(), pointer_file, DvcPointer).out
    except (OSError, RecordError) as error:
        raise ArtifactError(f"dvc add did not write a readable {pointer_file}: {error}") from None


def push(root: Path, relative: str, remote: str | None = None) -> None:
    """Upload the tracked artifact at ``relative`` to ``remote`` (default: the default remote)."""
    args = ["push"]
    if remote:
        args += ["--remote", remote]
    run_dvc(root, *args, f"{relative}.dvc")
