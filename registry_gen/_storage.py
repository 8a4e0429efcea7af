"""Whether an artifact may go to the registry's in-repository DVC remote.

The committed ``dvc-remote/`` folder is the zero-configuration trial set-up: its
bytes live in git history, and GitHub refuses files over 100 MB. Past
``max_in_repo_artifact_mb`` (registry.yaml, default 50) registration is refused
before anything is copied, naming the way out (``init --remote`` / ``dvc remote add``).

Example:
    >>> artifact_bytes(Path("model.skops"))  # doctest: +SKIP
    1048576
"""

from __future__ import annotations

from pathlib import Path

from .errors import RuleViolation
from .schema import Policy


def artifact_bytes(path: Path) -> int:
    """The size of a file, or of every file under a folder (symlinks not followed)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def check_in_repo_size(policy: Policy, source: Path, name: str, number: int) -> None:
    """Refuse ``source`` for the in-repository remote when it is over the policy's limit.

    Raises:
        RuleViolation: the artifact is larger than ``max_in_repo_artifact_mb``.
    """
    size = artifact_bytes(source)
    limit = policy.max_in_repo_artifact_mb * 1024 * 1024
    if size > limit:
        raise RuleViolation(
            f"{name} v{number}: {source.name} is {size / 1024 / 1024:.0f} MB, over the "
            f"{policy.max_in_repo_artifact_mb:g} MB limit for the in-repository DVC remote "
            "(its bytes would be committed to git); store artifacts in a real remote: "
            "`registry-gen init --remote URL` for a new registry, or "
            "`dvc remote add -d -f storage s3://BUCKET/PATH` here "
            "(or raise max_in_repo_artifact_mb in registry.yaml)",
            code="in-repo-size",
        )
