"""The DVC edge: set up a registry's DVC remote, track an artifact, push its bytes.

DVC is driven through its command line (``python -m dvc`` of this same
interpreter, so the venv's DVC is used whatever is on ``PATH``), not through
``dvc.repo.Repo``: the command line is DVC's documented, stable interface,
while the ``Repo`` class is internal (it prints to stdout through a global
console, keeps process-wide state and changes between minor versions). A
subprocess keeps all of that out of the caller's process and its errors come
back as text we can quote. It costs about a second per call, which is small
next to hashing and uploading a model.

The default remote is read from ``.dvc/config`` (and ``.dvc/config.local``)
with configobj, the parser DVC itself uses, so checking it costs no process.

Example:
    >>> pointer = track(Path("/reg"), "models/churn/4/model.skops")  # doctest: +SKIP
    >>> pointer.md5                                                    # doctest: +SKIP
    '5d41402abc4b2a76b9719d911017c592'
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import ArtifactError, RecordError
from .schema import DvcOutput, DvcPointer, parse_record

log = logging.getLogger(__name__)

DVC_DIR = ".dvc"


def run_dvc(root: Path, *args: str) -> str:
    """Run ``dvc ARGS`` in ``root``; raise :class:`ArtifactError` with DVC's message on failure."""
    command = [sys.executable, "-m", "dvc", *args]
    log.info("running dvc %s", " ".join(args))
    env = {**os.environ, "DVC_NO_ANALYTICS": os.environ.get("DVC_NO_ANALYTICS", "1")}
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, env=env,
                            check=False)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        detail = " ".join(line.strip() for line in message if line.strip())[-2000:]
        raise ArtifactError(f"dvc {args[0]} failed in {root}: {detail or 'no message'}")
    return result.stdout


def is_dvc_repo(root: Path) -> bool:
    return (root / DVC_DIR / "config").is_file()


def init_dvc(root: Path) -> None:
    """``dvc init`` in an existing git repository."""
    run_dvc(root, "init")


@dataclass(frozen=True)
class Remote:
    """A DVC remote: its name and URL as written in the config (relative to ``.dvc/``)."""

    name: str
    url: str

    def local_folder(self, root: Path) -> Path | None:
        """The folder this remote stores bytes in, if it is a local path."""
        if "://" in self.url:
            return None
        path = Path(self.url).expanduser()
        return path if path.is_absolute() else (root / DVC_DIR / path).resolve()


def add_remote(root: Path, name: str, url: str, *, default: bool = True) -> Remote:
    """Add a DVC remote (``dvc remote add [-d] NAME URL``)."""
    args = ["remote", "add", "--force"]
    if default:
        args.append("--default")
    run_dvc(root, *args, name, url)
    remote = default_remote(root) if default else None
    return remote or Remote(name, url)


def _read_config(path: Path) -> dict[str, dict[str, str]]:
    # DVC's own config parser (a DVC dependency), so we read .dvc/config exactly as DVC does.
    from configobj import ConfigObj, ConfigObjError  # type: ignore[import-untyped]

    if not path.is_file():
        return {}
    try:
        config = ConfigObj(str(path), encoding="utf-8", interpolation=False)
    except (ConfigObjError, OSError) as error:
        raise ArtifactError(f"cannot read {path}: {error}") from None
    return {str(k): dict(v) for k, v in config.items() if isinstance(v, dict)}


def default_remote(root: Path) -> Remote | None:
    """The remote ``dvc push`` uses by default, or None when none is configured."""
    sections: dict[str, dict[str, str]] = {}
    for name in ("config", "config.local"):
        for section, values in _read_config(root / DVC_DIR / name).items():
            sections.setdefault(section, {}).update(values)
    remote_name = sections.get("core", {}).get("remote")
    if not remote_name:
        return None
    url = sections.get(f'remote "{remote_name}"', {}).get("url")
    if not url:
        raise ArtifactError(
            f"the default DVC remote {remote_name!r} has no url in {root / DVC_DIR / 'config'}")
    return Remote(remote_name, url)


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
