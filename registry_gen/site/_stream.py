"""MkDocs' own page pipeline for one generated page at a time.

``mkdocs build`` reads every page, keeps its Markdown, HTML and table of
contents, and only then renders the theme into each: at 100,000 versions that
held about 50 KB a version (5 GB). The registry's generated pages are out of the
navigation, so nothing else needs them while they are built: :class:`PageWriter`
runs each through the same steps as MkDocs (the same plugin events, Markdown
extensions, theme template and search index; see ``mkdocs.commands.build``'s
``_populate_page`` and ``_build_page``), writes it, and lets it go.

:class:`PageWriter` also returns what the page added to the search index, so a
page served from the incremental cache (:mod:`registry_gen.site._incremental`)
can put the same entries back without being rendered.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from mkdocs import utils
from mkdocs.commands.build import get_context
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.plugins.registry")

# The search plugins of MkDocs (`search`) and Material (`material/search`): where each keeps
# its index's entries.
_SEARCH_PLUGINS = ("search", "material/search")
_ENTRY_LISTS = ("entries", "_entries")


class SearchEntries:
    """The entries list of the site's search index (or none when there is no search)."""

    def __init__(self, config: MkDocsConfig) -> None:
        """Find the search plugin's list of entries; ``known`` is false if it cannot be found."""
        self.entries: list[Any] | None = []
        self.known = True
        for name in _SEARCH_PLUGINS:
            plugin = config.plugins.get(name)
            if plugin is None:
                continue
            index = getattr(plugin, "search_index", None)
            found = [
                getattr(index, attr)
                for attr in _ENTRY_LISTS
                if isinstance(getattr(index, attr, None), list)
            ]
            self.entries = found[0] if found else None
            self.known = bool(found)
            return

    def count(self) -> int:
        """How many entries the index holds now."""
        return len(self.entries) if self.entries is not None else 0

    def since(self, start: int) -> list[Any]:
        """The entries added after the first ``start``."""
        return list(self.entries[start:]) if self.entries is not None else []

    def extend(self, added: Iterable[Any]) -> None:
        """Add entries (those a cached page added when it was rendered)."""
        if self.entries is not None:
            self.entries.extend(added)


class PageWriter:
    """Renders generated pages one at a time with the theme, as ``mkdocs build`` would.

    ``files`` are the site's files (links are checked against them), ``nav`` and
    ``env`` the navigation and the theme's Jinja environment after every plugin
    has seen them.
    """

    def __init__(self, config: MkDocsConfig, files: Files, nav: Navigation, env: Any) -> None:
        """Keep what every page's template context needs."""
        self.config = config
        self.files = files
        self.nav = nav
        self.env = env
        self.doc_files = files.documentation_pages()
        self.search = SearchEntries(config)
        self.locations: list[str] = []

    def destination(self, path: str) -> Path:
        """Where the page ``path`` (docs-relative Markdown) is written, and its URL noted."""
        file = self._file(path, "")
        self._note_url(file.url)
        return Path(file.abs_dest_path)

    def render(self, path: str, text: str) -> tuple[bytes, list[Any]]:
        """The built HTML of the page ``path`` with Markdown ``text``, and its search entries.

        Raises:
            Exception: whatever the theme or a plugin raised, logged as MkDocs does.
        """
        file = self._file(path, text)
        page = Page(None, file, self.config)
        config = self.config
        config._current_page = page
        try:
            page = config.plugins.on_pre_page(page, config=config, files=self.files)
            page.read_source(config)
            page.markdown = config.plugins.on_page_markdown(
                page.markdown or "", page=page, config=config, files=self.files
            )
            page.render(config, self.files)
            page.content = config.plugins.on_page_content(
                page.content or "", page=page, config=config, files=self.files
            )
            page.active = True
            context = get_context(self.nav, self.doc_files, config, page)
            template = self.env.get_template(page.meta.get("template", "main.html"))
            start = self.search.count()
            context = config.plugins.on_page_context(
                context, page=page, config=config, nav=self.nav
            )
            added = self.search.since(start)
            output = config.plugins.on_post_page(template.render(context), page=page, config=config)
        except Exception:
            log.error("Error building page '%s'", path)
            raise
        finally:
            page.active = False
            config._current_page = None
        return output.encode("utf-8", errors="xmlcharrefreplace"), added

    def _file(self, path: str, text: str) -> File:
        return File.generated(self.config, path, content=text, inclusion=InclusionLevel.NOT_IN_NAV)

    def _note_url(self, url: str) -> None:
        # What the sitemap template writes for a page: its canonical URL, else its absolute one;
        # both need `site_url`.
        site_url = self.config.site_url
        if site_url:
            self.locations.append(urljoin(site_url, url))

    def finish_sitemap(self) -> None:
        """Add the streamed pages to ``sitemap.xml`` (and its ``.gz``), as MkDocs lists its own."""
        sitemap = Path(self.config.site_dir) / "sitemap.xml"
        if not self.locations or not sitemap.is_file():
            return
        text = sitemap.read_text(encoding="utf-8")
        end = text.rfind("</urlset>")
        if end < 0:
            return
        lastmod = utils.get_build_date()
        entries = "".join(
            f"    <url>\n         <loc>{escape(loc)}</loc>\n"
            f"         <lastmod>{lastmod}</lastmod>\n    </url>\n"
            for loc in self.locations
        )
        data = (text[:end] + entries + text[end:]).encode("utf-8")
        utils.write_file(data, str(sitemap))
        gz = sitemap.with_name("sitemap.xml.gz")
        if gz.exists():
            with (
                gz.open("wb") as out,
                gzip.GzipFile(
                    fileobj=out, filename=str(gz), mode="wb", mtime=utils.get_build_timestamp()
                ) as zipped,
            ):
                zipped.write(data)
