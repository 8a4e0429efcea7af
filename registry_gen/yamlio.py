"""Strict YAML for records that arrive in pull requests from people we do not fully trust.

Records are parsed from libyaml's event stream (C speed: a registry of 10,000
versions is read in seconds) and typed with the YAML 1.2 core schema by this
module, not by the parser, so that:

* anchors, aliases, merge keys and explicit tags (``!!python/object``) are refused,
  which rules out "billion laughs" and constructor tricks;
* duplicate keys are an error instead of last-one-wins;
* the values YAML 1.1 reads differently (``yes``/``no``/``on``/``off``, ``012``,
  ``1:20``) are refused with a hint to quote them, so every tool reads one file
  the same way;
* every value keeps the line it came from, for messages like ``version.yaml:3``.

Writing goes the other way: :func:`dump_yaml` for new files, and
:func:`replace_scalar` for edits that change one value and leave every other
byte of the file as it was, so a promotion is a one-line diff.

Example:
    >>> doc = parse_yaml("version: 3\\nstage: Staging\\n", "version.yaml")
    >>> doc.data, doc.lines[("stage",)]
    ({'version': 3, 'stage': 'Staging'}, 2)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import Location, RecordError

MAX_RECORD_BYTES = 1_000_000
MAX_DEPTH = 32
# Longest number a record may hold: Python's int() refuses more than 4,300 digits
# (a traceback, not a finding), and no version, size or metric needs more than this.
MAX_NUMBER_CHARS = 100
# Longest error message: they quote values (a duplicate key, an ambiguous scalar).
MAX_MESSAGE_CHARS = 400

KeyPath = tuple[str | int, ...]

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_BOOL_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_INT = re.compile(r"^[-+]?[0-9]+$")
_INT_OCT = re.compile(r"^0o[0-7]+$")
_INT_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")
# Read as booleans, octal or base-60 numbers by YAML 1.1 parsers (PyYAML, Go's yaml.v2).
_YAML11_AMBIGUOUS = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF"
    r"|[-+]?0[0-9_]+|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)$"
)


@dataclass(frozen=True)
class YamlDocument:
    """Plain data parsed from a record plus the line of every key path."""

    data: Any
    lines: Mapping[KeyPath, int]
    file: str

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """Line of ``path``, or of its nearest parent that has one."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)


def decode_record(raw: bytes, file: str) -> str:
    """Decode a record's bytes, refusing files that are too large or not UTF-8."""
    if len(raw) > MAX_RECORD_BYTES:
        raise RecordError(
            Location(file),
            f"file is {len(raw):,} bytes; records are limited to {MAX_RECORD_BYTES:,}",
            code="yaml",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise RecordError(
            Location(file, line),
            f"not valid UTF-8 (byte {error.start}); save the file as UTF-8",
            code="yaml",
        ) from None


def parse_yaml(text: str | bytes, file: str, *, lines: bool = True) -> YamlDocument:
    """Parse one YAML document strictly; raise :class:`RecordError` naming ``file:line``.

    ``lines=False`` leaves :attr:`YamlDocument.lines` empty, which makes parsing
    about a tenth cheaper: for callers that parse again with lines only when they
    need one for a message (:func:`registry_gen.schema.parse_record`). Errors
    raised here carry their line either way.
    """
    if isinstance(text, bytes):
        text = decode_record(text, file)
    elif len(text) > MAX_RECORD_BYTES:
        raise RecordError(
            Location(file), f"file is larger than {MAX_RECORD_BYTES:,} bytes", code="yaml"
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    builder = _Builder(file, lines)
    loader = yaml.CSafeLoader(text)
    try:
        # get_event straight from libyaml's C parser (None at the end): yaml.parse's
        # generator costs as much again per event, and a record has hundreds.
        data = builder.build(loader.get_event)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        problem = error.problem or error.context or "malformed YAML"
        raise RecordError(
            Location(file, line), f"YAML syntax error: {problem}", code="yaml"
        ) from None
    except yaml.YAMLError as error:
        raise RecordError(Location(file), f"YAML syntax error: {error}", code="yaml") from None
    finally:
        loader.dispose()
    return YamlDocument(data=data, lines=builder.lines or {}, file=file)


_ScalarEvent = yaml.ScalarEvent
_MappingStartEvent = yaml.MappingStartEvent
_MappingEndEvent = yaml.MappingEndEvent
_SequenceStartEvent = yaml.SequenceStartEvent
_SequenceEndEvent = yaml.SequenceEndEvent
_AliasEvent = yaml.AliasEvent
_DocumentStartEvent = yaml.DocumentStartEvent

# Every plain scalar that is not a string (or is refused as ambiguous) starts like
# this or is empty; one match instead of ten for the usual word-like value.
# The YAML 1.2 core schema's typed scalars, tried in order (first match wins).
_SCALAR_TYPES: tuple[tuple[re.Pattern[str], Callable[[str], Any]], ...] = (
    (_NULL, lambda _text: None),
    (_BOOL_TRUE, lambda _text: True),
    (_BOOL_FALSE, lambda _text: False),
    (_INT, int),
    (_INT_OCT, lambda text: int(text[2:], 8)),
    (_INT_HEX, lambda text: int(text[2:], 16)),
    (_FLOAT, float),
    (_INF, lambda text: -math.inf if text.startswith("-") else math.inf),
    (_NAN, lambda _text: math.nan),
)

_MAYBE_NOT_STRING = re.compile(
    r"[-+.0-9~]|(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF"
    r"|null|Null|NULL|true|True|TRUE|false|False|FALSE)$"
)


class _Builder:
    def __init__(self, file: str, lines: bool = True) -> None:
        self.file = file
        self.lines: dict[KeyPath, int] | None = {} if lines else None
        self.documents = 0

    def fail(self, event: Any, message: str) -> RecordError:
        """The error at ``event``'s line; a message quoting a huge value is cut short."""
        if len(message) > MAX_MESSAGE_CHARS:  # it goes into every report and annotation
            message = f"{message[:MAX_MESSAGE_CHARS]}… ({len(message):,} characters)"
        return RecordError(Location(self.file, event.start_mark.line + 1), message, code="yaml")

    def build(self, get_event: Any) -> Any:
        data: Any = None
        for event in iter(get_event, None):
            if type(event) is _DocumentStartEvent:
                self.documents += 1
                if self.documents > 1:
                    raise self.fail(event, "a record holds one YAML document; remove the `---`")
                data = self.node(get_event, get_event(), (), 0)
        return data

    def check_node_event(self, event: Any) -> None:
        if type(event) is _AliasEvent:
            raise self.fail(
                event, "YAML aliases (*name) are not allowed in records; write the value"
            )
        if event.anchor is not None:
            raise self.fail(event, "YAML anchors (&name) are not allowed in records")
        tag = event.tag
        if tag is not None and tag != "!":
            raise self.fail(event, f"YAML tags ({tag}) are not allowed in records")

    def node(self, get_event: Any, event: Any, path: KeyPath, depth: int) -> Any:
        """Build the value that starts with ``event``, consuming its events."""
        kind = type(event)
        if kind is _AliasEvent or event.anchor is not None or event.tag is not None:
            self.check_node_event(event)
        if depth > MAX_DEPTH:
            raise self.fail(event, f"nesting deeper than {MAX_DEPTH} levels")
        lines = self.lines
        if lines is not None and path not in lines:
            lines[path] = event.start_mark.line + 1
        if kind is _ScalarEvent:
            return self.scalar(event)
        if kind is _MappingStartEvent:
            return self.mapping(get_event, event, path, depth)
        if kind is _SequenceStartEvent:
            return self.sequence(get_event, event, path, depth)
        raise self.fail(event, "unexpected YAML structure")

    def sequence(self, get_event: Any, event: Any, path: KeyPath, depth: int) -> list[Any]:
        """Build a list from the events after ``event`` up to its end."""
        lines = self.lines
        items: list[Any] = []
        for child in iter(get_event, None):
            if type(child) is _SequenceEndEvent:
                return items
            child_path = (*path, len(items)) if lines is not None else path
            items.append(self.node(get_event, child, child_path, depth + 1))
        raise self.fail(event, "unexpected YAML structure")

    def mapping(self, get_event: Any, event: Any, path: KeyPath, depth: int) -> dict[str, Any]:
        """Build a dict from the events after ``event`` up to its end."""
        lines = self.lines
        mapping: dict[str, Any] = {}
        deeper = depth + 1
        for key_event in iter(get_event, None):
            if type(key_event) is _MappingEndEvent:
                return mapping
            key = key_event.value if type(key_event) is _ScalarEvent else None
            if (
                not key
                or key_event.anchor is not None
                or key_event.tag is not None
                or key_event.style
                or key == "<<"
                or _MAYBE_NOT_STRING.match(key)
            ):
                key = self.key(key_event)  # all but a plain word: the full checks
            if key in mapping:
                raise self.fail(key_event, f"duplicate key '{key}'")
            if lines is not None:
                key_path = (*path, key)
                lines[key_path] = key_event.start_mark.line + 1
            else:
                key_path = path  # only lines need the path
            value = get_event()
            # The common case inline (a plain or quoted scalar, no anchor or tag):
            # the same checks as node(), without a call per value.
            if (
                type(value) is _ScalarEvent
                and value.anchor is None
                and value.tag is None
                and deeper <= MAX_DEPTH
            ):
                text = value.value
                if value.style or (text and not _MAYBE_NOT_STRING.match(text)):
                    mapping[key] = text
                else:
                    mapping[key] = self.typed_scalar(value, text)
            else:
                mapping[key] = self.node(get_event, value, key_path, deeper)
        raise self.fail(event, "unexpected YAML structure")

    def key(self, event: Any) -> str:
        if type(event) is not _ScalarEvent:
            raise self.fail(event, "mapping keys must be plain strings")
        if event.anchor is not None or event.tag is not None:
            self.check_node_event(event)
        text = event.value
        if not event.style and text and text != "<<" and not _MAYBE_NOT_STRING.match(text):
            return text  # a plain word: the usual key
        if text == "<<" and not event.style:
            raise self.fail(event, "YAML merge keys (<<) are not allowed in records")
        value = self.scalar(event)
        if not isinstance(value, str):
            raise self.fail(event, f"mapping key {event.value!r} must be a string; quote it")
        return value

    def scalar(self, event: Any) -> Any:
        text: str = event.value
        if event.style:  # quoted or block scalar: always a string ("" or None is plain)
            return text
        if text and not _MAYBE_NOT_STRING.match(text):
            return text
        return self.typed_scalar(event, text)

    def check_number(self, event: Any, text: str) -> None:
        """Refuse a number too long to convert, or a float that overflows to infinity."""
        if len(text) > MAX_NUMBER_CHARS and any(
            pattern.match(text) for pattern in (_INT, _INT_OCT, _INT_HEX, _FLOAT)
        ):
            raise self.fail(
                event,
                f"a {len(text):,}-character number; numbers in records are "
                f"at most {MAX_NUMBER_CHARS} characters (quote it if it is text)",
            )
        if _FLOAT.match(text) and math.isinf(float(text)):
            raise self.fail(
                event,
                f"the number {text} is too large for a float; write .inf if infinity is meant",
            )

    def typed_scalar(self, event: Any, text: str) -> Any:
        if len(text) > MAX_NUMBER_CHARS or "e" in text or "E" in text:
            self.check_number(event, text)
        if _YAML11_AMBIGUOUS.match(text):
            raise self.fail(
                event,
                f"the unquoted value {text!r} means different things to different YAML "
                f'readers (YAML 1.1 reads it as a boolean or number); write "{text}" in quotes',
            )
        for pattern, convert in _SCALAR_TYPES:
            if pattern.match(text):
                return convert(text)
        return text


# ---------------------------------------------------------------------------
# Writing


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order given, multi-line strings as ``|`` blocks."""


_NOT_STRING_PATTERNS = (
    _YAML11_AMBIGUOUS,
    _NULL,
    _BOOL_TRUE,
    _BOOL_FALSE,
    _INT,
    _INT_OCT,
    _INT_HEX,
    _FLOAT,
    _INF,
    _NAN,
)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if not value or (
        _MAYBE_NOT_STRING.match(value) and any(p.match(value) for p in _NOT_STRING_PATTERNS)
    ):
        # PyYAML's YAML 1.1 rules leave `1e5` or `0875` plain, which parse_yaml reads
        # as a number or refuses as ambiguous: quote every such string.
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: Mapping[str, Any]) -> str:
    """Render plain data as a record file that :func:`parse_yaml` reads back unchanged.

    PyYAML's dumper follows YAML 1.1, so it already quotes ``'yes'``, ``'1.10'``
    and the like; strings that only YAML 1.2 would misread are quoted too.
    """
    text = yaml.dump(
        dict(data),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    return text


def render_scalar(value: str | int | float | bool | None) -> str:
    """Render one value as a YAML scalar that :func:`parse_yaml` reads back as ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    rendered = yaml.dump(value, Dumper=_Dumper, width=10_000).strip()
    if rendered.endswith("\n..."):
        rendered = rendered[: -len("\n...")]
    if rendered.endswith("..."):
        rendered = rendered[:-3].strip()
    return rendered


def replace_scalar(text: str, path: KeyPath, value: str | int | float | bool | None) -> str | None:
    """Change the one-line scalar at ``path`` and keep every other byte of ``text``.

    Returns ``None`` when the value is not a single-line scalar (a block string,
    a mapping): the caller then rewrites the file with :func:`dump_yaml`.
    """
    target = _scalar_at(text, path)
    if target is None or target.style in ("|", ">"):
        return None
    start, end = target.start_mark, target.end_mark
    if start is None or end is None or start.line != end.line:
        return None
    lines = text.splitlines(keepends=True)
    line = lines[start.line]
    new_line = line[: start.column] + render_scalar(value) + line[end.column :]
    lines[start.line] = new_line
    result = "".join(lines)
    # The columns libyaml reports are characters; check the splice did what we meant.
    try:
        check = parse_yaml(result, "<edit>").data
    except RecordError:
        return None
    node: Any = check
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return result if node == value else None


def _scalar_at(text: str, path: KeyPath) -> Any:
    """The scalar event of the value at ``path``, or None (no such key, or not a scalar)."""
    stack: list[Any] = []
    # Walk events keeping the key path, to find the value event for ``path``.
    events = yaml.parse(text, Loader=yaml.CSafeLoader)
    expecting_key: list[bool] = []
    keys: list[Any] = []
    for event in events:
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            if stack and isinstance(stack[-1], yaml.MappingStartEvent):
                expecting_key[-1] = True
            elif stack:
                keys[-1] += 1
            stack.append(event)
            expecting_key.append(True)
            keys.append(-1 if isinstance(event, yaml.SequenceStartEvent) else None)
            continue
        if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            stack.pop()
            expecting_key.pop()
            keys.pop()
            continue
        if not isinstance(event, yaml.ScalarEvent) or not stack:
            continue
        if isinstance(stack[-1], yaml.MappingStartEvent):
            if expecting_key[-1]:
                keys[-1] = event.value
                expecting_key[-1] = False
                continue
            expecting_key[-1] = True
        else:
            keys[-1] += 1
        if tuple(keys) == tuple(path):
            return event
    return None
