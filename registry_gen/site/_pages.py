"""The registry-wide pages: home, the list of models, activity and lineage."""

from __future__ import annotations

from collections import defaultdict

from . import _html
from ._context import Site
from ._graph import model_graph
from ._html import anchor, muted, table
from ._tables import (
    MODEL_HEADER,
    TARGETED_EVENT_HEADER,
    event_rows,
    history_note,
    model_rows,
    paginate,
)
from ._urls import ACTIVITY, FEED, HOME, LINEAGE, MODELS, model_page, page_series

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


def activity(site: Site) -> dict[str, str]:
    """Every change, newest first, paginated."""
    events = list(reversed(site.history.events))
    chunks = paginate(events, site.options.page_size)
    paths = page_series(ACTIVITY, "models/activity", len(chunks))
    pages = {}
    for number, (path, chunk) in enumerate(zip(paths, chunks, strict=True), start=1):
        links = site.linker.at(path)
        body = [
            WIDE if number == 1 else NO_SEARCH,
            "# Activity\n\n" if number == 1 else f"# Activity (page {number})\n\n",
        ]
        if number == 1:
            body.append(history_note(site.history))
            body.append(
                "Every change to the registry, newest first. "
                f"{anchor(links.href(FEED), 'Stage changes as an Atom feed')}.\n\n"
            )
        body.append(_html.pager(links, paths, number))
        if chunk:
            body.append(
                table(TARGETED_EVENT_HEADER, event_rows(chunk, links, site, with_target=True))
            )
        else:
            body.append(muted("No recorded changes yet."))
        pages[path] = "".join(body)
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
