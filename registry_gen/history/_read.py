"""Reading the history: the streamed log, the blobs it compares, the events, in chunks."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from registry_gen import _git

from ._derive import (
    NO_FILE,
    ZERO,
    Change,
    Namer,
    Summary,
    diff,
    pair_model_renames,
    record_key,
    summary,
    values_only_change,
)
from ._gitlog import (
    WEB_FLOW_EMAIL,
    RawCommit,
    commit_author,
    pr_number,
    read_log,
    subject,
    timestamp,
)
from ._model import Commit, Event, History

log = logging.getLogger("registry_gen.history")

SHALLOW_WARNING = (
    "this is a shallow git clone, so the registry's history is incomplete and is left out "
    "of the site; fetch the whole history (git fetch --unshallow, or actions/checkout with "
    "fetch-depth: 0)"
)
# Commits compared per ``git cat-file`` process: enough to amortise the process, few
# enough that only one chunk's blobs are held at once.
_CHUNK_COMMITS = 2_000


def read_history(
    root: Path | str, rev: str = "HEAD", *, now: datetime | None = None, parts: int | None = None
) -> History:
    """The history of ``models/`` up to ``rev`` in the git repository at ``root``.

    Not a git repository, or no commits yet: an empty history. A shallow clone:
    an empty, incomplete history with a warning (logged and in ``warning``).
    Dates after ``now`` (default: the current time) are clamped and flagged.
    ``parts`` is how many ``git log`` processes list the line at once (default: one
    per processor for a long history); the history is the same whatever it is.

    >>> read_history("/srv/registry").for_version("churn", 3)[0].kind  # doctest: +SKIP
    'registered'

    Raises:
        GitError: ``rev`` is not a revision's name, or git failed.
    """
    root = Path(root)
    _git.check_rev(rev)
    found = None
    if root.is_dir():
        # One process: is the clone shallow, and is there a commit to read from?
        found = _git.rev_parse_commit(root, rev, "--is-shallow-repository")
    if found is None:
        if not _git.is_top_level(root):
            log.info("%s is not a git repository: the site has no history", root)
        return History.of((), complete=False)
    if found[0] == "true":
        log.warning("registry history: %s", SHALLOW_WARNING)
        return History.of((), complete=False, warning=SHALLOW_WARNING)
    blocks = list(_events(root, read_log(root, rev, parts=parts), now or datetime.now(UTC)))
    blocks.reverse()
    return History.of(event for block in blocks for event in block)


def _chunks(
    root: Path, commits: Iterator[RawCommit], seen: dict[str, Any]
) -> Iterator[tuple[list[RawCommit], dict[str, tuple[str, bytes]]]]:
    """Each chunk of commits with the objects it compares. The next chunk's objects are
    read by ``git cat-file`` while this one is compared, so that git's work is off the
    critical path; a blob it misses (left ``seen`` meanwhile) is read when asked for."""
    with ThreadPoolExecutor(max_workers=1) as reader:
        chunk = list(islice(commits, _CHUNK_COMMITS))
        pending = reader.submit(_git.read_objects, root, list(_wanted(chunk, seen)))
        while chunk:
            following = list(islice(commits, _CHUNK_COMMITS))
            objects = pending.result()
            if following:
                pending = reader.submit(_git.read_objects, root, list(_wanted(following, seen)))
            yield chunk, objects
            chunk = following


def _events(root: Path, commits: Iterator[RawCommit], now: datetime) -> Iterator[list[Event]]:
    """Each commit's events (in the order git lists its files), newest commit first."""
    namer = Namer()
    bound = now
    # Each blob is usually compared twice, as the old side of a newer change and then
    # as the new side of an older one: its summary waits here for the second use only.
    seen: dict[str, Summary | None] = {}
    for chunk, objects in _chunks(root, commits, seen):
        for raw in chunk:
            commit = _commit(raw, objects, bound)
            bound = commit.date
            block: list[Event] = []
            for change in pair_model_renames(raw.changes):
                final = namer.name(change)
                if final is None:
                    continue
                key = record_key(change.new_path) or record_key(change.old_path)
                assert key is not None
                # The newer side of a changed file is what a shortcut reads the older from.
                lines = change.status == "M"
                after = _side(
                    root, change.new_blob, change.new_path, objects, seen, keep=False, lines=lines
                )
                before = _before(root, change, after, objects, seen)
                block += diff(key, final, (before, after), change, commit)
            if block:
                yield block


def _wanted(chunk: list[RawCommit], seen: dict[str, Any]) -> Iterable[str]:
    for raw in chunk:
        if raw.merge:
            yield raw.parents[1]
        for change in raw.changes:
            if record_key(change.old_path) or record_key(change.new_path):
                for sha in (change.old_blob, change.new_blob):
                    # A modified record's newer bytes are wanted even when its fields are
                    # known: the older side may then be read from the one line that moved.
                    if sha != ZERO and (sha not in seen or change.status == "M"):
                        yield sha


def _before(
    root: Path,
    change: Change,
    after: Summary | None,
    objects: dict[str, tuple[str, bytes]],
    seen: dict[str, Summary | None],
) -> Summary | None:
    """The older side of a change; a record whose stage or one alias alone moved is
    read from its newer side (see :func:`values_only_change`) instead of parsed again."""
    if change.status == "M" and after and after.lines and change.old_blob not in seen:
        newer, older = objects.get(change.new_blob), objects.get(change.old_blob)
        if newer and older and newer[0] == older[0] == "blob":
            found = values_only_change(newer[1], after, older[1])
            if found is not None:
                seen[change.old_blob] = found
                return found
    return _side(root, change.old_blob, change.old_path, objects, seen, keep=True, lines=True)


def _side(
    root: Path,
    sha: str,
    path: str | None,
    objects: dict[str, tuple[str, bytes]],
    seen: dict[str, Summary | None],
    *,
    keep: bool,
    lines: bool,
) -> Summary | None:
    """The summary of one side of a change: :data:`NO_FILE` for none, None if unreadable.
    ``keep``: it will be the newer side of an older change, so it keeps its ``lines``."""
    if sha == ZERO or path is None or record_key(path) is None:
        return NO_FILE
    if sha in seen:
        return seen[sha] if keep else seen.pop(sha)
    if sha not in objects:  # the same bytes in two files: a blob asked for once, used again
        objects.update(_git.read_objects(root, [sha]))
    kind, data = objects.get(sha, ("missing", b""))
    fields = summary(data, path, lines=lines or keep) if kind == "blob" else None
    if keep:
        seen[sha] = fields
    return fields


def _commit(raw: RawCommit, objects: dict[str, tuple[str, bytes]], bound: datetime) -> Commit:
    """The landed change's credit: its PR's author, its merger, its PR, when it landed.

    A commit is made before the commit that follows it on the first-parent line, so
    a later date is a false claim (git lets anyone write any date): the bound is
    shown, flagged, instead of a date in 2099.
    """
    merge = raw.merge
    pr = pr_number(raw.message, merge=merge)
    author = raw.author
    merged_by = None
    if merge:
        kind, data = objects.get(raw.parents[1], ("missing", b""))
        branch_author = commit_author(data) if kind == "commit" else None
        author = branch_author or raw.author
        merged_by = _merger(raw)
    date = timestamp(raw.seconds)
    claimed = None
    if date > bound:
        date, claimed = bound, date
    return Commit(
        raw.sha, author, date, subject(raw.message, merge=merge, pr=pr), pr, claimed, merged_by
    )


def _merger(raw: RawCommit) -> str | None:
    """Who wrote the merge commit; None when it is GitHub's own web-flow identity."""
    for name, email in ((raw.author, raw.author_email), (raw.committer, raw.committer_email)):
        if name and email.lower() != WEB_FLOW_EMAIL:
            return name
    return None
