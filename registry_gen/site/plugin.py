"""The MkDocs adapter: ``plugins: [registry]`` in ``mkdocs.yml``.

Thin on purpose (MkDocs 1.x is in maintenance): it reads the registry, its git
history, its DVC remote and revision, and writes the files that the pure
:func:`registry_gen.site.render.iter_files` yields (the stream of
:func:`~registry_gen.site.render.build_files`). The navigation's few pages are
handed to MkDocs as generated files; every other file is written in
``on_post_build``, one at a time, each page through MkDocs' own page steps
(:mod:`registry_gen.site._stream`), so the build never holds the whole site. A
model whose inputs (:mod:`registry_gen.site._keys`), or a page whose Markdown, and
build settings are those of the last build is taken from the incremental cache
instead of being rendered again (:mod:`registry_gen.site._incremental`); the site
folder is rebuilt in place (:mod:`registry_gen.site._sitedir`) and the history read
only since the last build's commit (:mod:`registry_gen.history._cache`). Nothing is
written into ``docs/``; a
hand-written page at the same path wins. Beyond that it only wires MkDocs: the
stylesheet, script and self-hosted Mermaid, the Markdown extension that passes
generated HTML blocks through, the search index of model pages, and live reload
during ``mkdocs serve``.

Options (all optional)::

    plugins:
      - search
      - registry:
          root: .              # the registry (default: the folder of mkdocs.yml)
          history: true        # read stage/alias history from git
          page_size: 30        # rows per table page
          mermaid: node_modules/mermaid/dist/mermaid.min.js   # self-hosted Mermaid
          cache: true          # incremental builds (cache in the user's cache folder)

Only the few top pages (home, models, activity, lineage) go into the
navigation; model and version pages are reached through links. MkDocs renders
the whole navigation into every page, so a navigation that grew with the
registry would make the build quadratic.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import re
import threading
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from markdown import Markdown  # type: ignore[import-untyped]
from markdown.extensions import Extension  # type: ignore[import-untyped]
from markdown.preprocessors import Preprocessor  # type: ignore[import-untyped]
from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from registry_gen import _git
from registry_gen.errors import GitError
from registry_gen.history import History, read_history
from registry_gen.history._cache import read_history_cached
from registry_gen.paths import MODELS_DIR, POLICY_FILE
from registry_gen.store import RegistryIndex, load_index

from ._incremental import CacheStats, PageCache, build_fingerprint, site_cache_folder
from ._objects import object_files
from ._sitedir import SiteFolder
from ._stream import PageWriter
from .api import committed_revision, read_dvc_remote
from .render import (
    ASSET_DIR,
    HTML_END,
    HTML_START,
    SEARCH_END,
    PageGroup,
    SiteInputs,
    SiteOptions,
    iter_files,
    iter_site,
)

log = logging.getLogger("mkdocs.plugins.registry")

# `docs serve` rebuilds in the same process after every edit. The history is git's: an edit
# in the working tree does not change it, a new commit does. So it is read again only when
# HEAD moves (one entry: the registry being served).
_HISTORY_OF_HEAD: dict[Path, tuple[str, History]] = {}

DEFAULT_MERMAID = "node_modules/mermaid/dist/mermaid.min.js"
_FENCE = re.compile(f"{re.escape(HTML_START)}\n(.*?)\n{re.escape(HTML_END)}", re.DOTALL)


class _StashRawBlocks(Preprocessor):  # type: ignore[misc]
    """Store each generated HTML block in Markdown's HTML stash as it is."""

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if HTML_START not in text:
            return lines
        out: list[str] = []
        for index, part in enumerate(_FENCE.split(text)):
            if index % 2:
                out.append(f"\n\n{self.md.htmlStash.store(part.strip())}\n\n")
            else:
                out.append(part)
        return "".join(out).split("\n")


class RawBlocks(Extension):  # type: ignore[misc]
    """Markdown extension: the registry's generated HTML blocks skip Markdown's HTML parser."""

    def extendMarkdown(self, md: Markdown) -> None:
        """Register the pass-through before Markdown's HTML block parser."""
        # After whitespace normalisation (30, which drops stash markers) and before the HTML
        # block parser (20).
        md.preprocessors.register(_StashRawBlocks(md), "registry_gen_raw_blocks", 25)


class RegistryPluginConfig(Config):  # type: ignore[no-untyped-call]
    """The plugin's options in ``mkdocs.yml`` (see the module's docstring)."""

    root = c.Optional(c.Type(str))
    history = c.Type(bool, default=True)
    page_size = c.Type(int, default=30)
    mermaid = c.Optional(c.Type(str))
    cache = c.Type(bool, default=True)


class RegistryPlugin(BasePlugin[RegistryPluginConfig]):  # type: ignore[no-untyped-call]
    """Generates the registry's pages, feed, JSON API and assets during the build."""

    def __init__(self) -> None:
        """Start unconfigured: :meth:`on_config` finds the registry."""
        self._root = Path()
        self._mermaid: Path | None = None
        self._command = "build"
        self._dirty = False
        self._site: SiteFolder | None = None
        self._full_content: dict[str, str] = {}
        self._existing: set[str] = set()
        self._options = SiteOptions()
        self._inputs: SiteInputs | None = None
        self._files = Files([])
        self._nav: Navigation | None = None
        self._env: Any = None
        self.last_stats: CacheStats | None = None

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        """Find the registry and Mermaid; add the assets and the Markdown extension."""
        base = Path(config.config_file_path or ".").resolve().parent
        self._root = (base / self.config.root).resolve() if self.config.root else base
        mermaid = base / (self.config.mermaid or DEFAULT_MERMAID)
        self._mermaid = mermaid if mermaid.is_file() else None
        if self.config.mermaid and self._mermaid is None:
            log.warning("registry: Mermaid not found at %s; using the theme's default", mermaid)
        elif self._mermaid is None:
            log.info("registry: no self-hosted Mermaid at %s; the theme loads its own", mermaid)
        config.extra_css.append(f"{ASSET_DIR}/registry.css")
        # Material uses a global `mermaid` when one is loaded instead of fetching its CDN copy.
        if self._mermaid is not None:
            config.extra_javascript.append(f"{ASSET_DIR}/mermaid.min.js")
        config.extra_javascript.append(f"{ASSET_DIR}/registry.js")
        config.markdown_extensions.append(RawBlocks())
        return config

    def on_startup(self, *, command: str, dirty: bool) -> None:
        """Remember whether this is a ``build`` (see :meth:`_read_registry`)."""
        self._command = command
        self._dirty = dirty

    # Before MkDocs empties the site folder: the last build's files are set aside, not
    # deleted, and taken back in on_post_build (see registry_gen.site._sitedir).
    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        """Set the last build's files aside when the incremental cache is on."""
        self._site = None
        if self.config.cache and not self._dirty:
            self._site = SiteFolder(Path(config.site_dir))
            self._site.set_aside()

    def on_build_error(self, *, error: Exception) -> None:
        """Drop what was set aside: the next build starts from an empty folder."""
        if self._site is not None:
            self._site.discard()
            self._site = None

    def _read_registry(self) -> tuple[RegistryIndex, History]:
        """The registry's index and its history (an empty one when ``history: false``)."""
        if not self.config.history:
            return load_index(self._root), History.of((), complete=False)
        if (
            self._command == "build"
            and threading.active_count() == 1
            and "fork" in multiprocessing.get_all_start_methods()
        ):
            # Reading the history (git log + every record version) and loading the index
            # are independent and each takes seconds at 10,000 versions: read the history
            # in a forked process meanwhile. Only in a single-threaded `build`: forking a
            # process with threads (`serve`'s server, a host application's) is unsafe.
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                pending = pool.submit(_read_history, self._root, cache=self.config.cache)
                index = load_index(self._root)
                return index, pending.result()
        return load_index(self._root), _history_of_head(self._root, cache=self.config.cache)

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        """Read the registry and add the navigation's generated pages (the rest is streamed).

        Every other file :func:`build_files` returns is written in :meth:`on_post_build`,
        one at a time, so the build holds the index and one page, never the whole site.
        """
        index, history = self._read_registry()
        for error in index.errors:
            log.warning("registry: %s", error)
        if history.warning:
            log.info("registry: %s", history.warning)
        self._existing = set(files.src_uris)
        self._options = SiteOptions(
            repo_url=config.repo_url,
            page_size=max(5, self.config.page_size),
            home="index.md" not in self._existing,
            site_url=config.site_url,
            directory_urls=config.use_directory_urls,
        )
        self._inputs = SiteInputs(
            index,
            history,
            datetime.now(UTC),
            dvc_remote=read_dvc_remote(self._root),
            revision=committed_revision(self._root),
        )
        for path, content in iter_files(self._inputs, self._options, nav=True):
            if not self._hand_written(path):
                files.append(File.generated(config, path, content=content))
        # A local remote's bytes: copied by MkDocs from the remote, never held in memory.
        for path, source in object_files(self._root, index).items():
            files.append(File.generated(config, path, abs_src_path=str(source)))
        if self._mermaid is not None:
            files.append(
                File.generated(
                    config, f"{ASSET_DIR}/mermaid.min.js", abs_src_path=str(self._mermaid)
                )
            )
        self._files = files
        return files

    def _hand_written(self, path: str) -> bool:
        if path in self._existing:
            log.info("registry: docs/%s is hand-written; not generating it", path)
            return True
        return False

    def on_nav(self, nav: Navigation, /, *, config: MkDocsConfig, files: Files) -> Navigation:
        """Keep the navigation: every streamed page renders it."""
        self._nav = nav
        return nav

    @event_priority(-100)
    def on_env(self, env: Any, /, *, config: MkDocsConfig, files: Files) -> Any:
        """Keep the theme's environment, as every plugin left it, for the streamed pages."""
        self._env = env
        return env

    # Before the search plugin's own (priority 0), which writes the index.
    @event_priority(50)
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        """Write every generated file but the navigation's pages, one at a time."""
        site, self._site = self._site, None
        if self._inputs is None or self._nav is None:
            if site is not None:
                site.discard()
            return
        writer = PageWriter(config, self._files, self._nav, self._env)
        writer.cache = cache = self._open_cache(config, writer)
        if site is not None and cache is None:
            site.discard()  # every file is written: the folder is as MkDocs' clean left it
            site = None
        if site is not None:
            site.take_back()
            writer.site = site
        site_dir = Path(config.site_dir)
        # The index, the history and MkDocs' own objects live to the end of the build. Frozen,
        # the cyclic garbage collector stops walking them (some 10 million objects at 100,000
        # versions), and its full collections, which run once the objects that survived since
        # the last one outnumber a quarter of the rest, come often enough to free the pages
        # of each batch instead of waiting for a quarter of the index to pile up.
        gc.freeze()
        try:
            for item in iter_site(self._inputs, self._options):
                if isinstance(item, PageGroup):
                    self._add_group(item, writer, cache)
                    continue
                path, content = item
                if self._hand_written(path):
                    continue
                if path.endswith(".md"):
                    writer.add(path, content)
                else:
                    writer.write_file(str(site_dir / path), content.encode("utf-8"))
            writer.finish()
        finally:
            gc.unfreeze()
        if site is not None:
            site.finish()
        self._inputs = None
        if cache is not None:
            cache.save()
            stats = cache.stats
            log.info(
                "registry: %d generated pages rendered, %d unchanged reused%s",
                stats.rendered,
                stats.reused,
                f" ({stats.reason})" if stats.reason else "",
            )
            self.last_stats = stats

    def _add_group(self, group: PageGroup, writer: PageWriter, cache: PageCache | None) -> None:
        """A model's pages: taken from the cache, unrendered, when its inputs are unchanged."""
        paths = cache.group_paths(group.name, group.key) if cache is not None else None
        if cache is None or paths is None:
            listed = []
            for path, text in group.pages():
                listed.append(path)
                if not self._hand_written(path):
                    key = cache.group_key(path, group.key) if cache is not None else None
                    writer.add(path, text, key)
            if cache is not None:
                cache.remember_group(group.name, group.key, listed)
            return
        # A page the cache lost (damaged, removed) is rendered: the group once, for all of them.
        rendered: dict[str, str] = {}

        def text_of(path: str) -> str:
            if not rendered:
                rendered.update(group.pages())
            return rendered[path]

        for path in paths:
            if not self._hand_written(path):
                writer.add(path, partial(text_of, path), cache.group_key(path, group.key))
        cache.remember_group(group.name, group.key, paths)

    def _open_cache(self, config: MkDocsConfig, writer: PageWriter) -> PageCache | None:
        """The incremental cache of this site, or None when it is off or cannot be exact."""
        if not self.config.cache:
            return None
        if not writer.search.known:
            log.info(
                "registry: the search plugin's index is not recognised; "
                "rendering every page (no incremental cache)"
            )
            return None
        return PageCache.open(
            site_cache_folder(config),
            build_fingerprint(config, self._nav, self.config),
            site_dir=str(Path(config.site_dir).resolve()),
        )

    # The search plugin indexes `page.content` in its own `on_page_context`. A model page
    # offers it only its head (see render.SEARCH_END) and gets its full content back
    # right after, before the theme renders it.
    @event_priority(100)
    def _search_head_only(
        self, context: dict[str, Any], *, page: Page, config: MkDocsConfig, nav: Any
    ) -> dict[str, Any]:
        content = page.content or ""
        if SEARCH_END in content:
            self._full_content[page.file.src_uri] = content
            page.content = content.split(SEARCH_END, 1)[0]
        return context

    @event_priority(-100)
    def _restore_content(
        self, context: dict[str, Any], *, page: Page, config: MkDocsConfig, nav: Any
    ) -> dict[str, Any]:
        full = self._full_content.pop(page.file.src_uri, None)
        if full is not None:
            page.content = full
        return context

    on_page_context = CombinedEvent(_search_head_only, _restore_content)

    def on_serve(self, server: Any, /, *, config: MkDocsConfig, builder: Any) -> Any:
        """Watch the records and the policy: an edit rebuilds the site and reloads the page."""
        for watched in (self._root / MODELS_DIR, self._root / POLICY_FILE):
            if watched.exists():
                server.watch(str(watched))
        return server


def _read_history(root: Path, *, cache: bool) -> History:
    """The history of ``root``; with ``cache``, only the commits since the last build's."""
    if not cache:
        return read_history(root)
    from registry_gen.cache import default_cache_dir

    return read_history_cached(root, default_cache_dir())


def _history_of_head(root: Path, *, cache: bool) -> History:
    """The history of ``root``, read again only when its HEAD commit has changed."""
    try:
        head = _git.run(
            root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False, top_level=True
        )
    except GitError:
        head = None
    head = (head or "").strip()
    kept = _HISTORY_OF_HEAD.get(root)
    if head and kept is not None and kept[0] == head:
        return kept[1]
    history = _read_history(root, cache=cache)
    _HISTORY_OF_HEAD.clear()
    if head:
        _HISTORY_OF_HEAD[root] = (head, history)
    return history
