"""Writing records: new files atomically, edits with the smallest diff.

An edit of a one-line value is spliced into the file's text, leaving every
other byte as it was; a structural edit (a new key, a removed alias) goes
through ruamel.yaml's round-trip editor, which keeps comments and key order.

Example:
    >>> edit_record(
    ...     path,
    ...     VersionRecord,  # doctest: +SKIP
    ...     lambda data: data.__setitem__("stage", "Production"),
    ... )
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from registry_gen.errors import RecordError
from registry_gen.paths import atomic_write
from registry_gen.schema import VersionRecord, record_errors
from registry_gen.yamlio import dump_yaml, parse_yaml, replace_scalar

__all__ = ["edit_record", "record_to_yaml", "write_record"]


def record_to_yaml(record: BaseModel) -> str:
    """A record as YAML text, leaving out fields that are at their defaults.

    >>> from registry_gen.schema import ModelRecord
    >>> print(record_to_yaml(ModelRecord(name="churn")), end="")
    name: churn
    """
    data = record.model_dump(mode="json", exclude_defaults=True)
    if isinstance(record, VersionRecord):
        # Keep the fields a reviewer looks for first even when they hold defaults.
        data = {"version": record.version, "stage": record.stage, **data}
    return dump_yaml(data)


def write_record(path: Path, record: BaseModel) -> None:
    """Write a new record file atomically (a temporary file, then a rename).

    >>> write_record(Path("models/churn/model.yaml"), ModelRecord(name="churn"))  # doctest: +SKIP

    Raises:
        UnsafePath: ``path`` is a symlink.
        OSError: the file cannot be written.
    """
    atomic_write(path, record_to_yaml(record))


def edit_record(
    path: Path, schema: type[BaseModel], mutate: Callable[[dict[str, Any]], None]
) -> BaseModel:
    """Apply ``mutate`` to the record at ``path`` and write it back with the smallest diff.

    Changes to existing one-line values are spliced into the text, leaving every
    other byte as it was; structural changes (a new key, a removed alias) go
    through ruamel.yaml's round-trip editor, which keeps comments and key order.
    The result is validated against ``schema`` before anything is written.

    >>> edit_record(path, ModelRecord, lambda d: d.pop("description"))  # doctest: +SKIP

    Raises:
        RecordError: the file cannot be read, or the edited record is invalid
            (the first problem, with its line); nothing is written then.
    """
    text = path.read_text(encoding="utf-8")
    rel = path.as_posix()
    document = parse_yaml(text, rel)
    before = document.data if isinstance(document.data, dict) else {}
    after = _deep_copy(before)
    mutate(after)
    new_text = _splice_changes(text, before, after)
    if new_text is None:
        new_text = _round_trip(text, mutate)
    try:
        record = schema.model_validate(parse_yaml(new_text, rel).data)
    except ValidationError as error:
        raise record_errors(parse_yaml(new_text, rel), error)[0] from None
    if new_text != text:
        atomic_write(path, new_text)
    return record


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _leaf_changes(
    before: Any, after: Any, path: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]] | None:
    """Paths of changed scalars, or None if the change is structural."""
    if isinstance(before, dict | list) or isinstance(after, dict | list):
        keys = _same_shape_keys(before, after)
        if keys is None:
            return None
        changes: list[tuple[Any, ...]] = []
        for key in keys:
            sub = _leaf_changes(before[key], after[key], (*path, key))
            if sub is None:
                return None
            changes.extend(sub)
        return changes
    if before == after and type(before) is type(after):
        return []
    return [path]


def _same_shape_keys(before: Any, after: Any) -> list[Any] | None:
    # The keys (or indexes) of two containers of one shape; None if the shape changed.
    if isinstance(before, dict) and isinstance(after, dict) and list(before) == list(after):
        return list(before)
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return list(range(len(before)))
    return None


def _splice_changes(text: str, before: Any, after: Any) -> str | None:
    changes = _leaf_changes(before, after)
    if changes is None:
        return None
    for change in changes:
        value: Any = after
        for part in change:
            value = value[part]
        spliced = replace_scalar(text, change, value)
        if spliced is None:
            return None
        text = spliced
    return text


def _round_trip(text: str, mutate: Callable[[dict[str, Any]], None]) -> str:
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip mode: comments, key order and quoting survive
    yaml.preserve_quotes = True
    yaml.width = 4096
    data = yaml.load(text)
    if data is None:
        from ruamel.yaml.comments import CommentedMap

        data = CommentedMap()
    mutate(data)
    _quote_ambiguous(data)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def _quote_ambiguous(node: Any) -> None:
    """Quote new plain strings that would not read back as strings (``yes``, ``1.10``).

    ruamel.yaml writes YAML 1.2, which leaves ``yes`` unquoted; the strict reader
    refuses such values, so an edit must never produce them.
    """
    from ruamel.yaml.scalarstring import SingleQuotedScalarString

    if isinstance(node, dict) and any(type(k) is str and not _reads_back_as(k) for k in node):
        # Keys too: ruamel reads a quoted key ('n': 5) as a plain str and writes it bare.
        if hasattr(node, "insert"):  # a CommentedMap: keep comments, replace in place
            for position, key in enumerate(list(node)):
                if type(key) is str and not _reads_back_as(key):
                    node.insert(position, SingleQuotedScalarString(key), node.pop(key))
        else:
            pairs = list(node.items())
            node.clear()
            for key, value in pairs:
                quoted = type(key) is str and not _reads_back_as(key)
                node[SingleQuotedScalarString(key) if quoted else key] = value
    items: Any = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in list(items):
        if type(value) is str and not _reads_back_as(value):
            node[key] = SingleQuotedScalarString(value)
        elif isinstance(value, dict | list):
            _quote_ambiguous(value)


def _reads_back_as(value: str) -> bool:
    if "\n" in value:
        return True  # written as a block scalar, read back verbatim
    try:
        return bool(parse_yaml(f"v: {value}\n", "<edit>").data == {"v": value})
    except RecordError:
        return False
