"""Smoke test of the benchmarks: the generator and the harness work at a tiny size.

No timing is asserted (speed is what ``./dev bench`` reports); this checks that
the synthetic registry is a valid registry with the history the benchmarks
claim, that its real artifact is where DVC looks for it, and that the harness
runs every measurement end to end and writes its JSON.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

# benchmarks/ is a folder of the repository, not an installed package; `python -m
# pytest` (./dev test) has it on sys.path already, a bare `pytest` does not.
_REPO = str(Path(__file__).resolve().parents[1])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from benchmarks.__main__ import main as bench_main  # noqa: E402
from benchmarks.generate import (  # noqa: E402
    REAL_MODEL,
    GeneratedRegistry,
    RegistrySpec,
    ensure_registry,
)
from benchmarks.harness import Figure, Results, Target  # noqa: E402
from registry_gen.store import load_index  # noqa: E402

# Generating even a tiny registry (git history, DVC, a real model) takes seconds.
pytestmark = pytest.mark.slow

SPEC = RegistrySpec(models=3, versions=2, seed=11)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench-work")


@pytest.fixture(scope="module")
def generated(work: Path) -> GeneratedRegistry:
    return ensure_registry(SPEC, work)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                          check=True).stdout


def test_generated_registry_is_valid(generated: GeneratedRegistry) -> None:
    index = load_index(generated.root)
    assert index.errors == ()
    assert len(index.models) == SPEC.models
    assert sum(len(m.versions) for m in index.models.values()) == SPEC.models * SPEC.versions
    for model in index.models.values():
        assert len(model.in_stage("Production")) <= 1  # single holder
        for alias, number in model.aliases.items():
            assert model.version(number).stage != "Archived", alias
    # The same registry read from git objects, and at the base revision used by --base.
    assert load_index(generated.root, rev="HEAD").errors == ()
    assert load_index(generated.root, rev=generated.base_rev).errors == ()


def test_every_commit_on_main_is_a_valid_registry(generated: GeneratedRegistry) -> None:
    for sha in git(generated.root, "rev-list", "--first-parent", "main").split()[:-1]:
        assert load_index(generated.root, rev=sha).errors == (), sha


def test_validator_accepts_the_generated_registry(generated: GeneratedRegistry) -> None:
    validate = pytest.importorskip("registry_gen.validate")
    report = validate.validate_tree(generated.root)
    assert [f"{f.where} {f.message}" for f in report.errors] == []
    change = validate.validate_change(generated.root, generated.base_rev, "HEAD")
    assert [f"{f.where} {f.message}" for f in change.errors] == []


def test_history_is_merged_pull_requests(generated: GeneratedRegistry) -> None:
    log = git(generated.root, "log", "--first-parent", "--format=%P%x09%an%x09%s", "main")
    lines = log.strip().splitlines()
    assert len(git(generated.root, "rev-list", "--all").split()) == generated.commits
    merges = [line for line in lines if len(line.split("\t")[0].split()) == 2]
    squashes = [line for line in lines if len(line.split("\t")[0].split()) == 1][:-1]
    assert merges and squashes
    assert all("\tMerge pull request #" in m and " from acme-ml/" in m for m in merges)
    assert all(line.rstrip().endswith(")") and "(#" in line for line in squashes)
    assert len({line.split("\t")[1] for line in lines}) > 3  # many authors
    dates = git(generated.root, "log", "--first-parent", "--format=%at", "main").split()
    assert len(set(dates)) == len(dates)


def test_real_artifact_is_in_the_dvc_remote(generated: GeneratedRegistry) -> None:
    index = load_index(generated.root)
    production = index.resolve(generated.production_uri)
    assert production.name == REAL_MODEL
    md5 = production.artifact_md5
    assert md5 is not None
    stored = generated.remote / "files" / "md5" / md5[:2] / md5[2:]
    data = stored.read_bytes()
    assert hashlib.md5(data).hexdigest() == md5
    assert production.pointer is not None and production.pointer.size == len(data)
    config = (generated.root / ".dvc" / "config").read_text()
    assert "url = ../../remote" in config
    floor = pickle.loads(generated.floor_pickle.read_bytes())
    assert floor.predict([generated.sample_row]).shape == (1,)


def test_generation_is_cached(work: Path, generated: GeneratedRegistry) -> None:
    again = ensure_registry(SPEC, work)
    assert again == generated
    assert sorted(p.name for p in work.iterdir()) == [SPEC.key]  # no half-built leftovers


def test_harness_table_and_targets() -> None:
    results = Results()
    floor = results.add(Figure("floor", "load", [1.0, 1.2, 1.1]))
    results.add(Figure("load", "load", [1.25, 1.5, 1.35], floor=floor.name,
                       target=Target(margin=0.2)))
    results.add(Figure("show", "show", [0.5, 0.4, 0.6], target=Target(seconds=0.3)))
    results.skip("mlflow", "not available yet")
    data = results.to_json()
    met = {row["name"]: row["met"] for row in data["figures"]}
    assert met == {"floor": None, "load": False, "show": False}
    assert data["figures"][1]["over_floor_s"] == pytest.approx(0.25)
    table = results.table()
    assert "✗" in table and "mlflow: not available yet" in table


def test_harness_runs_end_to_end(work: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "latest.json"
    assert bench_main(["--models", "3", "--versions", "2", "--seed", "11", "--runs", "1",
                       "--only", "index,history", "--work", str(work), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["context"]["registry"]["versions"] == 6
    names = [f["name"] for f in data["figures"]] + [s["name"] for s in data["skipped"]]
    assert any(n.startswith("load_index") for n in names)
    assert any("history" in n for n in names)
    assert "| figure" in capsys.readouterr().out
