"""Questions asked of a history: which changes, to what, in which window; as JSON."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from registry_gen.errors import UsageError

from ._model import Event, History

__all__ = ["changes", "describe", "event_json", "parse_when"]

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")


def parse_when(text: str, *, end_of_day: bool = False) -> datetime:
    """A date or time as the user wrote it, in UTC when no zone is given.

    A date alone means the start of that day, or its end with ``end_of_day`` (so
    ``--until 2026-01-31`` includes the 31st).

    >>> parse_when("2026-01-31", end_of_day=True).isoformat()
    '2026-01-31T23:59:59.999999+00:00'
    >>> parse_when("2026-01-31T10:00:00Z").isoformat()
    '2026-01-31T10:00:00+00:00'

    Raises:
        UsageError: ``text`` is not an ISO date or date and time.
    """
    value = text.strip()
    if _DATE_ONLY.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise UsageError(f"{text!r} is not a date; write YYYY-MM-DD") from None
        moment = datetime.combine(day, time.max if end_of_day else time.min, UTC)
        return moment
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise UsageError(
            f"{text!r} is not a date or time; write YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z]"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def changes(
    history: History,
    name: str | None = None,
    version: int | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Event]:
    """The changes of the whole registry, one model or one version, oldest first,
    landed in ``[since, until]`` (either end open when None).

    >>> [e.kind for e in changes(read_history("."), "churn", 3)]  # doctest: +SKIP
    ['registered', 'stage']
    """
    if name is None:
        events: Iterable[Event] = history.events
    elif version is None:
        events = history.for_model(name)
    else:
        events = history.for_version(name, version)
    return [
        e
        for e in events
        if (since is None or e.commit.date >= since) and (until is None or e.commit.date <= until)
    ]


def _stamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def event_json(event: Event) -> dict[str, Any]:
    """One change as JSON (the CLI's ``history --json`` and the site's API share it).

    ``author`` is the pull request's author and ``merged_by`` who merged it, both git
    identities (unverified); ``date`` is when it landed, ``claimed_date`` the date the
    commit claimed when that was later than possible (else None).

    >>> event_json(history.events[0])["kind"]  # doctest: +SKIP
    'registered'
    """
    commit = event.commit
    return {
        "date": _stamp(commit.date),
        "kind": event.kind,
        "model": event.model,
        "version": event.version,
        "alias": event.alias,
        "old": event.old,
        "new": event.new,
        "pr": commit.pr,
        "author": commit.author,
        "merged_by": commit.merged_by,
        "commit": commit.sha,
        "subject": commit.subject,
        "claimed_date": _stamp(commit.claimed_date),
    }


def describe(event: Event) -> str:
    """What moved, in words, for a terminal.

    >>> describe(Event("stage", "m", 1, commit, "None", "Production"))  # doctest: +SKIP
    'm v1: None → Production'
    """
    target = event.model if event.version is None else f"{event.model} v{event.version}"
    kind = event.kind
    if kind == "registered":
        return f"{target}: registered" + (f" in {event.new}" if event.new else "")
    if kind == "stage":
        return f"{target}: {event.old or '?'} → {event.new or '?'}"
    if kind in {"alias_set", "alias_moved", "alias_removed"}:
        alias = f"{event.model}@{event.alias}"
        if kind == "alias_set":
            return f"{alias} set to v{event.new}"
        if kind == "alias_moved":
            return f"{alias} moved v{event.old} → v{event.new}"
        return f"{alias} removed from v{event.old}"
    words = {
        "description": "description edited",
        "removed": "version removed",
        "model_created": "model created",
        "model_description": "model description edited",
        "model_removed": "model removed",
    }
    return f"{target}: {words[kind]}"
