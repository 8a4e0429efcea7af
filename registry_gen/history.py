"""What happened to each model and version, read from git in one pass.

The registry's history is its git history: a version was registered by the
commit that added its ``version.yaml``, promoted by the commit that changed
its ``stage``, and so on. :func:`read_history` reads it with two git
processes whatever the size of the registry:

* one ``git log --first-parent --raw -M -- models/`` lists, for every commit
  that landed on the branch (a merge counts as what it brought in, compared
  with its first parent), the record files it added, changed, renamed or
  deleted, with the blob ids before and after;
* one ``git cat-file --batch`` returns the blobs of
  ``model.yaml``/``version.yaml`` needed to compare each change.

Credit goes to the change that landed: the commit on the first-parent line (the
merge or squash commit GitHub wrote), never to the commits a pull request
brought in. What git says of it is a claim: author names are *git identities,
unverified* (signatures cannot be checked offline), a pull-request number is
read only from the first line of that commit in GitHub's exact forms (``Merge
pull request #12 from OWNER/BRANCH`` on a merge commit, ``Title (#12)`` on a
single-parent commit), and a date later than the change that followed it on
the line (or than the time of reading) is clamped to that bound and flagged
(:attr:`Commit.claimed_date`). A renamed model keeps its history
under its new name. A shallow clone has lost the commits that registered the
oldest versions, so instead of inventing a history it yields none and says why.

Example:
    >>> history = read_history("examples/registry")  # doctest: +SKIP
    >>> [e.kind for e in history.for_version("churn", 3)]  # doctest: +SKIP
    ['registered', 'stage']
"""

from __future__ import annotations

import logging
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from . import _git
from .errors import RecordError
from .paths import MODEL_FILE, MODELS_DIR, VERSION_FILE
from .uri import check_model_name, check_version
from .yamlio import parse_yaml

log = logging.getLogger(__name__)

EventKind = Literal[
    "model_created",
    "model_description",
    "model_removed",
    "registered",
    "stage",
    "description",
    "removed",
    "alias_set",
    "alias_moved",
    "alias_removed",
]
SHALLOW_WARNING = (
    "this is a shallow git clone, so the registry's history is incomplete and is left out "
    "of the site; fetch the whole history (git fetch --unshallow, or actions/checkout with "
    "fetch-depth: 0)"
)
# GitHub's merge and squash subject lines, exactly (a branch name has no spaces).
_MERGE_PR = re.compile(r"Merge pull request #([1-9][0-9]{0,9}) from \S+")
_SQUASH_PR = re.compile(r"\S.* \(#([1-9][0-9]{0,9})\)")
_RECORD_PATH = re.compile(
    rf"^{MODELS_DIR}/([^/]+)/(?:({MODEL_FILE.replace('.', r'[.]')})|(\d+)/"
    rf"{VERSION_FILE.replace('.', r'[.]')})$"
)
_ZERO = "0" * 40


@dataclass(frozen=True)
class Commit:
    """A commit that landed on the branch: who, when, and the pull request it came from.

    ``author`` is the commit's git identity, which anyone can set: show it as
    unverified. ``date`` is never later than the next commit on the line or the
    time the history was read; ``claimed_date`` holds what the commit claimed
    when that bound moved it (None when it did not).
    """

    sha: str
    author: str
    date: datetime
    subject: str
    pr: int | None
    claimed_date: datetime | None = None

    @property
    def short(self) -> str:
        """The first 8 hex digits of the commit id."""
        return self.sha[:8]


@dataclass(frozen=True)
class Event:
    """One change to a model or version.

    ``old``/``new`` hold the stage (``stage``), the alias's version as text
    (``alias_*``), or nothing (registrations, description edits).
    """

    kind: EventKind
    model: str
    version: int | None
    commit: Commit
    old: str | None = None
    new: str | None = None
    alias: str | None = None


@dataclass(frozen=True)
class History:
    """Every event of the registry, oldest first, indexed by model and version."""

    events: tuple[Event, ...] = ()
    complete: bool = True
    warning: str | None = None
    _by_model: Mapping[str, tuple[Event, ...]] = field(default_factory=dict, repr=False)
    _by_version: Mapping[tuple[str, int], tuple[Event, ...]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def of(
        cls, events: Iterable[Event], *, complete: bool = True, warning: str | None = None
    ) -> History:
        """A history from ``events`` (oldest first), with its indexes built once."""
        ordered = tuple(events)
        by_model: dict[str, list[Event]] = defaultdict(list)
        by_version: dict[tuple[str, int], list[Event]] = defaultdict(list)
        for event in ordered:
            by_model[event.model].append(event)
            if event.version is not None:
                by_version[(event.model, event.version)].append(event)
            # An alias that moves away from a version is part of that version's story too.
            if event.kind == "alias_moved" and event.old is not None and event.old.isdigit():
                by_version[(event.model, int(event.old))].append(event)
        return cls(
            ordered,
            complete,
            warning,
            {k: tuple(v) for k, v in by_model.items()},
            {k: tuple(v) for k, v in by_version.items()},
        )

    def for_model(self, name: str) -> tuple[Event, ...]:
        """Events of model ``name`` and its versions, oldest first."""
        return self._by_model.get(name, ())

    def for_version(self, name: str, version: int) -> tuple[Event, ...]:
        """Events of one version, oldest first."""
        return self._by_version.get((name, version), ())

    def last_change(self, name: str) -> Event | None:
        """The newest event of model ``name``, if any."""
        events = self._by_model.get(name)
        return events[-1] if events else None


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


# ---------------------------------------------------------------------------
# Reading git


@dataclass
class _Change:
    status: str
    old_blob: str
    new_blob: str
    old_path: str | None
    new_path: str | None


@dataclass
class _RawCommit:  # mutable: _bound_dates replaces the commit
    commit: Commit
    changes: list[_Change]


def read_history(root: Path | str, rev: str = "HEAD", *, now: datetime | None = None) -> History:
    """The history of ``models/`` up to ``rev`` in the git repository at ``root``.

    Not a git repository, or no commits yet: an empty history. A shallow clone:
    an empty, incomplete history with a warning (logged and in ``warning``).
    Dates after ``now`` (default: the current time) are clamped and flagged.

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
        found = _git.run(
            root,
            "rev-parse",
            "--is-shallow-repository",
            "--verify",
            "--quiet",
            "--end-of-options",
            f"{rev}^{{commit}}",
            check=False,
            top_level=True,
        )
    if found is None:
        if not _git.is_top_level(root):
            log.info("%s is not a git repository: the site has no history", root)
        return History.of((), complete=False)
    if found.split()[0] == "true":
        log.warning("registry history: %s", SHALLOW_WARNING)
        return History.of((), complete=False, warning=SHALLOW_WARNING)
    raw = _log(root, rev)
    _bound_dates(raw, now or datetime.now(UTC))
    blobs = _git.read_blobs(
        root,
        {
            sha
            for item in raw
            for change in item.changes
            for sha in (change.old_blob, change.new_blob)
            if sha != _ZERO
        },
    )
    return History.of(_events(raw, blobs))


def _log(root: Path, rev: str) -> list[_RawCommit]:
    # An unguessable separator: a commit message cannot forge a record boundary.
    sep = "\x1e" + secrets.token_hex(8)
    output = _git.run_bytes(
        root,
        "log",
        "--first-parent",
        "--diff-merges=first-parent",
        "--reverse",
        "-z",
        "--raw",
        "--no-abbrev",
        "-M",
        "--no-color",
        "--no-ext-diff",
        f"--format={sep}C%H%x1f%ct%x1f%P{sep}A%an{sep}B%B{sep}E",
        "--end-of-options",
        rev,
        "--",
        f"{MODELS_DIR}/",
        top_level=True,
    )
    assert output is not None  # check=True
    text = output.decode("utf-8", errors="replace")
    commits: list[_RawCommit] = []
    sha = date = parents = author = ""
    for part in text.split(sep)[1:]:
        tag, body = part[:1], part[1:]
        if tag == "C":
            sha, date, parents = body.split("\x1f", 2)
        elif tag == "A":
            author = body
        elif tag == "B":
            merge = len(parents.split()) > 1
            commits.append(_RawCommit(_commit(sha, date, author, body, merge=merge), []))
        elif tag == "E" and commits:
            commits[-1].changes = _parse_raw(body)
    return commits


def _commit(sha: str, date: str, author: str, message: str, *, merge: bool) -> Commit:
    subject = message.strip().splitlines()[0] if message.strip() else ""
    pr = pr_number(message, merge=merge)
    if merge and pr is not None:
        # GitHub puts the pull request's title on the merge's first body line.
        rest = [ln for ln in message.strip().splitlines()[1:] if ln.strip()]
        subject = rest[0].strip() if rest else subject
    return Commit(sha.strip(), author.strip(), _timestamp(date), subject, pr)


def _timestamp(seconds: str) -> datetime:
    """A commit's date from git's seconds since the epoch (beyond Python's range: the
    latest date, which :func:`_bound_dates` then clamps)."""
    try:
        return datetime.fromtimestamp(int(seconds.strip()), UTC)
    except (ValueError, OverflowError, OSError):
        return datetime.max.replace(tzinfo=UTC)


def _bound_dates(commits: list[_RawCommit], now: datetime) -> None:
    """Clamp each commit's date to the next commit's on the line, and the newest to ``now``.

    A commit is made before the commit that follows it on the first-parent line, so a
    later date is a false claim (git lets anyone write any date): the page shows the
    bound, marked, instead of a date in 2099.
    """
    bound = now
    for item in reversed(commits):
        commit = item.commit
        if commit.date > bound:
            item.commit = replace(commit, date=bound, claimed_date=commit.date)
        bound = item.commit.date


def _parse_raw(section: str) -> list[_Change]:
    tokens = section.lstrip("\x00\n").split("\x00")
    changes: list[_Change] = []
    i = 0
    while i < len(tokens):
        meta = tokens[i].strip()
        if not meta.startswith(":"):
            i += 1
            continue
        fields = meta[1:].split()
        if len(fields) < 5:
            i += 1
            continue
        old_blob, new_blob, status = fields[2], fields[3], fields[4][:1]
        if status in "RC":
            old_path, new_path = tokens[i + 1], tokens[i + 2]
            i += 3
        else:
            old_path = new_path = tokens[i + 1]
            i += 2
        changes.append(
            _Change(
                status,
                old_blob,
                new_blob,
                None if status == "A" else old_path,
                None if status == "D" else new_path,
            )
        )
    return changes


# ---------------------------------------------------------------------------
# From file changes to events


@dataclass(frozen=True)
class _Key:
    """What a record file describes: a model (version None) or one version."""

    model: str
    version: int | None


def _key(path: str | None) -> _Key | None:
    if path is None:
        return None
    match = _RECORD_PATH.match(path)
    if not match:
        return None
    try:
        name = check_model_name(match[1])
        version = check_version(match[3]) if match[3] else None
    except Exception:
        return None
    return _Key(name, version)


def _load(blobs: Mapping[str, bytes], sha: str, path: str | None) -> dict[str, Any] | None:
    """The record's data; ``{}`` when there is no file, None when it cannot be read."""
    if sha == _ZERO:
        return {}
    if sha not in blobs:
        return None
    try:
        data = parse_yaml(blobs[sha], path or "record").data
    except RecordError:
        return None
    return data if isinstance(data, dict) else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _events(raw: list[_RawCommit], blobs: Mapping[str, bytes]) -> list[Event]:
    # Each record file is an entity that keeps its identity across renames; its
    # events are named after where it lives at the end (or, if deleted, last lived).
    entity_at: dict[str, int] = {}
    final_key: dict[int, _Key] = {}
    pending: list[tuple[int, Event]] = []
    next_id = 0
    # A blob is usually read twice (as the new side of one change and the old side of
    # the next): parse each once. The data depends on the bytes only, not on the path.
    parsed: dict[str, dict[str, Any] | None] = {}

    def load(sha: str, path: str | None) -> dict[str, Any] | None:
        if sha not in parsed:
            parsed[sha] = _load(blobs, sha, path)
        return parsed[sha]

    for item in raw:
        for change in _pair_model_renames(item.changes):
            old_key, new_key = _key(change.old_path), _key(change.new_path)
            if old_key is None and new_key is None:
                continue
            if change.old_path is not None and change.old_path in entity_at:
                entity = entity_at.pop(change.old_path)
            else:
                entity, next_id = next_id, next_id + 1
            if change.new_path is not None and new_key is not None:
                entity_at[change.new_path] = entity
                final_key[entity] = new_key
            elif old_key is not None:
                final_key.setdefault(entity, old_key)
            key = new_key or old_key
            assert key is not None
            before = load(change.old_blob, change.old_path) if old_key else {}
            after = load(change.new_blob, change.new_path) if new_key else {}
            for event in _diff(key, before, after, change, item.commit):
                pending.append((entity, event))
    events = []
    for entity, event in pending:
        key = final_key[entity]
        version = event.version if key.version is None else key.version
        if key.model != event.model or version != event.version:
            event = Event(
                event.kind, key.model, version, event.commit, event.old, event.new, event.alias
            )
        events.append(event)
    return events


def _pair_model_renames(changes: list[_Change]) -> list[_Change]:
    """Read a deleted + added ``model.yaml`` as a rename when the versions moved with it.

    ``model.yaml`` is small and holds the model's name, so renaming a model changes
    too much of it for git's rename detection; its versions' renames tell the story.
    """
    moved: dict[str, str] = {}
    for change in changes:
        old, new = _key(change.old_path), _key(change.new_path)
        if change.status == "R" and old and new and old.version and old.model != new.model:
            moved[old.model] = new.model
    if not moved:
        return changes
    added = {
        k.model: c
        for c in changes
        if c.status == "A" and (k := _key(c.new_path)) and k.version is None
    }
    paired: list[_Change] = []
    used: set[int] = set()
    for change in changes:
        key = _key(change.old_path)
        if change.status == "D" and key and key.version is None and key.model in moved:
            partner = added.get(moved[key.model])
            if partner is not None:
                used.add(id(partner))
                paired.append(
                    _Change(
                        "R", change.old_blob, partner.new_blob, change.old_path, partner.new_path
                    )
                )
                continue
        paired.append(change)
    return [c for c in paired if id(c) not in used]


def _diff(
    key: _Key,
    before_data: dict[str, Any] | None,
    after_data: dict[str, Any] | None,
    change: _Change,
    commit: Commit,
) -> list[Event]:
    # An unreadable side (a broken record that landed) says nothing about what changed.
    comparable = before_data is not None and after_data is not None
    before, after = before_data or {}, after_data or {}
    added = change.status == "A" or (change.old_path is not None and _key(change.old_path) is None)
    removed = change.status == "D" or (
        change.new_path is not None and _key(change.new_path) is None
    )
    if key.version is None:
        if removed and not added:
            return [Event("model_removed", key.model, None, commit)]
        events = [Event("model_created", key.model, None, commit)] if added else []
        if added or comparable:
            events += _model_diff(key, before, after, commit, described=not added)
        return events
    if added:
        return [Event("registered", key.model, key.version, commit, new=_text(after.get("stage")))]
    if removed:
        return [Event("removed", key.model, key.version, commit)]
    if not comparable:
        return []
    events = []
    if before.get("stage") != after.get("stage"):
        events.append(
            Event(
                "stage",
                key.model,
                key.version,
                commit,
                _text(before.get("stage")),
                _text(after.get("stage")),
            )
        )
    if before.get("description") != after.get("description"):
        events.append(Event("description", key.model, key.version, commit))
    return events


def _model_diff(
    key: _Key, before: dict[str, Any], after: dict[str, Any], commit: Commit, *, described: bool
) -> list[Event]:
    """A model record's description edit (``described``: worth reporting) and alias moves."""
    events = []
    if described and before.get("description") != after.get("description"):
        events.append(Event("model_description", key.model, None, commit))
    old_aliases = before.get("aliases") if isinstance(before.get("aliases"), dict) else {}
    new_aliases = after.get("aliases") if isinstance(after.get("aliases"), dict) else {}
    assert isinstance(old_aliases, dict) and isinstance(new_aliases, dict)
    for alias in sorted(set(old_aliases) | set(new_aliases), key=str):
        old, new = _text(old_aliases.get(alias)), _text(new_aliases.get(alias))
        if old == new:
            continue
        kind: EventKind = (
            "alias_set" if old is None else "alias_removed" if new is None else "alias_moved"
        )
        version = _as_version(new if new is not None else old)
        events.append(Event(kind, key.model, version, commit, old, new, str(alias)))
    return events


def _as_version(value: str | None) -> int | None:
    try:
        return check_version(value) if value is not None else None
    except Exception:
        return None
