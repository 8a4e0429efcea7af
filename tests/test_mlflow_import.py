"""MLflow sources in our own API and ``registry-gen import-mlflow``, against a real MLflow.

The MLflow side is a real sqlite-backed tracking store and model registry
(mlflow-skinny + sqlalchemy + alembic, from the dev lock) with a local artifact
root; the registry side is a real registry (git, DVC, the in-repo remote).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from builders import git
from registry_gen.cli import main
from registry_gen.client import RegistryClient
from registry_gen.scaffold import init_registry
from registry_gen.store import load_index
from registry_gen.validate import validate_change, validate_tree

pytestmark = pytest.mark.slow


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    yield uri


def _run(client: Any, experiment: str, payload: str, metrics: dict[str, float]) -> str:
    """A finished run with a ``model/`` artifact folder, params and metrics; its id."""
    run = client.create_run(experiment)
    folder = Path(client.tracking_uri.removeprefix("sqlite:///")).parent / run.info.run_id
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "weights.txt").write_text(payload)
    client.log_artifacts(run.info.run_id, str(folder / "model"), "model")
    client.log_param(run.info.run_id, "C", "0.5")
    for key, value in metrics.items():
        client.log_metric(run.info.run_id, key, value)
    client.set_terminated(run.info.run_id)
    return str(run.info.run_id)


@pytest.fixture
def mlflow_registry(tracking: str, tmp_path: Path) -> tuple[str, dict[str, str]]:
    """Three registered models in MLflow's sqlite registry (runs, stages, aliases, a gap)."""
    client = MlflowClient(tracking_uri=tracking, registry_uri=tracking)
    experiment = client.create_experiment("e", artifact_location=(tmp_path / "art").as_uri())
    runs = {
        f"r{i}": _run(client, experiment, f"weights {i}", {"auc": 0.8 + i / 100}) for i in range(6)
    }

    client.create_registered_model("Churn Model", {"team": "growth"}, "Predicts churn.")
    for i in (0, 1):
        client.create_model_version(
            "Churn Model", f"runs:/{runs[f'r{i}']}/model", runs[f"r{i}"], description=f"v{i + 1}"
        )
    client.transition_model_version_stage("Churn Model", "1", "Archived")
    client.transition_model_version_stage("Churn Model", "2", "Production")
    client.set_registered_model_alias("Churn Model", "champion", "2")

    client.create_registered_model("fraud")
    for i in (2, 3, 4):
        client.create_model_version("fraud", f"runs:/{runs[f'r{i}']}/model", runs[f"r{i}"])
    client.delete_model_version("fraud", "2")  # MLflow leaves a gap
    client.transition_model_version_stage("fraud", "3", "Production")  # no description
    client.set_registered_model_alias("fraud", "best", "3")
    client.set_model_version_tag("fraud", "3", "reviewed", "yes")

    client.create_registered_model("ranker", description="Ranks.")
    client.create_model_version("ranker", f"runs:/{runs['r5']}/model", runs["r5"])
    client.transition_model_version_stage("ranker", "1", "Staging")
    return tracking, runs


def test_import_three_models_as_one_reviewable_branch(
    mlflow_registry: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    tracking, runs = mlflow_registry
    root = init_registry(tmp_path / "reg")
    result = CliRunner().invoke(
        main, ["-C", str(root), "import-mlflow", "--tracking-uri", tracking, "--branch"]
    )
    assert result.exit_code == 0, result.output
    assert "Imported Churn Model → churn-model (2 version(s))" in result.output
    assert "'Churn Model' is imported as 'churn-model'" in result.output
    assert "fraud v3 is fraud v2 (no gaps)" in result.output
    assert "Committed 3 commit(s) on branch import-mlflow" in result.output

    subjects = git(root, "log", "--format=%s", "main..HEAD").splitlines()
    assert subjects == [
        "Import ranker from MLflow (ranker)",
        "Import fraud from MLflow (fraud)",
        "Import churn-model from MLflow (Churn Model)",
    ]
    assert git(root, "status", "--porcelain").strip() == ""
    report = validate_change(root, "main", "HEAD")
    assert not report.errors, [str(f) for f in report.errors]
    assert not validate_tree(root).errors

    index = load_index(root)
    churn = index.model("churn-model")
    assert (churn.description, churn.tags, churn.aliases) == (
        "Predicts churn.",
        {"team": "growth"},
        {"champion": 2},
    )
    assert [(v.version, v.stage) for v in churn.versions] == [(1, "Archived"), (2, "Production")]
    second = churn.version(2)
    assert second.run_id == runs["r1"]
    assert second.record.metrics == {"auc": 0.81}
    assert second.record.params == {"C": "0.5"}
    assert second.tags["mlflow.version"] == "2"
    assert (root / "models/churn-model/2/model.dvc").is_file()
    assert (root / "models/churn-model/2/model/weights.txt").read_text() == "weights 1"

    fraud = index.model("fraud")
    assert [(v.version, v.stage, v.tags["mlflow.version"]) for v in fraud.versions] == [
        (1, "None", "1"),
        (2, "None", "3"),  # Production needs a description: it starts in None, and says so
    ]
    assert fraud.aliases == {"best": 2}
    assert fraud.version(2).tags["reviewed"] == "yes"
    assert "fraud: MLflow v3 starts in None, not Production" in result.output
    assert index.model("ranker").version(1).stage == "Staging"


def test_import_one_model_into_the_working_tree(
    mlflow_registry: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    from registry_gen._mlflow_import import import_mlflow

    tracking, _runs = mlflow_registry
    root = init_registry(tmp_path / "reg")
    report = import_mlflow(RegistryClient(root), tracking, model="ranker")
    assert report.models == {"ranker": "ranker"}
    assert report.commits == []
    assert [m for m in load_index(root).models] == ["ranker"]
    assert not validate_tree(root).errors


def test_register_from_runs_and_logged_models(
    mlflow_registry: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    tracking, runs = mlflow_registry
    root = init_registry(tmp_path / "reg")
    client = RegistryClient(root)
    version = client.create_model_version(
        "churn", f"runs:/{runs['r3']}/model", create_model=True, description="From a run."
    )
    assert (version.version, version.run_id) == (1, runs["r3"])
    assert version.record.metrics == {"auc": pytest.approx(0.83)}
    assert (root / "models/churn/1/model/weights.txt").read_text() == "weights 3"

    result = CliRunner().invoke(
        main, ["-C", str(root), "register", "churn", f"runs:/{runs['r4']}/model", "--branch"]
    )
    assert result.exit_code == 0, result.output
    assert "Registered models:/churn/2" in result.output
    assert load_index(root).model("churn").version(2).record.params == {"C": "0.5"}

    bad = CliRunner().invoke(main, ["-C", str(root), "register", "churn", "runs:/nope/model"])
    assert bad.exit_code == 2  # a usage error: the source named is wrong
    assert "cannot download the model version source 'runs:/nope/model'" in bad.output

    # An MLflow 3 logged model: its files, its source run's lineage, its id as a tag.
    mlflow = MlflowClient(tracking_uri=tracking)
    experiment = mlflow.get_experiment_by_name("e")
    assert experiment is not None
    logged = mlflow.create_logged_model(experiment.experiment_id, source_run_id=runs["r5"])
    folder = tmp_path / "logged"
    folder.mkdir()
    (folder / "weights.txt").write_text("logged weights")
    mlflow.log_model_artifacts(logged.model_id, str(folder))
    third = client.create_model_version("churn", f"models:/{logged.model_id}")
    assert third.run_id == runs["r5"]
    assert third.tags["mlflow.model_id"] == logged.model_id
    assert (root / f"models/churn/{third.version}/model/weights.txt").read_text() == (
        "logged weights"
    )
