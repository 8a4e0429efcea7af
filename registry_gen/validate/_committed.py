"""RG905: with the in-repository DVC remote, every artifact's bytes are committed with it.

The zero-configuration registry keeps DVC's remote in a folder of the repository
(``dvc-remote/``): the bytes travel with the commit, or nowhere. A pull request
whose author ran ``dvc push`` but did not commit that folder merges a version
nobody can load, while the author's own checkout loads it fine. So the check
reads what the tree being judged *holds in git*, never the disk: a git
revision's tree (``--base``/``--head``), or for the working tree what
``git add -A`` would commit (tracked, or untracked and not ignored).

A folder artifact's ``.dir`` manifest is an object too, and so is each file it
lists: both are checked. A remote outside the repository is not judged here:
``--check-remote`` (RG903) asks it, where its credentials are.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from registry_gen import _git
from registry_gen._dvc import DVC_DIR, configured_default, parse_config
from registry_gen._manifest import object_paths
from registry_gen.errors import ArtifactError
from registry_gen.store import GitRevision, ModelVersion, Source, WorkingTree

from ._findings import Findings

CONFIG_FILE = f"{DVC_DIR}/config"


def committed_findings(
    root: Path, source: Source, versions: Sequence[ModelVersion], out: Findings
) -> None:
    """RG905 for each of ``versions`` whose bytes the in-repository remote lacks in ``source``.

    Nothing is checked when the default remote lies outside the repository, or
    the working tree is not in git.

    Raises:
        GitError: git failed.
    """
    wanted = [v for v in versions if v.pointer is not None]
    if not wanted:
        return
    folder = in_repo_remote_folder(root, _config_text(root, source))
    if folder is None:
        return
    objects = _Objects.read(root, source, folder)
    if objects is None:
        return
    manifests = objects.manifests(
        sorted({m for v in wanted if (m := v.artifact_md5) and m.endswith(".dir")})
    )
    for version in sorted(wanted, key=lambda v: v.record_file):
        assert version.artifact_md5 is not None  # it has a pointer
        missing = objects.missing(version.artifact_md5, manifests)
        if missing:
            out.add(
                "RG905",
                _message(version, folder, missing, objects.where),
                f"{version.artifact_path}.dvc",
                ("outs", 0, "md5"),
            )


def in_repo_remote_folder(root: Path, config: bytes | None) -> str | None:
    """The default DVC remote's folder relative to ``root``, if it lies inside the repository.

    ``url`` is relative to ``.dvc/`` as DVC reads it (``../dvc-remote`` is
    ``dvc-remote``). None for a URL (``s3://…``), a folder outside, no remote,
    or a configuration that cannot be read (the remote is then nobody's to judge).

    >>> config = b"[core]\\nremote = s\\n['remote \\"s\\"']\\nurl = ../dvc-remote\\n"
    >>> in_repo_remote_folder(Path("/r"), config)
    'dvc-remote'
    >>> in_repo_remote_folder(Path("/r"), config.replace(b"../dvc-remote", b"s3://b/r")) is None
    True
    """
    if not config:
        return None
    try:
        remote = configured_default(parse_config(config, CONFIG_FILE), CONFIG_FILE)
    except ArtifactError:
        return None  # RG804 and DVC itself speak about a broken configuration
    url = remote.url if remote else ""
    if not url or "://" in url or url.startswith("~"):
        return None
    if posixpath.isabs(url):
        absolute = Path(url)
        top = root.resolve()
        if not absolute.is_relative_to(top):
            return None
        folder = absolute.relative_to(top).as_posix()
    else:
        folder = posixpath.normpath(posixpath.join(DVC_DIR, url))
    if folder in ("", ".") or folder.startswith("../") or folder == "..":
        return None
    return folder


def _config_text(root: Path, source: Source) -> bytes | None:
    if isinstance(source, GitRevision):
        return source.read_file(CONFIG_FILE)
    path = root / CONFIG_FILE
    return path.read_bytes() if path.is_file() and not path.is_symlink() else None


@dataclass
class _Objects:
    """The objects under the remote's folder that the judged tree holds in git."""

    root: Path
    folder: str
    blobs: dict[str, str | None]  # path under the folder -> git blob id (None: read the disk)
    where: str  # for messages: "HEAD (3f2c9a1b07)", "what `git add` would commit"

    @classmethod
    def read(cls, root: Path, source: Source, folder: str) -> _Objects | None:
        if isinstance(source, GitRevision):
            out = _git.run(root, "ls-tree", "-r", "-z", "--full-tree", source.commit, "--", folder)
            assert out is not None  # check=True
            blobs: dict[str, str | None] = {}
            for item in out.split("\0"):
                meta, _, path = item.partition("\t")
                if path and meta.split()[1] == "blob":
                    blobs[path] = meta.split()[2]
            return cls(root, folder, blobs, source.label)
        if not isinstance(source, WorkingTree) or not _git.is_repository(root):
            return None
        listed = _git.run(
            root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", folder
        )
        assert listed is not None  # check=True
        paths = [p for p in listed.split("\0") if p]
        return cls(root, folder, dict.fromkeys(paths), "what `git add` would commit")

    def has(self, md5: str) -> bool:
        return self._path(md5) is not None

    def _path(self, md5: str) -> str | None:
        # DVC 3's layout, then DVC 2's (pointers written before `hash: md5`).
        for inner in object_paths(md5):
            if f"{self.folder}/{inner}" in self.blobs:
                return f"{self.folder}/{inner}"
        return None

    def manifests(self, md5s: Sequence[str]) -> dict[str, list[str] | None]:
        """The md5s each held ``.dir`` manifest of ``md5s`` lists (None: not DVC's JSON).

        Read in one batch: one ``git cat-file`` for all of them, whatever their number.
        """
        paths = {md5: path for md5 in md5s if (path := self._path(md5)) is not None}
        oids = {md5: oid for md5, path in paths.items() if (oid := self.blobs[path]) is not None}
        blobs = _git.read_blobs(self.root, oids.values())
        found: dict[str, list[str] | None] = {}
        for md5, path in paths.items():
            data = blobs.get(oids[md5]) if md5 in oids else self._read_disk(path)
            try:
                found[md5] = [str(entry["md5"]) for entry in json.loads(data or b"")]
            except (ValueError, TypeError, KeyError):
                found[md5] = None
        return found

    def _read_disk(self, path: str) -> bytes | None:
        full = self.root / path
        return full.read_bytes() if full.is_file() and not full.is_symlink() else None

    def missing(self, md5: str, manifests: Mapping[str, list[str] | None]) -> list[str]:
        """The object paths (under the folder) of artifact ``md5`` that are not held."""
        if not self.has(md5):
            return [_object(md5)]
        if not md5.endswith(".dir"):
            return []
        listed = manifests.get(md5)
        if listed is None:
            return [f"{_object(md5)} (not a DVC folder manifest)"]
        return [_object(m) for m in listed if not self.has(m)]


def _object(md5: str) -> str:
    return object_paths(md5)[0]


def _message(version: ModelVersion, folder: str, missing: list[str], where: str) -> str:
    what = f"the artifact of {version.name} v{version.version} (md5 {version.artifact_md5})"
    first = f"{folder}/{missing[0]}"
    held = f"{first} is"
    if len(missing) > 1:
        held = f"{len(missing)} of its objects (first {first}) are"
    return (
        f"{what} is not committed: the DVC remote is the in-repository folder {folder}/, "
        f"but {held} not in {where}; run `dvc push` and commit {folder}/ "
        f"(git add {folder}), or use a remote outside the repository (registry-gen init --remote)"
    )
