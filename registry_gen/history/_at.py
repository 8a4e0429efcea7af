"""The registry as it stood at a date or a revision (the answer to mlflow#2169).

A date names the last commit on the first-parent line that landed on or before
it, with the dates clamped as the history clamps them (a commit cannot land
after the one that follows it). A revision names itself. The records there are
read by the store (:func:`registry_gen.store.load_index` at that commit) and a
URI is resolved by the one resolver, so ``show --at`` and ``load_model(at=)``
answer as ``show`` and ``load_model`` would have then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from registry_gen import _git
from registry_gen.errors import GitError, UsageError

from ._gitlog import timestamp
from ._query import parse_when

if TYPE_CHECKING:
    from registry_gen.store import RegistryIndex

__all__ = ["PastCommit", "commit_at", "index_at"]

_LOOKS_LIKE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class PastCommit:
    """The commit a ``--at`` names, and when it landed (None for a revision given by name)."""

    sha: str
    date: datetime | None

    @property
    def short(self) -> str:
        """The first 10 hex digits of the commit id."""
        return self.sha[:10]


def commit_at(root: Path | str, at: str, rev: str = "HEAD") -> PastCommit:
    """The commit ``at`` names in the repository at ``root``: a date (``2026-01-31``, a
    date alone meaning the end of that day, UTC; or ``2026-01-31T10:00Z``) on the
    first-parent line of ``rev``, or a revision (``v2``, ``HEAD~3``, a commit id).

    >>> commit_at("/srv/registry", "2026-01-31").sha  # doctest: +SKIP
    '3f2c...'

    Raises:
        UsageError: ``at`` is neither a date nor a revision, or nothing had landed by then.
        GitError: ``root`` is not a git repository.
    """
    root = Path(root)
    _git.check_rev(rev)
    if _LOOKS_LIKE_DATE.match(at.strip()):
        return _by_date(root, parse_when(at, end_of_day=True), rev)
    try:
        _git.check_rev(at, "revision for --at")
    except GitError as error:
        raise UsageError(f"{error}, or a date such as 2026-01-31") from None
    found = _git.rev_parse_commit(root, at)
    if found is None:
        if not _git.is_top_level(root):
            raise UsageError(f"--at needs a git checkout: {root} is not a git repository")
        raise UsageError(f"{at!r} is not a date (YYYY-MM-DD) or a commit of {root}")
    return PastCommit(found[-1], None)


def _by_date(root: Path, moment: datetime, rev: str) -> PastCommit:
    if not _git.is_top_level(root):
        raise UsageError(f"--at needs a git checkout: {root} is not a git repository")
    bound = datetime.now(UTC)
    pending = b""
    lines = _git.stream(
        root, "log", "--first-parent", "--format=%H %ct", "--end-of-options", rev, top_level=True
    )
    try:
        for piece in lines:
            *complete, pending = (pending + piece).split(b"\n")
            for line in complete:
                sha, _, seconds = line.decode("ascii", errors="replace").partition(" ")
                landed = min(timestamp(seconds), bound)  # clamped as the history clamps
                if landed <= moment:
                    return PastCommit(sha, landed)
                bound = landed
    finally:
        lines.close()  # found: stop git
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    raise UsageError(f"nothing had landed on {rev} by {stamp}: the registry's history starts later")


def index_at(root: Path | str, at: str, rev: str = "HEAD") -> tuple[RegistryIndex, PastCommit]:
    """The whole registry at the commit ``at`` names (see :func:`commit_at`), and that commit.

    >>> index, when = index_at("/srv/registry", "2026-01-31")  # doctest: +SKIP
    >>> index.resolve("models:/churn/Production").version  # doctest: +SKIP
    2

    Raises:
        UsageError, GitError: as :func:`commit_at`.
    """
    from registry_gen.store import load_index

    past = commit_at(root, at, rev)
    return load_index(root, rev=past.sha), past
