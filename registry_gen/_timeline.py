"""Which version held each stage and alias, from when to when: intervals from history.

A pure function over a model's events (oldest first), shared by the site's
timeline page and whoever else asks "what was in Production, when, and who put
it there" (mlflow#2169). An interval starts with the change that put a version
in a stage (or pointed an alias at it) and ends with the change that moved it
on; an open interval (``end`` None) still holds.

Example:
    >>> from registry_gen.history import read_history
    >>> history = read_history("/srv/registry")  # doctest: +SKIP
    >>> [(i.label, i.version) for i in intervals(history.for_model("churn"))]  # doctest: +SKIP
    [('Production', 1), ('Staging', 2), ('Production', 3), ('champion', 3)]
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .history import Commit, Event

__all__ = ["Interval", "intervals"]


@dataclass(frozen=True)
class Interval:
    """Version ``version`` held stage or alias ``label`` from ``start`` until ``end``.

    ``started_by`` is the change (PR, author, merger) that put it there; ``ended_by``
    the one that moved it on (None while it still holds).
    """

    kind: Literal["stage", "alias"]
    label: str
    version: int
    started_by: Commit
    ended_by: Commit | None = None

    @property
    def start(self) -> datetime:
        """When the change that began it landed."""
        return self.started_by.date

    @property
    def end(self) -> datetime | None:
        """When the change that ended it landed (None: it still holds)."""
        return self.ended_by.date if self.ended_by else None


def intervals(events: Iterable[Event], *, skip_stages: Container[str] = ()) -> list[Interval]:
    """The stage and alias intervals of one model's ``events`` (oldest first), ordered
    by start; stages in ``skip_stages`` (the default stage, say) are left out.

    >>> intervals([])
    []
    """
    done: list[Interval] = []
    stage_of: dict[int, Interval] = {}  # version -> its open stage interval
    alias_of: dict[str, Interval] = {}  # alias -> its open interval

    def close(open_: dict[int, Interval] | dict[str, Interval], key: object, by: Commit) -> None:
        held = open_.pop(key, None)  # type: ignore[call-overload]
        if held is not None:
            done.append(Interval(held.kind, held.label, held.version, held.started_by, by))

    for event in events:
        number, commit = event.version, event.commit
        if event.kind in {"registered", "stage", "removed"} and number is not None:
            close(stage_of, number, commit)
            if event.kind != "removed" and event.new:
                stage_of[number] = Interval("stage", event.new, number, commit)
        elif event.kind in {"alias_set", "alias_moved", "alias_removed"} and event.alias:
            close(alias_of, event.alias, commit)
            if event.kind != "alias_removed" and number is not None:
                alias_of[event.alias] = Interval("alias", event.alias, number, commit)
        elif event.kind == "model_removed":
            for version in list(stage_of):
                close(stage_of, version, commit)
            for alias in list(alias_of):
                close(alias_of, alias, commit)
    done += [*stage_of.values(), *alias_of.values()]
    kept = [i for i in done if not (i.kind == "stage" and i.label in skip_stages)]
    return sorted(kept, key=lambda i: (i.start, i.kind, i.label, i.version))
