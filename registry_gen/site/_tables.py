"""Rows of the tables several pages share: changes, models and versions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from registry_gen.history import Commit, Event, History
from registry_gen.markup import first_line
from registry_gen.store import ModelVersion, RegisteredModel

from . import _html
from ._context import Site
from ._html import NONE, anchor, text
from ._urls import PageLinks, model_page, version_page

_T = TypeVar("_T")

EVENT_HEADER = [
    "When (UTC)",
    "Change",
    "Author (git identity, unverified)",
    "Merged by",
    "Commit message",
    "Commit",
    "PR",
]
TARGETED_EVENT_HEADER = ["When (UTC)", "Model", *EVENT_HEADER[1:]]
MODEL_HEADER = ["Model", "Description", "Stages", "Aliases", "Owners", "Latest", "Changed"]
# Versions of one stage a model row lists before "+N".
STAGE_CELL_VERSIONS = 3


def paginate(items: Sequence[_T], size: int) -> list[Sequence[_T]]:
    """``items`` in chunks of ``size``; one empty chunk when there are none."""
    return [items[i : i + size] for i in range(0, len(items), size)] or [items[:0]]


def version_link(links: PageLinks, name: str, number: int, label: str | None = None) -> str:
    """A link to a version's page, labelled ``vN`` unless ``label`` (HTML) is given."""
    return anchor(links.href(version_page(name, number)), label or f"v{number}")


def _date_of(commit: Commit) -> str:
    return _html.commit_date(commit.date, commit.claimed_date)


def _commit_cell(commit: Commit, repo_url: str | None) -> str:
    if repo_url:
        return _html.external(f"{repo_url.rstrip('/')}/commit/{commit.sha}", commit.short)
    return f"<code>{text(commit.short)}</code>"


def _pr_cell(commit: Commit, repo_url: str | None) -> str:
    if commit.pr is None:
        return NONE
    if repo_url:
        return _html.external(f"{repo_url.rstrip('/')}/pull/{commit.pr}", f"#{commit.pr}")
    return text(f"#{commit.pr}")


_PLAIN_EVENTS = {
    "description": "description edited",
    "removed": "version removed",
    "model_created": "model created",
    "model_description": "model description edited",
    "model_removed": "model removed",
}


def describe_event(event: Event) -> str:
    """What an event did, as HTML."""
    kind = event.kind
    if kind == "registered":
        stage = f" in {_html.stage_badge(event.new)}" if event.new else ""
        return f"registered{stage}"
    if kind == "stage":
        old = _html.stage_badge(event.old) if event.old else "?"
        new = _html.stage_badge(event.new) if event.new else "?"
        return f"{old} → {new}"
    if kind in _PLAIN_EVENTS:
        return _PLAIN_EVENTS[kind]
    alias = _html.alias_chip(event.alias or "")
    if kind == "alias_set":
        return f"{alias} set to v{text(event.new or '')}"
    if kind == "alias_moved":
        return f"{alias} moved v{text(event.old or '')} → v{text(event.new or '')}"
    return f"{alias} removed from v{text(event.old or '')}"


def _target_link(event: Event, links: PageLinks, site: Site) -> str:
    name = _html.name(event.model)
    if event.model not in site.index.models:
        return name if event.version is None else f"{name} v{event.version}"
    if event.version is None or not site.lookups.has_version(event.model, event.version):
        return anchor(links.href(model_page(event.model)), name)
    return version_link(links, event.model, event.version, f"{name} v{event.version}")


def event_rows(
    events: Iterable[Event], links: PageLinks, site: Site, *, with_target: bool
) -> list[list[str]]:
    """One row per change; ``with_target`` adds the model (and version) changed."""
    repo_url = site.options.repo_url
    rows = []
    for event in events:
        row = [_date_of(event.commit)]
        if with_target:
            row.append(_target_link(event, links, site))
        row += [
            describe_event(event),
            _html.git_identity(event.commit.author),
            _html.git_identity(event.commit.merged_by) if event.commit.merged_by else NONE,
            text(event.commit.subject[:120]),
            _commit_cell(event.commit, repo_url),
            _pr_cell(event.commit, repo_url),
        ]
        rows.append(row)
    return rows


def history_note(history: History) -> str:
    """Why changes are missing, if they are: a shallow clone, no git at all."""
    if history.warning:
        # Material's admonition, as the `admonition` extension writes it.
        return (
            _html.block(
                '<div class="admonition warning">\n<p class="admonition-title">'
                f"History unavailable</p>\n<p>{text(history.warning)}</p>\n"
                "</div>"
            )
            + "\n"
        )
    if not history.complete:
        return _html.muted("No git history available for this registry.") + "\n"
    return ""


def _stage_cell(name: str, links: PageLinks, site: Site) -> str:
    holders = site.lookups.stage_versions.get(name, {})
    policy = site.index.policy
    parts = []
    for stage in policy.stages:
        if stage == policy.default_stage or stage not in holders:
            continue
        numbers = holders[stage]
        shown = ", ".join(version_link(links, name, n) for n in numbers[:STAGE_CELL_VERSIONS])
        more = (
            f" +{len(numbers) - STAGE_CELL_VERSIONS}" if len(numbers) > STAGE_CELL_VERSIONS else ""
        )
        parts.append(f"{_html.stage_badge(stage)} {shown}{more}")
    return "<br> ".join(parts) or NONE


def model_row(model: RegisteredModel, links: PageLinks, site: Site) -> list[str]:
    """A model's row in the tables of models."""
    name = model.name
    latest = model.latest
    last = site.history.last_change(name)
    aliases = " ".join(f"{_html.alias_chip(a)}&nbsp;v{v}" for a, v in sorted(model.aliases.items()))
    return [
        anchor(links.href(model_page(name)), f"<b>{_html.name(name)}</b>"),
        text(first_line(model.record.description, 100)),
        _stage_cell(name, links, site),
        aliases or NONE,
        text(", ".join(model.record.owners)) or NONE,
        version_link(links, name, latest.version) if latest else NONE,
        _html.day(last.commit.date) if last else NONE,
    ]


def model_rows(names: Iterable[str], links: PageLinks, site: Site) -> list[list[str]]:
    """The rows of the models ``names``."""
    return [model_row(site.index.models[name], links, site) for name in names]


def _run_cell(version: ModelVersion) -> str:
    lineage = version.record.lineage
    if lineage.run_url:
        return _html.external(lineage.run_url, lineage.run_id or "run")
    return text(lineage.run_id) if lineage.run_id else NONE


def version_rows(
    model: RegisteredModel,
    versions: Iterable[ModelVersion],
    links: PageLinks,
    metrics: Sequence[str],
) -> list[list[str]]:
    """A model's versions with their key ``metrics``."""
    rows = []
    for version in versions:
        record = version.record
        aliases = " ".join(_html.alias_chip(a) for a in model.aliases_of(version.version))
        rows.append(
            [
                version_link(links, model.name, version.version, f"<b>v{version.version}</b>"),
                _html.stage_badge(version.stage),
                aliases or " ",
                _html.day(record.created_at),
                text(record.created_by),
                *[
                    _html.number(record.metrics[m]) if m in record.metrics else NONE
                    for m in metrics
                ],
                _run_cell(version),
            ]
        )
    return rows
