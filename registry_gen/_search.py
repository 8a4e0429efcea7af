"""MLflow's search over the registry: entities as flat fields, filtered and ordered (pure).

:func:`version_fields` and :func:`model_fields` map the store's entities to the
keys MLflow's filter and ``order_by`` syntax reads (``tags.team``,
``metrics.auc``, ``creation_timestamp``); :func:`search_models` and
:func:`search_versions` apply a filter and an order to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from .filters import (
    MODEL_KEYS,
    MODEL_PREFIXES,
    VERSION_KEYS,
    VERSION_PREFIXES,
    parse_filter,
    parse_order_by,
    sort_key,
)
from .store import ModelVersion, RegisteredModel


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
        "created_by": record.created_by,
        "format": record.artifact.format,
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


def search_models(models: Iterable[RegisteredModel], filter_string: str | None,
                  max_results: int | None, order_by: Sequence[str] | None,
                  ) -> list[RegisteredModel]:
    """The models matching ``filter_string``, ordered by ``order_by`` (default: name).

    Raises:
        UsageError: the filter or an order_by clause is malformed or names an unknown key.
    """
    flt = parse_filter(filter_string, MODEL_KEYS, MODEL_PREFIXES)
    order = parse_order_by(order_by, MODEL_KEYS, MODEL_PREFIXES) or parse_order_by(
        ["name"], MODEL_KEYS)
    rows = [(model_fields(m), m) for m in models]
    matched = [(f, m) for f, m in rows if flt.matches(f)]
    matched.sort(key=lambda row: sort_key(row[0], order))
    return [m for _, m in matched][: max_results or None]


def search_versions(versions: Iterable[ModelVersion], filter_string: str | None,
                    max_results: int | None, order_by: Sequence[str] | None,
                    ) -> list[ModelVersion]:
    """The versions matching ``filter_string``, by name then newest first unless ordered.

    Raises:
        UsageError: the filter or an order_by clause is malformed or names an unknown key.
    """
    flt = parse_filter(filter_string, VERSION_KEYS, VERSION_PREFIXES)
    order = parse_order_by(order_by) or parse_order_by(["name", "version_number DESC"])
    rows = [(version_fields(v), v) for v in versions]
    matched = [(f, v) for f, v in rows if flt.matches(f)]
    matched.sort(key=lambda row: sort_key(row[0], order))
    return [v for _, v in matched][: max_results or None]
