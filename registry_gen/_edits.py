"""Small record edits for the client: mutations of a record's data, and one change on a branch."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from . import gitops
from .errors import UsageError

Mutation = Callable[[dict[str, Any]], None]
Branch = bool | str | None


def setter(key: str, value: Any) -> Mutation:
    """Set the top-level ``key`` to ``value``."""
    def mutate(data: dict[str, Any]) -> None:
        data[key] = value

    return mutate


def put(section: str, key: str, value: Any) -> Mutation:
    """Set ``section.key`` to ``value``, adding the section when it is missing."""
    def mutate(data: dict[str, Any]) -> None:
        if section not in data or data[section] is None:
            data[section] = {}
        data[section][key] = value

    return mutate


def remove(section: str, key: str) -> Mutation:
    """Delete ``section.key``, and the section when it is left empty."""
    def mutate(data: dict[str, Any]) -> None:
        del data[section][key]
        if not data[section]:
            del data[section]

    return mutate


def check_tag(key: str, value: str) -> None:
    """Refuse tag keys and values the record schema would refuse, naming the argument.

    Raises:
        UsageError: the key is empty or either is not a string of at most 500 characters.
    """
    if not isinstance(key, str) or not key.strip() or len(key) > 500:
        raise UsageError(f"tag key {key!r} must be a non-empty string of at most 500 characters")
    if not isinstance(value, str) or len(value) > 500:
        raise UsageError(f"tag value for {key!r} must be a string of at most 500 characters")


def apply_change(root: Path, branch: Branch, default_branch: str, message: str,
                 paths: list[str], write: Callable[[], None],
                 extra_paths: Iterable[str] = ()) -> None:
    """Run ``write``; with ``branch``, on a new branch and committed as one change.

    Raises:
        GitError: the branch exists, or ``paths`` have uncommitted edits.
    """
    if branch:
        name = gitops.branch_name(default_branch) if branch is True else str(branch)
        with gitops.change_on_branch(root, name, paths, message, list(extra_paths)):
            write()
    else:
        write()
