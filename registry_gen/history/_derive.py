"""From the record files a commit changed to events, newest commit first.

Each commit's file changes are compared on their own (the blob before and the
blob after), so commits can be read newest first, as ``git log`` writes them,
and forgotten once compared. A renamed record keeps its identity: its older
events are named after where it lives at the end (or, if deleted, last lived),
which reading newest first knows before it meets them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry_gen.errors import RecordError
from registry_gen.paths import MODEL_FILE, MODELS_DIR, VERSION_FILE
from registry_gen.uri import check_model_name, check_version
from registry_gen.yamlio import MAX_RECORD_BYTES, parse_yaml

from ._model import Commit, Event, EventKind

ZERO = "0" * 40
_RECORD_PATH = re.compile(
    rf"^{MODELS_DIR}/([^/]+)/(?:({MODEL_FILE.replace('.', r'[.]')})|(\d+)/"
    rf"{VERSION_FILE.replace('.', r'[.]')})$"
)
# What the comparison reads of a record; the rest is dropped as soon as it is parsed.
_COMPARED = ("stage", "description", "aliases")


@dataclass(frozen=True)
class Change:
    """One file a commit added, changed, renamed or deleted (as ``git log --raw`` says)."""

    status: str
    old_blob: str
    new_blob: str
    old_path: str | None
    new_path: str | None


@dataclass(frozen=True)
class Key:
    """What a record file describes: a model (version None) or one version."""

    model: str
    version: int | None


# Each change's paths are asked about several times (renames, names, sides, events),
# and a record is changed by several commits: the answers are kept, a bounded number.
@functools.lru_cache(maxsize=1 << 16)
def record_key(path: str | None) -> Key | None:
    """The record ``path`` holds, or None when it is not a record file."""
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
    return Key(name, version)


@dataclass(frozen=True, slots=True)
class Summary:
    """A record blob as history compares it: the compared ``fields``, and the line
    (1-based, as the parser counts them) each of ``stage`` and ``aliases.NAME`` is
    written on, which lets a one-line change be judged without parsing it again."""

    fields: dict[str, Any]
    lines: Mapping[tuple[str, ...], int]


NO_FILE = Summary({}, {})


def summary(blob: bytes, path: str, *, lines: bool = True) -> Summary | None:
    """The compared fields of a record's bytes; None when the record cannot be read.
    ``lines=False``: without the lines (a tenth cheaper), for a side no shortcut reads."""
    try:
        document = parse_yaml(blob, path, lines=lines)
    except RecordError:
        return None
    data = document.data
    if not isinstance(data, dict):
        return None
    fields = {k: data[k] for k in _COMPARED if k in data}
    if not lines:
        return Summary(fields, {})
    where = document.lines
    lines_of: dict[tuple[str, ...], int] = {}
    if "stage" in data:
        lines_of[("stage",)] = where[("stage",)]
    aliases = data.get("aliases")
    if isinstance(aliases, dict):
        for alias in aliases:
            lines_of[("aliases", alias)] = where[("aliases", alias)]
    return Summary(fields, lines_of)


# A line on which the parser sees a key and a one-word value, nothing else.
_STAGE_LINE = re.compile(rb"stage: [A-Za-z][A-Za-z0-9_]*")
_ALIAS_LINE = re.compile(rb"( +)([A-Za-z0-9][A-Za-z0-9_.-]*): [0-9]{1,9}")
# What libyaml counts as a line break besides "\n": with none of them in a record,
# its line numbers are the numbers of ``bytes.split(b"\n")``.
_OTHER_BREAKS = (b"\r", b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")
# A promotion that moves every alias of a model changes a few lines at most.
_MAX_MOVED = 4


def values_only_change(known: bytes, seen: Summary, other: bytes) -> Summary | None:
    r"""The summary of ``other`` when it is ``known`` (whose summary, from a full parse,
    is ``seen``) with only the values of its ``stage`` or of its aliases changed, each
    on its own line; else None.

    A promotion, an archive or an alias move is such a diff. Each line that moved
    must be the very line the parser found that key on (so not a line of a
    description that looks like it), hold just the key and a one-word value, and
    hold that value in ``known``; the new value is read by the record parser (from
    the line alone). The rest is byte-for-byte the same, so ``other`` parses into the
    same structure as ``known`` but for those scalars: as readable, and different in
    nothing else the history compares. Anything else is parsed in full.

    >>> known = b"version: 1\nstage: None\n"
    >>> values_only_change(known, summary(known, "v.yaml"), b"version: 1\nstage: Staging\n")
    Summary(fields={'stage': 'Staging'}, lines={('stage',): 2})
    """
    if len(other) > MAX_RECORD_BYTES or any(b in known for b in _OTHER_BREAKS):
        return None
    moved = _moved_lines(known, other)
    if not moved:
        return None
    found: Summary | None = seen
    for number, was, now in moved:
        if found is None:
            return None
        if seen.lines.get(("stage",)) == number:
            found = _stage_moved(found, was, now)
        else:
            found = _alias_moved(found, number, was, now)
    return found


def _stage_moved(seen: Summary, was: bytes, now: bytes) -> Summary | None:
    """The summary after the ``stage`` line changed from ``was`` to ``now``, or None."""
    if not (_STAGE_LINE.fullmatch(was) and _STAGE_LINE.fullmatch(now)):
        return None
    before, after = _line_value(was), _line_value(now)
    if before is None or after is None or before[1] != seen.fields.get("stage"):
        return None
    if type(before[1]) is not str or type(after[1]) is not str:
        return None
    return Summary({**seen.fields, "stage": after[1]}, seen.lines)


def _alias_moved(seen: Summary, number: int, was: bytes, now: bytes) -> Summary | None:
    """The summary after one alias's version changed on line ``number``, or None."""
    old_match, new_match = _ALIAS_LINE.fullmatch(was), _ALIAS_LINE.fullmatch(now)
    if not (old_match and new_match and old_match[1] == new_match[1]):
        return None
    before, after = _line_value(was), _line_value(now)
    if before is None or after is None or before[0] != after[0]:
        return None
    alias, old = before
    fields = seen.fields
    aliases = fields.get("aliases")
    if not isinstance(aliases, dict) or seen.lines.get(("aliases", alias)) != number:
        return None
    if type(old) is not int or type(after[1]) is not int or aliases.get(alias) != old:
        return None
    return Summary({**fields, "aliases": {**aliases, alias: after[1]}}, seen.lines)


@functools.lru_cache(maxsize=1 << 12)
def _line_value(line: bytes) -> tuple[str, Any] | None:
    """The one key and value the record parser reads from ``line`` on its own, if any
    (the same few lines recur: ``stage: Production``, ``  champion: 3``)."""
    try:
        data = parse_yaml(line.lstrip(b" "), "one line", lines=False).data
    except RecordError:
        return None
    if not isinstance(data, dict) or len(data) != 1:
        return None
    return next(iter(data.items()))


def _moved_lines(known: bytes, other: bytes) -> list[tuple[int, bytes, bytes]] | None:
    """The few lines (1-based number, before, after) that differ, if the rest is equal."""
    if abs(len(known) - len(other)) > 64:  # more than a few values' digits or words moved
        return None
    old_lines, new_lines = known.split(b"\n"), other.split(b"\n")
    if len(old_lines) != len(new_lines):
        return None
    moved = [
        (i + 1, a, b) for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b
    ]
    return moved if len(moved) <= _MAX_MOVED else None


class Namer:
    """Renames followed backwards: where each record path's events end up being named."""

    def __init__(self) -> None:
        self._final: dict[str, Key] = {}

    def name(self, change: Change) -> Key | None:
        """The final name of the record ``change`` touches, updated for older commits."""
        old_key, new_key = record_key(change.old_path), record_key(change.new_path)
        if old_key is None and new_key is None:
            return None
        final = self._final
        if change.new_path is not None and new_key is not None:
            key = final.pop(change.new_path, new_key)
        else:
            assert old_key is not None
            key = old_key  # deleted, or moved out of the records: named where it last lived
        if change.old_path is not None and old_key is not None:
            final[change.old_path] = key
        return key


def diff(
    key: Key,
    final: Key,
    sides: tuple[Summary | None, Summary | None],
    change: Change,
    commit: Commit,
) -> list[Event]:
    """The events of one record change; ``final`` names where the record ends up, and
    ``sides`` are its summaries before and after (None: unreadable)."""
    before, after = (None if side is None else side.fields for side in sides)
    events = _diff(key, before, after, change, commit)
    if final == key:
        return events
    out = []
    for event in events:
        version = event.version if final.version is None else final.version
        out.append(
            Event(event.kind, final.model, version, event.commit, event.old, event.new, event.alias)
        )
    return out


def _diff(
    key: Key,
    before_data: Mapping[str, Any] | None,
    after_data: Mapping[str, Any] | None,
    change: Change,
    commit: Commit,
) -> list[Event]:
    # An unreadable side (a broken record that landed) says nothing about what changed.
    comparable = before_data is not None and after_data is not None
    before, after = before_data or {}, after_data or {}
    added = change.status == "A" or (
        change.old_path is not None and record_key(change.old_path) is None
    )
    removed = change.status == "D" or (
        change.new_path is not None and record_key(change.new_path) is None
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
    key: Key,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    commit: Commit,
    *,
    described: bool,
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


def pair_model_renames(changes: list[Change]) -> list[Change]:
    """Read a deleted + added ``model.yaml`` as a rename when the versions moved with it.

    ``model.yaml`` is small and holds the model's name, so renaming a model changes
    too much of it for git's rename detection; its versions' renames tell the story.
    """
    moved: dict[str, str] = {}
    for change in changes:
        old, new = record_key(change.old_path), record_key(change.new_path)
        if change.status == "R" and old and new and old.version and old.model != new.model:
            moved[old.model] = new.model
    if not moved:
        return changes
    added = {
        k.model: c
        for c in changes
        if c.status == "A" and (k := record_key(c.new_path)) and k.version is None
    }
    paired: list[Change] = []
    used: set[int] = set()
    for change in changes:
        key = record_key(change.old_path)
        if change.status == "D" and key and key.version is None and key.model in moved:
            partner = added.get(moved[key.model])
            if partner is not None:
                used.add(id(partner))
                paired.append(
                    Change(
                        "R", change.old_blob, partner.new_blob, change.old_path, partner.new_path
                    )
                )
                continue
        paired.append(change)
    return [c for c in paired if id(c) not in used]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _as_version(value: str | None) -> int | None:
    try:
        return check_version(value) if value is not None else None
    except Exception:
        return None
