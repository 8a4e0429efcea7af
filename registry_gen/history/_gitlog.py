"""The first-parent line, streamed from one ``git log`` newest first.

``git log --first-parent --raw`` lists, for every commit that landed on the
branch (a merge counts as what it brought in, compared with its first parent),
the files it added, changed, renamed or deleted, with the blob ids before and
after. Its output is read as git writes it and parsed one commit at a time, so
230,000 commits never sit in memory as text.
"""

from __future__ import annotations

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


def read_log(root: Path, rev: str) -> Iterator[RawCommit]:
    """Every commit on the first-parent line of ``rev``, newest first, with its changes.

    Raises:
        GitError: git failed.
    """
    # An unguessable separator: a commit message cannot forge a record boundary.
    sep = "\x1e" + secrets.token_hex(8)
    fields = "%H%x1f%ct%x1f%P%x1f%an%x1f%ae%x1f%cn%x1f%ce"
    pieces = _git.stream(
        root,
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
        "--end-of-options",
        rev,
        top_level=True,
    )
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
