"""Resolving a checkout again without parsing it: the saved, stat-validated resolution.

Parsing records means importing pydantic, the schemas and YAML (0.2 s, more
than the rest of a warm load). So after a full, strict resolution from a local
checkout, what it found for the model (every version's stage, artifact path,
format, trusted types and md5; the aliases; the policy's stages) is saved in
the cache (``<cache>/resolved/KEY.json``, keyed by the checkout's real path and
the model name) together with the stat signature (type, size, mtime_ns, inode,
ctime_ns) of every file it read and the listing of ``models/NAME/`` and of each
folder in it. The next load in any process re-stats those files and re-lists
those folders, as git's index and Python's ``__pycache__`` do, and uses the
saved facts only if nothing changed; an edited record, a new version folder, a
new ``.dvc`` file or a symlink anywhere there means a full resolution (which
saves the facts again). Files changed within a few seconds of the save are
"racily clean" (git's term: a coarse timestamp may not move on a second edit),
so their sha256 is saved too and checked. The saved JSON is our own, but it is
read as untrusted input: names, versions, stages, aliases, md5s, paths and
formats are checked with the same cheap checks as the website's JSON
(:mod:`registry_gen._api`), and anything odd means a full resolution. Only
successful resolutions of a registry whose ``registry.yaml`` and model records
all parse are saved; errors always come from the full path, with their file
and line. The version is chosen by :func:`registry_gen.resolve.resolve`, as
everywhere else.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry_gen._api import check_artifact
from registry_gen._dvc import DvcSource
from registry_gen._inputs import input_specs
from registry_gen.cache import RESOLVED_DIR, ArtifactCache
from registry_gen.errors import ArtifactError, RegistryError, VersionNotFound
from registry_gen.locate._resolved import ResolvedArtifact
from registry_gen.paths import MODELS_DIR, POLICY_FILE, atomic_write
from registry_gen.resolve import resolve
from registry_gen.store import FolderScan, listing, signature
from registry_gen.uri import ModelUri, check_alias, check_stage_name, check_version

if TYPE_CHECKING:
    from registry_gen.store import RegisteredModel, RegistryIndex

__all__ = ["RESOLUTION_FORMAT", "SavedResolution"]

log = logging.getLogger("registry_gen.locate")

RESOLUTION_FORMAT = 3  # 3: versions carry their signature inputs
# A file changed within this long before its resolution was saved may change again
# without its (coarse) timestamps changing: such files are also checked by content.
RACY_NS = 3_000_000_000


@dataclass
class SavedResolution:
    """The saved resolution of one model of one checkout (see the module doc).

    >>> saved = SavedResolution(ArtifactCache(), Path("/srv/registry"), "churn")  # doctest: +SKIP
    >>> saved.resolve(ModelUri.parse("models:/churn/Production"), "/srv/registry")  # doctest: +SKIP
    """

    cache: ArtifactCache
    root: Path  # resolved (real) path
    name: str
    file: Path = field(init=False)

    def __post_init__(self) -> None:
        key = hashlib.sha256(f"{self.root}\0{self.name}".encode()).hexdigest()[:32]
        self.file = self.cache.root / RESOLVED_DIR / f"{key}.json"

    def resolve(self, uri: ModelUri, label: str) -> ResolvedArtifact | None:
        """What ``uri`` resolves to if the saved facts are still those of the files, else None."""
        try:
            if not self.cache.check_private(self.file, "saved resolution"):
                return None  # UnsafeCache propagates: a planted resolution is never used
            data = json.loads(self.file.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            log.debug("ignoring the saved resolution %s: %s", self.file, error)
            return None
        try:
            if not self._still_valid(data):
                return None
            return _pick_saved(data, uri, self.name, self.root, label)
        except (RegistryError, ValueError, TypeError, KeyError, AttributeError, OSError) as error:
            # Anything unexpected: the full resolution decides (and reports errors properly).
            log.debug("not using the saved resolution %s: %s", self.file, error)
            return None

    def _still_valid(self, data: Any) -> bool:
        if (
            not isinstance(data, dict)
            or data.get("format") != RESOLUTION_FORMAT
            or data.get("root") != str(self.root)
            or data.get("name") != self.name
        ):
            return False
        files, contents, listings = data["files"], data["contents"], data["listings"]
        if (
            not isinstance(files, dict)
            or not isinstance(contents, dict)
            or not isinstance(listings, dict)
            or f"{MODELS_DIR}/{self.name}" not in listings
        ):
            return False
        root = os.fspath(self.root)
        for rel, names in listings.items():
            self._check_rel(rel)
            try:
                if listing(os.path.join(root, rel)) != names:  # noqa: PTH118
                    return False
            except OSError:
                return False
        return all(self._file_unchanged(root, rel, saved, contents) for rel, saved in files.items())

    def _file_unchanged(self, root: str, rel: Any, saved: Any, contents: dict[str, Any]) -> bool:
        self._check_rel(rel)
        full = os.path.join(root, rel)  # noqa: PTH118
        try:
            info = os.lstat(full)
        except FileNotFoundError:
            return saved is None
        if saved is None or list(signature(info)) != saved:
            return False
        if rel in contents:  # racily clean: compare the bytes too
            with open(full, "rb") as handle:  # noqa: PTH123
                return bool(hashlib.sha256(handle.read()).hexdigest() == contents[rel])
        return True

    def _check_rel(self, rel: Any) -> None:
        """A saved path must be registry.yaml or inside models/NAME/, with no way out."""
        if not isinstance(rel, str) or not (
            rel == POLICY_FILE
            or rel == f"{MODELS_DIR}/{self.name}"
            or rel.startswith(f"{MODELS_DIR}/{self.name}/")
        ):
            raise ValueError(f"unexpected path {rel!r}")
        parts = rel.split("/")
        if (
            "\\" in rel
            or len(parts) > 4
            or any(p in {"", ".", ".."} for p in parts)
            or any(ord(c) < 32 for c in rel)
        ):
            raise ValueError(f"unsafe path {rel!r}")

    def save(self, index: RegistryIndex, scan: FolderScan, blobs: dict[str, bytes]) -> None:
        """Save what a full resolution found, if it can be reused safely."""
        model = index.models.get(self.name)
        if index.errors or model is None or scan.symlinks:
            return  # errors are reported by the full path, with their file and line
        signatures = scan.signatures()
        if any(rel not in blobs for rel, sig in signatures.items() if sig is not None):
            return  # a file vanished between listing and reading: nothing stable to save
        racy_after = time.time_ns() - RACY_NS
        contents = {
            rel: hashlib.sha256(blobs[rel]).hexdigest()
            for rel, sig in signatures.items()
            if sig is not None and max(sig[2], sig[4]) >= racy_after
        }
        data = {
            "format": RESOLUTION_FORMAT,
            "root": str(self.root),
            "name": self.name,
            "files": signatures,
            "contents": contents,
            "listings": scan.listings,
            "stages": list(index.policy.stages),
            "aliases": dict(model.aliases),
            "versions": _saved_versions(model),
        }
        try:
            self.cache.ensure()
            self.file.parent.mkdir(mode=0o700, exist_ok=True)
            atomic_write(self.file, json.dumps(data, indent=1))
        except OSError as error:  # a read-only cache: loads still work, just slower
            log.debug("could not save the resolution %s: %s", self.file, error)


def _saved_versions(model: RegisteredModel) -> dict[str, dict[str, Any]]:
    versions = {}
    for version in model.versions:
        pointer, recorded = version.pointer, version.record.signature
        versions[str(version.version)] = {
            "stage": version.stage,
            "md5": pointer.md5 if pointer else None,
            "path": version.artifact_path,
            "format": version.record.artifact.format,
            "trusted_types": list(version.record.artifact.trusted_types),
            "sha256": version.record.artifact.sha256,
            "size": pointer.size if pointer else None,
            "legacy": pointer.hash != "md5" if pointer else False,
            "inputs": recorded.model_dump()["inputs"] if recorded else None,
        }
    return versions


def _saved_facts(
    data: dict[str, Any],
) -> tuple[list[str], dict[int, dict[str, Any]], dict[str, int]] | None:
    # The saved stages, versions and aliases, checked; None if any has the wrong shape.
    raw_stages, raw_versions, raw_aliases = data["stages"], data["versions"], data["aliases"]
    if (
        not isinstance(raw_stages, list)
        or not isinstance(raw_versions, dict)
        or not isinstance(raw_aliases, dict)
    ):
        return None
    stages = [check_stage_name(s) for s in raw_stages]
    versions = {check_version(n): v for n, v in raw_versions.items()}
    if not all(isinstance(v, dict) for v in versions.values()):
        return None
    aliases = {check_alias(a): check_version(n) for a, n in raw_aliases.items()}
    return stages, versions, aliases


def _pick_saved(
    data: dict[str, Any],
    uri: ModelUri,
    name: str,
    root: Path,
    label: str,
) -> ResolvedArtifact | None:
    """Resolve ``uri`` from saved facts, checked as untrusted input; None on any doubt."""
    facts = _saved_facts(data)
    if facts is None:
        return None
    stages, versions, aliases = facts
    try:
        chosen = resolve(
            uri, {n: check_stage_name(v["stage"]) for n, v in versions.items()}, aliases, stages
        )
    except VersionNotFound:
        return None  # the full resolution raises it, with the file and line of the records
    entry = versions[chosen]
    if entry.get("md5") is None:
        return None  # no .dvc pointer: the full resolution explains
    try:
        artifact = check_artifact(entry, name, chosen, "the saved resolution")
    except ArtifactError:
        return None
    legacy = entry.get("legacy")
    return (
        None
        if not isinstance(legacy, bool)
        else ResolvedArtifact(
            uri=uri,
            name=name,
            version=chosen,
            stage=str(entry["stage"]),
            md5=artifact.md5,
            path=artifact.path,
            format=artifact.format,
            trusted_types=artifact.trusted_types,
            size=artifact.size,
            source=DvcSource(repo_root=root, legacy=legacy),
            registry=label,
            sha256=artifact.sha256,
            inputs=input_specs(entry.get("inputs")),  # checked; None (unchecked) on any doubt
        )
    )
