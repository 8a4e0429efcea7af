"""The git edge: a branch and one commit per registry change, ready to push as a pull request.

A change (register, promote, alias, describe, tag) names the paths it will
write. :func:`change_on_branch` refuses to start when the branch exists or
those paths have uncommitted edits, creates the branch from the current HEAD,
switches to it, lets the caller write, and commits exactly those paths, so
whatever else is in the working tree stays out of the pull request.

Example:
    >>> with change_on_branch(root, "promote/churn-v3-production",   # doctest: +SKIP
    ...                       ["models/churn/3/version.yaml"],
    ...                       "Promote churn v3: Staging → Production"):
    ...     edit_the_record()
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import GitError

log = logging.getLogger(__name__)

_BRANCH_PART = re.compile(r"[^A-Za-z0-9._/-]+")


def open_repo(root: Path) -> Any:
    """The gitpython ``Repo`` whose top level is ``root``."""
    import git

    try:
        return git.Repo(root, search_parent_directories=False)
    except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError):
        raise GitError(f"{root} is not the top folder of a git repository") from None


def _run(repo: Any, *args: str, env: dict[str, str] | None = None) -> str:
    import git

    try:
        return str(repo.git.execute(["git", *args], env=env))
    except git.exc.GitCommandError as error:
        stderr = (error.stderr or "").strip().removeprefix("stderr: ").strip(" '")
        raise GitError(f"git {' '.join(args[:2])} failed: {stderr}") from None


def has_commits(repo: Any) -> bool:
    try:
        _ = repo.head.commit  # raises on an unborn branch
    except ValueError:
        return False
    return True


def current_branch(root: Path) -> str | None:
    """The checked-out branch, or None on a detached HEAD."""
    repo = open_repo(root)
    return None if repo.head.is_detached else str(repo.head.ref.name)


def default_base(root: Path) -> str | None:
    """Where the next version number is taken from: the upstream of the branch, else HEAD.

    Returns None in a repository with no commits yet.
    """
    repo = open_repo(root)
    if not has_commits(repo):
        return None
    if not repo.head.is_detached:
        tracking = repo.head.ref.tracking_branch()
        if tracking is not None and tracking.is_valid():
            return str(tracking.name)
    return "HEAD"


def branch_name(*parts: str | int) -> str:
    """A branch name from identifiers (already validated; this only tidies case and spaces).

    >>> branch_name("promote", "churn-v3-production")
    'promote/churn-v3-production'
    """
    cleaned = [_BRANCH_PART.sub("-", str(p)).strip("-/").lower() for p in parts]
    return "/".join(p for p in cleaned if p)


def check_branch_name(repo: Any, name: str) -> None:
    if not name or name.startswith("-"):
        raise GitError(f"{name!r} is not a valid branch name")
    try:
        repo.git.check_ref_format("--branch", name)
    except Exception:
        raise GitError(f"{name!r} is not a valid branch name") from None


def dirty_paths(root: Path, paths: Sequence[str]) -> list[str]:
    """Those of ``paths`` (files or folders) with uncommitted changes, staged or not."""
    if not paths:
        return []
    repo = open_repo(root)
    out = _run(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *paths)
    found = []
    for item in out.split("\0"):
        if len(item) > 3:
            found.append(item[3:])
    return sorted(found)


def _config(repo: Any, key: str) -> str | None:
    # Through git itself, not gitpython's config reader, so GIT_CONFIG_GLOBAL and
    # includes are honoured exactly as `git commit` will honour them.
    import git

    try:
        value = str(repo.git.config("--get", key)).strip()
    except git.exc.GitCommandError:
        return None
    return value or None


def _identity_env(repo: Any) -> dict[str, str]:
    """A fallback author when git has none configured, so a fresh machine can commit."""
    if _config(repo, "user.name") and _config(repo, "user.email"):
        return {}
    if os.environ.get("GIT_AUTHOR_NAME") and os.environ.get("GIT_AUTHOR_EMAIL"):
        return {}
    user = os.environ.get("USER") or "registry-gen"
    log.warning("git has no user.name/user.email; committing as %s (set them with git config)",
                user)
    return {
        "GIT_AUTHOR_NAME": os.environ.get("GIT_AUTHOR_NAME", user),
        "GIT_AUTHOR_EMAIL": os.environ.get("GIT_AUTHOR_EMAIL", f"{user}@localhost"),
        "GIT_COMMITTER_NAME": os.environ.get("GIT_COMMITTER_NAME", user),
        "GIT_COMMITTER_EMAIL": os.environ.get("GIT_COMMITTER_EMAIL", f"{user}@localhost"),
    }


def commit_paths(root: Path, paths: Sequence[str], message: str) -> str:
    """Commit exactly ``paths`` (whatever else is staged stays staged); return the SHA."""
    repo = open_repo(root)
    env = {**os.environ, **_identity_env(repo)}
    _run(repo, "add", "--all", "--", *paths)
    # --only commits these paths and leaves anything else in the index for later.
    args = ["commit", "--quiet", "--no-verify", "-m", message]
    if has_commits(repo):
        args.append("--only")
    _run(repo, *args, "--", *paths, env=env)
    return str(repo.head.commit.hexsha)


def user_name(root: Path) -> str:
    """Who is making the change, as git would record the author.

    ``$GIT_AUTHOR_NAME`` (which overrides the config for git too), else git's
    ``user.name``, else ``$USER``, else ``unknown``.
    """
    if os.environ.get("GIT_AUTHOR_NAME"):
        return os.environ["GIT_AUTHOR_NAME"]
    try:
        name = _config(open_repo(root), "user.name")
    except GitError:
        name = None
    return name or os.environ.get("USER") or "unknown"


@contextmanager
def change_on_branch(root: Path, branch: str, paths: Sequence[str], message: str,
                     extra_paths: Sequence[str] = ()) -> Iterator[None]:
    """Create ``branch`` from HEAD, switch to it, run the block, commit ``paths``.

    Refuses (:class:`GitError`) when the branch exists or ``paths`` have
    uncommitted edits. If the block raises, the previous branch is checked out
    again and the new, still empty branch is deleted. ``extra_paths`` are
    committed too but not checked (content-addressed files such as a DVC
    remote inside the repository).
    """
    repo = open_repo(root)
    check_branch_name(repo, branch)
    if branch in [h.name for h in repo.heads]:
        raise GitError(f"branch {branch!r} already exists; pass --branch NAME to pick another")
    dirty = dirty_paths(root, paths)
    if dirty:
        raise GitError(
            "uncommitted changes in " + ", ".join(dirty[:5])
            + ("..." if len(dirty) > 5 else "")
            + "; commit or discard them before making this change on a branch"
        )
    previous = None if repo.head.is_detached else repo.head.ref.name
    previous_sha = repo.head.commit.hexsha if has_commits(repo) else None
    _run(repo, "checkout", "--quiet", "-b", branch)
    try:
        yield
        existing = [p for p in (*paths, *extra_paths) if (root / p).exists()
                    or _tracked(repo, p)]
        commit_paths(root, existing, message)
    except BaseException:
        try:
            if previous is not None:
                _run(repo, "checkout", "--quiet", previous)
            elif previous_sha is not None:
                _run(repo, "checkout", "--quiet", "--detach", previous_sha)
            if repo.head.is_detached or repo.head.ref.name != branch:
                _run(repo, "branch", "-D", branch)
        except GitError as error:  # keep the original error; this one is secondary
            log.warning("could not switch back after a failed change: %s", error)
        raise


def _tracked(repo: Any, path: str) -> bool:
    return bool(_run(repo, "ls-files", "--", path).strip())
