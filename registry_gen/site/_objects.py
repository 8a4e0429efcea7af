"""The artifact objects a site publishes when the registry's DVC remote is a local folder.

``registry-gen init``'s trial default keeps the remote in the repository
(``dvc-remote/``), and any local-folder remote is out of a reader's reach anyway:
the site then carries the objects itself, under ``api/objects/`` in DVC's own
layout (``files/md5/ab/cdef…``), so the site's URL alone is enough to load
(:mod:`registry_gen._api` names them ``objects/`` in ``api/index.json``). Only
the objects the registry's versions reference are published: each version's
file, or its folder's ``.dir`` manifest and the files it lists.

Example:
    >>> sorted(object_files(Path("/srv/registry"), index))[:1]  # doctest: +SKIP
    ['api/objects/files/md5/3f/2a…']
"""

from __future__ import annotations

import logging
from pathlib import Path

from registry_gen import _dvc
from registry_gen._api import SITE_OBJECTS
from registry_gen._manifest import object_paths, parse_manifest
from registry_gen.errors import ArtifactError
from registry_gen.store import RegistryIndex

__all__ = ["object_files"]

log = logging.getLogger("mkdocs.plugins.registry")


def object_files(root: Path, index: RegistryIndex) -> dict[str, Path]:
    """Site-relative path → file on disk, for every object the versions reference.

    Empty unless the default remote (of the committed ``.dvc/config``) is a local
    folder. Objects missing from the folder are left out and counted in one log
    line (the validator reports unpushed artifacts; a site build is no place to fail).
    """
    try:
        remote = _dvc.default_remote(root, local=False)
    except ArtifactError as error:
        log.warning("registry: %s", error)
        return {}
    folder = remote.local_folder(root) if remote is not None else None
    if folder is None:
        return {}
    published: dict[str, Path] = {}
    missing: list[str] = []
    for model in index.models.values():
        for version in model.versions:
            if version.pointer is not None:
                _add(folder, version.pointer.md5, published, missing)
    if missing:
        log.info(
            "registry: %d object(s) the versions reference are not in the DVC remote %s "
            "(e.g. %s): not published",
            len(missing),
            folder,
            missing[0],
        )
    return published


def _inside(folder: Path, source: Path) -> bool:
    """Whether ``source`` is a file of the remote itself, not a symlink out of it.

    A remote kept in the repository (``dvc-remote/``) is written by pull requests:
    a committed symlink there would publish any file of the machine building the site.
    """
    return not source.is_symlink() and source.resolve().is_relative_to(folder.resolve())


def _add(folder: Path, md5: str, published: dict[str, Path], missing: list[str]) -> None:
    paths = object_paths(md5)
    site_path = SITE_OBJECTS + paths[0]
    if site_path in published:
        return
    for source in (folder / path for path in paths):
        if source.is_file() and _inside(folder, source):
            break
    else:
        missing.append(md5)
        return
    published[site_path] = source
    if md5.endswith(".dir"):
        try:
            entries = parse_manifest(source.read_bytes(), md5)
        except (ArtifactError, OSError):
            missing.append(md5)  # a corrupt manifest: the loader would refuse it too
            return
        for _rel, file_md5 in entries:
            _add(folder, file_md5, published, missing)
