"""Strict YAML: what is refused (with file:line), what round-trips, and one-line edits."""

from __future__ import annotations

import math

import pytest

from registry_gen.errors import RecordError
from registry_gen.yamlio import (
    MAX_DEPTH,
    MAX_NUMBER_CHARS,
    MAX_RECORD_BYTES,
    dump_yaml,
    parse_yaml,
    render_scalar,
    replace_scalar,
)

FILE = "models/churn/3/version.yaml"


def test_parse_types_and_lines() -> None:
    doc = parse_yaml(
        "version: 3\nstage: Staging\nmetrics:\n  auc: 0.91\n  count: 10\nflag: true\nnone: null\n"
        "tags:\n  - a\n  - 'yes'\nhex: 0x1F\noct: 0o17\ninf: .inf\n",
        FILE,
    )
    assert doc.data == {
        "version": 3,
        "stage": "Staging",
        "metrics": {"auc": 0.91, "count": 10},
        "flag": True,
        "none": None,
        "tags": ["a", "yes"],
        "hex": 31,
        "oct": 15,
        "inf": math.inf,
    }
    assert doc.lines[("stage",)] == 2
    assert doc.line_of(("metrics", "auc")) == 4
    assert doc.line_of(("tags", 1)) == 10
    assert doc.line_of(("metrics", "missing")) == 3  # nearest parent
    assert doc.file == FILE
    without = parse_yaml(doc_text := "a:\n  - {b: [1, {c: d}]}\n  - e\n", FILE, lines=False)
    assert without.data == parse_yaml(doc_text, FILE).data and without.lines == {}


def test_empty_document_and_bom() -> None:
    assert parse_yaml("", FILE).data is None
    assert parse_yaml("\ufeffa: 1\n", FILE).data == {"a": 1}
    assert parse_yaml(b"\xef\xbb\xbfa: 1\n", FILE).data == {"a": 1}


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("version: 1\nstage: yes\n", 2, "quotes"),
        ("version: 1\nflag: off\n", 2, "quotes"),
        ("a: 012\n", 1, "quotes"),
        ("a: 1:20\n", 1, "quotes"),
        ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a'"),
        ("a: &x 1\nb: *x\n", 1, "anchors"),
        ("a: !!python/object:os.system 1\n", 1, "tags"),
        ("a: !custom 1\n", 1, "tags"),
        ("base: &b {x: 1}\nc:\n  <<: *b\n", 1, "anchors"),
        ("a: 1\n---\nb: 2\n", 2, "one YAML document"),
        ("a: [1, 2\n", 2, "YAML syntax error"),
        ("? [1, 2]\n: x\n", 1, "plain strings"),
        ("1: x\n", 1, "must be a string"),
        ("a: " + "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2) + "\n", 1, "nesting deeper"),
        ("a:\n  b:\n    - 1\n    - x: 1\n      x: 2\n", 5, "duplicate key 'x'"),
    ],
)
@pytest.mark.parametrize("lines", [True, False])
def test_refused_yaml_names_file_and_line(text: str, line: int, words: str, lines: bool) -> None:
    with pytest.raises(RecordError) as info:
        parse_yaml(text, FILE, lines=lines)
    error = info.value
    assert error.location.file == FILE
    assert error.location.line == line
    assert words in str(error)
    assert str(error).startswith(f"{FILE}:{line}")
    assert "\n" not in str(error)


def test_merge_key_refused() -> None:
    with pytest.raises(RecordError, match="merge keys"):
        parse_yaml("a:\n  <<: {x: 1}\n", FILE)


def test_quoted_ambiguous_values_are_strings() -> None:
    doc = parse_yaml("a: 'yes'\nb: \"1.10\"\nc: '012'\nd: |\n  text\n", FILE)
    assert doc.data == {"a": "yes", "b": "1.10", "c": "012", "d": "text\n"}


def test_version_1_10_is_a_float_not_a_string() -> None:
    # The schema then refuses it as a version; the reader must not guess "1.10".
    assert parse_yaml("version: 1.10\n", FILE).data == {"version": 1.1}


def test_non_utf8_and_huge_files() -> None:
    with pytest.raises(RecordError, match=rf"{FILE}:2: not valid UTF-8"):
        parse_yaml(b"a: 1\nb: \xff\n", FILE)
    with pytest.raises(RecordError, match="records are limited"):
        parse_yaml(b"a: '" + b"x" * MAX_RECORD_BYTES + b"'\n", FILE)
    with pytest.raises(RecordError, match="larger than"):
        parse_yaml("a: '" + "x" * MAX_RECORD_BYTES + "'\n", FILE)


def test_deep_nesting_refused() -> None:
    text = "a: " + "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2) + "\n"
    with pytest.raises(RecordError, match="nesting deeper"):
        parse_yaml(text, FILE)


@pytest.mark.parametrize(
    "value",
    [
        "yes",
        "no",
        "on",
        "1.10",
        "012",
        "1:20",
        "null",
        "~",
        "true",
        "3",
        "0x1F",
        ".inf",
        "",
        " padded ",
        "a: b",
        "# not a comment",
        "multi\nline\n",
        "ünïcode",
        "- item",
        "@at",
        "`tick",
    ],
)
def test_dump_round_trips_every_string(value: str) -> None:
    data = {"value": value, "nested": {"list": [value, 1, 1.5, True, None]}}
    assert parse_yaml(dump_yaml(data), FILE).data == data


def test_dump_keeps_key_order_and_block_strings() -> None:
    text = dump_yaml({"version": 1, "stage": "None", "description": "line 1\nline 2\n"})
    assert text.splitlines()[:3] == ["version: 1", "stage: None", "description: |"]


@pytest.mark.parametrize(
    "value", ["Production", "yes", "1.10", "", None, True, 3, 0.5, "it's", 'say "hi"', "a: b"]
)
def test_render_scalar_reads_back(value: str | int | float | bool | None) -> None:
    assert parse_yaml(f"v: {render_scalar(value)}\n", FILE).data == {"v": value}


def test_replace_scalar_changes_one_line_only() -> None:
    text = "# header comment\nversion: 3\nstage: Staging   # keep me\ndescription: x\n"
    new = replace_scalar(text, ("stage",), "Production")
    assert new == "# header comment\nversion: 3\nstage: Production   # keep me\ndescription: x\n"
    nested = "aliases:\n  champion: 3\n  challenger: 4\n"
    assert replace_scalar(nested, ("aliases", "champion"), 4) == (
        "aliases:\n  champion: 4\n  challenger: 4\n"
    )
    listed = "owners:\n  - '@a'\n  - '@b'\n"
    assert replace_scalar(listed, ("owners", 1), "@c") == "owners:\n  - '@a'\n  - '@c'\n"
    assert replace_scalar("stage: None\n", ("stage",), "yes") == "stage: 'yes'\n"


def test_replace_scalar_declines_what_it_cannot_splice() -> None:
    assert replace_scalar("description: |\n  a\n  b\n", ("description",), "c") is None
    assert replace_scalar("a: 1\n", ("missing",), 2) is None
    assert replace_scalar("a:\n  b: 1\n", ("a",), 2) is None


# ---------------------------------------------------------------------------
# Bounded numbers (issue 10): a finding with file:line, never a traceback


@pytest.mark.parametrize(
    "number",
    [
        "9" * 5000,  # int() refuses more than 4,300 digits with a ValueError
        "-" + "1" * (MAX_NUMBER_CHARS + 1),
        "0x" + "f" * MAX_NUMBER_CHARS,
        "0." + "1" * MAX_NUMBER_CHARS,
    ],
)
@pytest.mark.parametrize("where", ["value", "list", "key"])
def test_overlong_numbers_are_record_errors(number: str, where: str) -> None:
    text = {
        "value": f"a: 1\nbig: {number}\n",
        "list": f"a: 1\nbig: [1, {number}]\n",
        "key": f"a: 1\n{number}: x\n",
    }[where]
    with pytest.raises(RecordError) as info:
        parse_yaml(text, FILE)
    assert str(info.value).startswith(f"{FILE}:2: ")
    # libyaml itself refuses keys over 1,024 characters (a syntax error, also a finding).
    expected = (
        "YAML syntax error"
        if where == "key" and len(number) > 1024
        else f"at most {MAX_NUMBER_CHARS} characters"
    )
    assert expected in str(info.value)


@pytest.mark.parametrize("number", ["1e400", "-1.5E+999", "1e309"])
def test_floats_that_overflow_are_record_errors(number: str) -> None:
    with pytest.raises(RecordError, match=rf"{FILE}:2: the number .* too large for a float"):
        parse_yaml(f"a: 1\nauc: {number}\n", FILE)


def test_numbers_within_the_bounds_still_read() -> None:
    longest = "1" * MAX_NUMBER_CHARS
    doc = parse_yaml(f"a: {longest}\nb: 1e308\nc: -.inf\nd: '{'9' * 5000}'\n", FILE)
    assert doc.data == {"a": int(longest), "b": 1e308, "c": -math.inf, "d": "9" * 5000}
    # A long word that starts with a digit is text, not a number.
    assert parse_yaml(f"sha: 1{'ab' * 80}\n", FILE).data == {"sha": f"1{'ab' * 80}"}


def test_messages_quoting_a_huge_value_are_cut_short() -> None:
    with pytest.raises(RecordError) as info:
        parse_yaml(f"a: 1\nb: 1{':20' * 100_000}\n", FILE)  # base 60 to YAML 1.1
    assert str(info.value).startswith(f"{FILE}:2: the unquoted value '1:20:20")
    assert len(str(info.value)) < 600 and "characters)" in str(info.value)
