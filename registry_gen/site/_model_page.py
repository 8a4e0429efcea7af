"""A model's page (``models/NAME/index.md``) and the further pages of its versions."""

from __future__ import annotations

from collections.abc import Sequence

from registry_gen._timeline import intervals
from registry_gen.store import ModelVersion, RegisteredModel

from . import _html
from ._context import Site
from ._graph import Graph, add_version
from ._html import NONE, SEARCH_END, anchor, muted, table, text
from ._pages import NO_SEARCH, WIDE
from ._tables import (
    EVENT_HEADER,
    event_rows,
    history_note,
    paginate,
    version_link,
    version_rows,
)
from ._timeline import timeline_page
from ._urls import ACTIVITY, PageLinks, compare_href, model_page, page_series

KEY_METRICS = 3
# The alias the "Load it" snippet prefers after a Production stage (MLflow's convention).
PREFERRED_ALIAS = "champion"
PRODUCTION = "production"
MODEL_EVENTS = 15
TIMELINE_ROWS = 12
GRAPH_VERSIONS = 8


def _facts(model: RegisteredModel, links: PageLinks, site: Site) -> str:
    name, record, latest = model.name, model.record, model.latest
    aliases = " ".join(
        f"{_html.alias_chip(a)} → {version_link(links, name, v)}"
        if site.lookups.has_version(name, v)
        else f"{_html.alias_chip(a)} → v{v}"
        for a, v in sorted(model.aliases.items())
    )
    return _html.facts(
        [
            ["Owners", text(", ".join(record.owners)) or NONE],
            ["Tags", _html.tag_chips(record.tags)],
            ["Aliases", aliases or NONE],
            ["Versions", str(len(model.versions))],
            ["Latest", version_link(links, name, latest.version) if latest else NONE],
            *(
                [
                    [
                        "Compare",
                        anchor(compare_href(links, name, [latest.version]), "Compare versions…"),
                    ]
                ]
                if latest and len(model.versions) > 1
                else []
            ),
        ]
    )


def _search_words(model: RegisteredModel) -> str:
    """Aliases and owners as the search splits words (at spaces and hyphens): the page
    shows them as ``@champion`` and ``@ml-team``, which "champion" would not find."""
    return _html.search_text(
        [
            " ".join(f"alias {text(alias)}" for alias in sorted(model.aliases)),
            " ".join(text(owner.lstrip("@")) for owner in model.record.owners),
        ]
    )


def _uris(model: RegisteredModel, site: Site) -> list[tuple[str, int]]:
    """The URIs that load a version of the model, in the order people should reach for
    them: Production, ``@champion``, the other aliases, the other stages, ``latest``.

    The first is the one the snippet below the table uses.
    """
    aliases = sorted(model.aliases.items(), key=lambda item: (item[0] != PREFERRED_ALIAS, item))
    stages = []
    for number in site.lookups.stage_top.get(model.name, {}).values():
        spelled = model.version(number).stage
        stages.append((spelled.lower() != PRODUCTION, f"models:/{model.name}/{spelled}", number))
    uris = [(uri, number) for first, uri, number in stages if not first]
    uris += [(f"models:/{model.name}@{alias}", number) for alias, number in aliases]
    uris += [(uri, number) for first, uri, number in stages if first]
    if model.latest:
        uris.append((f"models:/{model.name}/latest", model.latest.version))
    return uris


def _load_it(model: RegisteredModel, links: PageLinks, site: Site) -> str:
    uris = _uris(model, site)
    if not uris:
        return muted("No versions yet.")
    rows = [[_html.uri_cell(uri), version_link(links, model.name, n)] for uri, n in uris]
    # The URI is built from validated identifiers only, so it is safe in a code block.
    return (
        table(["URI", "Resolves to"], rows)
        + "\n```python\nimport registry_gen\n\nmodel = registry_gen.load_model("
        f'"{uris[0][0]}")\n```\n'
    )


def _stage_timeline(model: RegisteredModel, site: Site) -> list[list[str]]:
    """Which version held which stage, when: the newest stage intervals, one row each."""
    held = [
        i
        for i in intervals(
            site.history.for_model(model.name), skip_stages={site.index.policy.default_stage}
        )
        if i.kind == "stage"
    ]
    held.sort(key=lambda i: (i.start, i.version), reverse=True)
    return [
        [
            _html.stage_badge(i.label),
            f"v{i.version}",
            _html.date(i.start),
            _html.date(i.end) if i.end else "now",
        ]
        for i in held[:TIMELINE_ROWS]
    ]


def _timeline_section(model: RegisteredModel, site: Site) -> str:
    page = site.linker.at(model_page(model.name)).href(timeline_page(model.name))
    out = [
        "\n## Stage timeline\n\n",
        history_note(site.history),
        f"<p>{anchor(page, 'Every stage and alias, who moved it, and the PR →')}</p>\n\n",
    ]
    timeline = _stage_timeline(model, site)
    if timeline:
        out.append(table(["Stage", "Version", "From (UTC)", "Until"], timeline))
    elif site.history.complete:
        out.append(muted("No version has left the default stage yet."))
    return "".join(out)


def _lineage_section(versions: Sequence[ModelVersion], site: Site) -> str:
    out = ["\n## Lineage\n\n"]
    graph = Graph()
    for version in versions[:GRAPH_VERSIONS]:
        add_version(graph, version, site.lookups)
    if graph.nodes:
        out.append(graph.render())
        if len(versions) > GRAPH_VERSIONS:
            out.append("\n" + muted(f"The {GRAPH_VERSIONS} newest versions are shown."))
    return "".join(out)


def _history_section(model: RegisteredModel, links: PageLinks, site: Site) -> str:
    out = ["\n## History\n\n"]
    all_events = site.history.for_model(model.name)
    events = list(reversed(all_events))[:MODEL_EVENTS]
    if not events:
        return "".join([*out, muted("No recorded changes.")])
    rows = event_rows(events, links, site, with_target=False)
    out.append(
        table(
            [*EVENT_HEADER[:1], "Version", *EVENT_HEADER[1:]],
            [
                [row[0], f"v{e.version}" if e.version else "model", *row[1:]]
                for e, row in zip(events, rows, strict=True)
            ],
        )
    )
    if len(all_events) > MODEL_EVENTS:
        out.append(
            f"\n<p>The {MODEL_EVENTS} newest of {len(all_events)} changes; every "
            "version's page has its own. "
            f"{anchor(links.href(ACTIVITY), 'All activity →')}</p>\n"
        )
    return "".join(out)


def _version_header(model: RegisteredModel) -> list[str]:
    metrics = _key_metrics(model)
    return ["Version", "Stage", "Aliases", "Created", "Author", *[text(m) for m in metrics], "Run"]


def _key_metrics(model: RegisteredModel) -> list[str]:
    latest = model.latest
    return list(latest.record.metrics)[:KEY_METRICS] if latest else []


def model_pages(model: RegisteredModel, site: Site) -> dict[str, str]:
    """The model's page, and one more page per ``page_size`` versions beyond the first."""
    name = model.name
    page = model_page(name)
    links = site.linker.at(page)
    versions = list(reversed(model.versions))
    chunks = paginate(versions, site.options.page_size)
    paths = page_series(page, f"models/{name}/versions", len(chunks))
    header, metrics = _version_header(model), _key_metrics(model)
    out = [
        WIDE,
        f"# {_html.name(name)}\n\n",
        _html.description(model.record.description),
        "\n" + _facts(model, links, site),
        "\n" + _search_words(model),
        "\n" + _html.block(SEARCH_END),
        "\n## Load it\n\n",
        _load_it(model, links, site),
        "\n## Versions\n\n",
        _html.pager(links, paths, 1),
        table(header, version_rows(model, chunks[0], links, metrics), filterable=True)
        if versions
        else muted("No versions yet."),
        _timeline_section(model, site),
        _lineage_section(versions, site),
        _history_section(model, links, site),
    ]
    pages = {page: "".join(out)}
    for number, path in enumerate(paths[1:], start=2):
        here = site.linker.at(path)
        pages[path] = "".join(
            [
                NO_SEARCH,
                f"# {_html.name(name)}: versions (page {number})\n\n",
                f"{anchor(here.href(page), f'← {_html.name(name)}')}\n\n",
                _html.pager(here, paths, number),
                table(
                    header, version_rows(model, chunks[number - 1], here, metrics), filterable=True
                ),
            ]
        )
    return pages
