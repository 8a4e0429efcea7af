"""The store's entities as MLflow's: the same properties, MLflow's classes (pure)."""

from __future__ import annotations

from typing import Any

from mlflow.entities.model_registry import ModelVersion as MlflowModelVersion
from mlflow.entities.model_registry import (
    ModelVersionTag,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from mlflow.entities.model_registry import RegisteredModel as MlflowRegisteredModel

from registry_gen._mlflow_source import MODEL_ID_TAG
from registry_gen.store import ModelVersion, RegisteredModel


def to_mlflow_version(version: ModelVersion) -> MlflowModelVersion:
    """``version`` as MLflow's ``ModelVersion`` (``version`` an int, as MLflow's SQL store)."""
    # MLflow annotates version as str, its REST store's type; its SQL store gives ints.
    number: Any = version.version
    return MlflowModelVersion(
        name=version.name,
        version=number,
        creation_timestamp=version.creation_timestamp,
        last_updated_timestamp=version.last_updated_timestamp,
        description=version.description,
        user_id=version.user_id,
        current_stage=version.current_stage,
        source=version.source,
        run_id=version.run_id,
        status=version.status,
        status_message=version.status_message,
        tags=[ModelVersionTag(k, v) for k, v in sorted(version.tags.items())],
        run_link=version.run_link,
        aliases=version.aliases,
        model_id=version.tags.get(MODEL_ID_TAG),
    )


def to_mlflow_model(model: RegisteredModel) -> MlflowRegisteredModel:
    """``model`` as MLflow's ``RegisteredModel`` with its latest version per stage."""
    return MlflowRegisteredModel(
        name=model.name,
        creation_timestamp=model.creation_timestamp,
        last_updated_timestamp=model.last_updated_timestamp,
        description=model.description,
        latest_versions=[to_mlflow_version(v) for v in model.latest_versions],
        tags=[RegisteredModelTag(k, v) for k, v in sorted(model.tags.items())],
        aliases=[RegisteredModelAlias(a, n) for a, n in sorted(model.aliases.items())],
    )
