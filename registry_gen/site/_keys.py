"""What a model's pages are made from, as one digest: the incremental build's key.

A model's pages (its page and version-table pages, its timeline, one page per
version) are rendered from its own records and history and from a few facts about
the rest of the registry. :func:`model_key` hashes exactly those, so a build can
tell that a model's pages are unchanged without rendering them (not even to
Markdown). Whatever a model's page shows must reach this key:

- the site's options (links, page size, URL style) and the policy (stages);
- whether the history is complete, and its warning (every history section);
- ``model.yaml`` and each version's record, pointer, folder and aliases;
- the model's events (:meth:`History.for_model`, which holds every event its
  versions show);
- for each version, the version each lineage parent resolves to (a parent named
  by stage or alias moves with the other model) and the versions naming it as
  their parent (its children).

The registry-wide pages (home, lists, activity, lineage, compare) are not keyed
here: they are keyed by their Markdown (:mod:`registry_gen.site._incremental`).
``tests/test_site_incremental.py`` checks that a cached rebuild writes what an
uncached build writes after promotions, new versions, edits and removals.
"""

from __future__ import annotations

import hashlib
from typing import Any

from registry_gen.store import RegisteredModel

from ._context import Site


def _dump(value: Any) -> bytes:
    dump = getattr(value, "model_dump_json", None)
    return (dump() if callable(dump) else repr(value)).encode("utf-8", "surrogatepass")


def site_key(site: Site) -> bytes:
    """The registry-wide facts every model's pages show (see the module's docstring)."""
    digest = hashlib.blake2b(digest_size=20)
    for part in (
        repr(site.options).encode(),
        _dump(site.index.policy),
        repr((site.history.complete, site.history.warning)).encode(),
    ):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.digest()


def model_key(model: RegisteredModel, site: Site, shared: bytes) -> str:
    """The digest of everything the pages of ``model`` are made from; ``shared`` is
    :func:`site_key` of the same site."""
    digest = hashlib.blake2b(shared, digest_size=20)

    def add(part: bytes) -> None:
        digest.update(len(part).to_bytes(8, "big") + part)

    add(_dump(model.record))
    lookups = site.lookups
    for version in model.versions:
        add(_dump(version.record))
        add(_dump(version.pointer))
        add(repr((version.folder, version.alias_names)).encode())
        parents = []
        for parent in version.record.lineage.parents:
            target = lookups.resolve(parent)
            parents.append((parent, None if target is None else (target.name, target.version)))
        children = [
            (child.name, child.version)
            for child in lookups.children.get((version.name, version.version), [])
        ]
        add(repr((parents, children)).encode())
    add(repr(site.history.for_model(model.name)).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()
