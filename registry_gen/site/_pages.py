"""The registry-wide pages: home, the list of models, activity and lineage."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from registry_gen.history import Event

from . import _html
from ._context import Site
from ._graph import model_graph
from ._html import PAGER_WINDOW, anchor, muted, table
from ._tables import (
    MODEL_HEADER,
    TARGETED_EVENT_HEADER,
    event_rows,
    history_note,
    model_rows,
    paginate,
)
from ._urls import (
    ACTIVITY,
    FEED,
    HOME,
    LINEAGE,
    MODELS,
    PageLinks,
    activity_page,
    model_page,
    page_series,
)

# Front matter: a page out of the search index, and a searched one. Both keep the
# navigation (it is how Activity and Lineage are reached from every page) and drop
# the table of contents, so tables get the width.
NO_SEARCH = "---\nsearch:\n  exclude: true\nhide:\n  - toc\n---\n\n"
WIDE = "---\nhide:\n  - toc\n---\n\n"
RECENT_EVENTS = 10
HOME_MODELS = 20
GLOBAL_GRAPH_NODES = 150
# Rows of the global lineage table a page (about 250 bytes of HTML each).
LINEAGE_ROWS = 80


def _counts(site: Site) -> str:
    index = site.index
    stage_counts: dict[str, int] = defaultdict(int)
    total = 0
    for version in index.versions():
        stage_counts[version.stage] += 1
        total += 1
    cells = [
        f'<div class="rg-count"><b>{len(index.models)}</b><span>models</span></div>',
        f'<div class="rg-count"><b>{total}</b><span>versions</span></div>',
    ]
    for stage in index.policy.stages:
        if stage != index.policy.default_stage:
            cells.append(
                f'<div class="rg-count"><b>{stage_counts.get(stage, 0)}</b>'
                f"<span>{_html.name(stage)}</span></div>"
            )
    return _html.block('<div class="rg-counts">' + "".join(cells) + "</div>") + "\n"


def home(site: Site) -> str:
    """The home page: counts, the first models, the latest changes."""
    links = site.linker.at(HOME)
    names = site.names
    out = [WIDE, "# Model registry\n\n", _counts(site), history_note(site.history)]
    shown = names[:HOME_MODELS]
    out.append("## Models\n\n")
    if not names:
        out.append(
            muted(
                "No registered models yet. Register one with "
                "<code>registry-gen register NAME PATH</code>."
            )
            + "\n"
        )
    else:
        out.append(table(MODEL_HEADER, model_rows(shown, links, site)))
        if len(names) > len(shown):
            out.append(f"\n{anchor(links.href(MODELS), f'All {len(names)} models →')}\n")
    out.append("\n## Recent activity\n\n")
    recent = list(reversed(site.history.events[-RECENT_EVENTS:]))
    if recent:
        out.append(table(TARGETED_EVENT_HEADER, event_rows(recent, links, site, with_target=True)))
        out.append(
            f"\n{anchor(links.href(ACTIVITY), 'All activity →')} · "
            f"{anchor(links.href(FEED), 'Stage changes feed (Atom)')}\n"
        )
    else:
        out.append(muted("No recorded changes yet."))
    return "".join(out)


def model_list(site: Site) -> dict[str, str]:
    """Every registered model, paginated."""
    names = site.names
    chunks = paginate(names, site.options.page_size)
    paths = page_series(MODELS, "models/index", len(chunks))
    pages = {}
    for number, (path, chunk) in enumerate(zip(paths, chunks, strict=True), start=1):
        links = site.linker.at(path)
        head = WIDE if number == 1 else NO_SEARCH
        title = "# Models\n\n" if number == 1 else f"# Models (page {number})\n\n"
        body = [head, title, _html.pager(links, paths, number)]
        if not names:
            body.append(muted("No registered models yet."))
        else:
            body.append(table(MODEL_HEADER, model_rows(chunk, links, site), filterable=True))
        pages[path] = "".join(body)
    return pages


def _archive_pager(links: PageLinks, complete: int, current: int) -> str:
    """The pager of the activity pages: ``current`` is an archive page's number (1 is the
    oldest), or 0 for the landing page; ``complete`` is how many archive pages exist.

    An archive page names only itself, the older pages, the page just newer and the
    landing page, so it stays byte-stable as changes land: only the landing page names
    the newest page, and an archive page changes once, when the page after it fills.
    """
    if complete == 0:
        return ""
    if current == 0:
        newer, parts = None, ["<b>Latest</b>"]
        top = complete
    else:
        newer = activity_page(current + 1) if current < complete else ACTIVITY
        parts = [anchor(links.href(ACTIVITY), "Latest")]
        top = min(current + 1, complete)
    if newer is not None:
        parts.insert(0, anchor(links.href(newer), "← Previous"))
    shown = {1, *range((current or complete) - PAGER_WINDOW, top + 1)}
    numbers = sorted((n for n in shown if 1 <= n <= top), reverse=True)
    for i, n in enumerate(numbers):
        if i and numbers[i - 1] - n > 1:
            # A gap of one page shows the page rather than an ellipsis.
            if numbers[i - 1] - n == 2:
                parts.append(anchor(links.href(activity_page(n + 1)), str(n + 1)))
            else:
                parts.append("…")
        label = f"<b>{n}</b>" if n == current else anchor(links.href(activity_page(n)), str(n))
        parts.append(label)
    older = current - 1 if current else complete
    if older >= 1:
        parts.append(anchor(links.href(activity_page(older)), "Next →"))
    return _html.block('<p class="rg-pager">Pages: ' + " · ".join(parts) + "</p>") + "\n"


def _activity_rows(events: Sequence[Event], links: PageLinks, site: Site) -> str:
    if not events:
        return muted("No recorded changes yet.")
    rows = event_rows(reversed(events), links, site, with_target=True)
    return table(TARGETED_EVENT_HEADER, rows)


def activity(site: Site) -> dict[str, str]:
    """Every change: the landing page shows the newest, numbered pages hold the rest.

    The numbered pages count from the oldest change (``models/activity/1.md`` holds
    the first ``page_size`` changes) and exist only once full, so a new change leaves
    every one of them as it was: the landing page (the newest ``page_size`` changes,
    newest first) is the only page a change rewrites, and every ``page_size``-th
    change adds a page (and gives the one before it a link to it).
    """
    events = site.history.events
    size = site.options.page_size
    complete = len(events) // size
    links = site.linker.at(ACTIVITY)
    pages = {
        ACTIVITY: "".join(
            [
                WIDE,
                "# Activity\n\n",
                history_note(site.history),
                "Every change to the registry, newest first. "
                f"{anchor(links.href(FEED), 'Stage changes as an Atom feed')}.\n\n",
                f"<p>The {size:,} newest changes; the numbered pages hold every change, "
                f"{size:,} a page, page 1 the oldest.</p>\n\n"
                if complete
                else "",
                _archive_pager(links, complete, 0),
                _activity_rows(events[-size:], links, site),
            ]
        )
    }
    for number in range(1, complete + 1):
        path = activity_page(number)
        here = site.linker.at(path)
        first = (number - 1) * size
        pages[path] = "".join(
            [
                NO_SEARCH,
                f"# Activity (page {number})\n\n",
                f"Changes {first + 1:,} to {first + size:,}, counted from the oldest; "
                "newest first.\n\n",
                _archive_pager(here, complete, number),
                _activity_rows(events[first : first + size], here, site),
            ]
        )
    return pages


def _model_edges(site: Site) -> dict[tuple[str, str], int]:
    """How many versions of each child model name a version of each parent model."""
    edges: dict[tuple[str, str], int] = defaultdict(int)
    for version in site.index.versions():
        for parent in version.record.lineage.parents:
            target = site.lookups.resolve(parent)
            if target is not None and target.name != version.name:
                edges[(target.name, version.name)] += 1
    return edges


_LINEAGE_INTRO = [
    "# Lineage\n\n",
    "How registered models feed each other: an arrow from A to B means a version "
    "of B names a version of A as its parent.\n\n",
]


def _lineage_head(edges: dict[tuple[str, str], int]) -> list[str]:
    involved = {n for pair in edges for n in pair}
    if len(involved) <= GLOBAL_GRAPH_NODES:
        return [*_LINEAGE_INTRO, model_graph(sorted(edges)).render() + "\n"]
    return [
        *_LINEAGE_INTRO,
        muted(
            f"{len(involved)} models are linked by {len(edges)} parent–child pairs, too "
            "many for one graph: follow a model's name to its own lineage graph."
        )
        + "\n",
    ]


def lineage(site: Site) -> dict[str, str]:
    """The global lineage view: which models feed which, one row per (parent, child) pair.

    A small registry gets one Mermaid graph of every model; a large one gets the
    table, paginated (:data:`LINEAGE_ROWS` pairs a page, sorted by parent), and
    every model name links to that model's own lineage graph.
    """
    edges = _model_edges(site)
    if not edges:
        return {
            LINEAGE: "".join(
                [WIDE, *_LINEAGE_INTRO, muted("No model names another as its parent yet.")]
            )
        }
    chunks = paginate(sorted(edges.items()), LINEAGE_ROWS)
    paths = page_series(LINEAGE, "models/lineage", len(chunks))
    pages = {}
    for number, (path, chunk) in enumerate(zip(paths, chunks, strict=True), start=1):
        links = site.linker.at(path)
        out = (
            [WIDE, *_lineage_head(edges)]
            if number == 1
            else [NO_SEARCH, f"# Lineage (page {number})\n\n"]
        )
        out.append(_html.pager(links, paths, number))
        out.append(
            table(
                ["Parent model", "Child model", "Versions"],
                [
                    [
                        anchor(links.href(model_page(s)) + "#lineage", _html.name(s)),
                        anchor(links.href(model_page(t)) + "#lineage", _html.name(t)),
                        str(n),
                    ]
                    for (s, t), n in chunk
                ],
            )
        )
        pages[path] = "".join(out)
    return pages
