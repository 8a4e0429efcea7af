"""A model's stage timeline page: which version held each stage and alias, from when to
when, who put it there (the pull request's author), who merged it, and the PR.

The intervals come from :func:`registry_gen._timeline.intervals`, which the CLI
and API share; this module only lays them out.
"""

from __future__ import annotations

from registry_gen._timeline import Interval, intervals
from registry_gen.history import Commit
from registry_gen.store import RegisteredModel

from . import _html
from ._context import Site
from ._html import NONE, anchor, muted, table
from ._pages import WIDE
from ._tables import history_note, version_link
from ._urls import PageLinks, model_page

__all__ = ["TIMELINE_HEADER", "timeline_page", "timeline_pages"]

TIMELINE_HEADER = [
    "Stage or alias",
    "Version",
    "From (UTC)",
    "Until (UTC)",
    "Author (git identity, unverified)",
    "Merged by",
    "PR",
]


def timeline_page(name: str) -> str:
    """The docs path of a model's stage timeline.

    >>> timeline_page("churn")
    'models/churn/timeline.md'
    """
    return f"models/{name}/timeline.md"


def _pr(commit: Commit, site: Site) -> str:
    if commit.pr is None:
        return NONE
    repo_url = site.options.repo_url
    if repo_url:
        return _html.external(f"{repo_url.rstrip('/')}/pull/{commit.pr}", f"#{commit.pr}")
    return _html.text(f"#{commit.pr}")


def _row(interval: Interval, links: PageLinks, model: RegisteredModel, site: Site) -> list[str]:
    held = (
        _html.stage_badge(interval.label)
        if interval.kind == "stage"
        else _html.alias_chip(interval.label)
    )
    number = interval.version
    version = (
        version_link(links, model.name, number)
        if site.lookups.has_version(model.name, number)
        else f"v{number}"
    )
    start = interval.started_by
    return [
        held,
        version,
        _html.commit_date(start.date, start.claimed_date),
        _html.date(interval.end) if interval.end else "now",
        _html.git_identity(start.author),
        _html.git_identity(start.merged_by) if start.merged_by else NONE,
        _pr(start, site),
    ]


def timeline_pages(model: RegisteredModel, site: Site) -> dict[str, str]:
    """The model's timeline page, newest interval first."""
    page = timeline_page(model.name)
    links = site.linker.at(page)
    held = intervals(
        site.history.for_model(model.name), skip_stages={site.index.policy.default_stage}
    )
    out = [
        WIDE,
        f"# {_html.name(model.name)}: stage timeline\n\n",
        f"{anchor(links.href(model_page(model.name)), f'← {_html.name(model.name)}')}\n\n",
        history_note(site.history),
    ]
    if held:
        rows = [_row(i, links, model, site) for i in reversed(held)]
        out.append(table(TIMELINE_HEADER, rows))
    elif site.history.complete:
        out.append(muted("No version has held a stage or alias yet."))
    return {page: "".join(out)}
