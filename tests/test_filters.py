"""MLflow filter and order_by parsing and matching (pure, no registry needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from registry_gen.errors import UsageError
from registry_gen.filters import (
    MODEL_KEYS,
    MODEL_PREFIXES,
    Condition,
    OrderKey,
    like_pattern,
    parse_filter,
    parse_order_by,
    sort_key,
)

CHURN = {
    "name": "churn",
    "version_number": 3,
    "current_stage": "Production",
    "run_id": "r-1",
    "tags.team": "risk",
    "metrics.auc": 0.91,
    "creation_timestamp": datetime(2026, 1, 3, tzinfo=UTC),
}
FRAUD = {
    "name": "fraud",
    "version_number": 1,
    "current_stage": "None",
    "run_id": None,
    "tags.team": "payments",
    "creation_timestamp": datetime(2026, 2, 1, tzinfo=UTC),
}


@pytest.mark.parametrize(
    ("text", "churn", "fraud"),
    [
        ("name = 'churn'", True, False),
        ('name = "churn"', True, False),
        ("name != 'churn'", False, True),
        ("name LIKE 'ch%'", True, False),
        ("name LIKE 'CH%'", False, False),
        ("name ILIKE 'CH%'", True, False),
        ("name LIKE 'c_urn'", True, False),
        ("name LIKE '%r%'", True, True),
        ("tags.team = 'risk'", True, False),
        ("tags.missing = 'x'", False, False),
        ("run_id = 'r-1'", True, False),
        ("run_id IN ('r-1', 'r-2')", True, False),
        ("run_id NOT IN ('r-2')", True, False),  # fraud has no run id: NULL matches nothing
        ("name NOT IN ('churn', 'x')", False, True),
        ("tags.owner != 'x'", False, False),  # neither has the tag: != does not match it (MLflow)
        ("run_id != 'r-2'", True, False),
        ("current_stage = 'Production'", True, False),
        ("stage = 'Production'", True, False),
        ("version_number >= 2", True, False),
        ("version = 1", False, True),
        ("metrics.auc > 0.9", True, False),
        ("metrics.auc > 0.95", False, False),
        ("name LIKE '%' and tags.team = 'payments'", False, True),
        ("name = 'churn' AND run_id = 'r-1' AND version_number < 4", True, False),
        ("creation_timestamp > '2026-01-15'", False, True),
        ("", True, True),
    ],
)
def test_filters_match_like_mlflow(text: str, churn: bool, fraud: bool) -> None:
    flt = parse_filter(text)
    assert flt.matches(CHURN) is churn
    assert flt.matches(FRAUD) is fraud


def test_quoted_values_and_backticked_tag_keys() -> None:
    flt = parse_filter("tags.`data owner` = 'O''Brien'")
    assert flt.conditions == (Condition("tags.data owner", "=", "O'Brien"),)
    assert flt.matches({"tags.data owner": "O'Brien"})


def test_like_escapes_regex_characters() -> None:
    assert like_pattern("a.b%", ignore_case=False).fullmatch("a.bc")
    assert not like_pattern("a.b%", ignore_case=False).fullmatch("axbc")


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("name = churn", "'churn'"),
        ("nme = 'x'", "'nme'"),
        ("name LIKE 3", "LIKE needs a quoted pattern"),
        ("name = 'x' OR name = 'y'", "OR is not supported"),
        ("name > 'a'", "'name' is text"),
        ("name = 'x' name", "got 'name'"),
        ("name = 'unterminated", '"\'unterminated"'),
        ("name", "got 'the end'"),
        ("run_id IN 'a'", "IN needs a list"),
        ("run_id IN ('a' 'b')", "expected ',' or ')'"),
        ("tags. = 'x'", "cannot read"),
        ("= 'x'", "expected a key"),
    ],
)
def test_invalid_filters_name_the_offending_token(text: str, token: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_filter(text)
    message = str(info.value)
    assert text in message
    assert token in message
    assert "\n" not in message


def test_model_filters_reject_version_keys() -> None:
    with pytest.raises(UsageError, match="run_id"):
        parse_filter("run_id = 'x'", MODEL_KEYS, MODEL_PREFIXES)
    assert parse_filter("tags.team = 'risk'", MODEL_KEYS, MODEL_PREFIXES).matches(CHURN)


def test_order_by_parses_direction_and_synonyms() -> None:
    assert parse_order_by(["name", "version_number DESC", "timestamp desc"]) == [
        OrderKey("name"),
        OrderKey("version_number", True),
        OrderKey("creation_timestamp", True),
    ]
    for bad in ["name SIDEWAYS", "name ASC extra", "colour"]:
        with pytest.raises(UsageError, match=r"order_by|colour"):
            parse_order_by([bad])


def test_sort_key_orders_and_puts_missing_values_last() -> None:
    rows = [CHURN, FRAUD, {"name": "aaa", "version_number": 2}]
    by_auc = sorted(rows, key=lambda r: sort_key(r, parse_order_by(["metrics.auc DESC"])))
    assert by_auc[0] is CHURN
    by_version = sorted(rows, key=lambda r: sort_key(r, parse_order_by(["version_number DESC"])))
    assert [r["version_number"] for r in by_version] == [3, 2, 1]
    by_time = sorted(rows, key=lambda r: sort_key(r, parse_order_by(["creation_timestamp DESC"])))
    assert [r["name"] for r in by_time] == ["fraud", "churn", "aaa"]
    by_name = sorted(rows, key=lambda r: sort_key(r, parse_order_by(["name"])))
    assert [r["name"] for r in by_name] == ["aaa", "churn", "fraud"]


def test_timestamp_means_last_update_for_models_and_creation_for_versions() -> None:
    assert parse_order_by(["timestamp DESC"], MODEL_KEYS, MODEL_PREFIXES) == [
        OrderKey("last_updated_timestamp", True)
    ]
    assert parse_order_by(["timestamp"]) == [OrderKey("creation_timestamp")]
