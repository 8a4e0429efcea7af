"""The website as data: registry index + history → ``{docs path: Markdown text}``.

Pure and linear: no MkDocs, no file or git access, and every lookup goes
through dictionaries built once, so 10,000 versions render in seconds.

User text reaches the pages only through :mod:`registry_gen.markup`: descriptions
are rendered and sanitised, everything else (tags, metric keys, dataset names,
authors, commit messages) is escaped. Identifiers in paths and links are the
validated ones of the index.

Pages (``NAME`` and ``VERSION`` are the registry's own, so URLs read like URIs):

====================================  ==============================================
``index.md``                          home: counts, every model, recent activity
``models/index.md`` (+ ``index/N``)   every registered model
``models/NAME/index.md``              one model (+ ``versions/N.md`` when long)
``models/NAME/VERSION/index.md``      one version
``models/activity.md`` (+ ``/N``)     every change, newest first
``models/lineage.md`` (+ ``/N``)      how models feed each other
``models/feed.xml``                   Atom feed of stage transitions
====================================  ==============================================

``index``, ``activity``, ``lineage`` and ``feed`` are in
:data:`registry_gen.uri.RESERVED_NAMES`, so no model's pages can collide with them.

Cost stays linear at 10,000 versions: long tables are paginated, version pages
stay out of the navigation and the search index, and tables are written as
HTML blocks fenced by :data:`HTML_START`/:data:`HTML_END` (with links as built
URLs), which the plugin's Markdown extension passes through unparsed.

Example:
    >>> pages = render_site(index, history)                 # doctest: +SKIP
    >>> print(pages["models/churn/3/index.md"][:40])         # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape as _html_escape
from typing import ClassVar, TypeVar
from xml.sax.saxutils import escape as _xml_escape

from registry_gen.errors import InvalidUri
from registry_gen.history import Commit, Event, History
from registry_gen.markup import (
    escape_attribute,
    escape_text,
    external_link,
    first_line,
    render_markdown,
)
from registry_gen.store import ModelVersion, RegisteredModel, RegistryIndex
from registry_gen.uri import ModelUri

HOME = "index.md"
MODELS = "models/index.md"
ACTIVITY = "models/activity.md"
LINEAGE = "models/lineage.md"
FEED = "models/feed.xml"
# Pages listed in the navigation; every other generated page is reached by links,
# which keeps MkDocs' per-page navigation (rendered into every page) small.
NAV_PAGES = (HOME, MODELS, ACTIVITY, LINEAGE)
KEY_METRICS = 3
RECENT_EVENTS = 10
HOME_MODELS = 20
MODEL_EVENTS = 15
TIMELINE_ROWS = 12
FEED_ENTRIES = 50
GRAPH_VERSIONS = 8
GLOBAL_GRAPH_NODES = 150
# Rows of the global lineage table a page (about 250 bytes of HTML each).
LINEAGE_ROWS = 80
# Page numbers either side of the current one in a pager.
PAGER_WINDOW = 2
_NO_SEARCH = "---\nsearch:\n  exclude: true\nhide:\n  - navigation\n  - toc\n---\n\n"
_T = TypeVar("_T")
_WIDE = "---\nhide:\n  - navigation\n---\n\n"


@dataclass(frozen=True)
class SiteOptions:
    """How the site is rendered.

    ``repo_url`` (e.g. ``https://github.com/org/registry``) turns commit ids and
    pull-request numbers into links; ``page_size`` bounds every long table so
    pages stay small whatever the registry's size.
    """

    repo_url: str | None = None
    page_size: int = 30
    home: bool = True
    site_url: str | None = None
    directory_urls: bool = True


def model_page(name: str) -> str:
    return f"models/{name}/index.md"


def version_page(name: str, version: int) -> str:
    return f"models/{name}/{version}/index.md"


_DIRECTORY_URLS: ContextVar[bool] = ContextVar("directory_urls", default=True)


def _url(path: str, directory_urls: bool) -> list[str]:
    """The URL of a docs file, as path parts (MkDocs' rules; pages end in "/" or ".html")."""
    parts = path.split("/")
    if not parts[-1].endswith(".md"):
        return parts
    stem = parts[-1][:-3]
    if directory_urls:
        return [*parts[:-1], ""] if stem == "index" else [*parts[:-1], stem, ""]
    return [*parts[:-1], f"{stem}.html"]


def link(source: str, target: str) -> str:
    """The relative URL from page ``source`` to ``target`` (both docs paths).

    The pages put their links in HTML (cheap for Markdown to pass through at
    10,000 pages), so the URLs are the built site's, not ``.md`` paths.

    >>> link("models/churn/3/index.md", "models/churn/index.md")
    '../'
    >>> link("models/churn/index.md", "models/churn/3/index.md")
    '3/'
    """
    directory_urls = _DIRECTORY_URLS.get()
    here = _url(source, directory_urls)[:-1]
    there = _url(target, directory_urls)
    common = 0
    while common < len(here) and common < len(there) - 1 and here[common] == there[common]:
        common += 1
    return "/".join([".."] * (len(here) - common) + there[common:]) or "./"


# ---------------------------------------------------------------------------
# Lookups built once


class _Lookups:
    """Everything a page needs from the rest of the registry, in dictionaries."""

    def __init__(self, index: RegistryIndex) -> None:
        self.index = index
        self.stage_top: dict[str, dict[str, int]] = {}
        self.stage_versions: dict[str, dict[str, list[int]]] = {}
        self.children: dict[tuple[str, int], list[ModelVersion]] = defaultdict(list)
        self._parsed: dict[str, ModelUri | None] = {}
        for name, model in index.models.items():
            tops: dict[str, int] = {}
            holders: dict[str, list[int]] = defaultdict(list)
            for version in reversed(model.versions):
                tops.setdefault(version.stage.casefold(), version.version)
                holders[version.stage].append(version.version)
            self.stage_top[name] = tops
            self.stage_versions[name] = dict(holders)
        for version in index.versions():
            for parent in version.record.lineage.parents:
                target = self.resolve(parent)
                if target is not None:
                    self.children[(target.name, target.version)].append(version)

    def resolve(self, uri: str) -> ModelVersion | None:
        """Resolve a ``models:/`` URI like the index does, in constant time; None if not found."""
        if uri not in self._parsed:
            try:
                self._parsed[uri] = ModelUri.parse(uri)
            except InvalidUri:
                self._parsed[uri] = None
        parsed = self._parsed[uri]
        if parsed is None:
            return None
        model = self.index.models.get(parsed.name)
        if model is None:
            return None
        number: int | None
        if parsed.version is not None:
            number = parsed.version
        elif parsed.latest:
            number = model.latest.version if model.latest else None
        elif parsed.alias is not None:
            number = model.aliases.get(parsed.alias)
        else:
            assert parsed.stage is not None
            number = self.stage_top[parsed.name].get(parsed.stage.casefold())
        if number is None:
            return None
        try:
            return model.version(number)
        except LookupError:
            return None


# ---------------------------------------------------------------------------
# Small pieces


def stage_badge(stage: str) -> str:
    """A coloured stage label (stage names are validated identifiers)."""
    return f'<span class="rg-stage rg-stage-{stage.lower()}">{escape_text(stage)}</span>'


def _alias_chip(alias: str) -> str:
    return f'<span class="rg-alias">@{escape_text(alias)}</span>'


def _date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d&nbsp;%H:%M")


def _day(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d")


def _number(value: float | int | bool | str | None) -> str:
    if isinstance(value, bool) or value is None:
        return escape_text(str(value))
    if isinstance(value, float):
        return escape_text(f"{value:.6g}")
    return escape_text(value)


def _size(size: int | None) -> str:
    if size is None:
        return "—"
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if amount < 1024 or unit == "TB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{size} B"


# Generated HTML blocks are fenced by these comments. The plugin's Markdown extension
# (registry_gen.site.plugin.RawBlocks) hands each block to Markdown's HTML stash
# untouched, so 10,000 pages cost MkDocs no HTML parsing; without the extension they
# are ordinary raw HTML blocks. User text cannot forge a fence: it never holds a raw "<".
HTML_START = "<!--rg:html-->"
HTML_END = "<!--/rg:html-->"


# Marks the end of what a model page offers the search index (title, description,
# owners, tags, aliases): the plugin lets the search plugin index only the part
# before it, which keeps models findable by name, tag and description while sparing
# it the tables below (about a tenth of a 10,000-version build).
SEARCH_END = "<!--rg:search-end-->"


def _html(block: str) -> str:
    return f"{HTML_START}\n{block}\n{HTML_END}\n"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table as one raw HTML block: Markdown passes it through without parsing its cells."""
    head = "".join(f"<th>{cell}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>\n"
                   for row in rows)
    return _html(f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>")


def _description_block(text: str) -> str:
    rendered = render_markdown(text)
    if not rendered:
        return '<p class="rg-muted">No description yet.</p>\n'
    # A raw HTML block: Markdown leaves it as it is (blank lines inside are fine).
    return _html(f'<div class="rg-description" markdown="0">\n{rendered}\n</div>')


def _commit_cell(commit: Commit, options: SiteOptions) -> str:
    if options.repo_url:
        return external_link(f"{options.repo_url.rstrip('/')}/commit/{commit.sha}", commit.short)
    return f"<code>{escape_text(commit.short)}</code>"


def _pr_cell(commit: Commit, options: SiteOptions) -> str:
    if commit.pr is None:
        return "—"
    if options.repo_url:
        return external_link(f"{options.repo_url.rstrip('/')}/pull/{commit.pr}", f"#{commit.pr}")
    return escape_text(f"#{commit.pr}")


def describe_event(event: Event) -> str:
    """What an event did, as escaped inline Markdown/HTML."""
    kind = event.kind
    if kind == "registered":
        stage = f" in {stage_badge(event.new)}" if event.new else ""
        return f"registered{stage}"
    if kind == "stage":
        old = stage_badge(event.old) if event.old else "?"
        new = stage_badge(event.new) if event.new else "?"
        return f"{old} → {new}"
    if kind == "description":
        return "description edited"
    if kind == "removed":
        return "version removed"
    if kind == "model_created":
        return "model created"
    if kind == "model_description":
        return "model description edited"
    if kind == "model_removed":
        return "model removed"
    alias = _alias_chip(event.alias or "")
    if kind == "alias_set":
        return f"{alias} set to v{escape_text(event.new or '')}"
    if kind == "alias_moved":
        return f"{alias} moved v{escape_text(event.old or '')} → v{escape_text(event.new or '')}"
    return f"{alias} removed from v{escape_text(event.old or '')}"


def _event_rows(events: Iterable[Event], page: str, index: RegistryIndex, options: SiteOptions,
                *, with_target: bool) -> list[list[str]]:
    rows = []
    for event in events:
        row = [_date(event.commit.date)]
        if with_target:
            row.append(_target_link(event, page, index))
        row += [
            describe_event(event),
            escape_text(event.commit.author),
            escape_text(event.commit.subject[:120]),
            _commit_cell(event.commit, options),
            _pr_cell(event.commit, options),
        ]
        rows.append(row)
    return rows


def _target_link(event: Event, page: str, index: RegistryIndex) -> str:
    model = index.models.get(event.model)
    if model is None:
        name = escape_text(event.model)
        return name if event.version is None else f"{name} v{event.version}"
    if event.version is None or not _has_version(model, event.version):
        return f"<a href='{link(page, model_page(event.model))}'>{event.model}</a>"
    target = version_page(event.model, event.version)
    return f"<a href='{link(page, target)}'>{event.model} v{event.version}</a>"


def _has_version(model: RegisteredModel, number: int) -> bool:
    try:
        model.version(number)
    except LookupError:
        return False
    return True


_EVENT_HEADER = ["When (UTC)", "Change", "Who", "Commit message", "Commit", "PR"]


def _history_note(history: History) -> str:
    if history.warning:
        # Material's admonition, as the `admonition` extension writes it.
        return _html('<div class="admonition warning">\n<p class="admonition-title">History '
                     f"unavailable</p>\n<p>{escape_text(history.warning)}</p>\n</div>") + "\n"
    if not history.complete:
        return '<p class="rg-muted">No git history available for this registry.</p>\n\n'
    return ""


def _paginate(items: Sequence[_T], size: int) -> list[Sequence[_T]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [items[:0]]


def _pager_numbers(count: int, current: int) -> list[int | None]:
    """The page numbers a pager shows: first, last, and a window around ``current``;
    None where numbers are left out.

    A pager listing every page would grow with the registry (662 activity pages at
    10,000 versions is 16 KB of links on every page), so it stays a fixed size.

    >>> _pager_numbers(5, 3)
    [1, 2, 3, 4, 5]
    >>> _pager_numbers(100, 50)
    [1, None, 48, 49, 50, 51, 52, None, 100]
    """
    shown = {1, count, *range(current - PAGER_WINDOW, current + PAGER_WINDOW + 1)}
    numbers: list[int | None] = []
    for number in sorted(n for n in shown if 1 <= n <= count):
        if numbers and numbers[-1] is not None and number > numbers[-1] + 1:
            # A gap of one page shows the page rather than an ellipsis.
            numbers.append(number - 1 if number == numbers[-1] + 2 else None)
        numbers.append(number)
    return numbers


def _pager(page: str, pages: Sequence[str], current: int) -> str:
    if len(pages) <= 1:
        return ""
    parts = []
    if current > 1:
        parts.append(f"<a href='{link(page, pages[current - 2])}'>← Previous</a>")
    for number in _pager_numbers(len(pages), current):
        if number is None:
            parts.append("…")
        elif number == current:
            parts.append(f"<b>{number}</b>")
        else:
            parts.append(f"<a href='{link(page, pages[number - 1])}'>{number}</a>")
    if current < len(pages):
        parts.append(f"<a href='{link(page, pages[current])}'>Next →</a>")
    return _html('<p class="rg-pager">Pages: ' + " · ".join(parts) + "</p>") + "\n"


# ---------------------------------------------------------------------------
# Pages


def render_site(index: RegistryIndex, history: History,
                options: SiteOptions | None = None) -> dict[str, str]:
    """Every generated page of the registry's website, keyed by docs-relative path."""
    options = options or SiteOptions()
    token = _DIRECTORY_URLS.set(options.directory_urls)
    try:
        return _render_site(index, history, options)
    finally:
        _DIRECTORY_URLS.reset(token)


def _render_site(index: RegistryIndex, history: History, options: SiteOptions) -> dict[str, str]:
    lookups = _Lookups(index)
    pages: dict[str, str] = {}
    names = sorted(index.models)
    if options.home:
        pages[HOME] = _home(index, history, lookups, options, names)
    pages.update(_model_list(index, history, lookups, options, names))
    for name in names:
        model = index.models[name]
        pages.update(_model_pages(model, history, lookups, options))
        previous: ModelVersion | None = None
        for version in model.versions:
            pages[version_page(name, version.version)] = _version(
                model, version, previous, history, lookups, options)
            previous = version
    pages.update(_activity(index, history, options))
    pages.update(_lineage(index, lookups))
    return pages


def _counts(index: RegistryIndex) -> str:
    stage_counts: dict[str, int] = defaultdict(int)
    total = 0
    for version in index.versions():
        stage_counts[version.stage] += 1
        total += 1
    cells = [f'<div class="rg-count"><b>{len(index.models)}</b><span>models</span></div>',
             f'<div class="rg-count"><b>{total}</b><span>versions</span></div>']
    for stage in index.policy.stages:
        if stage != index.policy.default_stage:
            cells.append(f'<div class="rg-count"><b>{stage_counts.get(stage, 0)}</b>'
                         f"<span>{escape_text(stage)}</span></div>")
    return _html('<div class="rg-counts">' + "".join(cells) + "</div>") + "\n"


def _stage_cell(name: str, page: str, lookups: _Lookups, policy_stages: Sequence[str],
                default_stage: str) -> str:
    holders = lookups.stage_versions.get(name, {})
    parts = []
    for stage in policy_stages:
        if stage == default_stage or stage not in holders:
            continue
        numbers = holders[stage]
        shown = ", ".join(
            f"<a href='{link(page, version_page(name, n))}'>v{n}</a>" for n in numbers[:3])
        more = f" +{len(numbers) - 3}" if len(numbers) > 3 else ""
        parts.append(f"{stage_badge(stage)} {shown}{more}")
    return "<br>".join(parts) or "—"


def _model_rows(names: Sequence[str], page: str, index: RegistryIndex, history: History,
                lookups: _Lookups) -> list[list[str]]:
    rows = []
    stages, default = index.policy.stages, index.policy.default_stage
    for name in names:
        model = index.models[name]
        latest = model.latest
        last = history.last_change(name)
        aliases = " ".join(
            f"{_alias_chip(a)}&nbsp;v{v}" for a, v in sorted(model.aliases.items()))
        rows.append([
            f"<a href='{link(page, model_page(name))}'><b>{name}</b></a>",
            escape_text(first_line(model.record.description, 100)),
            _stage_cell(name, page, lookups, stages, default),
            aliases or "—",
            escape_text(", ".join(model.record.owners)) or "—",
            f"<a href='{link(page, version_page(name, latest.version))}'>v{latest.version}</a>"
            if latest else "—",
            _day(last.commit.date) if last else "—",
        ])
    return rows


_MODEL_HEADER = ["Model", "Description", "Stages", "Aliases", "Owners", "Latest", "Changed"]


def _home(index: RegistryIndex, history: History, lookups: _Lookups, options: SiteOptions,
          names: Sequence[str]) -> str:
    page = HOME
    out = [_WIDE, "# Model registry\n\n", _counts(index), _history_note(history)]
    shown = names[:HOME_MODELS]
    out.append("## Models\n\n")
    if not names:
        out.append('<p class="rg-muted">No registered models yet. Register one with '
                   "<code>registry-gen register NAME PATH</code>.</p>\n\n")
    else:
        out.append(_table(_MODEL_HEADER, _model_rows(shown, page, index, history, lookups)))
        if len(names) > len(shown):
            out.append(f"\n<a href='{link(page, MODELS)}'>All {len(names)} models →</a>\n")
    out.append("\n## Recent activity\n\n")
    recent = list(reversed(history.events[-RECENT_EVENTS:]))
    if recent:
        out.append(_table(["When (UTC)", "Model", *_EVENT_HEADER[1:]],
                          _event_rows(recent, page, index, options, with_target=True)))
        out.append(f"\n<a href='{link(page, ACTIVITY)}'>All activity →</a> · "
                   f"<a href='{link(page, FEED)}'>Stage changes feed (Atom)</a>\n")
    else:
        out.append('<p class="rg-muted">No recorded changes yet.</p>\n')
    return "".join(out)


def _model_list(index: RegistryIndex, history: History, lookups: _Lookups,
                options: SiteOptions, names: Sequence[str]) -> dict[str, str]:
    chunks = _paginate(names, options.page_size)
    paths = [MODELS] + [f"models/index/{n}.md" for n in range(2, len(chunks) + 1)]
    pages = {}
    for number, (path, chunk) in enumerate(zip(paths, chunks, strict=True), start=1):
        head = _WIDE if number == 1 else _NO_SEARCH
        title = "# Models\n\n" if number == 1 else f"# Models (page {number})\n\n"
        body = [head, title, _pager(path, paths, number)]
        if not names:
            body.append('<p class="rg-muted">No registered models yet.</p>\n')
        else:
            body.append(_table(_MODEL_HEADER, _model_rows(
                [str(n) for n in chunk], path, index, history, lookups)))
        pages[path] = "".join(body)
    return pages


def _key_metrics(model: RegisteredModel) -> list[str]:
    latest = model.latest
    return list(latest.record.metrics)[:KEY_METRICS] if latest else []


def _version_rows(model: RegisteredModel, versions: Sequence[ModelVersion], page: str,
                  metrics: Sequence[str]) -> list[list[str]]:
    rows = []
    for version in versions:
        record = version.record
        aliases = " ".join(_alias_chip(a) for a in model.aliases_of(version.version))
        run = record.lineage.run_url or None
        run_cell = external_link(run, record.lineage.run_id or "run") if run else (
            escape_text(record.lineage.run_id) if record.lineage.run_id else "—")
        rows.append([
            f"<a href='{link(page, version_page(model.name, version.version))}'>"
            f"<b>v{version.version}</b></a>",
            stage_badge(version.stage),
            aliases or " ",
            _day(record.created_at),
            escape_text(record.created_by),
            *[_number(record.metrics[m]) if m in record.metrics else "—" for m in metrics],
            run_cell,
        ])
    return rows


def _model_uris(model: RegisteredModel, lookups: _Lookups) -> list[tuple[str, int]]:
    uris: list[tuple[str, int]] = []
    for alias, number in sorted(model.aliases.items()):
        uris.append((f"models:/{model.name}@{alias}", number))
    for number in lookups.stage_top.get(model.name, {}).values():
        spelled = model.version(number).stage
        uris.append((f"models:/{model.name}/{spelled}", number))
    if model.latest:
        uris.append((f"models:/{model.name}/latest", model.latest.version))
    return uris


def _uri_cell(uri: str) -> str:
    # URIs are built from validated identifiers; escaped anyway.
    return (f'<code class="rg-uri">{escape_text(uri)}</code> '
            f'<button class="rg-copy" type="button" data-copy="{escape_attribute(uri)}" '
            f'title="Copy to clipboard">Copy</button>')


def _stage_timeline(model: RegisteredModel, history: History,
                    default_stage: str) -> list[list[str]]:
    """Which version held which stage, when: one row per (version, stage) interval."""
    intervals: list[tuple[datetime, datetime | None, int, str]] = []
    open_: dict[int, tuple[datetime, str]] = {}
    for event in history.for_model(model.name):
        if event.version is None or event.kind not in {"registered", "stage", "removed"}:
            continue
        previous = open_.pop(event.version, None)
        if previous is not None:
            intervals.append((previous[0], event.commit.date, event.version, previous[1]))
        if event.kind != "removed" and event.new:
            open_[event.version] = (event.commit.date, event.new)
    for number, (start, stage) in open_.items():
        intervals.append((start, None, number, stage))
    intervals = [i for i in intervals if i[3] != default_stage]
    intervals.sort(key=lambda i: (i[0], i[2]), reverse=True)
    return [[stage_badge(stage), f"v{number}", _date(start), _date(end) if end else "now"]
            for start, end, number, stage in intervals[:TIMELINE_ROWS]]


_MERMAID_KEEP = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .-_:")
_MERMAID_ESCAPES = {code: f"#{code};" for code in range(128) if chr(code) not in _MERMAID_KEEP}


def _mermaid_label(text: str) -> str:
    """A Mermaid node label: every ASCII character that could end or script a label
    becomes one of Mermaid's ``#NNN;`` entity codes."""
    return text[:60].translate(_MERMAID_ESCAPES)


class _Graph:
    """A Mermaid flowchart; node ids are generated, labels escaped by :func:`_mermaid_label`."""

    _SHAPES: ClassVar[dict[str, tuple[str, str]]] = {
        "dataset": ('[("', '")]'), "run": ('(["', '"])'), "version": ('["', '"]'),
        "model": ('[["', '"]]'),
    }

    def __init__(self) -> None:
        self.nodes: dict[str, str] = {}
        self.lines: list[str] = []
        self.edges: list[str] = []
        self._seen_edges: set[tuple[str, str]] = set()

    def node(self, key: str, label: str, shape: str) -> str:
        if key not in self.nodes:
            node_id = f"n{len(self.nodes)}"
            opening, closing = self._SHAPES[shape]
            self.nodes[key] = node_id
            self.lines.append(f"  {node_id}{opening}{_mermaid_label(label)}{closing}")
        return self.nodes[key]

    def edge(self, source: str, target: str) -> None:
        if (source, target) not in self._seen_edges:
            self._seen_edges.add((source, target))
            self.edges.append(f"  {source} --> {target}")

    def source(self) -> str:
        """The Mermaid source text."""
        return "flowchart LR\n" + "\n".join(self.lines + self.edges)

    def render(self) -> str:
        """The graph as the raw HTML that pymdownx.superfences writes for a ``mermaid``
        fence (what Material draws), so it renders whatever Markdown extensions the
        site's ``mkdocs.yml`` enables, and costs Markdown nothing to pass through."""
        return _html(f'<pre class="mermaid"><code>{_html_escape(self.source(), quote=False)}'
                     "</code></pre>")


def _version_graph(graph: _Graph, version: ModelVersion, lookups: _Lookups) -> None:
    lineage = version.record.lineage
    me = graph.node(f"v:{version.name}:{version.version}", f"{version.name} v{version.version}",
                    "version")
    upstream = me
    if lineage.run_id or lineage.run_url:
        run = graph.node(f"r:{lineage.run_id or lineage.run_url}",
                         f"run {lineage.run_id or ''}".strip(), "run")
        graph.edge(run, me)
        upstream = run
    for dataset in lineage.datasets:
        node = graph.node(f"d:{dataset.name}:{dataset.md5 or dataset.url or dataset.path}",
                          dataset.name, "dataset")
        graph.edge(node, upstream)
    for parent in lineage.parents:
        target = lookups.resolve(parent)
        label = f"{target.name} v{target.version}" if target else parent
        key = f"v:{target.name}:{target.version}" if target else f"u:{parent}"
        graph.edge(graph.node(key, label, "version"), me)
    for child in lookups.children.get((version.name, version.version), [])[:5]:
        node = graph.node(f"v:{child.name}:{child.version}", f"{child.name} v{child.version}",
                          "version")
        graph.edge(me, node)


def _model_pages(model: RegisteredModel, history: History, lookups: _Lookups,
                 options: SiteOptions) -> dict[str, str]:
    name = model.name
    page = model_page(name)
    record = model.record
    out = [_WIDE, f"# {name}\n\n"]
    latest = model.latest
    facts = [
        ["Owners", escape_text(", ".join(record.owners)) or "—"],
        ["Tags", " ".join(f'<span class="rg-tag">{escape_text(k)}: {escape_text(v)}</span>'
                          for k, v in sorted(record.tags.items())) or "—"],
        ["Aliases", " ".join(
            f"{_alias_chip(a)} → <a href='{link(page, version_page(name, v))}'>v{v}</a>"
            if _has_version(model, v) else f"{_alias_chip(a)} → v{v}"
            for a, v in sorted(model.aliases.items())) or "—"],
        ["Versions", str(len(model.versions))],
        ["Latest", f"<a href='{link(page, version_page(name, latest.version))}'>"
                   f"v{latest.version}</a>" if latest else "—"],
    ]
    out.append(_description_block(record.description))
    out.append("\n" + _facts(facts))
    out.append("\n" + _html(SEARCH_END))
    out.append("\n## Load it\n\n")
    uris = _model_uris(model, lookups)
    if uris:
        out.append(_table(["URI", "Resolves to"], [
            [_uri_cell(uri), f"<a href='{link(page, version_page(name, n))}'>v{n}</a>"]
            for uri, n in uris]))
        # The URI is built from validated identifiers only, so it is safe in a code block.
        out.append('\n```python\nimport registry_gen\n\nmodel = registry_gen.load_model('
                   f'"{uris[0][0]}")\n```\n')
    else:
        out.append('<p class="rg-muted">No versions yet.</p>\n')

    versions = list(reversed(model.versions))
    metrics = _key_metrics(model)
    chunks = _paginate(versions, options.page_size)
    extra_paths = [f"models/{name}/versions/{n}.md" for n in range(2, len(chunks) + 1)]
    paths = [page, *extra_paths]
    header = ["Version", "Stage", "Aliases", "Created", "Author",
              *[escape_text(m) for m in metrics], "Run"]
    out.append("\n## Versions\n\n")
    out.append(_pager(page, paths, 1))
    out.append(_table(header, _version_rows(model, list(chunks[0]), page, metrics))
               if versions else '<p class="rg-muted">No versions yet.</p>\n')

    out.append("\n## Stage timeline\n\n")
    out.append(_history_note(history))
    timeline = _stage_timeline(model, history, lookups.index.policy.default_stage)
    if timeline:
        out.append(_table(["Stage", "Version", "From (UTC)", "Until"], timeline))
    elif history.complete:
        out.append('<p class="rg-muted">No version has left the default stage yet.</p>\n')

    out.append("\n## Lineage\n\n")
    graph = _Graph()
    for version in versions[:GRAPH_VERSIONS]:
        _version_graph(graph, version, lookups)
    if graph.nodes:
        out.append(graph.render())
        if len(versions) > GRAPH_VERSIONS:
            out.append(f'\n<p class="rg-muted">The {GRAPH_VERSIONS} newest versions are shown.'
                       "</p>\n")

    out.append("\n## History\n\n")
    all_events = history.for_model(name)
    events = list(reversed(all_events))[:MODEL_EVENTS]
    if events:
        out.append(_table([*_EVENT_HEADER[:1], "Version", *_EVENT_HEADER[1:]], [
            [row[0], f"v{e.version}" if e.version else "model", *row[1:]]
            for e, row in zip(events, _event_rows(events, page, lookups.index, options,
                                                  with_target=False), strict=True)
        ]))
        if len(all_events) > MODEL_EVENTS:
            out.append(f"\n<p>The {MODEL_EVENTS} newest of {len(all_events)} changes; every "
                       f"version's page has its own. <a href='{link(page, ACTIVITY)}'>All "
                       "activity →</a></p>\n")
    else:
        out.append('<p class="rg-muted">No recorded changes.</p>\n')
    pages = {page: "".join(out)}
    for number, path in enumerate(extra_paths, start=2):
        chunk = list(chunks[number - 1])
        pages[path] = "".join([
            _NO_SEARCH, f"# {name}: versions (page {number})\n\n",
            f"<a href='{link(path, page)}'>← {name}</a>\n\n", _pager(path, paths, number),
            _table(header, _version_rows(model, chunk, path, metrics)),
        ])
    return pages


def _facts(rows: Sequence[Sequence[str]]) -> str:
    items = "".join(f"<dt>{label}</dt><dd>{value}</dd>\n" for label, value in rows)
    return _html(f'<dl class="rg-facts">\n{items}</dl>')


def _version(model: RegisteredModel, version: ModelVersion, previous: ModelVersion | None,
             history: History, lookups: _Lookups, options: SiteOptions) -> str:
    name, number, record = model.name, version.version, version.record
    page = version_page(name, number)
    out = [f"<p><a href='{link(page, model_page(name))}'>{name}</a> › v{number}</p>\n"]
    aliases = " ".join(_alias_chip(a) for a in model.aliases_of(number))
    out.append(_facts([
        ["Stage", stage_badge(version.stage)],
        ["Aliases", aliases or "—"],
        ["URI", _uri_cell(str(version.uri))],
        ["Created", f"{_date(record.created_at)} UTC by {escape_text(record.created_by)}"],
        ["Tags", " ".join(f'<span class="rg-tag">{escape_text(k)}: {escape_text(v)}</span>'
                          for k, v in sorted(record.tags.items())) or "—"],
    ]))
    out.append("\n" + _description_block(record.description))

    pointer = version.pointer
    out.append(_heading("Artifact"))
    artifact_rows = [
        ["Path", f"<code>{escape_text(version.artifact_path)}</code>"],
        ["Format", escape_text(record.artifact.format)],
        ["MD5", f"<code>{escape_text(pointer.md5)}</code>" if pointer else "—"],
        ["Size", _size(pointer.size if pointer else None)],
    ]
    if pointer and pointer.nfiles is not None:
        artifact_rows.append(["Files", str(pointer.nfiles)])
    if record.artifact.trusted_types:
        artifact_rows.append(["Trusted types", ", ".join(
            f"<code>{escape_text(t)}</code>" for t in record.artifact.trusted_types)])
    out.append(_facts(artifact_rows))

    lineage = record.lineage
    out.append(_heading("Lineage"))
    lineage_rows = []
    if lineage.run_id or lineage.run_url:
        lineage_rows.append(["Run", external_link(lineage.run_url, lineage.run_id or
                                                  lineage.run_url or "")])
    if lineage.code:
        repo = lineage.code.repo
        commit_label = escape_text(lineage.code.commit)
        repo_link = external_link(repo)
        commit_link = external_link(f"{repo.rstrip('/')}/commit/{lineage.code.commit}",
                                    lineage.code.commit[:12]) \
            if repo.startswith("https://github.com/") else f"<code>{commit_label}</code>"
        lineage_rows.append(["Code", f"{repo_link} @ {commit_link}"])
    for parent in lineage.parents:
        target = lookups.resolve(parent)
        shown = f"<code>{escape_text(parent)}</code>"
        if target is not None:
            shown += (f" → <a href='{link(page, version_page(target.name, target.version))}'>"
                      f"{target.name} v{target.version}</a>")
        lineage_rows.append(["Parent", shown])
    for child in lookups.children.get((name, number), []):
        lineage_rows.append([
            "Child", f"<a href='{link(page, version_page(child.name, child.version))}'>"
                     f"{child.name} v{child.version}</a>"])
    if lineage_rows:
        out.append(_facts(lineage_rows))
    if lineage.datasets:
        out.append("\n" + _table(["Dataset", "Location", "MD5"], [
            [escape_text(d.name),
             external_link(d.url) if d.url else (
                 f"<code>{escape_text(d.path)}</code>" if d.path else "—"),
             f"<code>{escape_text(d.md5)}</code>" if d.md5 else "—"]
            for d in lineage.datasets]))
    graph = _Graph()
    _version_graph(graph, version, lookups)
    if len(graph.nodes) > 1:
        out.append(graph.render())
    if not lineage_rows and not lineage.datasets:
        out.append('<p class="rg-muted">No lineage recorded.</p>\n')

    if record.params:
        out.append(_heading("Parameters"))
        out.append(_table(["Parameter", "Value"], [
            [escape_text(k), f"<code>{_number(v)}</code>"] for k, v in record.params.items()]))
    out.append(_heading("Metrics"))
    if record.metrics:
        before = previous.record.metrics if previous else {}
        label = f"Δ vs v{previous.version}" if previous else "Δ"
        out.append(_table(["Metric", "Value", label], [
            [escape_text(k), _number(v), _delta(v, before.get(k))]
            for k, v in record.metrics.items()]))
    else:
        out.append('<p class="rg-muted">No metrics recorded.</p>\n')
    if record.signature:
        out.append(_heading("Signature"))
        for title, specs in (("Inputs", record.signature.inputs),
                             ("Outputs", record.signature.outputs)):
            if specs:
                out.append(f"<p><b>{title}</b></p>\n" + _table(["Name", "Type", "Shape"], [
                    [escape_text(s.name or "—"), f"<code>{escape_text(s.type)}</code>",
                     escape_text(s.shape) if s.shape is not None else "—"]
                    for s in specs]) + "\n")
    out.append(_heading("History"))
    out.append(_history_note(history))
    events = list(reversed(history.for_version(name, number)))
    if events:
        out.append(_table(_EVENT_HEADER, _event_rows(events, page, lookups.index, options,
                                                     with_target=False)))
    elif history.complete:
        out.append('<p class="rg-muted">Not committed yet.</p>\n')
    return f"{_NO_SEARCH}# {name} v{number}\n\n{_one_block(out)}"


def _heading(title: str) -> str:
    """A second-level heading in HTML, with the permalink the ``toc`` extension adds."""
    slug = title.lower()
    return (f'<h2 id="{slug}">{title}<a class="headerlink" href="#{slug}" '
            'title="Permanent link">&para;</a></h2>\n')


def _one_block(parts: Iterable[str]) -> str:
    """HTML parts as one raw HTML block: Markdown then handles the whole page body as a
    single stashed string, instead of parsing and inline-processing each part (at
    10,000 version pages that is about a tenth of the build)."""
    body = "".join(parts).replace(f"{HTML_START}\n", "").replace(f"\n{HTML_END}\n", "\n")
    return _html(body.strip("\n"))


def _delta(value: float, before: float | None) -> str:
    if before is None:
        return "—"
    change = value - before
    if change == 0:
        return '<span class="rg-delta">±0</span>'
    kind = "up" if change > 0 else "down"
    return f'<span class="rg-delta rg-{kind}">{change:+.4g}</span>'


def _activity(index: RegistryIndex, history: History, options: SiteOptions) -> dict[str, str]:
    events = list(reversed(history.events))
    chunks = _paginate(events, options.page_size)
    paths = [ACTIVITY] + [f"models/activity/{n}.md" for n in range(2, len(chunks) + 1)]
    pages = {}
    for number, (path, chunk) in enumerate(zip(paths, chunks, strict=True), start=1):
        body = [_WIDE if number == 1 else _NO_SEARCH,
                "# Activity\n\n" if number == 1 else f"# Activity (page {number})\n\n"]
        if number == 1:
            body.append(_history_note(history))
            body.append(f"Every change to the registry, newest first. "
                        f"<a href='{link(path, FEED)}'>Stage changes as an Atom feed</a>.\n\n")
        body.append(_pager(path, paths, number))
        if chunk:
            body.append(_table(["When (UTC)", "Model", *_EVENT_HEADER[1:]], _event_rows(
                chunk, path, index, options,
                with_target=True)))
        else:
            body.append('<p class="rg-muted">No recorded changes yet.</p>\n')
        pages[path] = "".join(body)
    return pages


def _lineage(index: RegistryIndex, lookups: _Lookups) -> dict[str, str]:
    """The global lineage view: which models feed which, one row per (parent, child) pair.

    A small registry gets one Mermaid graph of every model; a large one gets the
    table, paginated (:data:`LINEAGE_ROWS` pairs a page, sorted by parent), and
    every model name links to that model's own lineage graph.
    """
    edges: dict[tuple[str, str], int] = defaultdict(int)
    for version in index.versions():
        for parent in version.record.lineage.parents:
            target = lookups.resolve(parent)
            if target is not None and target.name != version.name:
                edges[(target.name, version.name)] += 1
    intro = ["# Lineage\n\n",
             "How registered models feed each other: an arrow from A to B means a version "
             "of B names a version of A as its parent.\n\n"]
    if not edges:
        return {LINEAGE: "".join([_WIDE, *intro,
                                  '<p class="rg-muted">No model names another as its parent '
                                  "yet.</p>\n"])}
    involved = sorted({n for pair in edges for n in pair})
    pairs = sorted(edges.items())
    chunks = _paginate(pairs, LINEAGE_ROWS)
    paths = [LINEAGE] + [f"models/lineage/{n}.md" for n in range(2, len(chunks) + 1)]
    pages = {}
    for number, (path, chunk) in enumerate(zip(paths, chunks, strict=True), start=1):
        out = [_WIDE if number == 1 else _NO_SEARCH]
        if number == 1:
            out += intro
            if len(involved) <= GLOBAL_GRAPH_NODES:
                graph = _Graph()
                for parent_name, child_name in sorted(edges):
                    graph.edge(graph.node(parent_name, parent_name, "model"),
                               graph.node(child_name, child_name, "model"))
                out.append(graph.render() + "\n")
            else:
                out.append(f'<p class="rg-muted">{len(involved)} models are linked by '
                           f"{len(edges)} parent–child pairs, too many for one graph: follow "
                           "a model's name to its own lineage graph.</p>\n\n")
        else:
            out.append(f"# Lineage (page {number})\n\n")
        out.append(_pager(path, paths, number))
        out.append(_table(["Parent model", "Child model", "Versions"], [
            [f"<a href='{link(path, model_page(s))}#lineage'>{s}</a>",
             f"<a href='{link(path, model_page(t))}#lineage'>{t}</a>", str(n)]
            for (s, t), n in chunk]))
        pages[path] = "".join(out)
    return pages


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    """Escape text for XML, dropping the characters XML 1.0 cannot hold."""
    return _xml_escape(_XML_INVALID.sub("", text), {'"': "&quot;"})


def render_feed(index: RegistryIndex, history: History, options: SiteOptions | None = None,
                *, updated: datetime | None = None) -> str:
    """An Atom feed (XML text) of the newest stage transitions and registrations."""
    options = options or SiteOptions()
    base = (options.site_url or "").rstrip("/") + "/" if options.site_url else ""
    entries = [e for e in reversed(history.events) if e.kind in {"stage", "registered"}]
    entries = entries[:FEED_ENTRIES]
    stamp = (entries[0].commit.date if entries else updated or datetime(1970, 1, 1, tzinfo=UTC))
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n',
        "  <title>Model registry: stage changes</title>\n",
        f"  <id>{_xml(base or 'urn:registry-gen:feed')}models/feed.xml</id>\n"
        if base else "  <id>urn:registry-gen:stage-feed</id>\n",
        f"  <updated>{stamp.astimezone(UTC).isoformat()}</updated>\n",
    ]
    if base:
        parts.append(f'  <link rel="alternate" href="{_xml(base)}models/activity/"/>\n')
    for event in entries:
        if event.kind == "stage":
            title = f"{event.model} v{event.version}: {event.old} → {event.new}"
        else:
            title = f"{event.model} v{event.version} registered in {event.new}"
        entry_id = f"urn:registry-gen:{event.commit.sha}:{event.model}:{event.version}:{event.kind}"
        parts.append("  <entry>\n")
        parts.append(f"    <title>{_xml(title)}</title>\n")
        parts.append(f"    <id>{_xml(entry_id)}</id>\n")
        parts.append(f"    <updated>{event.commit.date.astimezone(UTC).isoformat()}</updated>\n")
        parts.append(f"    <author><name>{_xml(event.commit.author)}</name></author>\n")
        if base:
            parts.append(f'    <link href="{_xml(base)}models/{event.model}/'
                         f'{event.version}/"/>\n')
        summary = event.commit.subject + (f" (#{event.commit.pr})" if event.commit.pr else "")
        parts.append(f"    <summary>{_xml(summary)}</summary>\n")
        parts.append("  </entry>\n")
    parts.append("</feed>\n")
    return "".join(parts)


def nav_pages(pages: Mapping[str, str]) -> set[str]:
    """The generated pages that belong in the site's navigation."""
    return {p for p in NAV_PAGES if p in pages}
