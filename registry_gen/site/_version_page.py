"""A version's page (``models/NAME/VERSION/index.md``).

There is one per version (10,000 in the benchmarks), so the page is written as
one raw HTML block (see :func:`registry_gen.site._html.one_block`), and the
search index reads only its title and one short hidden paragraph of its words
(:func:`_search_words`: description, authors, stage, aliases, params, metrics,
tags, run and datasets), which comes before :data:`~registry_gen.site._html.SEARCH_END`:
a constant cost per version, and no table indexed twice.
"""

from __future__ import annotations

from registry_gen.store import ModelVersion, RegisteredModel

from . import _html
from ._context import Site
from ._graph import Graph, add_version
from ._html import NONE, SEARCH_END, anchor, heading, muted, table, text
from ._pages import WIDE
from ._tables import EVENT_HEADER, event_rows, history_note, version_link
from ._urls import PageLinks, compare_href, model_page, version_page


def _summary(model: RegisteredModel, version: ModelVersion, links: PageLinks) -> str:
    record = version.record
    aliases = " ".join(_html.alias_chip(a) for a in model.aliases_of(version.version))
    rows = [
        ["Stage", _html.stage_badge(version.stage)],
        ["Aliases", aliases or NONE],
        ["URI", _html.uri_cell(str(version.uri))],
        ["Created", f"{_html.date(record.created_at)} UTC by {text(record.created_by)}"],
        ["Tags", _html.tag_chips(record.tags)],
    ]
    if len(model.versions) > 1:
        rows.append(
            ["Compare", anchor(compare_href(links, model.name, [version.version]), "Compare with…")]
        )
    return _html.facts(rows)


def _search_words(
    model: RegisteredModel, version: ModelVersion, description: str, site: Site
) -> str:
    """The version's searchable words, each value a separate word (see the module)."""
    record, lineage = version.record, version.record.lineage
    authors = dict.fromkeys(
        [
            record.created_by,
            *(e.commit.author for e in site.history.for_version(version.name, version.version)),
        ]
    )
    return _html.search_text(
        [
            description,
            "by " + ", ".join(text(a) for a in authors if a),  # created_by, then git identities
            "" if version.stage == site.index.policy.default_stage else _html.name(version.stage),
            # Plain words: the search splits words at spaces and hyphens only, so "@champion"
            # would not be found by "champion".
            " ".join(f"alias {text(a)}" for a in model.aliases_of(version.version)),
            " ".join(f"{text(k)} {_html.number(v)}" for k, v in record.params.items()),
            " ".join(f"{text(k)} {_html.number(v)}" for k, v in record.metrics.items()),
            " ".join(f"{text(k)} {text(v)}" for k, v in record.tags.items()),
            text(lineage.run_id or ""),
            " ".join(text(d.name) for d in lineage.datasets),
            " ".join(text(p) for p in lineage.parents),
        ]
    )


def _artifact(version: ModelVersion) -> str:
    record, pointer = version.record, version.pointer
    rows = [
        ["Path", f"<code>{text(version.artifact_path)}</code>"],
        ["Format", text(record.artifact.format)],
        ["MD5", f"<code>{text(pointer.md5)}</code>" if pointer else NONE],
        ["Size", _html.size(pointer.size if pointer else None)],
    ]
    if pointer and pointer.nfiles is not None:
        rows.append(["Files", str(pointer.nfiles)])
    if record.artifact.trusted_types:
        rows.append(
            [
                "Trusted types",
                ", ".join(f"<code>{text(t)}</code>" for t in record.artifact.trusted_types),
            ]
        )
    return heading("Artifact") + _html.facts(rows)


def _code_cell(repo: str, commit: str) -> str:
    if repo.startswith("https://github.com/"):
        commit_link = _html.external(f"{repo.rstrip('/')}/commit/{commit}", commit[:12])
    else:
        commit_link = f"<code>{text(commit)}</code>"
    return f"{_html.external(repo)} @ {commit_link}"


def _lineage_rows(version: ModelVersion, links: PageLinks, site: Site) -> list[list[str]]:
    lineage = version.record.lineage
    rows = []
    if lineage.run_id or lineage.run_url:
        rows.append(
            ["Run", _html.external(lineage.run_url, lineage.run_id or lineage.run_url or "")]
        )
    if lineage.code:
        rows.append(["Code", _code_cell(lineage.code.repo, lineage.code.commit)])
    for parent in lineage.parents:
        target = site.lookups.resolve(parent)
        shown = f"<code>{text(parent)}</code>"
        if target is not None:
            shown += " → " + version_link(
                links, target.name, target.version, f"{_html.name(target.name)} v{target.version}"
            )
        rows.append(["Parent", shown])
    for child in site.lookups.children.get((version.name, version.version), []):
        rows.append(
            [
                "Child",
                version_link(
                    links, child.name, child.version, f"{_html.name(child.name)} v{child.version}"
                ),
            ]
        )
    return rows


def _lineage(version: ModelVersion, links: PageLinks, site: Site) -> str:
    lineage = version.record.lineage
    out = [heading("Lineage")]
    rows = _lineage_rows(version, links, site)
    if rows:
        out.append(_html.facts(rows))
    if lineage.datasets:
        out.append(
            "\n"
            + table(
                ["Dataset", "Location", "MD5"],
                [
                    [
                        text(d.name),
                        _html.external(d.url)
                        if d.url
                        else (f"<code>{text(d.path)}</code>" if d.path else NONE),
                        f"<code>{text(d.md5)}</code>" if d.md5 else NONE,
                    ]
                    for d in lineage.datasets
                ],
            )
        )
    graph = Graph()
    add_version(graph, version, site.lookups)
    if len(graph.nodes) > 1:
        out.append(graph.render())
    if not rows and not lineage.datasets:
        out.append(muted("No lineage recorded."))
    return "".join(out)


def _numbers(version: ModelVersion, previous: ModelVersion | None) -> str:
    record = version.record
    out = []
    if record.params:
        out.append(heading("Parameters"))
        out.append(
            table(
                ["Parameter", "Value"],
                [[text(k), f"<code>{_html.number(v)}</code>"] for k, v in record.params.items()],
            )
        )
    out.append(heading("Metrics"))
    if record.metrics:
        before = previous.record.metrics if previous else {}
        label = f"Δ vs v{previous.version}" if previous else "Δ"
        out.append(
            table(
                ["Metric", "Value", label],
                [
                    [text(k), _html.number(v), _html.delta(v, before.get(k))]
                    for k, v in record.metrics.items()
                ],
            )
        )
    else:
        out.append(muted("No metrics recorded."))
    return "".join(out)


def _signature(version: ModelVersion) -> str:
    signature = version.record.signature
    if not signature:
        return ""
    out = [heading("Signature")]
    for title, specs in (("Inputs", signature.inputs), ("Outputs", signature.outputs)):
        if specs:
            out.append(
                f"<p><b>{title}</b></p>\n"
                + table(
                    ["Name", "Type", "Shape"],
                    [
                        [
                            text(s.name or NONE),
                            f"<code>{text(s.type)}</code>",
                            text(s.shape) if s.shape is not None else NONE,
                        ]
                        for s in specs
                    ],
                )
                + "\n"
            )
    return "".join(out)


def _history(version: ModelVersion, links: PageLinks, site: Site) -> str:
    out = [heading("History"), history_note(site.history)]
    events = list(reversed(site.history.for_version(version.name, version.version)))
    if events:
        out.append(table(EVENT_HEADER, event_rows(events, links, site, with_target=False)))
    elif site.history.complete:
        out.append(muted("Not committed yet."))
    return "".join(out)


def version_page_text(
    model: RegisteredModel, version: ModelVersion, previous: ModelVersion | None, site: Site
) -> str:
    """The page of ``version``; ``previous`` (the version before it) gives metric changes."""
    name, number = model.name, version.version
    links = site.linker.at(version_page(name, number))
    crumbs = f"<p>{anchor(links.href(model_page(name)), _html.name(name))} › v{number}</p>\n"
    description, words = _html.described(version.record.description)
    body = [
        _search_words(model, version, words, site),
        f"\n{SEARCH_END}\n",
        crumbs,
        _summary(model, version, links),
        "\n" + description,
        _artifact(version),
        _lineage(version, links, site),
        _numbers(version, previous),
        _signature(version),
        _history(version, links, site),
    ]
    return f"{WIDE}# {_html.name(name)} v{number}\n\n{_html.one_block(body)}"
