"""What the history is made of: commits that landed, events, and the indexed history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

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


@dataclass(frozen=True, slots=True)
class Commit:
    """A change that landed on the branch: whose it is, who merged it, when, and its PR.

    ``author`` is the pull request's author: for a merge commit, the author of the
    merged branch's tip (the merge's second parent); for a squash or direct commit,
    the commit's own author. ``merged_by`` is the merge commit's identity (None for a
    single-parent commit, or when GitHub's web-flow identity wrote the merge).
    Both are git identities, which anyone can set: show them as unverified.
    ``date`` is when it landed (the first-parent commit's date), never later than
    the next commit on the line or the time the history was read; ``claimed_date``
    holds what the commit claimed when that bound moved it (None when it did not).
    """

    sha: str
    author: str
    date: datetime
    subject: str
    pr: int | None
    claimed_date: datetime | None = None
    merged_by: str | None = None

    @property
    def short(self) -> str:
        """The first 8 hex digits of the commit id."""
        return self.sha[:8]


@dataclass(frozen=True, slots=True)
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
