"""Where the registry is, and resolving one ``models:/`` URI against it, cheaply.

The registry is the ``registry`` argument, else ``REGISTRY_GEN_URI``, else the
git repository around the current directory. It may be written as:

==========================================  ==================================================
``/srv/registry`` or ``.``                  a local checkout (its working tree, as on disk)
``git+https://host/org/registry.git@v2``    a git URL at a revision (pip's VCS syntax);
``git+file:///srv/registry.git@main``       ``@REV`` is taken after the last ``/``
``https://host/org/registry.git#main``      any git URL or repository path, ``#REV`` after it
``/srv/registry.git`` ``git@host:o/r.git``  a git URL with no revision: its default branch
``https://org.github.io/registry/``         the published website (its JSON API, api/*.json)
==========================================  ==================================================

A ``http(s)://`` address is the website unless it starts with ``git+`` or ends
in ``.git`` (before any ``#REV``). Only what one URI needs is read:
``registry.yaml`` and ``models/NAME/``, parsed with the same strict YAML and
schemas as the whole-registry index, and the version is chosen by the one
resolver, :func:`registry_gen.resolve.resolve`, whatever the kind of registry.

This module dispatches; each kind of registry lives in its own private module:

==============================  ======================================================
``_resolved``                   :class:`ResolvedArtifact`, :class:`Registry`, the full
                                (parsing) resolution shared by a checkout and a git URL
``_local``                      :class:`LocalRegistry`, a checkout on disk
``_saved``                      :class:`SavedResolution`, a checkout resolved again
                                without parsing while its files are unchanged
``_gitrepo``                    :class:`GitRegistry`, a git URL cloned into the cache
``_site``                       :class:`SiteRegistry`, the published JSON API
                                (contract: :mod:`registry_gen._api`)
==============================  ======================================================

The one-model scan a checkout reads through is the store's
(:func:`registry_gen.store.scan_model_folder`), shared with the write side.

Example:
    >>> registry = locate("/srv/registry")  # doctest: +SKIP
    >>> registry.resolve(ModelUri.parse("models:/churn@champion")).version  # doctest: +SKIP
    3
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from registry_gen import _git
from registry_gen.cache import ArtifactCache
from registry_gen.errors import GitError, UsageError
from registry_gen.locate._gitrepo import GitRegistry
from registry_gen.locate._local import LocalRegistry
from registry_gen.locate._resolved import Registry, ResolvedArtifact
from registry_gen.locate._saved import SavedResolution
from registry_gen.locate._site import HTTP_TIMEOUT_S, SiteRegistry
from registry_gen.store import FolderScan, scan_model_folder
from registry_gen.uri import ModelUri

__all__ = [
    "HTTP_TIMEOUT_S",
    "OFFLINE_ENV",
    "REGISTRY_ENV",
    "FolderScan",
    "GitRegistry",
    "LocalRegistry",
    "ModelUri",
    "Registry",
    "ResolvedArtifact",
    "SavedResolution",
    "SiteRegistry",
    "locate",
    "offline_mode",
    "parse_location",
    "scan_model_folder",
]

REGISTRY_ENV = "REGISTRY_GEN_URI"
OFFLINE_ENV = "REGISTRY_GEN_OFFLINE"


def offline_mode() -> bool:
    """Whether ``REGISTRY_GEN_OFFLINE`` asks for cache-only loads.

    >>> offline_mode()  # doctest: +SKIP
    False
    """
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def locate(
    registry: str | Path | None = None,
    *,
    cache: ArtifactCache | None = None,
    offline: bool | None = None,
) -> Registry:
    """The registry named by ``registry``, ``REGISTRY_GEN_URI`` or the current git repository.

    >>> locate("git+https://host/org/registry.git@v2").label  # doctest: +SKIP
    'https://host/org/registry.git#v2'

    Raises:
        UsageError: the location is empty, malformed, or (when none is given) the
            current folder is not inside a git repository; a local path is not a registry.
    """
    cache = cache or ArtifactCache()
    offline = offline_mode() if offline is None else offline
    if registry is None:
        registry = os.environ.get(REGISTRY_ENV) or None
    if registry is None:
        return LocalRegistry(_enclosing_repository(Path.cwd()), cache=cache)
    if isinstance(registry, Path):
        if registry.name.endswith(".git") or _is_bare_repository(registry):
            return GitRegistry(str(registry), None, cache=cache, offline=offline)
        return LocalRegistry(registry, cache=cache)
    kind, where, rev = parse_location(registry)
    if kind == "site":
        return SiteRegistry(where, cache=cache, offline=offline)
    if kind == "git":
        return GitRegistry(where, rev, cache=cache, offline=offline)
    return LocalRegistry(Path(where), cache=cache)


def parse_location(text: str) -> tuple[str, str, str | None]:
    """Classify a registry location as ``("local", path, None)``, ``("git", url, rev)``
    or ``("site", base_url, None)`` (see the module docstring for the syntax).

    >>> parse_location("git+https://host/org/reg.git@v2")
    ('git', 'https://host/org/reg.git', 'v2')
    >>> parse_location("https://org.github.io/registry/")
    ('site', 'https://org.github.io/registry/', None)

    Raises:
        UsageError: the location is empty, or its revision is not a valid git revision.
    """
    if not isinstance(text, str) or not text.strip():
        raise UsageError("the registry location is empty")
    text, rev, forced_git = _split_revision(text.strip())
    lowered = text.lower()
    if forced_git:
        return "git", text, rev
    if lowered.startswith(("http://", "https://")):
        if lowered.rstrip("/").endswith(".git"):
            return "git", text, None
        return "site", text if text.endswith("/") else text + "/", None
    if lowered.startswith(("ssh://", "git://", "file://")) or re.match(r"^[\w.-]+@[\w.-]+:", text):
        return "git", text, None
    path = Path(text).expanduser()
    if text.rstrip("/").endswith(".git") or _is_bare_repository(path):
        return "git", str(path), None
    return "local", str(path), None


def _split_revision(text: str) -> tuple[str, str | None, bool]:
    """``(location, rev, forced_git)``: ``git+URL@REV`` and ``URL#REV`` name a git revision."""
    rev: str | None = None
    forced_git = text.startswith("git+")
    if forced_git:
        text = text[len("git+") :]
    if "#" in text:
        text, _, rev = text.partition("#")
        forced_git = True
    elif forced_git:
        head, sep, tail = text.rpartition("/")
        if "@" in tail:
            name, _, rev = tail.rpartition("@")
            text = f"{head}{sep}{name}"
    if rev is not None:
        try:
            _git.check_rev(rev, "revision in the registry location")
        except GitError as error:  # the user's argument: a usage error, said in git's words
            raise UsageError(str(error)) from None
    return text, rev, forced_git


def _is_bare_repository(path: Path) -> bool:
    return (
        (path / "HEAD").is_file() and (path / "objects").is_dir() and not (path / ".git").exists()
    )


def _enclosing_repository(start: Path) -> Path:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    raise UsageError(
        f"no registry given and {start} is not inside a git repository; pass registry=..., "
        f"set {REGISTRY_ENV}, or run from a registry checkout"
    )
