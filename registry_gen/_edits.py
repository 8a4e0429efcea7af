"""Small record edits for the client: mutations of a record's data, and one change on a branch."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from . import gitops
from .errors import UsageError
from .schema import Policy

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


def branch_for(branch: Branch, default_branch: str) -> str | None:
    """The branch a change goes on: ``branch`` itself, ``default_branch``'s free name, or None."""
    if not branch:
        return None
    return gitops.branch_name(default_branch) if branch is True else str(branch)


def apply_change(
    root: Path,
    branch: str | None,
    message: str,
    paths: list[str],
    write: Callable[[], None],
    *,
    extra_paths: Iterable[str] = (),
) -> None:
    """Run ``write``; with ``branch``, on that new branch and committed as one change.

    Raises:
        GitError: the branch exists, or ``paths`` have uncommitted edits.
    """
    if branch:
        with gitops.change_on_branch(root, branch, paths, message, list(extra_paths)):
            write()
    else:
        write()


def stage_named(policy: Policy, stage: str) -> str:
    """``stage`` spelled as the policy does (matched case-insensitively).

    Raises:
        UsageError: ``stage`` is not a stage of the registry.
    """
    canonical = policy.canonical_stage(stage)
    if canonical is None:
        raise UsageError(
            f"{stage!r} is not a stage of this registry; stages: {', '.join(policy.stages)}"
        )
    return canonical


WriteT = TypeVar("WriteT", bound=Callable[..., Any])


def fresh(method: WriteT) -> WriteT:
    """Re-read the working tree before a change, so its checks never act on stale records."""

    @wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        self._forget()
        return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
