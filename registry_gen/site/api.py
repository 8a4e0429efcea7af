"""The static JSON API written into the built site (contract: docs of the site's ``api/``).

``api/index.json`` lists every model with its latest version, aliases and the
versions in each stage; ``api/models/NAME.json`` lists one model's versions
with their artifacts, so :mod:`registry_gen.loader` and other tools resolve
``models:/`` URIs from the published site without git.

:func:`render_api` is pure; :func:`read_dvc_remote` reads ``.dvc/config`` (the
shared one only: ``config.local`` holds credentials and is never read).

Example:
    >>> files = render_api(index, dvc_remote=None)            # doctest: +SKIP
    >>> sorted(files)[:2]                                      # doctest: +SKIP
    ['api/index.json', 'api/models/churn.json']
"""

from __future__ import annotations

import configparser
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from registry_gen.store import ModelVersion, RegisteredModel, RegistryIndex

log = logging.getLogger(__name__)

API_FORMAT = 1
INDEX = "api/index.json"
_URL_CREDENTIALS = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", re.IGNORECASE)


def model_api_path(name: str) -> str:
    return f"api/models/{name}.json"


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def _version_entry(version: ModelVersion) -> dict[str, Any]:
    record = version.record
    pointer = version.pointer
    return {
        "version": version.version,
        "stage": version.stage,
        "created_at": record.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "created_by": record.created_by,
        "uri": str(version.uri),
        "artifact": {
            "path": version.artifact_path,
            "format": record.artifact.format,
            "md5": pointer.md5 if pointer else None,
            "size": pointer.size if pointer else None,
            "nfiles": pointer.nfiles if pointer else None,
            "trusted_types": list(record.artifact.trusted_types),
        },
    }


def _stages(model: RegisteredModel) -> dict[str, list[int]]:
    stages: dict[str, list[int]] = {}
    for version in reversed(model.versions):
        stages.setdefault(version.stage, []).append(version.version)
    return stages


def render_api(index: RegistryIndex, dvc_remote: dict[str, str] | None,
               generated_at: datetime | None = None, *,
               revision: str | None = None) -> dict[str, str]:
    """Every file of the JSON API, keyed by site-relative path, as JSON text.

    ``revision`` is the commit the records are at (default: the index's own).
    """
    stamp = (generated_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    models: dict[str, Any] = {}
    files: dict[str, str] = {}
    for name in sorted(index.models):
        model = index.models[name]
        models[name] = {
            "href": model_api_path(name),
            "latest": model.latest.version if model.latest else None,
            "aliases": dict(sorted(model.aliases.items())),
            "stages": _stages(model),
        }
        files[model_api_path(name)] = _dump({
            "format": API_FORMAT,
            "name": name,
            "aliases": dict(sorted(model.aliases.items())),
            "versions": [_version_entry(v) for v in model.versions],
        })
    files[INDEX] = _dump({
        "format": API_FORMAT,
        "revision": revision or index.revision,
        "generated_at": stamp.isoformat().replace("+00:00", "Z"),
        "stages": list(index.policy.stages),
        "dvc_remote": dvc_remote,
        "models": models,
    })
    return files


def read_dvc_remote(root: Path) -> dict[str, str] | None:
    """The default DVC remote of the registry at ``root`` as ``{"name", "url"}``, or None.

    Only ``.dvc/config`` is read; user info in the URL (``user:pass@``) is removed,
    and a relative local path is made absolute (DVC reads it relative to ``.dvc/``).
    """
    config_file = root / ".dvc" / "config"
    if not config_file.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(config_file.read_text(encoding="utf-8"))
    except (configparser.Error, UnicodeDecodeError) as error:
        log.warning("could not read %s: %s", config_file, error)
        return None
    name = parser.get("core", "remote", fallback=None)
    if not name:
        return None
    # DVC writes sections as ['remote "storage"'].
    section = next((s for s in parser.sections()
                    if " ".join(s.replace('"', " ").replace("'", " ").split()) == f"remote {name}"),
                   None)
    url = parser.get(section, "url", fallback=None) if section else None
    if not url:
        return None
    if "://" not in url and not url.startswith(("/", "\\")) and not re.match(r"^[A-Za-z]:", url):
        url = str((config_file.parent / url).resolve())
    return {"name": name, "url": _URL_CREDENTIALS.sub(r"\1", url)}


def committed_revision(root: Path) -> str | None:
    """HEAD's commit id when the registry's records there are committed as they are, else None.

    The site is built from the working tree; its JSON may name a commit only if
    ``models/`` and ``registry.yaml`` have no uncommitted changes.
    """
    import git

    try:
        repo = git.Repo(root, search_parent_directories=False)
    except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError):
        return None
    try:
        head = repo.git.rev_parse("--verify", "--quiet", "HEAD").strip()
        dirty = repo.git.status("--porcelain", "--untracked-files=all", "--",
                                "models", "registry.yaml").strip()
    except git.exc.GitCommandError:
        return None
    finally:
        repo.close()
    return head if head and not dirty else None
