"""The static JSON API written into the built site (contract: docs of the site's ``api/``).

The documents' shapes and format number are the contract in
:mod:`registry_gen._api`, which the reader uses too. ``api/index.json`` lists
every model with its latest version, aliases and the versions in each stage;
``api/models/NAME.json`` lists one model's versions with their artifacts, so
:mod:`registry_gen.loader` and other tools resolve ``models:/`` URIs from the
published site without git.

:func:`render_api` is pure; :func:`read_dvc_remote` reads ``.dvc/config`` through
the one DVC edge (the shared file only: ``config.local`` holds credentials and
is never read); :func:`committed_revision` asks git through the one git edge.

Example:
    >>> files = render_api(index, dvc_remote=None)  # doctest: +SKIP
    >>> sorted(files)[:2]  # doctest: +SKIP
    ['api/index.json', 'api/models/churn.json']
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from registry_gen import _dvc, _git
from registry_gen._api import (
    API_FORMAT,
    INDEX,
    PUBLIC_REMOTE_OPTIONS,
    SITE_OBJECTS_URL,
    ApiArtifact,
    ApiEvent,
    ApiIndex,
    ApiModel,
    ApiModelSummary,
    ApiRemote,
    ApiVersion,
    model_api_path,
)
from registry_gen.errors import ArtifactError, GitError
from registry_gen.history import History, event_json
from registry_gen.store import ModelVersion, RegisteredModel, RegistryIndex

__all__ = ["INDEX", "committed_revision", "model_api_path", "read_dvc_remote", "render_api"]

log = logging.getLogger(__name__)

_URL_CREDENTIALS = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", re.IGNORECASE)


def _dump(data: ApiIndex | ApiModel) -> str:
    # Compact: the API is read by programs, and only an unindented dump takes
    # CPython's C encoder (4-5x faster; every model's document is written per build).
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def _version_entry(version: ModelVersion) -> ApiVersion:
    record = version.record
    pointer = version.pointer
    artifact: ApiArtifact = {
        "path": version.artifact_path,
        "format": record.artifact.format,
        "md5": pointer.md5 if pointer else None,
        "size": pointer.size if pointer else None,
        "nfiles": pointer.nfiles if pointer else None,
        "trusted_types": list(record.artifact.trusted_types),
    }
    if record.artifact.sha256 is not None:
        artifact["sha256"] = record.artifact.sha256
    if record.signature is not None:  # what the loader checks a batch against, and compare shows
        artifact["signature"] = record.signature.model_dump(mode="json", exclude_none=True)
    entry: ApiVersion = {
        "version": version.version,
        "stage": version.stage,
        "created_at": record.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "created_by": record.created_by,
        "uri": str(version.uri),
        "artifact": artifact,
        "params": dict(record.params),
        "metrics": dict(record.metrics),
        "tags": dict(record.tags),
        "lineage": record.lineage.model_dump(mode="json", exclude_none=True),
    }
    return entry


def _stages(model: RegisteredModel) -> dict[str, list[int]]:
    stages: dict[str, list[int]] = {}
    for version in reversed(model.versions):
        stages.setdefault(version.stage, []).append(version.version)
    return stages


def render_api(
    index: RegistryIndex,
    dvc_remote: ApiRemote | None,
    generated_at: datetime | None = None,
    *,
    revision: str | None = None,
    history: History | None = None,
) -> dict[str, str]:
    """Every file of the JSON API, keyed by site-relative path, as JSON text.

    ``revision`` is the commit the records are at (default: the index's own);
    with a complete ``history``, each model's document lists its changes (who
    authored the pull request, who merged it, the PR, when it landed), which the
    compare page reads each version's stage changes from.
    """
    stamp = (generated_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    models: dict[str, ApiModelSummary] = {}
    files: dict[str, str] = {}
    for name in sorted(index.models):
        model = index.models[name]
        models[name] = {
            "href": model_api_path(name),
            "latest": model.latest.version if model.latest else None,
            "aliases": dict(sorted(model.aliases.items())),
            "stages": _stages(model),
        }
        document: ApiModel = {
            "format": API_FORMAT,
            "name": name,
            "aliases": dict(sorted(model.aliases.items())),
            "versions": [_version_entry(v) for v in model.versions],
        }
        if history is not None and history.complete:
            document["history"] = [cast(ApiEvent, event_json(e)) for e in history.for_model(name)]
        files[model_api_path(name)] = _dump(document)
    index_document: ApiIndex = {
        "format": API_FORMAT,
        "revision": revision or index.revision,
        "generated_at": stamp.isoformat().replace("+00:00", "Z"),
        "stages": list(index.policy.stages),
        "dvc_remote": dvc_remote,
        "models": models,
    }
    if index.moved:  # renamed models' redirects, which the site registry follows
        index_document["moved"] = dict(sorted(index.moved.items()))
    files[INDEX] = _dump(index_document)
    return files


def read_dvc_remote(root: Path) -> ApiRemote | None:
    """The default DVC remote of the registry at ``root`` as the JSON API names it, or None.

    Only the committed ``.dvc/config`` is read (``config.local`` holds credentials).
    The URL is published as configured, less user info (``user:pass@``), query and
    fragment (where signed-URL tokens live), with the options that say where the
    store is (``endpointurl``, ``region``...: :data:`~registry_gen._api.PUBLIC_REMOTE_OPTIONS`),
    never a credential. A remote that is a folder on this machine is never named by
    its path: the site publishes its objects (:mod:`registry_gen.site._objects`) and
    names them ``objects/``, relative to ``api/index.json``.
    An unreadable config is logged and gives None: the site still builds.

    >>> read_dvc_remote(Path("/srv/registry"))  # doctest: +SKIP
    {'name': 'storage', 'url': 's3://bucket/registry', 'options': {'endpointurl': 'https://minio'}}
    """
    try:
        remote = _dvc.default_remote(root, local=False)
        section = (
            _dvc.read_config(root, local=False).get(f'remote "{remote.name}"', {})
            if remote is not None
            else {}
        )
    except ArtifactError as error:
        log.warning("%s", error)
        return None
    if remote is None:
        return None
    if remote.local_folder(root) is not None:
        return {"name": remote.name, "url": SITE_OBJECTS_URL}
    # Never credentials: no user info, and no query or fragment (signed-URL tokens live there).
    url = _URL_CREDENTIALS.sub(r"\1", remote.url).split("?", 1)[0].split("#", 1)[0]
    published: ApiRemote = {"name": remote.name, "url": url}
    options = {k: v for k, v in sorted(section.items()) if k in PUBLIC_REMOTE_OPTIONS}
    if options:
        published["options"] = options
    return published


def committed_revision(root: Path) -> str | None:
    """HEAD's commit id when the registry's records there are committed as they are, else None.

    The site is built from the working tree; its JSON may name a commit only if
    ``models/`` and ``registry.yaml`` have no uncommitted changes.

    >>> committed_revision(Path("/srv/registry"))  # doctest: +SKIP
    '3f2a…'
    """
    try:
        # The registry must be the repository itself, not a folder inside another one.
        out = _git.run(root, "rev-parse", "--show-toplevel", "HEAD", check=False)
        lines = (out or "").splitlines()
        if len(lines) != 2 or Path(lines[0]).resolve() != root.resolve():
            return None
        dirty = _git.run(
            root, "status", "--porcelain", "--untracked-files=all", "--", "models", "registry.yaml"
        )
    except GitError:
        return None
    return lines[1] if not (dirty or "").strip() else None
