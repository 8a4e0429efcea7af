"""MLflow's search over the registry: entities as flat fields, filtered and ordered (pure).

:func:`version_fields` and :func:`model_fields` map the store's entities to the
keys MLflow's filter and ``order_by`` syntax reads (``tags.team``,
``metrics.auc``, ``creation_timestamp``); :func:`search_models` and
:func:`search_versions` apply a filter and an order to them.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from .errors import UsageError
from .filters import (
    MODEL_KEYS,
    MODEL_PREFIXES,
    VERSION_KEYS,
    VERSION_PREFIXES,
    OrderKey,
    parse_filter,
    parse_order_by,
    sort_key,
)
from .store import ModelVersion, RegisteredModel

T = TypeVar("T")


class PagedList(list[T]):
    """One page of search results; ``token`` asks for the next page (None on the last).

    MLflow's ``PagedList``: a list with the opaque token to pass as ``page_token``.

    >>> page = PagedList([1, 2], "abc")
    >>> page, page.token
    ([1, 2], 'abc')
    """

    def __init__(self, items: Iterable[T], token: str | None) -> None:
        super().__init__(items)
        self.token = token


def _offset(page_token: str | None) -> int:
    """The row a page token starts at; :class:`UsageError` for a token we did not make."""
    if not page_token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(page_token.encode()))
        offset = data["offset"]
    except (ValueError, binascii.Error, KeyError, TypeError):
        offset = None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise UsageError(
            f"invalid page_token {page_token!r}: pass the token of a previous search's result"
        )
    return offset


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def paginate(
    rows: Sequence[T],
    max_results: int | None,
    page_token: str | None,
) -> PagedList[T]:
    """The page of ``rows`` that ``page_token`` starts, at most ``max_results`` long.

    ``max_results`` None or -1 means every remaining row (MLflow's "no limit").

    >>> first = paginate("abcde", 2, None)
    >>> first, paginate("abcde", 2, first.token)
    (['a', 'b'], ['c', 'd'])
    >>> paginate("abc", -1, None)
    ['a', 'b', 'c']

    Raises:
        UsageError: ``max_results`` is 0 or below -1, or ``page_token`` is not ours.
    """
    if max_results is not None and max_results != -1 and max_results < 1:
        raise UsageError(
            f"invalid max_results {max_results}: use a positive number, "
            "or -1 (or None) for every result"
        )
    start = _offset(page_token)
    end = len(rows) if max_results is None or max_results == -1 else start + max_results
    return PagedList(rows[start:end], _token(end) if end < len(rows) else None)


def aware(value: datetime) -> datetime:
    """``value`` with UTC as its time zone when it has none."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def version_fields(version: ModelVersion) -> dict[str, Any]:
    """A version as the flat mapping the filter and order_by syntax reads."""
    record = version.record
    fields: dict[str, Any] = {
        "name": version.name,
        "version_number": version.version,
        "current_stage": version.stage,
        "run_id": record.lineage.run_id,
        "run_url": record.lineage.run_url,
        "description": record.description,
        "creation_timestamp": aware(record.created_at),
        "last_updated_timestamp": aware(record.created_at),
        "created_by": record.created_by,
        "format": record.artifact.format,
        "source_path": version.source,
    }
    fields.update({f"tags.{k}": v for k, v in record.tags.items()})
    fields.update({f"metrics.{k}": v for k, v in record.metrics.items()})
    fields.update({f"params.{k}": v for k, v in record.params.items()})
    return fields


def model_fields(model: RegisteredModel) -> dict[str, Any]:
    """A registered model as the flat mapping the filter and order_by syntax reads."""
    created = [aware(v.record.created_at) for v in model.versions]
    fields: dict[str, Any] = {
        "name": model.name,
        "description": model.record.description,
        "creation_timestamp": min(created) if created else None,
        "last_updated_timestamp": max(created) if created else None,
    }
    fields.update({f"tags.{k}": v for k, v in model.record.tags.items()})
    return fields


def search_models(
    models: Iterable[RegisteredModel],
    filter_string: str | None,
    max_results: int | None,
    order_by: Sequence[str] | None,
    page_token: str | None = None,
) -> PagedList[RegisteredModel]:
    """The models matching ``filter_string``, ordered by ``order_by`` (default: name).

    ``timestamp`` in ``order_by`` means the last update, as in MLflow. The
    result is one page (see :func:`paginate`).

    Raises:
        UsageError: the filter or an order_by clause is malformed or names an unknown key.
    """
    flt = parse_filter(filter_string, MODEL_KEYS, MODEL_PREFIXES)
    order = parse_order_by(order_by, MODEL_KEYS, MODEL_PREFIXES) or parse_order_by(
        ["name"], MODEL_KEYS
    )
    rows = [(model_fields(m), m) for m in models]
    matched = [(f, m) for f, m in rows if flt.matches(f)]
    matched.sort(key=lambda row: sort_key(row[0], order + _tiebreak(order, "name")))
    return paginate([m for _, m in matched], max_results, page_token)


def search_versions(
    versions: Iterable[ModelVersion],
    filter_string: str | None,
    max_results: int | None,
    order_by: Sequence[str] | None,
    page_token: str | None = None,
) -> PagedList[ModelVersion]:
    """The versions matching ``filter_string``, by name then newest first unless ordered.

    The result is one page (see :func:`paginate`).

    Raises:
        UsageError: the filter or an order_by clause is malformed or names an unknown key.
    """
    flt = parse_filter(filter_string, VERSION_KEYS, VERSION_PREFIXES)
    order = parse_order_by(order_by) or parse_order_by(["name", "version_number DESC"])
    rows = [(version_fields(v), v) for v in versions]
    matched = [(f, v) for f, v in rows if flt.matches(f)]
    tiebreak = parse_order_by(["name", "version_number DESC"])
    matched.sort(
        key=lambda row: sort_key(
            row[0], order + [k for k in tiebreak if k.key not in {o.key for o in order}]
        )
    )
    return paginate([v for _, v in matched], max_results, page_token)


def _tiebreak(order: list[OrderKey], key: str) -> list[OrderKey]:
    """``key`` ascending after ``order`` unless ordered by already: pages never overlap."""
    return [] if any(o.key == key for o in order) else [OrderKey(key)]
