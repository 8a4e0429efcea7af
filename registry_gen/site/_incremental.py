"""The incremental site build: a generated page whose input did not change is not rendered.

A page's *key* is a hash of everything its HTML is made from: for a model's pages,
the hash of that model's inputs (:mod:`registry_gen.site._keys`: so they are not
even rendered to Markdown when it is unchanged), for the others their Markdown
(which the pure renderer makes from the records and the history, so it changes
exactly when what the page shows changes); its path, and the build's *fingerprint*
(registry-gen's version and code, MkDocs', the theme's and the extensions'
versions, the effective configuration and the navigation every page carries).
The cache keeps, for each page, its key, the hash of the HTML built from it and
the entries it added to the search index; the HTML itself is stored once per
content (``html/ab/abcd…``).

Trust: nothing from the cache is used unless the manifest has this format, this
registry-gen and this fingerprint, and the stored HTML still hashes to what the
manifest says; anything else is a miss (the page is rendered again). The
manifest is written atomically at the end of a build; the HTML files are
content-addressed, so a torn one fails its hash. The cache lives in the user's
cache folder (:func:`registry_gen.cache.default_cache_dir`), not in the
registry, so a pull request cannot plant one. The manifest also keeps, for the
site folder it was built in, each file's hash and ``stat`` signature, so a rebuild
in place leaves an unchanged file as it is (:mod:`registry_gen.site._sitedir`).

Example:
    >>> cache = PageCache.open(folder, fingerprint)  # doctest: +SKIP
    >>> hit = cache.lookup("models/churn/3/index.md", key)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from registry_gen import __version__
from registry_gen._cache_guard import UnsafeCache, check_private
from registry_gen._code_digest import code_digest
from registry_gen.paths import atomic_write

log = logging.getLogger("mkdocs.plugins.registry")

FORMAT = 2
MANIFEST = "manifest.json"
_BLOBS = "html"
# Packages whose code shapes a page's HTML.
_PACKAGES = ("mkdocs", "mkdocs-material", "markdown", "pymdown-extensions", "jinja2")


def sha(data: bytes) -> str:
    """The SHA-256 of ``data``, in hex: how the cache names and checks HTML."""
    return hashlib.sha256(data).hexdigest()


def code_fingerprint() -> str:
    """registry-gen's version, the site package's own code and the versions of MkDocs & co."""
    digest = code_digest(FORMAT, "registry_gen.site")
    for name in _PACKAGES:
        try:
            digest.update(f"\0{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"\0{name}=-".encode())
    return digest.hexdigest()


def stable(value: Any) -> Any:
    """``value`` as plain JSON data, objects by their type name (never their address)."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): stable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple | set | frozenset):
        items = [stable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def fingerprint(*parts: Any) -> str:
    """One hash of :func:`code_fingerprint` and ``parts`` (made :func:`stable`)."""
    text = json.dumps([code_fingerprint(), stable(list(parts))], sort_keys=True)
    return sha(text.encode())


# Settings that do not change a page's HTML (and differ between `build` and `serve`).
_IGNORED_SETTINGS = frozenset(
    {"site_dir", "docs_dir", "config_file_path", "strict", "watch", "dev_addr", "plugins", "theme"}
)


def build_fingerprint(config: Any, nav: Any, plugin_config: Any) -> str:
    """The fingerprint of a MkDocs build: settings, theme, plugins' options and navigation.

    ``config`` is the :class:`~mkdocs.config.defaults.MkDocsConfig`, ``nav`` its
    navigation after every page's title is known (``on_post_build``): the
    navigation is in every page.
    """
    settings = {key: value for key, value in config.items() if key not in _IGNORED_SETTINGS}
    theme = {
        "name": config.theme.name,
        "vars": dict(config.theme.items()),
        "dirs": list(config.theme.dirs),
    }
    plugins = {name: dict(plugin.config) for name, plugin in config.plugins.items()}
    return fingerprint(settings, theme, plugins, dict(plugin_config), _nav_outline(nav.items))


def _nav_outline(items: Iterable[Any]) -> list[Any]:
    return [
        [
            type(item).__name__,
            item.title,
            getattr(item, "url", None),
            _nav_outline(getattr(item, "children", None) or ()),
        ]
        for item in items
    ]


def site_cache_folder(config: Any) -> Path:
    """This site's cache: in the user's cache folder, one per ``mkdocs.yml``."""
    from registry_gen.cache import default_cache_dir

    source = str(Path(config.config_file_path or ".").resolve())
    return default_cache_dir() / "site-builds" / sha(source.encode())[:20]


@dataclass
class CacheStats:
    """What a build took from the cache and what it rendered."""

    reused: int = 0
    rendered: int = 0
    reason: str = ""


@dataclass
class PageCache:
    """The pages of the last build: key, HTML hash and search entries by docs path."""

    folder: Path
    fingerprint: str
    old: dict[str, list[Any]] = field(default_factory=dict)
    new: dict[str, list[Any]] = field(default_factory=dict)
    stats: CacheStats = field(default_factory=CacheStats)
    # Each model's pages of the last build: name -> [key of its inputs, its pages' paths].
    old_groups: dict[str, list[Any]] = field(default_factory=dict)
    new_groups: dict[str, list[Any]] = field(default_factory=dict)
    # The files the last build wrote in the site folder ``site_dir``: path (relative to it)
    # -> [hash of the bytes, size, mtime in ns, inode], so a file still as written is kept.
    site_dir: str = ""
    old_files: dict[str, list[Any]] = field(default_factory=dict)
    new_files: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def open(cls, folder: Path, fingerprint: str, site_dir: str = "") -> PageCache:
        """The cache in ``folder``; empty (with ``stats.reason``) if absent or not trusted.

        ``site_dir`` is the site folder of this build: the files the last build wrote
        are known only if it wrote them there.
        """
        cache = cls(folder, fingerprint, site_dir=site_dir)
        try:
            # Another local user who can write here could plant pages (docs/security.md, 9).
            for path in (folder.parent, folder, folder / _BLOBS, folder / MANIFEST):
                check_private(path, "site page cache")
        except UnsafeCache as error:
            cache.stats.reason = str(error)
            return cache
        try:
            data = json.loads((folder / MANIFEST).read_bytes())
        except FileNotFoundError:
            cache.stats.reason = "no cache yet"
            return cache
        except (OSError, ValueError) as error:
            cache.stats.reason = f"unreadable cache ignored ({error})"
            return cache
        cache.old = cls._trusted_pages(data, fingerprint, cache.stats)
        if cache.old:
            cache.old_groups = _trusted_groups(data.get("groups"))
            if site_dir and data.get("site_dir") == site_dir:
                cache.old_files = _trusted_files(data.get("files"))
        return cache

    @staticmethod
    def _trusted_pages(data: Any, fingerprint: str, stats: CacheStats) -> dict[str, list[Any]]:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            stats.reason = "cache of another format ignored"
        elif data.get("registry_gen") != __version__:
            stats.reason = "cache of another registry-gen version ignored"
        elif data.get("fingerprint") != fingerprint:
            stats.reason = "configuration, theme or code changed: cache ignored"
        elif not isinstance(data.get("pages"), dict):
            stats.reason = "malformed cache ignored"
        else:
            return {
                path: entry
                for path, entry in data["pages"].items()
                if isinstance(entry, list)
                and len(entry) == 3
                and isinstance(entry[0], str)
                and isinstance(entry[1], str)
                and isinstance(entry[2], list)
            }
        return {}

    def key(self, path: str, text: str) -> str:
        """The key of the page ``path`` with Markdown ``text`` in this build."""
        return sha(f"{self.fingerprint}\0{path}\0".encode() + text.encode("utf-8"))

    def group_key(self, path: str, inputs: str) -> str:
        """The key of the page ``path`` of a group whose inputs hash to ``inputs``."""
        return sha(f"{self.fingerprint}\0{path}\0group\0{inputs}".encode())

    def group_paths(self, name: str, inputs: str) -> list[str] | None:
        """The pages the group ``name`` had last time, if its inputs were ``inputs`` then."""
        entry = self.old_groups.get(name)
        return list(entry[1]) if entry is not None and entry[0] == inputs else None

    def remember_group(self, name: str, inputs: str, paths: list[str]) -> None:
        """Note the pages of the group ``name`` built from ``inputs`` (for the next build)."""
        self.new_groups[name] = [inputs, paths]

    def lookup(self, path: str, key: str) -> tuple[bytes, list[Any]] | None:
        """The HTML and search entries built last time from the same input, if they are intact."""
        entry = self.old.get(path)
        if entry is None or entry[0] != key:
            return None
        try:
            html = self._blob(entry[1]).read_bytes()
        except OSError:
            return None
        if sha(html) != entry[1]:
            log.info("registry: cached page %s is damaged; rendering it again", path)
            return None
        self.new[path] = entry
        self.stats.reused += 1
        return html, entry[2]

    def kept(self, path: str, key: str, site_file: str, info: os.stat_result) -> list[Any] | None:
        """The search entries of page ``path`` if ``site_file`` (its file in the site folder,
        with ``lstat`` ``info``) is still what the last build wrote from the same key."""
        entry = self.old.get(path)
        if entry is None or entry[0] != key:
            return None
        if self.old_files.get(site_file) != [entry[1], *_signature(info)]:
            return None
        self.new[path] = entry
        self.new_files[site_file] = self.old_files[site_file]
        self.stats.reused += 1
        return list(entry[2])

    def file_unchanged(self, site_file: str, digest: str, info: os.stat_result) -> bool:
        """Whether ``site_file`` (``lstat`` ``info``) still holds ``digest``, as last written."""
        recorded = self.old_files.get(site_file)
        if recorded is None or recorded != [digest, *_signature(info)]:
            return False
        self.new_files[site_file] = recorded
        return True

    def wrote_file(self, site_file: str, digest: str, info: os.stat_result) -> None:
        """Note the file the build wrote at ``site_file`` (for the next build)."""
        self.new_files[site_file] = [digest, *_signature(info)]

    def digest_of(self, path: str) -> str | None:
        """The hash of the HTML this build has for page ``path`` (after lookup or store)."""
        entry = self.new.get(path)
        return entry[1] if entry is not None else None

    def store(self, path: str, key: str, html: bytes, entries: Iterable[Any]) -> None:
        """Remember the page ``path`` built from ``key`` (written at :meth:`save`)."""
        digest = sha(html)
        blob = self._blob(digest)
        if not blob.is_file():
            _write_blob(blob, html)
        self.new[path] = [key, digest, list(entries)]
        self.stats.rendered += 1

    def save(self) -> None:
        """Write the manifest of this build atomically and drop HTML no page refers to."""
        _private_folders(self.folder)
        atomic_write(
            self.folder / MANIFEST,
            json.dumps(
                {
                    "format": FORMAT,
                    "registry_gen": __version__,
                    "fingerprint": self.fingerprint,
                    "pages": self.new,
                    "groups": self.new_groups,
                    "site_dir": self.site_dir,
                    "files": self.new_files,
                },
                separators=(",", ":"),
                ensure_ascii=False,
            ),
        )
        used = {entry[1] for entry in self.new.values()}
        blobs = self.folder / _BLOBS
        for shard in blobs.iterdir() if blobs.is_dir() else ():
            for blob in shard.iterdir():
                if blob.name not in used:
                    blob.unlink(missing_ok=True)

    def _blob(self, digest: str) -> Path:
        return self.folder / _BLOBS / digest[:2] / digest


def _signature(info: os.stat_result) -> list[int]:
    return [info.st_size, info.st_mtime_ns, info.st_ino]


def _trusted_files(data: Any) -> dict[str, list[Any]]:
    """The manifest's site files whose every field has its type."""
    if not isinstance(data, dict):
        return {}
    return {
        path: entry
        for path, entry in data.items()
        if isinstance(entry, list)
        and len(entry) == 4
        and isinstance(entry[0], str)
        and all(type(v) is int for v in entry[1:])
    }


def _trusted_groups(data: Any) -> dict[str, list[Any]]:
    """The manifest's groups whose every field has its type (the others are misses)."""
    if not isinstance(data, dict):
        return {}
    return {
        name: entry
        for name, entry in data.items()
        if isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and isinstance(entry[1], list)
        and all(isinstance(path, str) for path in entry[1])
    }


def _write_blob(path: Path, data: bytes) -> None:
    # No fsync: a blob is checked against its name (its hash) before it is used.
    _private_folders(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".blob-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _private_folders(folder: Path) -> None:
    """Make ``folder`` and its missing parents 0700, whatever the umask (as cache.py does)."""
    missing = [folder, *folder.parents]
    missing = [p for p in missing if not p.exists()]
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
        path.chmod(0o700)  # mkdir's mode is masked by the umask
