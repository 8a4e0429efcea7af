"""Equal parts of frozen records, shared: the index's memory at 100,000 versions.

pydantic gives every record object the set of fields its file set (a 216-byte
set for each of the 14 objects of a version record: a third of the index's
memory) and every version its own copy of a signature most versions of a model
share. Records are frozen, and a copy gets its own set, so a set or a part that
is equal to one met before is replaced by that one; nothing can tell but ``is``.
A part is shared only while a record holds it (the table holds it weakly); the
sets of set fields are few and kept, up to a bound past which (hostile records
can make any number of combinations) records keep their own.

Example:
    >>> from registry_gen.schema import ModelRecord
    >>> a, b = ModelRecord(name="a"), ModelRecord(name="b")
    >>> a.model_fields_set is b.model_fields_set
    True
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

_FIELD_SETS_LIMIT = 4096
_FIELD_SETS: dict[frozenset[str], set[str]] = {}
_PARTS: weakref.WeakValueDictionary[Any, BaseModel] = weakref.WeakValueDictionary()


def share_fields_set(record: BaseModel) -> None:
    """Give ``record`` the set of set fields that records setting the same share."""
    own = record.__pydantic_fields_set__
    key = frozenset(own)
    shared = _FIELD_SETS.get(key)
    if shared is None:
        if len(_FIELD_SETS) >= _FIELD_SETS_LIMIT:
            return
        shared = _FIELD_SETS[key] = own
    object.__setattr__(record, "__pydantic_fields_set__", shared)


def share_parts(record: BaseModel, names: Iterable[str]) -> None:
    """Put an equal part met before in place of each of ``record``'s fields ``names``;
    equal means the same types, values and set fields, all the way down."""
    fields = record.__dict__
    for name in names:
        part = fields.get(name)
        if part is None:
            continue
        key = _frozen(part)
        shared = _PARTS.get(key)
        if shared is None:
            _PARTS[key] = part
        else:
            fields[name] = shared


def _frozen(value: Any) -> Any:
    """A hashable key that is equal only for equal values of equal types."""
    kind = type(value)
    if kind is str or value is None:
        return value
    if isinstance(value, BaseModel):
        # Its set of set fields is shared (share_fields_set): the set's identity stands
        # for it, and the part the key is kept with (while it lives) keeps that set alive.
        fields = tuple(map(_frozen, value.__dict__.values()))
        return (kind, id(value.__pydantic_fields_set__), fields)
    if kind is list:
        return (list, tuple(map(_frozen, value)))
    if kind is dict:
        return (dict, tuple((k, _frozen(v)) for k, v in value.items()))
    if kind is float:
        return (float, repr(value))  # 0.0 == -0.0, and nan is equal to nothing
    return (kind, value)
