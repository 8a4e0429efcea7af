"""The plugin's read-only registries: a git URL, or the published site's JSON API.

``registry-gen+https://host/org/registry.git#main``, ``registry-gen+file:///srv/registry.git``
and ``registry-gen+ssh://…`` read a git repository (cloned into the artifact cache
by :class:`registry_gen.locate.GitRegistry`, at the revision after ``#``, default
the remote's HEAD); ``registry-gen+https://org.github.io/registry/`` reads the
published site (:class:`registry_gen.locate.SiteRegistry`). The location after
``registry-gen+`` follows :func:`registry_gen.locate.parse_location`.

Both are read-only: a change is a reviewed commit in a checkout, so writes name
the ``registry-gen:///path`` form to use instead. The site publishes what the
loader needs (stages, aliases, artifacts, who and when), not descriptions,
tags or lineage: those read as empty there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from registry_gen._api import INDEX, check_artifact, model_api_path, parse_index, parse_model
from registry_gen.cache import ArtifactCache
from registry_gen.client import RegistryClient
from registry_gen.errors import ArtifactError, RuleViolation, UsageError
from registry_gen.locate import GitRegistry, SiteRegistry, offline_mode, parse_location
from registry_gen.paths import MODELS_DIR
from registry_gen.schema import Artifact, DvcOutput, ModelRecord, Policy, VersionRecord
from registry_gen.store import ModelVersion, RegisteredModel, RegistryIndex, load_index

PREFIX = "registry-gen+"
# The schemes the entry points register (pyproject.toml), one per transport.
REMOTE_SCHEMES = (
    "registry-gen+https",
    "registry-gen+http",
    "registry-gen+file",
    "registry-gen+ssh",
)


class ReadOnlyClient(RegistryClient):
    """A :class:`RegistryClient` whose index comes from elsewhere; every change is refused.

    >>> client = remote_client("registry-gen+https://org.github.io/registry/")  # doctest: +SKIP
    >>> client.get_registered_model("churn").aliases  # doctest: +SKIP
    {'champion': 3}
    """

    def __init__(self, location: str, root: Path, load: Callable[[], RegistryIndex]) -> None:
        self.root = root
        self.location = location
        self._load = load
        self._index = None
        self._scopes = {}

    @property
    def index(self) -> RegistryIndex:
        """The registry as last read from the git revision or the site."""
        if self._index is None:
            self._index = self._load()
        return self._index

    def _index_for(self, name: str) -> RegistryIndex:
        return self.index

    def _apply(self, *_args: Any, **_kwargs: Any) -> None:
        raise RuleViolation(read_only_message(self.location))

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """A local path holding the artifact, fetched through the loader from this location."""
        from registry_gen.loader import download_artifacts

        target = self.get_model_version(name, version)
        return str(download_artifacts(target.uri, registry=self.location))


def read_only_message(location: str) -> str:
    """Why a write to a git URL or the site is refused, and what to use instead."""
    return (
        f"{PREFIX}{location} is read-only: changes are reviewed commits in a checkout; "
        "use registry-gen:///path/to/checkout (add ?branch=1 for a branch per change)"
    )


def remote_client(uri: str) -> ReadOnlyClient:
    """The read-only client of a ``registry-gen+URL`` store URI.

    Raises:
        UsageError: not ``registry-gen+`` followed by a git URL or a site URL.
    """
    if not uri.startswith(PREFIX):
        raise UsageError(f"invalid registry URI {uri!r}: expected {PREFIX}URL")
    location = uri[len(PREFIX) :]
    kind, where, rev = parse_location(location)
    cache = ArtifactCache()
    offline = offline_mode()
    if kind == "git":
        git = GitRegistry(where, rev, cache=cache, offline=offline)
        return ReadOnlyClient(
            location, git.clone_dir, lambda: load_index(git.clone_dir, git.commit())
        )
    if kind == "site":
        site = SiteRegistry(where, cache=cache, offline=offline)
        return ReadOnlyClient(location, cache.root, lambda: site_index(site))
    raise UsageError(
        f"invalid registry URI {uri!r}: {location!r} is a local folder; "
        f"use registry-gen://{Path(where).expanduser().resolve()}"
    )


def site_index(site: SiteRegistry) -> RegistryIndex:
    """An index of what the site's JSON API publishes (checked as the untrusted input it is).

    Raises:
        ArtifactError: a document breaks the API's contract, or the site is unreachable.
    """
    where = site.base_url + INDEX
    summary = parse_index(site._get_json(INDEX), where)
    models: dict[str, RegisteredModel] = {}
    for name in sorted(summary.models):
        document = model_api_path(name)
        models[name] = _site_model(name, site._get_json(document), site.base_url + document)
    return RegistryIndex(
        policy=_site_policy(summary.stages),
        models=MappingProxyType(models),
        moved=MappingProxyType(dict(summary.moved)),
    )


def _site_model(name: str, data: Any, where: str) -> RegisteredModel:
    checked = parse_model(data, name, where)
    raw_versions = {int(v["version"]): v for v in data["versions"]}  # parse_model checked them
    versions = [
        _site_version(name, number, stage, raw_versions[number], checked.artifacts[number], where)
        for number, stage in sorted(checked.versions.items())
    ]
    try:
        record = ModelRecord(name=name, aliases=checked.aliases)
    except ValueError as error:
        raise ArtifactError(f"{where}: {error}") from None
    return RegisteredModel(record=record, versions=tuple(versions))


def _site_version(  # noqa: PLR0917 (one entry of a checked document)
    name: str, number: int, stage: str, raw: dict[str, Any], artifact: Any, where: str
) -> ModelVersion:
    checked = check_artifact(artifact, name, number, where)
    folder = f"{MODELS_DIR}/{name}/{number}"
    inner = checked.path.removeprefix(folder + "/")
    try:
        record = VersionRecord(
            version=number,
            stage=stage,
            created_at=datetime.fromisoformat(str(raw.get("created_at")).replace("Z", "+00:00")),
            created_by=str(raw.get("created_by") or "unknown"),
            artifact=Artifact.model_validate(
                {
                    "path": inner,
                    "format": checked.format,
                    "trusted_types": list(checked.trusted_types),
                    "sha256": checked.sha256,
                }
            ),
        )
        pointer = DvcOutput.model_validate(_pointer(inner, checked.md5, checked.size, artifact))
    except ValueError as error:
        raise ArtifactError(f"{where}: version {number}: {error}") from None
    return ModelVersion(name=name, record=record, pointer=pointer, folder=folder)


def _pointer(path: str, md5: str, size: int | None, artifact: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"path": path, "md5": md5}
    if size is not None:
        out["size"] = size
    nfiles = artifact.get("nfiles") if isinstance(artifact, dict) else None
    if isinstance(nfiles, int) and md5.endswith(".dir"):
        out["nfiles"] = nfiles
    return out


def _site_policy(stages: Iterable[str]) -> Policy:
    """The site's stages as a policy (the rest of ``registry.yaml`` is not published)."""
    listed = list(stages)
    try:
        return Policy.model_validate({"stages": listed})
    except ValueError:
        return Policy.model_validate(
            {
                "stages": listed,
                "default_stage": listed[0],
                "transitions": {},
                "single_holder": [],
                "requires": {},
                "alias_forbidden_stages": [],
                "archive_stage": None,
            }
        )
