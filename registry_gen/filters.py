"""MLflow's search syntax for registered models and model versions: parsing and matching.

Pure logic, no IO. A filter string is conditions joined by ``AND`` (MLflow has
no ``OR`` either)::

    name = 'churn'            name != 'churn'          name LIKE 'ch%'     name ILIKE 'CH%'
    tags.team = 'risk'        tags.`data owner` = 'x'  run_id = 'abc'      run_id IN ('a', 'b')
    current_stage = 'Production'                       version_number >= 3
    metrics.auc > 0.8         params.max_depth = '5'

``LIKE`` is case-sensitive with ``%`` (any run) and ``_`` (one character);
``ILIKE`` ignores case. ``NOT IN ('a', 'b')`` excludes values. As in MLflow's
SQL, a condition on a value the entity lacks (a tag it does not have, an empty
``run_id``) never matches, ``!=`` and ``NOT IN`` included. An ``order_by``
item is ``KEY [ASC|DESC]`` (``name ASC``, ``version_number DESC``,
``creation_timestamp DESC``).

The caller describes each entity as a flat mapping of keys (``name``,
``tags.team``, ...) to values; :meth:`Filter.matches` and :func:`sort_key`
only look values up in it, so the same code serves models and versions.

Example:
    >>> flt = parse_filter("name LIKE 'ch%' AND tags.team = 'risk'", VERSION_KEYS)
    >>> flt.matches({"name": "churn", "tags.team": "risk"})
    True
    >>> flt.matches({"name": "fraud", "tags.team": "risk"})
    False
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import UsageError

Value = str | int | float | datetime | None

# Plain attributes each entity can be filtered and ordered by; prefixed keys
# (tags., metrics., params.) are checked by prefix.
MODEL_KEYS = frozenset({"name", "description", "creation_timestamp", "last_updated_timestamp"})
VERSION_KEYS = frozenset(
    {
        "name",
        "version_number",
        "current_stage",
        "run_id",
        "run_url",
        "description",
        "creation_timestamp",
        "last_updated_timestamp",
        "created_by",
        "format",
        "source_path",
    }
)
MODEL_PREFIXES = ("tags.",)
VERSION_PREFIXES = ("tags.", "metrics.", "params.")
# MLflow spellings accepted as the same key.
SYNONYMS = {
    "version": "version_number",
    "stage": "current_stage",
    "run_link": "run_url",
    "tag": "tags",
    "metric": "metrics",
    "param": "params",
    "timestamp": "creation_timestamp",
    "created_at": "creation_timestamp",
    "user_id": "created_by",
    "source": "source_path",
}
# For registered models MLflow's ``timestamp`` is the last update, not the creation.
MODEL_SYNONYMS = {**SYNONYMS, "timestamp": "last_updated_timestamp"}
NUMERIC_PREFIXES = ("metrics.",)
NUMERIC_KEYS = frozenset({"version_number"})
TIME_KEYS = frozenset({"creation_timestamp", "last_updated_timestamp"})

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),])
      | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
      | (?P<ident>(?:[A-Za-z_][A-Za-z0-9_]*|`[^`]+`)(?:\.(?:[A-Za-z0-9_][A-Za-z0-9_.\-]*|`[^`]+`))?)
    )""",
    re.VERBOSE,
)
_WORD_OPS = {"LIKE", "ILIKE", "IN", "NOT IN"}


@dataclass(frozen=True)
class Token:
    """One token of a filter string, with its position for error messages."""

    kind: str  # string, op, punct, number, ident, word, end
    text: str
    position: int


@dataclass(frozen=True)
class Condition:
    """One ``key op value`` comparison."""

    key: str
    op: str  # =, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN
    value: Value | tuple[Value, ...]

    def test(self, actual: Any) -> bool:
        """Whether ``actual`` (the entity's value for :attr:`key`) satisfies the condition.

        A missing value (None) satisfies nothing, as SQL's NULL in MLflow's stores.
        """
        if actual is None:
            return False
        if self.op in {"IN", "NOT IN"}:
            assert isinstance(self.value, tuple)
            return (str(actual) in {str(v) for v in self.value}) == (self.op == "IN")
        if self.op in {"LIKE", "ILIKE"}:
            assert isinstance(self.value, str)
            return like_pattern(self.value, self.op == "ILIKE").fullmatch(str(actual)) is not None
        pair = _comparable(actual, self.value)
        return pair is not None and _compare(pair[0], self.op, pair[1])


def _comparable(actual: Any, expected: Any) -> tuple[Any, Any] | None:
    """``actual`` and ``expected`` as one type to compare, or None when they cannot be."""
    if isinstance(actual, bool) or isinstance(expected, tuple):
        return None
    if isinstance(actual, int | float) and not isinstance(expected, int | float):
        try:
            return actual, float(str(expected))
        except ValueError:
            return None
    if isinstance(actual, datetime):
        when = _as_datetime(expected)
        return None if when is None else (actual, when)
    if not isinstance(actual, int | float):
        return str(actual), str(expected)
    return actual, expected


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "=":
        return bool(actual == expected)
    if op == "!=":
        return bool(actual != expected)
    if op == "<":
        return bool(actual < expected)
    if op == "<=":
        return bool(actual <= expected)
    if op == ">":
        return bool(actual > expected)
    return bool(actual >= expected)


def _as_datetime(value: Any) -> datetime | None:
    # MLflow timestamps are milliseconds since the epoch; ISO 8601 text is accepted too.
    from datetime import UTC

    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Filter:
    """Conditions that must all hold. The empty filter matches everything."""

    conditions: tuple[Condition, ...] = ()

    def matches(self, entity: Mapping[str, Any]) -> bool:
        """Whether every condition holds for ``entity`` (a flat mapping of keys to values)."""
        return all(c.test(entity.get(c.key)) for c in self.conditions)


@dataclass(frozen=True)
class OrderKey:
    """One ``order_by`` item: a key and its direction."""

    key: str
    descending: bool = False


def like_pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """SQL ``LIKE`` as a regular expression: ``%`` any run, ``_`` one character."""
    parts = []
    for char in pattern:
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def tokenize(text: str) -> list[Token]:
    """Split a filter string into tokens; an unreadable character raises :class:`UsageError`."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            start = len(text) - len(text[pos:].lstrip())
            raise _error(text, start, f"cannot read {text[start : start + 20]!r}")
        kind = match.lastgroup or "ident"
        value = match.group(kind)
        start = match.start(kind)
        if kind == "ident" and value.upper() in _WORD_OPS | {"AND", "NOT", "OR"}:
            kind, value = "word", value.upper()
        tokens.append(Token(kind, value, start))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _error(text: str, position: int, message: str) -> UsageError:
    return UsageError(f"invalid filter {text!r}: {message} (at position {position})")


def _canonical_key(
    raw: str, keys: frozenset[str], prefixes: tuple[str, ...], text: str, position: int
) -> str:
    head, dot, tail = raw.partition(".")
    head = head.strip("`").lower()
    # Only the model keys have last_updated_timestamp without version_number.
    synonyms = MODEL_SYNONYMS if "version_number" not in keys else SYNONYMS
    head = synonyms.get(head, head)
    if dot:
        key = f"{head}.{tail.strip('`')}"
        if any(key.startswith(p) for p in prefixes) and tail.strip("`"):
            return key
    elif head in keys:
        return head
    allowed = ", ".join(sorted(keys) + [f"{p}KEY" for p in prefixes])
    raise _error(text, position, f"unknown key {raw!r}; use one of: {allowed}")


def _unquote(token: Token) -> str:
    body = token.text[1:-1]
    if token.text[0] == "'":
        body = body.replace("''", "'")
    return re.sub(r"\\(.)", r"\1", body)


def parse_filter(
    text: str | None,
    keys: frozenset[str] = VERSION_KEYS,
    prefixes: tuple[str, ...] = VERSION_PREFIXES,
) -> Filter:
    """Parse an MLflow filter string; :class:`UsageError` names the offending token.

    >>> parse_filter("run_id = 'r1'").conditions[0]
    Condition(key='run_id', op='=', value='r1')
    """
    if text is None or not text.strip():
        return Filter()
    tokens = tokenize(text)
    conditions: list[Condition] = []
    i = 0
    while True:
        condition, i = _condition(text, tokens, i, keys, prefixes)
        conditions.append(condition)
        follow = tokens[i]
        if follow.kind == "end":
            return Filter(tuple(conditions))
        if follow.kind == "word" and follow.text == "AND":
            i += 1
            continue
        if follow.kind == "word" and follow.text == "OR":
            raise _error(
                text, follow.position, "OR is not supported (as in MLflow); run two searches"
            )
        raise _error(text, follow.position, f"expected AND or the end, got {follow.text!r}")


def _condition(
    text: str, tokens: list[Token], i: int, keys: frozenset[str], prefixes: tuple[str, ...]
) -> tuple[Condition, int]:
    """The condition starting at ``tokens[i]`` (``key op value``) and the index after it."""
    key_token = tokens[i]
    if key_token.kind != "ident":
        raise _error(
            text,
            key_token.position,
            f"expected a key such as name or tags.KEY, got {key_token.text or 'the end'!r}",
        )
    key = _canonical_key(key_token.text, keys, prefixes, text, key_token.position)
    op_token = tokens[i + 1]
    i += 2
    op = "!=" if op_token.text == "<>" else op_token.text
    if op_token.kind == "word" and op_token.text == "NOT" and tokens[i].text == "IN":
        op, i = "NOT IN", i + 1
    if not (op_token.kind == "op" or (op_token.kind == "word" and op in _WORD_OPS)):
        raise _error(
            text,
            op_token.position,
            "expected an operator (=, !=, <, >, LIKE, ILIKE, IN, NOT IN) after "
            f"{key_token.text!r}, got {op_token.text or 'the end'!r}",
        )
    numeric = key in NUMERIC_KEYS or key.startswith(NUMERIC_PREFIXES) or key in TIME_KEYS
    if op in {"<", "<=", ">", ">="} and not numeric:
        raise _error(
            text, op_token.position, f"{op} compares numbers; {key!r} is text (use = , != or LIKE)"
        )
    if op in {"IN", "NOT IN"}:
        values, i = _value_list(text, tokens, i)
        return Condition(key, op, values), i
    value = _value(text, tokens[i])
    if op in {"LIKE", "ILIKE"} and not isinstance(value, str):
        raise _error(text, tokens[i].position, f"{op} needs a quoted pattern")
    return Condition(key, op, value), i + 1


def _value(text: str, token: Token) -> Value:
    if token.kind == "string":
        return _unquote(token)
    if token.kind == "number":
        return float(token.text) if any(c in token.text for c in ".eE") else int(token.text)
    raise _error(
        text,
        token.position,
        f"expected a quoted string or a number, got {token.text or 'the end'!r}",
    )


def _value_list(text: str, tokens: list[Token], i: int) -> tuple[tuple[Value, ...], int]:
    """The values of ``IN (...)`` starting at ``tokens[i]`` and the index after the list."""
    if tokens[i].text != "(":
        raise _error(text, tokens[i].position, "IN needs a list: IN ('a', 'b')")
    i += 1
    values: list[Value] = []
    while True:
        values.append(_value(text, tokens[i]))
        i += 1
        if tokens[i].text == ",":
            i += 1
            continue
        if tokens[i].text == ")":
            return tuple(values), i + 1
        got = tokens[i].text or "the end"
        raise _error(text, tokens[i].position, f"expected ',' or ')' in the IN list, got {got!r}")


def parse_order_by(
    items: Sequence[str] | None,
    keys: frozenset[str] = VERSION_KEYS,
    prefixes: tuple[str, ...] = VERSION_PREFIXES,
) -> list[OrderKey]:
    """Parse ``order_by`` items such as ``"version_number DESC"``.

    >>> parse_order_by(["name", "version_number DESC"])
    [OrderKey(key='name', descending=False), OrderKey(key='version_number', descending=True)]
    """
    result: list[OrderKey] = []
    for item in items or ():
        words = item.split()
        if not words or len(words) > 2:
            raise UsageError(f"invalid order_by {item!r}: use 'KEY [ASC|DESC]'")
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if direction not in {"ASC", "DESC"}:
            raise UsageError(f"invalid order_by {item!r}: {words[1]!r} is not ASC or DESC")
        key = _canonical_key(words[0], keys, prefixes, item, 0)
        result.append(OrderKey(key, direction == "DESC"))
    return result


class _Reversed:
    """Wraps a value so that sorting ascending orders it descending."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and bool(self.value == other.value)

    def __hash__(self) -> int:
        return hash(self.value)


def sort_key(entity: Mapping[str, Any], order: Sequence[OrderKey]) -> tuple[Any, ...]:
    """A key for ``sorted`` that applies ``order``; missing values sort last either way."""
    parts: list[Any] = []
    for item in order:
        value = entity.get(item.key)
        missing = value is None
        comparable: Any = (
            (0, "")
            if missing
            else ((1, value) if isinstance(value, int | float | datetime) else (2, str(value)))
        )
        parts.append(missing)
        parts.append(_Reversed(comparable) if item.descending else comparable)
    return tuple(parts)
