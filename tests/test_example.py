"""scripts/build_example.py: the example registry's history, and loading it from a fresh clone."""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
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


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("example") / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("# project\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "Initial commit")
    load_script().build(root, only={"demand-forecast"})
    return root


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
