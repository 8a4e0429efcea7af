"""A branch and one commit per registry change, ready to push as a pull request.

A change (register, promote, alias, describe, tag) names the paths it will
write. :func:`change_on_branch` refuses to start when the branch exists or
those paths have uncommitted edits, creates the branch from the current HEAD,
switches to it, lets the caller write, and commits exactly those paths, so
whatever else is in the working tree stays out of the pull request. Every
command goes through the git edge, :mod:`registry_gen._git`.

Example:
    >>> with change_on_branch(
    ...     root,
    ...     "promote/churn-v3-production",  # doctest: +SKIP
    ...     ["models/churn/3/version.yaml"],
    ...     "Promote churn v3: Staging → Production",
    ... ):
    ...     edit_the_record()
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from . import _git
from .errors import GitError

log = logging.getLogger(__name__)

_BRANCH_PART = re.compile(r"[^A-Za-z0-9._/-]+")


def open_repo(root: Path) -> Path:
    """``root``, checked to be the top folder of a git repository.

    >>> open_repo(Path("/srv/registry"))  # doctest: +SKIP
    PosixPath('/srv/registry')

    Raises:
        GitError: ``root`` is not the top folder of a git repository.
    """
    if not _git.is_top_level(root):
        raise GitError(f"{root} is not the top folder of a git repository")
    return Path(root)


def _run(root: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    out = _git.run(root, *args, env=env, top_level=True)
    assert out is not None  # check=True
    return out


def _head_sha(root: Path) -> str | None:
    """The commit HEAD points to; None on an unborn branch (no commits yet)."""
    out = _git.run(
        root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False, top_level=True
    )
    return out.strip() if out else None


def has_commits(root: Path) -> bool:
    """Whether the repository at ``root`` has a commit checked out (not an unborn branch).

    Raises:
        GitError: ``root`` is not the top folder of a git repository.
    """
    return _head_sha(open_repo(root)) is not None


def current_branch(root: Path) -> str | None:
    """The checked-out branch, or None on a detached HEAD.

    >>> current_branch(Path("/srv/registry"))  # doctest: +SKIP
    'main'

    Raises:
        GitError: ``root`` is not the top folder of a git repository.
    """
    return _branch(open_repo(root))


def _branch(root: Path) -> str | None:
    ref = _git.run(root, "symbolic-ref", "--quiet", "HEAD", check=False, top_level=True)
    return ref.strip().removeprefix("refs/heads/") if ref else None


def default_base(root: Path) -> str | None:
    """Where the next version number is taken from: the upstream of the branch, else HEAD.

    Returns None in a repository with no commits yet.

    >>> default_base(Path("/srv/registry"))  # doctest: +SKIP
    'origin/main'

    Raises:
        GitError: ``root`` is not the top folder of a git repository.
    """
    if not has_commits(root):
        return None
    if _branch(root) is not None:
        # --verify: an upstream that is configured but not fetched does not count.
        upstream = _git.run(
            root,
            "rev-parse",
            "--verify",
            "--quiet",
            "--symbolic-full-name",
            "@{upstream}",
            check=False,
            top_level=True,
        )
        if upstream and upstream.strip():
            ref = upstream.strip()
            return ref.removeprefix("refs/remotes/").removeprefix("refs/heads/")
    return "HEAD"


def branch_name(*parts: str | int) -> str:
    """A branch name from identifiers (already validated; this only tidies case and spaces).

    >>> branch_name("promote", "churn-v3-production")
    'promote/churn-v3-production'
    """
    cleaned = [_BRANCH_PART.sub("-", str(p)).strip("-/").lower() for p in parts]
    return "/".join(p for p in cleaned if p)


def check_branch_name(root: Path, name: str) -> None:
    """Refuse ``name`` unless git accepts it as a new branch's name.

    Raises:
        GitError: ``name`` is not a valid branch name.
    """
    if (
        not name
        or name.startswith("-")
        or _git.run(root, "check-ref-format", "--branch", name, check=False) is None
    ):
        raise GitError(f"{name!r} is not a valid branch name")


def _branch_exists(root: Path, name: str) -> bool:
    return (
        _git.run(
            root,
            "rev-parse",
            "--verify",
            "--quiet",
            f"refs/heads/{name}",
            check=False,
            top_level=True,
        )
        is not None
    )


def dirty_paths(root: Path, paths: Sequence[str]) -> list[str]:
    """Those of ``paths`` (files or folders) with uncommitted changes, staged or not.

    >>> dirty_paths(Path("/srv/registry"), ["models/churn"])  # doctest: +SKIP
    ['models/churn/3/version.yaml']

    Raises:
        GitError: ``root`` is not the top folder of a git repository.
    """
    return _dirty(open_repo(root), paths) if paths else []


def _dirty(root: Path, paths: Sequence[str]) -> list[str]:
    out = _run(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *paths)
    return sorted(item[3:] for item in out.split("\0") if len(item) > 3)


def _config(root: Path, key: str) -> str | None:
    # Through git itself, so GIT_CONFIG_GLOBAL and includes are honoured exactly as
    # `git commit` will honour them.
    value = _git.run(root, "config", "--get", key, check=False, top_level=True)
    return (value or "").strip() or None


def _identity_env(root: Path) -> dict[str, str]:
    """A fallback author when git has none configured, so a fresh machine can commit."""
    if _config(root, "user.name") and _config(root, "user.email"):
        return {}
    if os.environ.get("GIT_AUTHOR_NAME") and os.environ.get("GIT_AUTHOR_EMAIL"):
        return {}
    user = os.environ.get("USER") or "registry-gen"
    log.warning(
        "git has no user.name/user.email; committing as %s (set them with git config)", user
    )
    return {
        "GIT_AUTHOR_NAME": os.environ.get("GIT_AUTHOR_NAME", user),
        "GIT_AUTHOR_EMAIL": os.environ.get("GIT_AUTHOR_EMAIL", f"{user}@localhost"),
        "GIT_COMMITTER_NAME": os.environ.get("GIT_COMMITTER_NAME", user),
        "GIT_COMMITTER_EMAIL": os.environ.get("GIT_COMMITTER_EMAIL", f"{user}@localhost"),
    }


def commit_paths(root: Path, paths: Sequence[str], message: str) -> str:
    """Commit exactly ``paths`` (whatever else is staged stays staged); return the SHA.

    >>> commit_paths(Path("/srv/registry"), ["models/churn"], "Register churn v1")  # doctest: +SKIP
    '3f2c9a1b07...'

    Raises:
        GitError: ``root`` is not the top folder of a git repository, or git failed.
    """
    return _commit(open_repo(root), paths, message)


def _commit(root: Path, paths: Sequence[str], message: str) -> str:
    env = _identity_env(root)
    _run(root, "add", "--all", "--", *paths)
    # --only commits these paths and leaves anything else in the index for later.
    args = ["commit", "--quiet", "--no-verify", "-m", message]
    if _head_sha(root) is not None:
        args.append("--only")
    _run(root, *args, "--", *paths, env=env)
    sha = _head_sha(root)
    assert sha is not None  # just committed
    return sha


def user_name(root: Path) -> str:
    """Who is making the change, as git would record the author.

    ``$GIT_AUTHOR_NAME`` (which overrides the config for git too), else git's
    ``user.name``, else ``$USER``, else ``unknown``.

    >>> user_name(Path("/srv/registry"))  # doctest: +SKIP
    'Alice Doe'
    """
    if os.environ.get("GIT_AUTHOR_NAME"):
        return os.environ["GIT_AUTHOR_NAME"]
    try:
        name = _config(open_repo(root), "user.name")
    except GitError:
        name = None
    if name:
        return name
    fallback = os.environ.get("USER") or "unknown"
    log.warning(
        "git has no user.name for %s; recording %r as who made the change "
        '(set it with `git config user.name "Your Name"`)',
        root,
        fallback,
    )
    return fallback


@contextmanager
def change_on_branch(
    root: Path, branch: str, paths: Sequence[str], message: str, extra_paths: Sequence[str] = ()
) -> Iterator[None]:
    """Create ``branch`` from HEAD, switch to it, run the block, commit ``paths``.

    Refuses (:class:`GitError`) when the branch exists or ``paths`` have
    uncommitted edits. If the block raises, the previous branch is checked out
    again and the new, still empty branch is deleted. ``extra_paths`` are
    committed too but not checked (content-addressed files such as a DVC
    remote inside the repository).

    Raises:
        GitError: ``root`` is not the top folder of a git repository, the
            branch exists or its name is invalid, ``paths`` have uncommitted
            edits, or git failed.
    """
    root = open_repo(root)
    _check_can_branch(root, branch, paths)
    previous = _branch(root)
    previous_sha = _head_sha(root)
    _run(root, "checkout", "--quiet", "-b", branch)
    try:
        yield
        existing = [p for p in (*paths, *extra_paths) if (root / p).exists() or _tracked(root, p)]
        _commit(root, existing, message)
    except BaseException:
        _switch_back(root, branch, previous, previous_sha)
        raise


def _check_can_branch(root: Path, branch: str, paths: Sequence[str]) -> None:
    check_branch_name(root, branch)
    if _branch_exists(root, branch):
        raise GitError(f"branch {branch!r} already exists; pass --branch NAME to pick another")
    dirty = _dirty(root, paths) if paths else []
    if dirty:
        raise GitError(
            "uncommitted changes in "
            + ", ".join(dirty[:5])
            + ("..." if len(dirty) > 5 else "")
            + "; commit or discard them before making this change on a branch"
        )


def _switch_back(root: Path, branch: str, previous: str | None, previous_sha: str | None) -> None:
    """After a failed change: check out what was checked out before, delete ``branch``."""
    try:
        if previous is not None:
            _run(root, "checkout", "--quiet", previous)
        elif previous_sha is not None:
            _run(root, "checkout", "--quiet", "--detach", previous_sha)
        if _branch(root) != branch:
            _run(root, "branch", "-D", branch)
    except GitError as error:  # keep the original error; this one is secondary
        log.warning("could not switch back after a failed change: %s", error)


def _tracked(root: Path, path: str) -> bool:
    return bool(_run(root, "ls-files", "--", path).strip())
