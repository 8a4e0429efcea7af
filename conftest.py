"""Collection rules for the doctests of registry_gen (collected with --doctest-modules)."""

import importlib.util

# The MLflow store plugin imports mlflow: its doctests need the [mlflow] extra installed.
collect_ignore_glob = [] if importlib.util.find_spec("mlflow") else ["registry_gen/mlflow_plugin/*"]
