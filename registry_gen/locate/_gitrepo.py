"""A registry in a git repository reached by URL, at a revision.

The repository is cloned once into the cache (``<cache>/git/``, without a
checkout), fetched again on later loads unless the revision is a full commit
SHA already there (or offline mode is on), and read from git objects at the
resolved commit. Every git command goes through :mod:`registry_gen._git`, and
the revision is checked by its ``check_rev`` before it reaches one.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from registry_gen import _git
from registry_gen._dvc import DvcSource
from registry_gen.cache import ArtifactCache
from registry_gen.errors import GitError, ModelNotFound, OfflineMiss
from registry_gen.locate._resolved import (
    ResolvedArtifact,
    build_index_following,
    resolve_in_index,
)
from registry_gen.paths import MODELS_DIR, POLICY_FILE
from registry_gen.uri import ModelUri

if TYPE_CHECKING:
    from registry_gen.store import FileEntry

__all__ = ["GitRegistry"]

log = logging.getLogger("registry_gen.locate")

_SHA_PATTERN = re.compile(r"^[0-9a-f]{40}\Z")
_LOCK_TIMEOUT_S = 600


class GitRegistry:
    """A registry in a git repository reached by URL, cloned into the cache and reused.

    >>> GitRegistry("https://host/org/registry.git", "v2", cache=ArtifactCache())  # doctest: +SKIP

    Raises:
        GitError: ``rev`` is not a valid revision.
    """

    def __init__(
        self,
        url: str,
        rev: str | None,
        *,
        cache: ArtifactCache,
        offline: bool = False,
    ) -> None:
        self.url = url
        self.rev = rev if rev is None else _git.check_rev(rev)
        self.cache = cache
        self.offline = offline
        self.label = f"{url}#{rev}" if rev else url

    @property
    def clone_dir(self) -> Path:
        """The cache's clone of this URL (one per URL, whatever the revision)."""
        key = hashlib.sha256(self.url.encode()).hexdigest()[:24]
        return self.cache.root / "git" / key

    def commit(self) -> str:
        """Clone or fetch as needed, and return the commit the revision names now.

        Raises:
            OfflineMiss: offline, and the URL was never cloned.
            GitError: cloning or fetching failed, or the revision names no commit.
        """
        from filelock import FileLock

        self.cache.ensure()
        clone = self.clone_dir
        lock = FileLock(
            str(self.cache.root / "locks" / f"git-{clone.name}.lock"), timeout=_LOCK_TIMEOUT_S
        )
        with lock:
            fresh = False
            # A clone's config and hooks run as this user: only a clone nobody else could
            # have written is used (UnsafeCache otherwise).
            for part in (
                clone,
                clone / ".git",
                clone / ".git" / "config",
                clone / ".git" / "hooks",
            ):
                self.cache.check_private(part, "git clone")
            if not (clone / ".git").is_dir():
                if self.offline:
                    raise OfflineMiss(
                        f"offline mode: {self.url} has not been cloned into the cache"
                    )
                self._clone(clone)
                fresh = True
            if self.rev is not None and _SHA_PATTERN.match(self.rev) and self._has(self.rev):
                return self.rev
            if not fresh and not self.offline:
                _git.run(
                    clone,
                    "fetch",
                    "--quiet",
                    "--prune",
                    "--tags",
                    "--force",
                    "origin",
                    "+refs/heads/*:refs/remotes/origin/*",
                )
            return self._rev_parse()

    def _clone(self, clone: Path) -> None:
        import shutil  # not at the top: a warm load never clones
        import tempfile

        clone.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=clone.parent, prefix=f".{clone.name}."))
        try:
            log.info("cloning %s into %s", self.url, clone)
            _git.run(tmp, "clone", "--quiet", "--no-checkout", "--", self.url, str(tmp / "repo"))
            _drop_group_write(tmp / "repo")  # whatever the umask: the cache is private
            shutil.rmtree(clone, ignore_errors=True)
            (tmp / "repo").replace(clone)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _has(self, rev: str) -> bool:
        found = _git.run(self.clone_dir, "cat-file", "-e", f"{rev}^{{commit}}", check=False)
        return found is not None

    def _rev_parse(self) -> str:
        candidates = (
            ["refs/remotes/origin/HEAD", "HEAD"]
            if self.rev is None
            else [f"refs/remotes/origin/{self.rev}", f"refs/tags/{self.rev}", self.rev]
        )
        for candidate in candidates:
            out = _git.run(
                self.clone_dir,
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                f"{candidate}^{{commit}}",
                check=False,
            )
            if out:
                return out.strip()
        raise GitError(f"{self.rev!r} is not a branch, tag or commit of {self.url}")

    def resolve(self, uri: ModelUri) -> ResolvedArtifact:
        """What ``uri`` names at the revision's current commit.

        Raises:
            ModelNotFound: the commit has no ``models/NAME/``.
            GitError, OfflineMiss: see :meth:`commit`.
        """
        from registry_gen.store import GitRevision

        commit = self.commit()
        source = GitRevision(self.clone_dir, commit)
        listed = source.list_files()

        def files_of(name: str) -> list[FileEntry] | None:
            prefix = f"{MODELS_DIR}/{name}/"
            files = [e for e in listed if e.path == POLICY_FILE or e.path.startswith(prefix)]
            return files if any(e.path.startswith(prefix) for e in files) else None

        if files_of(uri.name) is None:
            raise ModelNotFound(f"no registered model named {uri.name!r} in {self.label}")
        label = f"{self.url}@{commit[:10]}"
        index, _ = build_index_following(source, files_of, uri)
        return resolve_in_index(index, uri, label, DvcSource(repo_root=self.clone_dir, rev=commit))


def _drop_group_write(folder: Path) -> None:
    """Remove group and other write permission below ``folder`` (a fresh clone of ours)."""
    import os
    import stat

    for base, dirs, files in os.walk(folder):
        for name in (*dirs, *files):
            path = Path(base) / name
            info = path.lstat()
            if not stat.S_ISLNK(info.st_mode) and info.st_mode & 0o022:
                path.chmod(stat.S_IMODE(info.st_mode) & ~0o022)
    folder.chmod(0o700)
