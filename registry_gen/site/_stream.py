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
import os
from collections.abc import Callable, Iterable
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

from ._incremental import PageCache, sha
from ._sitedir import SiteFolder

log = logging.getLogger("mkdocs.plugins.registry")

# Pages built together: Markdown for all of them, then the theme (a few MB of pages held).
BATCH = 200

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

    def truncate(self, count: int) -> None:
        """Drop the entries after the first ``count``."""
        if self.entries is not None:
            del self.entries[count:]

    def extend(self, added: Iterable[Any]) -> None:
        """Add entries (those a cached page added when it was rendered)."""
        if self.entries is not None:
            self.entries.extend(added)


class PageWriter:
    """Builds and writes generated pages with the theme, as ``mkdocs build`` would.

    ``files`` are the site's files (links are checked against them), ``nav`` and
    ``env`` the navigation and the theme's Jinja environment after every plugin
    has seen them; ``cache`` (optional) gives the pages whose input is unchanged.
    Pages go in with :meth:`add` and are built in batches: Markdown for a batch,
    then the theme for the batch, as MkDocs orders its own (interleaving the two
    per page cost about 15 % more CPU: each is a large body of code).
    """

    def __init__(
        self,
        config: MkDocsConfig,
        files: Files,
        nav: Navigation,
        env: Any,
        cache: PageCache | None = None,
    ) -> None:
        """Keep what every page's template context needs."""
        self.config = config
        self.files = files
        self.nav = nav
        self.env = env
        self.cache = cache
        self.site: SiteFolder | None = None
        self.doc_files = files.documentation_pages()
        self.search = SearchEntries(config)
        self.locations: list[str] = []
        self._batch: list[tuple[str, str | Callable[[], str], str | None]] = []

    def add(self, path: str, text: str | Callable[[], str], key: str | None = None) -> None:
        """Build the page ``path`` (docs-relative Markdown ``text``) with the next batch.

        ``key`` is the page's cache key when it is known without the Markdown (see
        :meth:`PageCache.group_key`); then ``text`` may be a function that renders the
        Markdown, called only if the cache does not have the page.
        """
        self._batch.append((path, text, key))
        if len(self._batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Build and write the pages added since the last batch."""
        batch, self._batch = self._batch, []
        if not batch:
            return
        start = self.search.count()
        keys = [self._key(path, text, key) for path, text, key in batch]
        hits = [self._hit(path, key) for (path, _, _), key in zip(batch, keys, strict=True)]
        misses = [
            (path, text if isinstance(text, str) else text())
            for (path, text, _), hit in zip(batch, hits, strict=True)
            if hit is None
        ]
        built = iter(self.render(misses))
        # Search entries in page order, whichever pages came from the cache.
        self.search.truncate(start)
        for (path, _, _), key, hit in zip(batch, keys, hits, strict=True):
            html, entries = hit if hit is not None else next(built)
            if hit is None and self.cache is not None:
                assert html is not None
                self.cache.store(path, key, html, entries)
            self.search.extend(entries)
            self._write(path, html)

    def _hit(self, path: str, key: str) -> tuple[bytes | None, list[Any]] | None:
        """The page from the cache: None as its HTML when its file is still in place."""
        if self.cache is None:
            return None
        if self.site is not None:
            dest = self._file(path, "").abs_dest_path
            if self.site.was_taken_back(dest):
                relative = self.site.relative(dest)
                entries = self.cache.kept(path, key, relative, os.lstat(dest))
                if entries is not None:
                    self.site.wrote(dest)
                    return None, entries
        return self.cache.lookup(path, key)

    def _key(self, path: str, text: str | Callable[[], str], key: str | None) -> str:
        if self.cache is None:
            return ""
        if key is not None:
            return key
        return self.cache.key(path, text if isinstance(text, str) else text())

    def render(self, pages: list[tuple[str, str]]) -> list[tuple[bytes, list[Any]]]:
        """The built HTML and search entries of each ``(path, Markdown text)``.

        Raises:
            Exception: whatever the theme or a plugin raised, logged as MkDocs does.
        """
        populated = [
            self._populate(Page(None, self._file(path, text), self.config)) for path, text in pages
        ]
        built = []
        for page in populated:
            built.append(self._build(page))
            # File and Page refer to each other; unlinked, both go as soon as they are dropped.
            page.file.page = None
        return built

    def _populate(self, page: Page) -> Page:
        """Markdown to HTML, with the plugins' page events (``_populate_page``)."""
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
        except Exception:
            log.error("Error reading page '%s'", page.file.src_uri)
            raise
        finally:
            config._current_page = None
        return page

    def _build(self, page: Page) -> tuple[bytes, list[Any]]:
        """The theme's page around the HTML, with the plugins' events (``_build_page``)."""
        config = self.config
        config._current_page = page
        try:
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
            log.error("Error building page '%s'", page.file.src_uri)
            raise
        finally:
            page.active = False
            config._current_page = None
        return output.encode("utf-8", errors="xmlcharrefreplace"), added

    def _write(self, path: str, html: bytes | None) -> None:
        file = self._file(path, "")
        self._note_url(file.url)
        if html is None:
            return  # kept in place (see _hit)
        if html.strip():
            digest = self.cache.digest_of(path) if self.cache is not None else None
            self.write_file(file.abs_dest_path, html, digest)
        else:
            log.info("registry: page %s generated empty output; not written", path)

    def write_file(self, dest: str, data: bytes, digest: str | None = None) -> None:
        """Write ``data`` at ``dest`` (in the site folder), unless the file already holds it."""
        site, cache = self.site, self.cache
        if site is None or cache is None:
            utils.write_file(data, dest)
            return
        digest = digest or sha(data)
        relative = site.relative(dest)
        site.wrote(dest)
        if site.was_taken_back(dest) and cache.file_unchanged(relative, digest, os.lstat(dest)):
            return
        utils.write_file(data, dest)
        cache.wrote_file(relative, digest, os.lstat(dest))

    def _file(self, path: str, text: str) -> File:
        return File.generated(self.config, path, content=text, inclusion=InclusionLevel.NOT_IN_NAV)

    def _note_url(self, url: str) -> None:
        # What the sitemap template writes for a page: its canonical URL, else its absolute one;
        # both need `site_url`.
        site_url = self.config.site_url
        if site_url:
            self.locations.append(urljoin(site_url, url))

    def finish(self) -> None:
        """Build the last batch and add every page written to ``sitemap.xml``."""
        self.flush()
        self._sitemap()

    def _sitemap(self) -> None:
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
