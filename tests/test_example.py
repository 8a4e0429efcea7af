"""scripts/build_example.py: the example registry's history, and loading it from a fresh clone."""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType

import pytest

from builders import git
from registry_gen.store import load_index

SCRIPT = Path(__file__).parent.parent / "scripts" / "build_example.py"

# Building the example registry (training, DVC, a history of merged pull requests) takes
# tens of seconds.
pytestmark = pytest.mark.slow


def load_script() -> ModuleType:
    if "build_example" in sys.modules:
        return sys.modules["build_example"]
    spec = importlib.util.spec_from_file_location("build_example", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_example"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def build_only(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    root = tmp_path_factory.mktemp("example") / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("# project\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "Initial commit")
    load_script().build(root, only={name})
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_only(tmp_path_factory, "demand-forecast")


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_only(tmp_path_factory, "churn-classifier")


def test_history_is_merged_pull_requests(built: Path) -> None:
    subjects = git(built, "log", "--first-parent", "--reverse", "--format=%s").splitlines()
    assert subjects[:2] == ["Initial commit", "Set up the example registry's DVC remote"]
    merges = subjects[2:]
    assert merges == [
        "Merge pull request #1 from acme-ml/create/demand-forecast",
        "Merge pull request #2 from acme-ml/register/demand-forecast-v1",
        "Merge pull request #3 from acme-ml/register/demand-forecast-v2",
        "Merge pull request #4 from acme-ml/promote/demand-forecast-v2-production",
        "Merge pull request #5 from acme-ml/archive/demand-forecast-v1-archived",
    ]
    dates = git(built, "log", "--first-parent", "--reverse", "--format=%at").split()[1:]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    authors = set(git(built, "log", "--no-merges", "--format=%an").splitlines())
    assert {"Chen Wei", "Dana Okafor"} <= authors
    assert git(built, "status", "--porcelain").strip() == ""
    assert git(built, "branch", "--format=%(refname:short)").split() == ["main"]


def test_registry_content(built: Path) -> None:
    index = load_index(built, rev="HEAD").require_valid()
    model = index.model("demand-forecast")
    assert model.record.owners == ["@acme-ml/supply"]
    assert [(v.version, v.stage) for v in model.versions] == [(1, "Archived"), (2, "Production")]
    v2 = model.version(2)
    assert v2.record.lineage.parents == ["models:/demand-forecast/1"]
    assert v2.record.lineage.datasets[0].md5 is not None
    assert v2.record.lineage.code is not None
    assert v2.record.created_by == "Chen Wei"
    assert set(v2.record.metrics) == {"mae", "r2"}
    assert v2.record.signature is not None and v2.record.artifact.format == "skops"
    assert (built / ".dvc/config").read_text().count("url = ../dvc-remote") == 1


def test_a_fresh_clone_loads_the_models_offline(built: Path, tmp_path: Path) -> None:
    import numpy as np
    import skops.io

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(built), str(clone))
    version = load_index(clone).resolve("models:/demand-forecast/Production")
    subprocess.run(
        [sys.executable, "-m", "dvc", "pull", f"{version.artifact_path}.dvc"],
        cwd=clone,
        check=True,
        capture_output=True,
    )
    artifact = clone / version.artifact_path
    assert hashlib.md5(artifact.read_bytes()).hexdigest() == version.artifact_md5
    model = skops.io.load(artifact, trusted=version.record.artifact.trusted_types)
    assert model.predict(np.zeros((2, 6))).shape == (2,)


def test_training_is_deterministic() -> None:
    script = load_script()
    first, second = script.train_regressor(2), script.train_regressor(2)
    assert first.metrics == second.metrics and first.dataset == second.dataset
    assert (
        script.train_classifier(1, fraud=True).metrics
        == script.train_classifier(1, fraud=True).metrics
    )


def test_a_fresh_build_is_consistent(built: Path, churn: Path) -> None:
    script = load_script()
    assert script.consistency_problems(built) == []
    assert script.consistency_problems(churn) == []
    model = load_index(churn, rev="HEAD").model("churn-classifier")
    stages = [(v.version, v.stage) for v in model.versions]
    assert stages == [(1, "Archived"), (2, "Staging"), (3, "Production")]
    auc = [v.record.metrics["roc_auc"] for v in model.versions]
    assert auc == sorted(auc) and len(set(auc)) == 3  # v3 (Production) beats v2 (Staging)
    demand = load_index(built, rev="HEAD").model("demand-forecast")
    assert demand.version(2).record.metrics["mae"] < demand.version(1).record.metrics["mae"]
    for version in model.versions:  # credited to the branch commit's author, at its date
        author, date = (
            git(churn, "log", "--diff-filter=A", "--format=%an|%aI", "--", version.record_file)
            .strip()
            .split("|")
        )
        assert version.record.created_by == author
        assert version.record.created_at == datetime.fromisoformat(date)


def test_the_consistency_check_catches_a_false_claim_and_a_wrong_author(
    churn: Path, tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(churn), str(clone))
    v3 = clone / "models/churn-classifier/3/version.yaml"
    v3.write_text(v3.read_text().replace("ROC AUC up", "ROC AUC down"))
    v2 = clone / "models/churn-classifier/2/version.yaml"
    v2.write_text(v2.read_text().replace("created_by: Alice Martin", "created_by: Bob Merger"))
    git(clone, "commit", "-qam", "edit the records by hand")
    claim, credit = sorted(load_script().consistency_problems(clone))
    assert claim.startswith("churn-classifier v3 says ROC AUC down")
    assert credit.startswith("models/churn-classifier/2/version.yaml: created_by 'Bob Merger'")
    assert "'Alice Martin'" in credit
