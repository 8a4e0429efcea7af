"""MLflow's model-registry store over a registry-gen registry (the ``registry-gen[mlflow]`` extra).

Installed, it registers the ``registry-gen`` URI scheme with MLflow (the
``mlflow.model_registry_store`` entry point), so MLflow code runs unchanged
against a git registry::

    mlflow.set_registry_uri("registry-gen:///path/to/registry")  # writes the working tree
    mlflow.set_registry_uri("registry-gen:///path/to/registry?branch=1")  # a branch per call
    mlflow.set_registry_uri("registry-gen+https://host/org/registry.git#main")  # read-only
    mlflow.set_registry_uri("registry-gen+https://org.github.io/registry/")  # read-only (site)
    client = mlflow.MlflowClient()
    client.create_registered_model("churn")

Where MLflow allows what the registry forbids (a second Production, deleting
a version), the store raises ``MlflowException`` with MLflow's error code and
the registry's message. See docs/mlflow.md for what works and what differs.
"""

from __future__ import annotations

from ._errors import mlflow_error
from ._store import RegistryGenStore, parse_store_uri

__all__ = ["RegistryGenStore", "mlflow_error", "parse_store_uri"]
