"""The history of the last build, kept so that the next one reads only the new commits.

Reading the whole first-parent line costs seconds at 10,000 versions (minutes at
100,000), and a rebuild after one promotion adds one commit. :func:`read_history_cached`
keeps the events of the last read in the user's cache folder (JSON, never pickle),
keyed by the commit they were read at. When that commit is on the first-parent line
of HEAD, only ``LAST..HEAD`` is read and its events appended; the result is the
history a full read gives (``tests/test_history_cache.py`` checks it on a scripted
line of merges, renames and alias moves). Where appending could differ from a full
read, it reads in full:

- a new commit renames or copies a record (a rename names the older events after
  where the record ends up, so events already kept would change name);
- a new commit is dated before the last one kept (a full read would clamp the
  older dates to it);
- the last commit kept was dated after the time it was read (its date was
  clamped to that time, which a later read would not); such a read is not kept;
- more than :data:`MAX_NEW_COMMITS` new commits (a full read streams them;
  appending holds them).

Trust: the cache lives in the user's cache folder (never in the registry), must be
private to this user (:func:`registry_gen._cache_guard.check_private`), and is used
only if it has this format, was written by the same history code (a hash of it)
for the same repository, and every field has its type; anything else is a miss.
It is JSON of plain values, so a planted file can at worst claim events, never run
code; workflows never restore a cache (docs/security.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, get_args

from registry_gen import _git
from registry_gen._cache_guard import UnsafeCache, check_private
from registry_gen._code_digest import code_digest
from registry_gen.errors import GitError
from registry_gen.paths import atomic_write

from ._derive import record_key
from ._gitlog import RawCommit, read_log, timestamp
from ._model import Commit, Event, EventKind, History
from ._read import _events, read_history

log = logging.getLogger("registry_gen.history")

FORMAT = 1
# New commits appended at most; beyond, the line is read in full (and streamed).
MAX_NEW_COMMITS = 20_000
_KINDS = frozenset(get_args(EventKind))
_HEX = frozenset("0123456789abcdef")


def code_fingerprint() -> str:
    """A hash of the code that makes the history (this package and the YAML reader)."""
    digest = code_digest(FORMAT, "registry_gen.history", ("yamlio.py", "uri.py"))
    return digest.hexdigest()


def history_cache_file(cache_dir: Path, root: Path) -> Path:
    """Where the history of the repository at ``root`` is kept, in ``cache_dir``."""
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:20]
    return cache_dir / "history" / f"{key}.json"


def read_history_cached(
    root: Path | str, cache_dir: Path, *, now: datetime | None = None
) -> History:
    """:func:`~registry_gen.history.read_history` of HEAD, reading only the commits
    since the last call (see the module's docstring); the same history.

    >>> read_history_cached("/srv/registry", Path("/home/me/.cache/registry-gen"))  # doctest: +SKIP
    History(...)

    Raises:
        GitError: git failed.
    """
    root = Path(root)
    now = now or datetime.now(UTC)
    found = None
    if root.is_dir():
        found = _git.rev_parse_commit(root, "HEAD", "--is-shallow-repository")
    if found is None or found[0] == "true":
        return read_history(root, now=now)  # no history, or an incomplete one: nothing to keep
    head = found[-1]
    path = history_cache_file(cache_dir, root)
    try:
        private = check_private(path.parent, "history cache folder") and check_private(
            path, "history cache"
        )
    except UnsafeCache as error:
        log.warning("%s; reading the whole history", error)
        return read_history(root, head, now=now)
    kept = _load(path, root) if private else None
    if kept is not None and kept[0] == head:
        return History.of(kept[2])
    appended = _append(root, kept, head, now) if kept is not None else None
    if appended is not None:
        history, head_seconds = appended
    else:
        history = read_history(root, head, now=now)
        head_seconds = _commit_seconds(root, head)
    if history.complete and history.warning is None and timestamp(str(head_seconds)) <= now:
        _save(path, root, head, head_seconds, history)
    return history


def _append(
    root: Path, kept: tuple[str, int, list[Event]], head: str, now: datetime
) -> tuple[History, int] | None:
    """The kept events and those of ``LAST..HEAD``; None where a full read could differ."""
    last, last_seconds, events = kept
    try:
        commits = list(islice(read_log(root, f"{last}..{head}", parts=1), MAX_NEW_COMMITS + 1))
    except GitError:
        return None  # the kept commit is gone (a rewritten history)
    if not commits or len(commits) > MAX_NEW_COMMITS or commits[-1].parents[:1] != [last]:
        return None  # not on HEAD's first-parent line, or too far behind
    if any(_renames(raw) for raw in commits):
        return None
    bound = min([now, *(timestamp(raw.seconds) for raw in commits)])
    if timestamp(str(last_seconds)) > bound:
        return None
    blocks = list(_events(root, iter(commits), now))
    blocks.reverse()
    added = [event for block in blocks for event in block]
    return History.of([*events, *added]), int(commits[0].seconds.strip())


def _renames(raw: RawCommit) -> bool:
    return any(
        change.status[:1] in ("R", "C")
        and (record_key(change.old_path) is not None or record_key(change.new_path) is not None)
        for change in raw.changes
    )


def _commit_seconds(root: Path, commit: str) -> int:
    out = _git.run(root, "show", "-s", "--format=%ct", commit, top_level=True)
    try:
        return int((out or "").strip())
    except ValueError:
        return 2**62  # beyond any date: never kept


# ---------------------------------------------------------------------------
# The file: JSON of plain values, checked field by field when read


def _save(path: Path, root: Path, head: str, head_seconds: int, history: History) -> None:
    commits: dict[Commit, int] = {}
    rows = []
    for event in history.events:
        number = commits.setdefault(event.commit, len(commits))
        rows.append(
            [event.kind, event.model, event.version, number, event.old, event.new, event.alias]
        )
    data = {
        "format": FORMAT,
        "code": code_fingerprint(),
        "root": str(root.resolve()),
        "commit": head,
        "seconds": head_seconds,
        "commits": [_commit_row(c) for c in commits],
        "events": rows,
    }
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(path, json.dumps(data, separators=(",", ":"), ensure_ascii=False))
    except OSError as error:
        log.info("history cache not written (%s)", error)


def _commit_row(commit: Commit) -> list[Any]:
    claimed = commit.claimed_date.isoformat() if commit.claimed_date else None
    return [
        commit.sha,
        commit.author,
        commit.date.isoformat(),
        commit.subject,
        commit.pr,
        claimed,
        commit.merged_by,
    ]


def _load(path: Path, root: Path) -> tuple[str, int, list[Event]] | None:
    """The kept commit, its date (seconds) and events, or None if absent or not trusted."""
    try:
        data = json.loads(path.read_bytes())
        if (
            not isinstance(data, dict)
            or data.get("format") != FORMAT
            or data.get("code") != code_fingerprint()
            or data.get("root") != str(root.resolve())
        ):
            return None
        head, seconds = data["commit"], data["seconds"]
        if not (_is_sha(head) and type(seconds) is int):
            return None
        commits = [_commit(row) for row in data["commits"]]
        return head, seconds, [_event(row, commits) for row in data["events"]]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError, IndexError, OverflowError) as error:
        # OverflowError: a date past datetime's range once in UTC.
        log.info("history cache %s ignored (%s)", path, error)
        return None


def _is_sha(value: Any) -> bool:
    return isinstance(value, str) and len(value) in (40, 64) and set(value) <= _HEX


def _commit(row: Any) -> Commit:
    sha, author, date, subject, pr, claimed, merged_by = row
    if not (_is_sha(sha) and _texts(author, subject) and _optional_texts(merged_by)):
        raise ValueError("malformed commit")
    if pr is not None and type(pr) is not int:
        raise ValueError("malformed pull request number")
    return Commit(
        sha,
        author,
        _date(date),
        subject,
        pr,
        None if claimed is None else _date(claimed),
        merged_by,
    )


def _event(row: Any, commits: list[Commit]) -> Event:
    kind, model, version, number, old, new, alias = row
    if kind not in _KINDS or not _texts(model) or not _optional_texts(old, new, alias):
        raise ValueError("malformed event")
    if (version is not None and type(version) is not int) or type(number) is not int:
        raise ValueError("malformed event")
    if number < 0:
        raise IndexError(number)
    return Event(kind, model, version, commits[number], old, new, alias)


def _texts(*values: Any) -> bool:
    return all(isinstance(v, str) for v in values)


def _optional_texts(*values: Any) -> bool:
    return all(v is None or isinstance(v, str) for v in values)


def _date(text: Any) -> datetime:
    if not isinstance(text, str):
        raise TypeError("a date is not text")
    date = datetime.fromisoformat(text)
    if date.tzinfo is None:
        raise ValueError("a date without its zone")
    return date.astimezone(UTC) if date.utcoffset() else date


__all__ = ["history_cache_file", "read_history_cached"]
