"""A registry as it stood at a date or revision: ``load_model(uri, at=...)``.

The checkout's or the git URL's history names the commit (see
:func:`registry_gen.history.commit_at`); the model's records are read from git
objects at that commit and resolved by the one resolver, as
:class:`~registry_gen.locate.GitRegistry` resolves its current commit. The
artifact is fetched through the registry's DVC remote as configured now (the
bytes are addressed by their md5, so where they were pushed then still holds
them). The published site has no history: ``at=`` needs git.
"""

from __future__ import annotations

from pathlib import Path

from registry_gen._dvc import DvcSource
from registry_gen.errors import ModelNotFound, UsageError
from registry_gen.locate._gitrepo import GitRegistry
from registry_gen.locate._local import LocalRegistry
from registry_gen.locate._resolved import Registry, ResolvedArtifact, build_index, resolve_in_index
from registry_gen.paths import MODELS_DIR, POLICY_FILE
from registry_gen.uri import ModelUri

__all__ = ["PastRegistry", "at_registry"]


class PastRegistry:
    """``repo`` (a git repository) as it stood at ``at`` on the line of ``rev``."""

    def __init__(self, repo: Path, rev: str, at: str, label: str, dvc: DvcSource) -> None:
        self.repo = repo
        self.rev = rev
        self.at = at
        self.label = f"{label} at {at}"
        self.dvc = dvc

    def resolve(self, uri: ModelUri) -> ResolvedArtifact:
        """What ``uri`` named at the commit ``at`` names.

        Raises:
            UsageError: ``at`` is neither a date nor a revision, or nothing had landed then.
            ModelNotFound, VersionNotFound: the model or version did not exist then.
        """
        from registry_gen.history import commit_at
        from registry_gen.store import GitRevision

        past = commit_at(self.repo, self.at, self.rev)
        source = GitRevision(self.repo, past.sha)
        prefix = f"{MODELS_DIR}/{uri.name}/"
        files = [
            e for e in source.list_files() if e.path == POLICY_FILE or e.path.startswith(prefix)
        ]
        if not any(e.path.startswith(prefix) for e in files):
            raise ModelNotFound(f"no registered model named {uri.name!r} in {self.label}")
        index = build_index(source, files, uri)
        return resolve_in_index(index, uri, f"{self.label} ({past.short})", self.dvc)


def at_registry(place: Registry, at: str) -> Registry:
    """``place`` as it stood at ``at``: a checkout or a git URL (the site has no history).

    Raises:
        UsageError: ``place`` is the published site.
    """
    if isinstance(place, LocalRegistry):
        return PastRegistry(place.root, "HEAD", at, place.label, DvcSource(repo_root=place.root))
    if isinstance(place, GitRegistry):
        tip = place.commit()
        return PastRegistry(
            place.clone_dir, tip, at, place.label, DvcSource(repo_root=place.clone_dir, rev=tip)
        )
    raise UsageError(
        f"at= needs a git checkout or a git URL: {place.label} is a published site, "
        "which keeps no history"
    )
