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


def summary(blob: bytes, path: str) -> dict[str, Any] | None:
    """The compared fields of a record's bytes; None when the record cannot be read."""
    try:
        data = parse_yaml(blob, path, lines=False).data
    except RecordError:
        return None
    if not isinstance(data, dict):
        return None
    return {k: data[k] for k in _COMPARED if k in data}


_STAGE_LINE = re.compile(rb"stage: [A-Za-z][A-Za-z0-9_]*")


def stage_only_change(
    known: bytes, fields: Mapping[str, Any], other: bytes
) -> dict[str, Any] | None:
    r"""The compared fields of ``other`` when it is ``known`` (whose fields are ``fields``,
    read by a full parse) with only its top-level ``stage:`` line changed; else None.

    A promotion or an archive is that one-line diff. Both lines must be a plain word
    that the record parser reads as a string (it parses the line itself), the only
    ``stage:`` line of the record, and ``known``'s stage must be the word on it; the
    rest is byte-for-byte the same, so ``other`` is as readable as ``known`` and
    differs in nothing else the history compares. Anything else is parsed in full.

    >>> stage_only_change(
    ...     b"version: 1\nstage: None\n", {"stage": "None"}, b"version: 1\nstage: Staging\n"
    ... )
    {'stage': 'Staging'}
    """
    lines = _one_moved_line(known, other) if "stage" in fields else None
    if lines is None:
        return None
    try:
        before = parse_yaml(lines[0], "stage line", lines=False).data
        after = parse_yaml(lines[1], "stage line", lines=False).data
    except RecordError:
        return None
    if before.get("stage") != fields["stage"] or not isinstance(after.get("stage"), str):
        return None
    return {**fields, "stage": after["stage"]}


def _one_moved_line(known: bytes, other: bytes) -> tuple[bytes, bytes] | None:
    """The one ``stage: WORD`` line that differs between two records, if that is all."""
    old_lines, new_lines = known.split(b"\n"), other.split(b"\n")
    if len(old_lines) != len(new_lines) or len(other) > MAX_RECORD_BYTES:
        return None
    moved = [i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
    if len(moved) != 1:
        return None
    was, now = old_lines[moved[0]], new_lines[moved[0]]
    if not (_STAGE_LINE.fullmatch(was) and _STAGE_LINE.fullmatch(now)):
        return None
    if sum(1 for text in old_lines if text.startswith(b"stage:")) != 1:
        return None
    return was, now


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
    sides: tuple[Mapping[str, Any] | None, Mapping[str, Any] | None],
    change: Change,
    commit: Commit,
) -> list[Event]:
    """The events of one record change; ``final`` names where the record ends up, and
    ``sides`` are its compared fields before and after (None: unreadable)."""
    events = _diff(key, sides[0], sides[1], change, commit)
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
