"""A change judged by what it touches: the head's records that its rules can reach.

A pull request that touches one model of 10,000 versions must not cost a full
validation. Every file of the head that the change does not touch is
byte-identical to the base (``git diff`` lists no path for it), and the base is
the branch the validator guards. So the head is read as:

* every file's *listing* (one ``git ls-tree``): model names for the
  case-insensitive collision rule (RG204), which folders exist;
* ``registry.yaml`` and every redirect (``models/OLD/moved.yaml``), parsed;
* the records of the models the change touches, parsed;
* the records of every model whose findings the change can alter, parsed too:
  a model whose lineage names a touched model (a stage, alias, ``latest`` or a
  deleted version moves under it), the targets of redirects, and then every
  model a judged record names as a lineage parent, to the end of the chain
  (so parents resolve, and a new cycle is found, exactly as in the full index).

Finding the models whose lineage names a touched model is a byte search over
the head's ``version.yaml`` texts, no parse: a parent that resolves to model
``A`` reads ``models:/A/…`` or ``models:/A@…`` (:meth:`ModelUri.parse`),
and YAML can spell a string other than literally only through a backslash
escape in double quotes (folding a line adds a space or a newline, which a
URI refuses). So a record holds ``models:/A/``, ``models:/A@`` or a
backslash, or it does not name ``A``.

The change is judged in full instead (:func:`scoped_head` returns why) when
it can alter how every record is read: it changes ``registry.yaml`` (the
policy judges every record) or a redirect (``models:/OLD`` names another
model everywhere), or it leaves a model it touches deleted or unreadable (the
change fails anyway, and a full run names everything that pointed at it), or
its rules reach more than half of the head's records (then the full read is
as cheap).

Findings about models the change does not reach are the base's, and are not
repeated: ``registry-gen validate`` on the base branch reports them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

from registry_gen import _git
from registry_gen.errors import RegistryError
from registry_gen.paths import MODEL_FILE, MODELS_DIR, MOVED_FILE, POLICY_FILE, VERSION_FILE
from registry_gen.store import (
    FileEntry,
    GitRevision,
    ModelVersion,
    RegisteredModel,
    RegistryIndex,
    build_index,
)
from registry_gen.uri import ModelUri

log = logging.getLogger(__name__)

Node = tuple[str, int]  # (model name, version number): a version in the lineage graph

# Below this many records a full read costs well under a second: the share limit
# (:data:`_MAX_SHARE`) only applies above it.
_SMALL_RECORDS = 2_000
# Beyond this share of the head's records, reading them all is as cheap as the scope.
_MAX_SHARE = 0.5
# ModelNotFound lists this many registered names (RegistryIndex.model).
_NAMES_LISTED = 10


@dataclass(frozen=True)
class ScopedHead:
    """What a scoped validation reads of the head, for the rules of :mod:`._tree`."""

    index: RegistryIndex  # the judged models, every redirect
    files: list[FileEntry]  # the judged models' files, and every file outside a model folder
    names: list[str]  # every model folder with a model.yaml: RG204 compares them all
    listing: _Listing
    lineage: frozenset[Node]  # the versions whose lineage is judged: closed under parents

    def owners(self, source: GitRevision) -> RegistryIndex:
        """Every model's owners (for CODEOWNERS): the judged models as read, the others
        from their ``model.yaml`` alone (their versions are the base's).

        Raises:
            GitError: reading the head failed.
        """
        listing, index = self.listing, self.index
        model_files = [
            e
            for n in self.names
            if n not in index.models and n not in index.broken
            for e in listing.folders[n]
            if e.path == f"{MODELS_DIR}/{n}/{MODEL_FILE}"
        ]
        alone = build_index(source, [*listing.moved, *model_files])
        models: dict[str, RegisteredModel] = {**alone.models, **index.models}
        return replace(index, models=MappingProxyType(models))


@dataclass
class _Listing:
    """The head's files by model folder."""

    folders: dict[str, list[FileEntry]]  # models/NAME/... -> its files
    outside: list[FileEntry]  # registry.yaml, files directly in models/
    moved: list[FileEntry]  # every models/OLD/moved.yaml
    counts: dict[str, int]  # models/NAME -> how many record files it holds
    named: set[str]  # the folders with a model.yaml

    @classmethod
    def of(cls, files: Iterable[FileEntry]) -> _Listing:
        folders: dict[str, list[FileEntry]] = defaultdict(list)
        counts: dict[str, int] = defaultdict(int)
        named: set[str] = set()
        outside: list[FileEntry] = []
        moved: list[FileEntry] = []
        for entry in files:
            parts = entry.path.split("/", 2)  # model_of and is_record_path, for 330,000 paths
            if len(parts) < 3 or parts[0] != MODELS_DIR:
                outside.append(entry)
                continue
            folders[parts[1]].append(entry)
            rest = parts[2]
            if rest == MOVED_FILE and not entry.is_symlink:
                moved.append(entry)
            elif rest == MODEL_FILE and not entry.is_symlink:  # as file_findings counts them
                named.add(parts[1])
            if rest in (MODEL_FILE, MOVED_FILE) or (
                rest.count("/") == 1 and rest.endswith((f"/{VERSION_FILE}", ".dvc"))
            ):
                counts[parts[1]] += 1
        return cls(dict(folders), outside, moved, dict(counts), named)

    def model_names(self) -> list[str]:
        """Folders with a ``model.yaml`` (what RG204 compares), in the listing's order."""
        return sorted(self.named, key=lambda name: f"{name}/")

    def records(self, names: Iterable[str]) -> int:
        return sum(self.counts.get(name, 0) for name in names)

    def files(self, names: Iterable[str]) -> list[FileEntry]:
        """The judged folders' files and the files outside model folders, in listing order."""
        wanted = set(names)
        return sorted(
            [*self.outside, *(e for n in wanted for e in self.folders.get(n, ()))],
            key=lambda e: e.path,
        )


def model_of(path: str) -> str | None:
    """The model folder a path lies in (``models/NAME/…``), if any.

    >>> model_of("models/churn/3/version.yaml"), model_of("registry.yaml")
    ('churn', None)
    """
    parts = path.split("/")
    return parts[1] if len(parts) >= 3 and parts[0] == MODELS_DIR else None


def full_reason(paths: Sequence[str]) -> str | None:
    """Why a change with these changed paths is judged in full, if it is (before any parse)."""
    if POLICY_FILE in paths:
        return f"it changes {POLICY_FILE}, whose policy judges every record"
    redirects = sorted(
        p for p in paths if p.endswith(f"/{MOVED_FILE}") and p.count("/") == 2 and model_of(p)
    )
    if redirects:
        return f"it changes the redirect {redirects[0]!r}, which renames a model everywhere"
    return None


def scoped_head(
    source: GitRevision,
    files: list[FileEntry],
    changed: set[str],
    base: RegistryIndex,
) -> ScopedHead | str:
    """The head read for a change to the models ``changed``, or why to read it all.

    ``files`` is the head's whole listing; ``base`` holds the base's records of
    ``changed``, which the change is compared with.

    Raises:
        GitError: reading the head failed.
    """
    listing = _Listing.of(files)
    judged = set(changed) & set(listing.folders)
    index = _build(source, listing, judged)
    reason = _broken_reason(index, changed, base)
    if reason is not None:
        return reason
    judged |= {n for pair in index.moved.items() for n in pair} & set(listing.folders)
    hits = _naming(source, changed, _names_reaching(changed, index.moved))
    judged |= {name for path in hits if (name := model_of(path)) is not None}
    closed = _close(source, listing, judged, lambda v: v.name in changed or v.record_file in hits)
    if isinstance(closed, str):
        return closed
    index, lineage = closed
    log.info(
        "validate: the change touches %d model(s); judging %d of %d, %d records read",
        len(changed),
        len(index.models) + len(index.broken),
        len(listing.folders),
        listing.records(judged),
    )
    return ScopedHead(index, listing.files(judged), listing.model_names(), listing, lineage)


def _build(source: GitRevision, listing: _Listing, names: Iterable[str]) -> RegistryIndex:
    """The index of ``registry.yaml``, every redirect and the model folders ``names``."""
    wanted = [e for e in listing.outside if e.path == POLICY_FILE]
    wanted += listing.moved
    wanted += [e for n in sorted(names) for e in listing.folders.get(n, ())]
    return build_index(source, wanted)


def _broken_reason(index: RegistryIndex, changed: set[str], base: RegistryIndex) -> str | None:
    """A model the change touches is unreadable or gone in the head: judge it in full.

    Names are quoted (``repr``): a folder's name is the pull request's, and ``-v``
    logs the reason to the stderr a CI runner reads workflow commands from.
    """
    for name in sorted(changed):
        if name in index.broken:
            return f"it leaves the model folder {name!r} unreadable"
        if name not in index.models and (name in base.models or name in base.broken):
            return f"it deletes the model {name!r}"
    return None


def _names_reaching(changed: set[str], moved: Mapping[str, str]) -> set[str]:
    """Every name a lineage parent can resolve to a touched model by: its own, its redirects'."""
    return set(changed) | {old for old, new in moved.items() if new in changed}


def _naming(source: GitRevision, changed: set[str], names: set[str]) -> set[str]:
    """The ``version.yaml`` files outside ``changed`` (whose versions are all judged)
    that may name one of ``names`` as a lineage parent (a byte search by ``git grep``,
    see the module's docstring). Models read for another reason (a redirect's
    target) are searched too: being read does not judge their lineage."""
    if not names:
        return set()
    needles = ["\\"]
    for name in sorted(names):
        needles += [f"models:/{name}/", f"models:/{name}@"]
    pattern = f"{MODELS_DIR}/*/*/{VERSION_FILE}"  # "*" matches deeper too: filtered below
    found = _git.grep_files(source.root, source.commit, needles, pattern)
    return {
        path
        for path in found
        if (parts := path.split("/"))[-1] == VERSION_FILE
        and len(parts) == 4
        and parts[1] not in changed
    }


def _close(
    source: GitRevision,
    listing: _Listing,
    judged: set[str],
    is_root: Callable[[ModelVersion], bool],
) -> tuple[RegistryIndex, frozenset[Node]] | str:
    """Read models until every lineage parent of the versions ``is_root`` picks, and
    of theirs, to the end of each chain, resolves as in the whole head; those versions.

    Then their parents resolve, and a cycle through them is found, as in the whole
    head's index. A parent naming no model at all is reported with the first
    registered names (``RegistryIndex.model`` lists them): those are read too, so
    the message is the same.
    """
    total = listing.records(listing.folders)
    limit = max(_SMALL_RECORDS, int(total * _MAX_SHARE))
    nodes: set[Node] | None = None
    while listing.records(judged) <= limit:
        index = _build(source, listing, judged)
        if nodes is None:
            nodes = {(v.name, v.version) for v in index.versions() if is_root(v)}
        parents = [(p, ModelUri.parse(p)) for node in nodes for p in _parents(index, node)]
        wanted = {u.name for _, u in parents} | {index.moved.get(u.name, "") for _, u in parents}
        wanted &= set(listing.folders)
        if not wanted <= judged:
            judged |= wanted
            continue
        reached = {(v.name, v.version) for _, u in parents if (v := _resolved(index, u))}
        if not reached <= nodes:
            nodes |= reached
            continue
        known = (index.models, index.broken, index.moved)
        if any(all(u.name not in names for names in known) for _, u in parents):
            first = _first_names(index, listing, judged)
            if not first <= judged:
                judged |= first
                continue
        return index, frozenset(nodes)
    return (
        f"its rules reach {listing.records(judged):,} of the head's {total:,} records, "
        "as many as a full read"
    )


def _parents(index: RegistryIndex, node: Node) -> list[str]:
    return index.models[node[0]].version(node[1]).record.lineage.parents


def _resolved(index: RegistryIndex, uri: ModelUri) -> ModelVersion | None:
    try:
        return index.resolve(uri)
    except RegistryError:
        return None  # RG601 says why


def _first_names(index: RegistryIndex, listing: _Listing, judged: set[str]) -> set[str]:
    """The first model folders, in order, until :data:`_NAMES_LISTED` of them are (or,
    not read yet, may be) registered models: what ``ModelNotFound`` lists."""
    names: set[str] = set()
    healthy = 0
    for name in sorted(listing.model_names()):
        if healthy >= _NAMES_LISTED:
            break
        if name not in judged or name in index.models:
            names.add(name)
            healthy += 1
    return names
