"""The first-parent line, streamed from one ``git log`` newest first.

``git log --first-parent --raw`` lists, for every commit that landed on the
branch (a merge counts as what it brought in, compared with its first parent),
the files it added, changed, renamed or deleted, with the blob ids before and
after. Its output is read as git writes it and parsed one commit at a time, so
230,000 commits never sit in memory as text.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from registry_gen import _git

from ._derive import Change

# GitHub's merge and squash subject lines, exactly (a branch name has no spaces).
_MERGE_PR = re.compile(r"Merge pull request #([1-9][0-9]{0,9}) from \S+")
_SQUASH_PR = re.compile(r"\S.* \(#([1-9][0-9]{0,9})\)")
# The identity GitHub writes merges and squashes with from its web interface.
WEB_FLOW_EMAIL = "noreply@github.com"


@dataclass
class RawCommit:
    """One commit of the line as ``git log`` described it, before its credit is settled."""

    sha: str
    seconds: str
    parents: list[str]
    author: str
    author_email: str
    committer: str
    committer_email: str
    message: str
    changes: list[Change]

    @property
    def merge(self) -> bool:
        """Whether the commit has more than one parent."""
        return len(self.parents) > 1


def pr_number(message: str, *, merge: bool) -> int | None:
    """The pull request a first-parent commit's message names, in GitHub's exact forms:
    ``Merge pull request #N from OWNER/BRANCH`` for a merge commit, ``Title (#N)`` for a
    single-parent (squash) commit. Only the first line counts.

    >>> pr_number("Merge pull request #12 from alice/promote", merge=True)
    12
    >>> (
    ...     pr_number("Promote (#7)", merge=False),
    ...     pr_number("Merge pull request #12 from a/b", merge=False),
    ... )
    (7, None)
    """
    lines = message.strip().splitlines()
    if not lines:
        return None
    match = (_MERGE_PR if merge else _SQUASH_PR).fullmatch(lines[0].strip())
    return int(match[1]) if match else None


def subject(message: str, *, merge: bool, pr: int | None) -> str:
    """The change's title: a GitHub merge's pull-request title (its first body line)."""
    lines = message.strip().splitlines()
    first = lines[0] if lines else ""
    if merge and pr is not None:
        rest = [ln for ln in lines[1:] if ln.strip()]
        return rest[0].strip() if rest else first
    return first


def timestamp(seconds: str) -> datetime:
    """A commit's date from git's seconds since the epoch (beyond Python's range: the
    latest date, which the reader then clamps)."""
    try:
        return datetime.fromtimestamp(int(seconds.strip()), UTC)
    except (ValueError, OverflowError, OSError):
        return datetime.max.replace(tzinfo=UTC)


def commit_author(data: bytes) -> str | None:
    """The author's name in a raw commit object (``cat-file``'s text), if it has one."""
    for line in data.split(b"\n"):
        if not line:
            return None  # the headers end at the first empty line
        if line.startswith(b"author "):
            name = line[7:].rsplit(b" <", 1)[0]
            return name.decode("utf-8", errors="replace").strip()
    return None


# glibc hands each of git's large buffers (a 10,000-entry ``models/`` tree is about
# 500 KB, read twice per commit) back to the kernel when it is freed, and maps it
# again for the next commit: a third of ``git log``'s time went to that. Keeping
# freed memory in the process removes it (other C libraries ignore these names).
# Fewer commits than this are listed faster by one process than by two.
MIN_RUN = 5_000
# How the line is shared between the runs: the newest gets 2 parts in 5 of two runs.
_FIRST_WEIGHT, _WEIGHT = 2, 3
_LOG_ENV = {
    "MALLOC_MMAP_THRESHOLD_": str(1 << 28),
    "MALLOC_TRIM_THRESHOLD_": str(1 << 28),
    "MALLOC_TOP_PAD_": str(1 << 26),
}


def read_log(root: Path, rev: str, *, parts: int | None = 1) -> Iterator[RawCommit]:
    """Every commit on the first-parent line of ``rev``, newest first, with its changes.

    ``parts`` > 1 splits the line into that many runs of consecutive commits, each
    listed by its own ``git log`` at the same time (comparing trees is most of the
    work, and it is git's): the newest run is read as git writes it, the others
    are kept on disk until their turn. The commits, and their order, are the same.
    None: one run per processor, of at least :data:`MIN_RUN` commits each.

    Raises:
        GitError: git failed.
    """
    # An unguessable separator: a commit message cannot forge a record boundary.
    sep = "\x1e" + secrets.token_hex(8)
    runs = _runs(root, rev, parts)
    command = _log_command(sep)
    spools: list[_git.Spool] = []
    try:
        for start, count in runs[1:]:
            spools.append(
                _git.Spool(
                    root,
                    *command,
                    f"--max-count={count}",
                    "--end-of-options",
                    start,
                    top_level=True,
                    env=_LOG_ENV,
                )
            )
        start, count = runs[0]
        limit = [f"--max-count={count}"] if count is not None else []
        first = _git.stream(
            root, *command, *limit, "--end-of-options", start, top_level=True, env=_LOG_ENV
        )
        yield from _parse_log(first, sep)
        for spooled in spools:
            yield from _parse_log(spooled.follow(), sep)
    finally:
        for spooled in spools:
            spooled.close()


def _log_command(sep: str) -> list[str]:
    fields = "%H%x1f%ct%x1f%P%x1f%an%x1f%ae%x1f%cn%x1f%ce"
    return [
        "log",
        "--first-parent",
        "--diff-merges=first-parent",
        "-z",
        "--raw",
        "--no-abbrev",
        "-M",
        "--no-color",
        "--no-ext-diff",
        f"--format={sep}C{fields}{sep}B%B{sep}E",
    ]


def _runs(root: Path, rev: str, parts: int | None) -> list[tuple[str, int | None]]:
    """Where each run of the first-parent line starts and how many commits it holds
    (None: to the root), newest run first; one run when there is little to split."""
    wanted = parts if parts is not None else os.cpu_count() or 1
    if wanted <= 1:
        return [(rev, None)]
    counted = _git.run(
        root, "rev-list", "--first-parent", "--count", "--end-of-options", rev, top_level=True
    )
    assert counted is not None  # check=True
    total = int(counted.strip())
    if parts is None:
        wanted = min(wanted, total // MIN_RUN)
    parts = min(wanted, total)
    if parts <= 1:
        return [(rev, None)]
    # The newest run is read as git writes it; each older one is followed as its git
    # writes it once the runs before it are read. A shorter newest run lets the reading
    # start on the next run while its git still works, instead of all runs ending at once.
    weights = [_FIRST_WEIGHT] + [_WEIGHT] * (parts - 1)
    offsets = [total * sum(weights[:i]) // sum(weights) for i in range(parts)]
    # ``rev~N`` follows first parents, so each run starts on the line itself.
    # (``rev`` passed check_rev, so none of these reads as an option; rev-parse would
    # echo ``--end-of-options`` back.)
    resolved = _git.run(root, "rev-parse", *(f"{rev}~{n}" for n in offsets), top_level=True)
    assert resolved is not None
    starts = resolved.split()
    sizes = [b - a for a, b in zip(offsets, [*offsets[1:], total], strict=True)]
    return [(start, size) for start, size in zip(starts, sizes, strict=True)]


def _parse_log(pieces: Iterator[bytes], sep: str) -> Iterator[RawCommit]:
    """The commits of one ``git log`` output, parsed piece by piece."""
    marker = sep.encode()
    pending = b""
    current: list[str] = []
    for piece in pieces:
        parts = (pending + piece).split(marker)
        pending = parts.pop()
        for part in parts:
            commit = _take(current, part.decode("utf-8", errors="replace"))
            if commit is not None:
                yield commit
    commit = _take(current, pending.decode("utf-8", errors="replace"))
    if commit is not None:
        yield commit
    if len(current) == 3:
        yield _commit(current)


def _take(current: list[str], part: str) -> RawCommit | None:
    """Add one tagged part to the commit being read; return the previous one when a new
    commit starts (its ``E`` part, the raw changes, runs up to the next commit)."""
    if not part:
        return None
    tag = part[:1]
    done = None
    if tag == "C" and len(current) == 3:
        done = _commit(current)
    if tag == "C":
        current[:] = [part[1:]]
    elif tag in "BE" and current:
        current.append(part[1:])
    return done


def _commit(current: list[str]) -> RawCommit:
    head, message, raw = current
    sha, seconds, parents, author, email, committer, committer_email = (
        head.split("\x1f", 6) + [""] * 7
    )[:7]
    current.clear()
    return RawCommit(
        sha.strip(),
        seconds,
        parents.split(),
        author.strip(),
        email.strip(),
        committer.strip(),
        committer_email.strip(),
        message,
        _parse_raw(raw),
    )


def _parse_raw(section: str) -> list[Change]:
    tokens = section.lstrip("\x00\n").split("\x00")
    changes: list[Change] = []
    i = 0
    while i < len(tokens):
        meta = tokens[i].strip()
        if not meta.startswith(":"):
            i += 1
            continue
        fields = meta[1:].split()
        if len(fields) < 5 or i + 1 >= len(tokens):
            i += 1
            continue
        old_blob, new_blob, status = fields[2], fields[3], fields[4][:1]
        if status in "RC" and i + 2 < len(tokens):
            old_path, new_path = tokens[i + 1], tokens[i + 2]
            i += 3
        else:
            old_path = new_path = tokens[i + 1]
            i += 2
        changes.append(
            Change(
                status,
                old_blob,
                new_blob,
                None if status == "A" else old_path,
                None if status == "D" else new_path,
            )
        )
    return changes
