"""The static JSON API's contract, shared by its writer and its reader.

:mod:`registry_gen.site.api` writes ``api/index.json`` and
``api/models/NAME.json`` into the built site; the site registry of
:mod:`registry_gen.locate` reads them back to resolve ``models:/`` URIs without
git. Both use the shapes and the format number defined here, so they cannot
drift apart. The reader checks every value it uses (the JSON comes from a web
server, so it is untrusted input) with :func:`parse_index`, :func:`parse_model`
and :func:`check_artifact`; the saved resolution of a checkout reuses
:func:`check_artifact` for its own cached JSON.

Dependency-free (no pydantic, no YAML): the warm load path imports it.

Example:
    >>> parse_index(
    ...     {
    ...         "format": API_FORMAT,
    ...         "stages": ["None"],
    ...         "models": {"m": {}},
    ...         "dvc_remote": {"name": "s", "url": "s3://b/p"},
    ...     },
    ...     "api/index.json",
    ... )
    SiteIndex(stages=('None',), models=frozenset({'m'}), remote_url='s3://b/p', remote_options=())

The remote (``dvc_remote``) is named as configured: its URL without user info,
query or fragment, and the non-secret options :data:`PUBLIC_REMOTE_OPTIONS`
(``endpointurl`` of an S3-compatible store...). A remote that is a folder on the
build machine is published by the site itself (:data:`SITE_OBJECTS`, DVC's own
layout), and its URL is then the relative reference ``objects/``, resolved
against ``api/index.json``'s own URL like a link in a page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, NotRequired, TypedDict

from ._constants import API_FORMAT, MD5_PATTERN
from .errors import ArtifactError, InvalidName
from .formats import KNOWN_FORMATS
from .paths import MODELS_DIR
from .uri import check_alias, check_model_name, check_stage_name, check_version

__all__ = [
    "API_FORMAT",
    "INDEX",
    "PUBLIC_REMOTE_OPTIONS",
    "SITE_OBJECTS",
    "SITE_OBJECTS_URL",
    "ApiArtifact",
    "ApiEvent",
    "ApiIndex",
    "ApiModel",
    "ApiModelSummary",
    "ApiRemote",
    "ApiVersion",
    "CheckedArtifact",
    "SiteIndex",
    "SiteModel",
    "check_artifact",
    "check_format",
    "model_api_path",
    "parse_index",
    "parse_model",
]

INDEX = "api/index.json"
# Where the site publishes a local-folder remote's objects, and how index.json names it.
SITE_OBJECTS = "api/objects/"
SITE_OBJECTS_URL = "objects/"
# Remote options that say where the store is, never who may read it: published and read.
PUBLIC_REMOTE_OPTIONS = frozenset({"endpointurl", "region", "projectname", "account_name"})
_MAX_PATH = 600
_SHA256 = re.compile(r"^[0-9a-f]{64}\Z")


def model_api_path(name: str) -> str:
    """The site-relative path of one model's document.

    >>> model_api_path("churn")
    'api/models/churn.json'
    """
    return f"api/models/{name}.json"


# ---------------------------------------------------------------------------
# The documents, as written


class ApiRemote(TypedDict):
    """The DVC remote readers fetch artifacts from (credentials removed)."""

    name: str
    url: str
    options: NotRequired[dict[str, str]]  # only PUBLIC_REMOTE_OPTIONS


class ApiArtifact(TypedDict):
    """A version's artifact: ``md5``/``size``/``nfiles`` are None without a ``.dvc`` pointer."""

    path: str
    format: str
    md5: str | None
    size: int | None
    nfiles: int | None
    trusted_types: list[str]
    sha256: NotRequired[str]  # the reviewed sha256 of a gated (pickle/joblib/mlflow) artifact
    signature: NotRequired[dict[str, Any]]  # the version's signature (inputs, outputs)


class ApiVersion(TypedDict):
    """One entry of ``versions`` in ``api/models/NAME.json``.

    The fields after ``artifact`` are for people comparing versions (the site's
    compare page); :func:`parse_model` does not read them.
    """

    version: int
    stage: str
    created_at: str
    created_by: str
    uri: str
    artifact: ApiArtifact
    params: NotRequired[dict[str, Any]]
    metrics: NotRequired[dict[str, float]]
    tags: NotRequired[dict[str, str]]
    lineage: NotRequired[dict[str, Any]]


class ApiModelSummary(TypedDict):
    """One entry of ``models`` in ``api/index.json``."""

    href: str
    latest: int | None
    aliases: dict[str, int]
    stages: dict[str, list[int]]


class ApiIndex(TypedDict):
    """``api/index.json``."""

    format: int
    revision: str | None
    generated_at: str
    stages: list[str]
    dvc_remote: ApiRemote | None
    models: dict[str, ApiModelSummary]
    moved: NotRequired[dict[str, str]]  # renamed models: old name -> new (only when any)


class ApiEvent(TypedDict):
    """One entry of ``history`` in ``api/models/NAME.json``: a change that landed.

    ``author`` is the pull request's author, ``merged_by`` who merged it (None for a
    squash or direct commit, or a merge GitHub's web flow wrote): git identities,
    unverified. ``date`` is when it landed; ``claimed_date`` the later date the commit
    claimed, when it claimed an impossible one.
    """

    date: str | None
    kind: str
    model: str
    version: int | None
    alias: str | None
    old: str | None
    new: str | None
    pr: int | None
    author: str
    merged_by: str | None
    commit: str
    subject: str
    claimed_date: str | None


class ApiModel(TypedDict):
    """``api/models/NAME.json``; ``history`` (oldest first) when the site has git history."""

    format: int
    name: str
    aliases: dict[str, int]
    versions: list[ApiVersion]
    history: NotRequired[list[ApiEvent]]


# ---------------------------------------------------------------------------
# The documents, as read (checked)


@dataclass(frozen=True)
class SiteIndex:
    """What a reader uses of ``api/index.json``."""

    stages: tuple[str, ...]
    models: frozenset[str]
    remote_url: str | None
    remote_options: tuple[tuple[str, str], ...] = ()  # PUBLIC_REMOTE_OPTIONS only
    moved: dict[str, str] = field(default_factory=dict, repr=False)  # old name -> new


@dataclass(frozen=True)
class SiteModel:
    """What a reader uses of ``api/models/NAME.json``: stages, aliases, raw artifacts."""

    versions: dict[int, str]  # number -> stage
    aliases: dict[str, int]
    artifacts: dict[int, Any]  # number -> the unchecked artifact entry (see check_artifact)


@dataclass(frozen=True)
class CheckedArtifact:
    """An artifact entry whose every value was checked."""

    path: str
    format: str
    md5: str
    size: int | None
    trusted_types: tuple[str, ...]
    sha256: str | None = None


def check_format(data: Any, where: str) -> dict[str, Any]:
    """``data`` if it is a JSON object of this API's format.

    Raises:
        ArtifactError: not an object, or another format (then registry-gen needs an upgrade).
    """
    if not isinstance(data, dict):
        raise ArtifactError(f"{where} is not a JSON object")
    if data.get("format") != API_FORMAT:
        raise ArtifactError(
            f"{where} has format {data.get('format')!r}; this registry-gen reads format "
            f"{API_FORMAT}: upgrade registry-gen"
        )
    return data


def parse_index(data: Any, where: str) -> SiteIndex:
    """The stages, model names and DVC remote URL of ``api/index.json``, checked.

    Raises:
        ArtifactError: the document does not follow the contract.
    """
    data = check_format(data, where)
    try:
        stages = tuple(check_stage_name(s) for s in _list_of(data.get("stages", []), str, where))
    except InvalidName as error:
        raise ArtifactError(f"{where}: {error}") from None
    models = data.get("models")
    if not isinstance(models, dict):
        raise ArtifactError(f"{where} has no 'models' mapping")
    remote = data.get("dvc_remote")
    url = remote.get("url") if isinstance(remote, dict) else None
    raw = remote.get("options") if isinstance(remote, dict) else None
    options = tuple(
        sorted(
            (k, v)
            for k, v in (raw.items() if isinstance(raw, dict) else ())
            if k in PUBLIC_REMOTE_OPTIONS and isinstance(v, str)
        )
    )
    moved = data.get("moved", {})
    if not isinstance(moved, dict):
        raise ArtifactError(f"{where}: 'moved' is not a mapping")
    try:
        checked_moved = {check_model_name(o): check_model_name(n) for o, n in moved.items()}
    except InvalidName as error:
        raise ArtifactError(f"{where}: moved: {error}") from None
    return SiteIndex(
        stages,
        frozenset(models),
        url if isinstance(url, str) else None,
        options,
        checked_moved,
    )


def parse_model(data: Any, name: str, where: str) -> SiteModel:
    """Each version's stage, the aliases and each version's artifact entry, checked.

    Raises:
        ArtifactError: the document does not follow the contract or describes another model.
    """
    data = check_format(data, where)
    if data.get("name") != name:
        raise ArtifactError(f"{where} describes {data.get('name')!r}")
    aliases = data.get("aliases", {})
    if not isinstance(aliases, dict):
        raise ArtifactError(f"{where}: 'aliases' is not a mapping")
    versions: dict[int, str] = {}
    artifacts: dict[int, Any] = {}
    try:
        for raw in _list_of(data.get("versions"), dict, where):
            number = check_version(raw.get("version"))
            versions[number] = check_stage_name(raw.get("stage"))
            artifacts[number] = raw.get("artifact")
        checked_aliases = {check_alias(a): check_version(v) for a, v in aliases.items()}
    except InvalidName as error:
        raise ArtifactError(f"{where}: {error}") from None
    return SiteModel(versions, checked_aliases, artifacts)


def check_artifact(artifact: Any, name: str, version: int, where: str) -> CheckedArtifact:
    """An artifact entry, checked: path under its version folder, format, md5, size, types.

    >>> check_artifact(
    ...     {
    ...         "path": "models/m/1/model.skops",
    ...         "format": "skops",
    ...         "md5": "d41d8cd98f00b204e9800998ecf8427e",
    ...     },
    ...     "m",
    ...     1,
    ...     "x",
    ... ).format
    'skops'

    Raises:
        ArtifactError: a value is missing or unsafe (the message names ``where``).
    """
    if not isinstance(artifact, dict):
        raise ArtifactError(f"{where}: version {version} has no artifact")
    path, fmt, md5 = artifact.get("path"), artifact.get("format"), artifact.get("md5")
    folder = f"{MODELS_DIR}/{name}/{version}/"
    if not isinstance(path, str) or not path.startswith(folder) or len(path) > _MAX_PATH:
        raise ArtifactError(
            f"{where}: version {version}'s artifact path {path!r} is not under {folder}"
        )
    parts = PurePosixPath(path).parts
    if "\\" in path or any(p in {"", ".", ".."} for p in parts) or any(ord(c) < 32 for c in path):
        raise ArtifactError(f"{where}: unsafe artifact path {path!r}")
    if fmt not in KNOWN_FORMATS:
        raise ArtifactError(f"{where}: version {version} has unknown artifact format {fmt!r}")
    if not isinstance(md5, str) or not MD5_PATTERN.match(md5):
        raise ArtifactError(
            f"{where}: version {version} has no valid md5 (is its artifact tracked by DVC?)"
        )
    size = artifact.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise ArtifactError(f"{where}: version {version} has an invalid size")
    trusted = _list_of(artifact.get("trusted_types", []), str, f"{where} trusted_types")
    sha256 = artifact.get("sha256")
    if sha256 is not None and (not isinstance(sha256, str) or not _SHA256.match(sha256)):
        raise ArtifactError(f"{where}: version {version} has an invalid sha256")
    return CheckedArtifact(path, fmt, md5, size, tuple(trusted), sha256)


def _list_of(value: Any, kind: type, where: str) -> list[Any]:
    if not isinstance(value, list) or not all(isinstance(v, kind) for v in value):
        raise ArtifactError(f"{where}: expected a list of {kind.__name__}")
    return value
