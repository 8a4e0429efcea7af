"""The website as data: registry index + history → ``{docs path: text}``.

Pure and linear: no MkDocs, no file or git access, and every lookup goes
through dictionaries built once, so 10,000 versions render in seconds.
:func:`build_files` is every file the site generates; the MkDocs plugin only
adds what it returns.

User text reaches the pages only through :mod:`registry_gen.site._html` (which
delegates to :mod:`registry_gen.markup`): descriptions are rendered and
sanitised, everything else (tags, metric keys, dataset names, authors, commit
messages, names) is escaped.

Pages (``NAME`` and ``VERSION`` are the registry's own, so URLs read like URIs):

====================================  ==============================================
``index.md``                          home: counts, every model, recent activity
``models/index.md`` (+ ``index/N``)   every registered model
``models/NAME/index.md``              one model (+ ``versions/N.md`` when long)
``models/NAME/VERSION/index.md``      one version
``models/activity.md`` (+ ``/N``)     every change: the newest, then pages numbered from the oldest
``models/lineage.md`` (+ ``/N``)      how models feed each other
``models/feed.xml``                   Atom feed of stage transitions
``models/OLD/index.md`` (+ versions)  a renamed model's old address, linking the new
====================================  ==============================================

Cost stays linear at 10,000 versions: long tables are paginated, version pages
stay out of the navigation and the search index, and tables are written as
HTML blocks fenced by :data:`HTML_START`/:data:`HTML_END` (with links as built
URLs), which the plugin's Markdown extension passes through unparsed.

The modules behind it: ``_urls`` (page paths, the :class:`Linker`), ``_html``
(escaping and HTML pieces), ``_context`` (options, lookups, the resolver),
``_graph`` (Mermaid lineage), ``_tables`` (shared rows), ``_pages`` (home,
models, activity, lineage), ``_model_page``, ``_version_page`` and ``_feed``.

Example:
    >>> pages = render_site(index, history)  # doctest: +SKIP
    >>> print(pages["models/churn/3/index.md"][:40])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from importlib import resources

from registry_gen._api import ApiRemote
from registry_gen.history import History
from registry_gen.store import ModelVersion, RegisteredModel, RegistryIndex

from . import _feed, _pages
from ._compare import compare_page
from ._context import Site, SiteOptions
from ._html import HTML_END, HTML_START, SEARCH_END
from ._keys import model_key, site_key
from ._model_page import model_pages
from ._moved import moved_pages
from ._timeline import timeline_pages
from ._urls import FEED, HOME, NAV_PAGES, Linker, model_page, version_page
from ._version_page import version_page_text
from .api import render_api

__all__ = [
    "ASSET_DIR",
    "FEED",
    "HTML_END",
    "HTML_START",
    "NAV_PAGES",
    "SEARCH_END",
    "Linker",
    "PageGroup",
    "SiteInputs",
    "SiteOptions",
    "asset_files",
    "build_files",
    "iter_files",
    "iter_pages",
    "iter_site",
    "model_page",
    "nav_pages",
    "render_feed",
    "render_site",
    "version_page",
]

# Where the site's own stylesheet and script go in the built site.
ASSET_DIR = "assets/registry-gen"
_ASSETS = ("registry.css", "registry.js")


def render_site(
    index: RegistryIndex, history: History, options: SiteOptions | None = None
) -> dict[str, str]:
    """Every generated page of the registry's website, keyed by docs-relative path.

    >>> render_site(index, history)["models/churn/index.md"]  # doctest: +SKIP
    '---\\nhide:...'
    """
    return dict(iter_pages(index, history, options))


def iter_pages(
    index: RegistryIndex,
    history: History,
    options: SiteOptions | None = None,
    *,
    nav: bool | None = None,
) -> Iterator[tuple[str, str]]:
    """The pages of :func:`render_site` as a stream: each rendered when asked for.

    ``nav=True`` gives only the pages of the navigation (a handful, see
    :func:`nav_pages`), ``nav=False`` every other page, ``None`` all: so a
    builder can hand MkDocs the navigation and stream the rest (a few thousand
    pages at a time are never held together).

    >>> dict(iter_pages(index, history, nav=True)).keys()  # doctest: +SKIP
    dict_keys(['index.md', 'models/index.md', 'models/activity.md', 'models/lineage.md'])
    """
    options = options or SiteOptions()
    site = Site(index, history, options, Linker(options.directory_urls))
    for section in _top_sections(site):
        for path, text in section.items():
            if nav is None or (path in NAV_PAGES) == nav:
                yield path, text
    if nav:
        return
    for name in site.names:
        yield from _model_stream(index.models[name], site)


def _model_stream(model: RegisteredModel, site: Site) -> Iterator[tuple[str, str]]:
    """The pages of one model: its page(s), its timeline, one page per version."""
    yield from model_pages(model, site).items()
    yield from timeline_pages(model, site).items()
    previous: ModelVersion | None = None
    for version in model.versions:
        yield (
            version_page(model.name, version.version),
            version_page_text(model, version, previous, site),
        )
        previous = version


def _top_sections(site: Site) -> Iterator[dict[str, str]]:
    """The registry-wide pages, section by section (each rendered when reached)."""
    if site.options.home:
        yield {HOME: _pages.home(site)}
    yield _pages.model_list(site)
    yield _pages.activity(site)
    yield _pages.lineage(site)
    yield compare_page(site)
    yield moved_pages(site)


def render_feed(
    index: RegistryIndex,
    history: History,
    options: SiteOptions | None = None,
    *,
    updated: datetime | None = None,
) -> str:
    """An Atom feed (XML text) of the newest stage transitions and registrations.

    ``updated`` dates a feed that has no entries yet.
    """
    options = options or SiteOptions()
    return _feed.feed(history, options.site_url, updated)


def nav_pages(pages: Mapping[str, str]) -> set[str]:
    """The generated pages that belong in the site's navigation."""
    return {p for p in NAV_PAGES if p in pages}


def asset_files() -> dict[str, str]:
    """The site's stylesheet and script (package data), keyed by site path."""
    assets = resources.files("registry_gen.site") / "assets"
    return {f"{ASSET_DIR}/{name}": (assets / name).read_text(encoding="utf-8") for name in _ASSETS}


@dataclass(frozen=True)
class SiteInputs:
    """Everything the site is built from, read by the caller (the MkDocs plugin).

    ``dvc_remote`` and ``revision`` go into the JSON API (see
    :func:`registry_gen.site.api.read_dvc_remote` and ``committed_revision``);
    ``generated_at`` stamps it.
    """

    index: RegistryIndex
    history: History
    generated_at: datetime
    dvc_remote: ApiRemote | None = None
    revision: str | None = None


def build_files(inputs: SiteInputs, options: SiteOptions) -> dict[str, str]:
    """Every file the site generates, keyed by docs-relative path: the pages, the feed,
    the JSON API (see :func:`registry_gen.site.api.render_api`) and the assets.

    Pure: the same inputs give the same files. :func:`iter_files` is the same as a stream.

    >>> files = build_files(SiteInputs(index, history, now), SiteOptions())  # doctest: +SKIP
    >>> "models/feed.xml" in files and "api/index.json" in files  # doctest: +SKIP
    True
    """
    return dict(iter_files(inputs, options))


def iter_files(
    inputs: SiteInputs, options: SiteOptions, *, nav: bool | None = None
) -> Iterator[tuple[str, str]]:
    """:func:`build_files` as a stream of ``(path, text)``, each file once.

    ``nav`` as for :func:`iter_pages`: ``True`` gives only the navigation's pages,
    ``False`` every other file (the feed, the JSON API and the assets included).
    """
    yield from iter_pages(inputs.index, inputs.history, options, nav=nav)
    if nav:
        return
    yield from _extra_files(inputs, options)


def _extra_files(inputs: SiteInputs, options: SiteOptions) -> Iterator[tuple[str, str]]:
    """The files beside the pages: the feed, the JSON API and the assets."""
    yield FEED, render_feed(inputs.index, inputs.history, options)
    yield from render_api(
        inputs.index,
        inputs.dvc_remote,
        inputs.generated_at,
        revision=inputs.revision,
        history=inputs.history,
    ).items()
    yield from asset_files().items()


@dataclass(frozen=True)
class PageGroup:
    """The pages of one model, with the digest of everything they are made from.

    ``key`` changes whenever any of its pages would (see
    :mod:`registry_gen.site._keys`), so a builder that kept the pages of the
    same key need not call ``pages`` (which renders them, one at a time).
    """

    name: str
    key: str
    pages: Callable[[], Iterator[tuple[str, str]]]


def iter_site(inputs: SiteInputs, options: SiteOptions) -> Iterator[PageGroup | tuple[str, str]]:
    """:func:`iter_files` with ``nav=False``, each model's pages as one :class:`PageGroup`.

    The registry-wide pages, the feed, the JSON API and the assets come as
    ``(path, text)``; flattening the groups gives :func:`iter_files`' files.

    >>> items = iter_site(inputs, SiteOptions())  # doctest: +SKIP
    >>> [g.name for g in items if isinstance(g, PageGroup)]  # doctest: +SKIP
    ['churn', 'fraud']
    """
    site = Site(inputs.index, inputs.history, options, Linker(options.directory_urls))
    for section in _top_sections(site):
        yield from ((p, t) for p, t in section.items() if p not in NAV_PAGES)
    shared = site_key(site)
    for name in site.names:
        model = inputs.index.models[name]
        yield PageGroup(name, model_key(model, site, shared), partial(_model_stream, model, site))
    yield from _extra_files(inputs, options)
