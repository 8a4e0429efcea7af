"""The stage rules, written once in policy.py: the client refuses what the validator reports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from registry_gen import policy
from registry_gen.errors import RuleViolation
from registry_gen.schema import Policy, VersionRecord

ROOT = Path(__file__).resolve().parents[1]


def record(**fields: object) -> VersionRecord:
    return VersionRecord.model_validate(
        {
            "version": 3,
            "created_at": "2026-01-01T00:00:00Z",
            "created_by": "alice",
            "artifact": {"path": "model.skops"},
            **fields,
        }
    )


def test_each_rule_returns_a_problem_with_its_code() -> None:
    p = Policy()
    assert policy.transition(p, "churn", 3, "Staging", "Production") is None
    problem = policy.transition(p, "churn", 3, "Production", "None")
    assert problem is not None and problem.code == "transition"
    assert "from Production a version may move to: Staging, Archived" in problem.message
    assert policy.initial_stage(p, "churn", 3, "Staging") is None
    needs = policy.missing_requirements(p, "churn", record(), "Production")
    assert needs is not None and "requires a description and metrics" in needs.message
    assert (
        policy.missing_requirements(
            p, "churn", record(description="d", metrics={"auc": 0.9}), "Production"
        )
        is None
    )
    alias = policy.alias_on_stage(p, "churn", 3, ["champion"], "Archived")
    assert alias is not None and alias.code == "alias-stage" and "@champion" in alias.message
    assert policy.alias_on_stage(p, "churn", 3, [], "Archived") is None
    holder = policy.single_holder(p, "churn", "Production", [2])
    assert holder is not None and "v2 is there" in holder.message
    assert "to Archived" in holder.message
    assert policy.single_holder(p, "churn", "Staging", [2]) is None
    collision = policy.name_collision("Churn", ["churn", "fraud", "Churn"])
    assert collision is not None and "'churn'" in collision.message
    assert policy.name_collision("churn", ["fraud"]) is None


def test_enforce_raises_the_first_problem() -> None:
    policy.enforce(None)
    problem = policy.transition(Policy(), "churn", 3, "Production", "None")
    with pytest.raises(RuleViolation, match="is not allowed") as caught:
        policy.enforce(None, problem)
    assert caught.value.code == "transition"


def test_archive_and_default_stages_come_from_the_policy() -> None:
    assert (Policy().archive_stage, Policy().default_stage) == ("Archived", "None")
    custom = Policy.model_validate(
        {
            "stages": ["Dev", "Live", "Retired"],
            "default_stage": "Dev",
            "archive_stage": "Retired",
            "transitions": {},
            "single_holder": [],
            "requires": {},
            "alias_forbidden_stages": [],
        }
    )
    assert custom.archive_stage == "Retired"
    none = Policy.model_validate(
        {
            "stages": ["Dev", "Live"],
            "default_stage": "Dev",
            "transitions": {},
            "single_holder": [],
            "requires": {},
            "alias_forbidden_stages": [],
        }
    )
    assert none.archive_stage is None
    holder = policy.single_holder(
        none.model_copy(update={"single_holder": ["Live"]}), "churn", "Live", [1]
    )
    assert holder is not None and "move it out" in holder.message


def test_each_rule_is_worded_once() -> None:
    """The wording of every stage rule is in policy.py and nowhere else in the package."""
    sources = {p: p.read_text() for p in (ROOT / "registry_gen").rglob("*.py")}
    for phrase in (
        "is not allowed by",
        "cannot enter",
        "forbids aliases on",
        "holds one version of",
        "collides with",
        "or a stage reachable",
    ):
        holders = [p.name for p, text in sources.items() if re.search(re.escape(phrase), text)]
        assert holders == ["policy.py"], (phrase, holders)
