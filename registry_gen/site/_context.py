"""What every page is rendered from: the options, the index, its history and lookups
built once, and the linker.

Every lookup goes through dictionaries built once per site, so 10,000 versions
render in seconds. ``models:/`` URIs (lineage parents) are resolved by the one
resolver, :func:`registry_gen.resolve.resolve`, like everywhere else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from registry_gen.errors import InvalidUri, VersionNotFound
from registry_gen.history import History
from registry_gen.resolve import resolve
from registry_gen.store import ModelVersion, RegisteredModel, RegistryIndex
from registry_gen.uri import ModelUri

from ._urls import Linker


@dataclass(frozen=True)
class SiteOptions:
    """How the site is rendered.

    ``repo_url`` (e.g. ``https://github.com/org/registry``) turns commit ids and
    pull-request numbers into links; ``page_size`` bounds every long table so
    pages stay small whatever the registry's size; ``home`` is False when the
    site has a hand-written home page; ``site_url`` makes the feed's links
    absolute; ``directory_urls`` is MkDocs' ``use_directory_urls``.
    """

    repo_url: str | None = None
    page_size: int = 30
    home: bool = True
    site_url: str | None = None
    directory_urls: bool = True


@dataclass(frozen=True)
class _ModelLookup:
    """What the resolver needs of one model, and the model's versions by number."""

    stages: dict[int, str]
    by_number: dict[int, ModelVersion]


class Lookups:
    """Everything a page needs from the rest of the registry, in dictionaries."""

    def __init__(self, index: RegistryIndex) -> None:
        self.index = index
        # Per model: the newest holder of each stage (case-folded), newest stage first.
        self.stage_top: dict[str, dict[str, int]] = {}
        # Per model: the holders of each stage, newest first.
        self.stage_versions: dict[str, dict[str, list[int]]] = {}
        self.children: dict[tuple[str, int], list[ModelVersion]] = defaultdict(list)
        self._models: dict[str, _ModelLookup] = {}
        self._resolved: dict[str, ModelVersion | None] = {}
        for name, model in index.models.items():
            self._index_model(name, model)
        for version in index.versions():
            for parent in version.record.lineage.parents:
                target = self.resolve(parent)
                if target is not None:
                    self.children[(target.name, target.version)].append(version)

    def _index_model(self, name: str, model: RegisteredModel) -> None:
        tops: dict[str, int] = {}
        holders: dict[str, list[int]] = defaultdict(list)
        for version in reversed(model.versions):
            tops.setdefault(version.stage.casefold(), version.version)
            holders[version.stage].append(version.version)
        self.stage_top[name] = tops
        self.stage_versions[name] = dict(holders)
        self._models[name] = _ModelLookup(
            stages={v.version: v.stage for v in model.versions},
            by_number={v.version: v for v in model.versions},
        )

    def resolve(self, uri: str) -> ModelVersion | None:
        """The version ``uri`` names, as :func:`registry_gen.resolve.resolve` finds it;
        None when it names nothing. Each distinct URI is resolved once."""
        if uri in self._resolved:
            return self._resolved[uri]
        found = self._resolve(uri)
        self._resolved[uri] = found
        return found

    def _resolve(self, uri: str) -> ModelVersion | None:
        try:
            parsed = ModelUri.parse(uri)
        except InvalidUri:
            return None
        model = self.index.models.get(parsed.name)
        lookup = self._models.get(parsed.name)
        if model is None or lookup is None:
            return None
        try:
            number = resolve(parsed, lookup.stages, model.aliases, self.index.policy.stages)
        except VersionNotFound:
            return None
        return lookup.by_number.get(number)

    def has_version(self, name: str, number: int) -> bool:
        """Whether model ``name`` has a version ``number``."""
        lookup = self._models.get(name)
        return lookup is not None and number in lookup.by_number


@dataclass(frozen=True)
class Site:
    """One rendering of the site: what every page function receives."""

    index: RegistryIndex
    history: History
    options: SiteOptions
    linker: Linker
    lookups: Lookups = field(init=False)
    names: list[str] = field(init=False)  # the registered models, sorted

    def __post_init__(self) -> None:
        object.__setattr__(self, "lookups", Lookups(self.index))
        object.__setattr__(self, "names", sorted(self.index.models))
