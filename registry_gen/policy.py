"""The registry's stage rules, written once: each returns the problem, or None.

Pure functions over :class:`~registry_gen.schema.Policy` and plain values. The
client raises :class:`~registry_gen.errors.RuleViolation` from a problem before
it writes anything (:func:`enforce`); the validator turns the same problem into a
finding with a rule code (:data:`Problem.code` maps to it). So a rule and its
wording exist once, and what the client refuses is what the validator reports.

Example:
    >>> from registry_gen.schema import Policy
    >>> transition(Policy(), "churn", 3, "Production", "None").code
    'transition'
    >>> transition(Policy(), "churn", 3, "Staging", "Production") is None
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from .errors import RuleViolation
from .schema import Policy, VersionRecord
from .uri import fold_name

ProblemCode = Literal[
    "transition",
    "initial-stage",
    "requirement",
    "alias-stage",
    "single-holder",
    "name-collision",
]


@dataclass(frozen=True)
class Problem:
    """One broken rule: a machine ``code`` and the one message people read."""

    code: ProblemCode
    message: str

    def __str__(self) -> str:
        return self.message


def enforce(*problems: Problem | None) -> None:
    """Raise the first problem given, if any.

    >>> enforce(None, None)

    Raises:
        RuleViolation: a problem was given; its ``code`` is the problem's.
    """
    for problem in problems:
        if problem is not None:
            raise RuleViolation(problem.message, code=problem.code)


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _allowed(policy: Policy, source: str) -> str:
    return ", ".join(policy.transitions.get(source, [])) or "nothing"


def transition(policy: Policy, name: str, version: int, source: str, target: str) -> Problem | None:
    """A version moving ``source`` → ``target`` that registry.yaml's transitions forbid."""
    if policy.allows(source, target):
        return None
    return Problem(
        "transition",
        f"{name} v{version}: {source} → {target} is not allowed by "
        f"registry.yaml; from {source} a version may move to: "
        f"{_allowed(policy, source)}",
    )


def initial_stage(policy: Policy, name: str, version: int, stage: str) -> Problem | None:
    """A new version that starts in a stage its default stage cannot move to."""
    default = policy.default_stage
    if policy.allows(default, stage):
        return None
    return Problem(
        "initial-stage",
        f"a new version starts in {default} or a stage reachable "
        f"from it ({_allowed(policy, default)}), not {stage}: register {name} "
        f"v{version} first, then promote it",
    )


def missing_requirements(
    policy: Policy, name: str, record: VersionRecord, stage: str
) -> Problem | None:
    """What ``record`` lacks to enter ``stage`` (registry.yaml ``requires``)."""
    need = policy.requires.get(stage)
    if need is None:
        return None
    missing: list[str] = []
    if need.description and not record.description.strip():
        missing.append("a description")
    if need.metrics is True and not record.metrics:
        missing.append("metrics")
    elif isinstance(need.metrics, list):
        absent = [m for m in need.metrics if m not in record.metrics]
        if absent:
            missing.append("metrics " + ", ".join(absent))
    if need.signature and record.signature is None:
        missing.append("a signature")
    if need.run and not (record.lineage.run_id or record.lineage.run_url):
        missing.append("lineage.run_id or lineage.run_url")
    if not missing:
        return None
    return Problem(
        "requirement",
        f"{name} v{record.version} cannot enter {stage}: registry.yaml "
        f"requires {_join(missing)} (requires.{stage}); add them to its version.yaml",
    )


def alias_on_stage(
    policy: Policy, name: str, version: int, aliases: Sequence[str], stage: str
) -> Problem | None:
    """Aliases on a version that is (or would be) in a stage aliases may not point into."""
    if not aliases or stage not in policy.alias_forbidden_stages:
        return None
    names = ", ".join(f"@{a}" for a in aliases)
    return Problem(
        "alias-stage",
        f"{name} v{version} has {names} in {stage}: registry.yaml "
        f"forbids aliases on {stage} versions (alias_forbidden_stages); point the "
        f"alias at a live version or delete it first "
        f"(registry-gen alias {name} {aliases[0]} VERSION)",
    )


def single_holder(policy: Policy, name: str, stage: str, others: Sequence[int]) -> Problem | None:
    """A version in a single-holder ``stage`` that the versions ``others`` also hold."""
    if not others or stage not in policy.single_holder:
        return None
    listed = ", ".join(f"v{n}" for n in others)
    verb, them = ("is", "it") if len(others) == 1 else ("are", "them")
    where = f"to {policy.archive_stage}" if policy.archive_stage else "out"
    return Problem(
        "single-holder",
        f"{stage} holds one version of {name} and {listed} {verb} "
        f"there; pass --archive-existing "
        f"(archive_existing_versions=True) to move {them} {where}",
    )


def admins(policy: Policy) -> list[str]:
    """Who reviews governance changes: ``admins`` in registry.yaml, else every approver.

    >>> admins(Policy(approvers={"Production": ["@org/leads"], "Staging": ["@carol"]}))
    ['@carol', '@org/leads']
    >>> admins(Policy(admins=["@org/registry-admins"], approvers={"Production": ["@carol"]}))
    ['@org/registry-admins']
    """
    if policy.admins:
        return list(dict.fromkeys(policy.admins))
    return list(
        dict.fromkeys(a for stage in policy.stages for a in policy.approvers.get(stage, []))
    )


def name_collision(name: str, existing: Iterable[str]) -> Problem | None:
    """Another model name equal to ``name`` after case-folding and Unicode normalisation."""
    folded = fold_name(name)
    others = sorted(n for n in set(existing) if n != name and fold_name(n) == folded)
    if not others:
        return None
    return Problem(
        "name-collision",
        f"model name {name!r} collides with "
        f"{', '.join(repr(n) for n in others)} after case-folding and Unicode "
        "normalisation; URLs and case-insensitive file systems cannot tell them "
        "apart. Rename one.",
    )
