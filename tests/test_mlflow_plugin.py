"""The MLflow model-registry store plugin: MLflow's own client against a registry-gen registry.

Needs the real ``mlflow`` package (the ``[mlflow]`` extra: mlflow-skinny, plus
pandas for ``mlflow.sklearn``, sqlalchemy and alembic for the sqlite tracking
store); all are in the dev lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from builders import git
from registry_gen.mlflow_plugin import RegistryGenStore, parse_store_uri
from registry_gen.scaffold import init_registry


@pytest.fixture(autouse=True)
def _tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tracking store of the test's own (MLflow's default is ./mlflow.db)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")


@pytest.fixture
def client(small_registry: Path) -> Iterator[Any]:
    """MLflow's own client, its registry URI pointing at the small registry."""
    yield MlflowClient(registry_uri=f"registry-gen://{small_registry}")


def test_the_entry_point_gives_mlflow_our_store(small_registry: Path) -> None:
    from mlflow.tracking._model_registry.utils import _get_store

    store = _get_store(f"registry-gen://{small_registry}")
    assert isinstance(store, RegistryGenStore)
    assert parse_store_uri(f"registry-gen://{small_registry}?branch=1") == (small_registry, True)


def test_mlflow_client_reads_the_registry(client: Any) -> None:
    model = client.get_registered_model("churn")
    assert model.name == "churn"
    assert sorted((v.current_stage, v.version) for v in model.latest_versions) == [
        ("Archived", 1),
        ("Production", 3),
        ("Staging", 2),
    ]
    version = client.get_model_version("churn", "3")
    assert (version.version, version.current_stage, version.status) == (3, "Production", "READY")
    assert isinstance(version.creation_timestamp, int)
    found = client.search_model_versions("name = 'churn'", max_results=2)
    assert [v.version for v in found] == [3, 2]
    assert found.token is not None
    rest = client.search_model_versions("name = 'churn'", max_results=2, page_token=found.token)
    assert [v.version for v in rest] == [1]
    assert [m.name for m in client.search_registered_models()] == ["churn", "fraud"]
    assert [v.version for v in client.get_latest_versions("churn", ["Production"])] == [3]


def test_writes_change_the_working_tree(client: Any, small_registry: Path) -> None:
    client.set_registered_model_alias("churn", "challenger", "2")
    assert client.get_model_version_by_alias("churn", "challenger").version == 2
    assert client.get_registered_model("churn").aliases == {"challenger": 2, "champion": 3}
    client.set_model_version_tag("churn", "3", "team", "risk")
    assert client.get_model_version("churn", 3).tags == {"team": "risk"}
    client.update_registered_model("churn", "Predicts churn.")
    assert client.get_registered_model("churn").description == "Predicts churn."
    client.create_registered_model("demand", {"team": "ops"}, "Forecasts demand.")
    assert client.get_registered_model("demand").tags == {"team": "ops"}
    changed = git(small_registry, "status", "--porcelain").split("\n")
    assert sorted(line[3:] for line in changed if line) == [
        "models/churn/3/version.yaml",
        "models/churn/model.yaml",
        "models/demand/",
    ]


def test_branch_flag_commits_each_change(small_registry: Path) -> None:
    client = MlflowClient(registry_uri=f"registry-gen://{small_registry}?branch=1")
    client.set_registered_model_alias("churn", "challenger", "2")
    assert git(small_registry, "status", "--porcelain") == ""
    assert "challenger" in git(small_registry, "log", "-1", "--format=%s")


@pytest.mark.parametrize(
    ("call", "code", "message"),
    [
        (
            lambda c: c.get_registered_model("nope"),
            "RESOURCE_DOES_NOT_EXIST",
            "no registered model",
        ),
        (lambda c: c.get_model_version("churn", 9), "RESOURCE_DOES_NOT_EXIST", "version"),
        (lambda c: c.create_registered_model("churn"), "RESOURCE_ALREADY_EXISTS", "churn"),
        (lambda c: c.search_model_versions("colour = 'red'"), "INVALID_PARAMETER_VALUE", "colour"),
        (lambda c: c.delete_model_version("churn", 1), "INVALID_PARAMETER_VALUE", "archive"),
        (lambda c: c.delete_registered_model("churn"), "INVALID_PARAMETER_VALUE", "keeps every"),
        # MLflow allows a second Production; the registry's single-holder rule does not.
        (
            lambda c: c.transition_model_version_stage("churn", 2, "Production"),
            "INVALID_PARAMETER_VALUE",
            "Production",
        ),
    ],
)
def test_refusals_are_mlflow_exceptions_with_our_message(
    client: Any, call: Any, code: str, message: str
) -> None:
    with pytest.raises(MlflowException) as info:
        call(client)
    assert info.value.error_code == code
    assert message in info.value.message


# The seed's MLflow code, with only the registry URI added (its first line after the imports).
SEED = """\
import sys
import numpy as np
import mlflow
import mlflow.pyfunc
import mlflow.sklearn
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

mlflow.set_registry_uri(sys.argv[1])  # the one changed line
mlflow.set_tracking_uri(sys.argv[2])

X = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]])
y = np.array([0, 1, 0, 1])
with mlflow.start_run() as first:
    mlflow.log_param("C", 1.0)
    mlflow.log_metric("accuracy", 1.0)
    mlflow.sklearn.log_model(sk_model=LogisticRegression().fit(X, y), name="model",
                             registered_model_name="churn")
with mlflow.start_run() as second:
    mlflow.sklearn.log_model(sk_model=LogisticRegression(C=0.5).fit(X, y), name="model",
                             registered_model_name="churn")
copy = mlflow.register_model(f"runs:/{second.info.run_id}/model", "churn-copy")
client = MlflowClient()
client.create_registered_model("fraud")
made = client.create_model_version("fraud", f"runs:/{first.info.run_id}/model",
                                   first.info.run_id)
model = mlflow.pyfunc.load_model("models:/churn/1")
print(model.predict(X).tolist(), copy.version, made.version, made.run_id == first.info.run_id)
"""


@pytest.mark.slow
def test_the_seeds_mlflow_code_runs_against_a_registry(tmp_path: Path) -> None:
    registry = init_registry(tmp_path / "reg")
    script = tmp_path / "seed.py"
    script.write_text(SEED)
    env = {**os.environ, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            f"registry-gen://{registry}",
            f"sqlite:///{tmp_path / 'mlflow.db'}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[0, 1, 0, 1] 1 1 True"
    from registry_gen.client import RegistryClient

    ours = RegistryClient(registry)
    assert [v.version for v in ours.get_registered_model("churn").versions] == [1, 2]
    first = ours.get_model_version("churn", 1)
    assert first.record.artifact.format == "mlflow"
    assert first.run_id is not None  # the logged model's source run, found through tracking
    assert first.record.params == {"C": "1.0"}
    assert first.record.metrics == {"accuracy": 1.0}
    assert ours.get_model_version("fraud", 1).run_id is not None
