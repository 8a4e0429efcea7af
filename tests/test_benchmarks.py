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
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

# benchmarks/ is a folder of the repository, not an installed package; `python -m
# pytest` (./dev test) has it on sys.path already, a bare `pytest` does not.
_REPO = str(Path(__file__).resolve().parents[1])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from benchmarks import _gitpack  # noqa: E402
from benchmarks.__main__ import main as bench_main  # noqa: E402
from benchmarks.generate import (  # noqa: E402
    REAL_MODEL,
    GeneratedRegistry,
    RegistrySpec,
    ensure_registry,
)
from benchmarks.generate import main as generate_main  # noqa: E402
from benchmarks.harness import Figure, Results, Target  # noqa: E402
from registry_gen.history import read_history  # noqa: E402
from registry_gen.store import load_index  # noqa: E402
from registry_gen.yamlio import dump_yaml, parse_yaml  # noqa: E402

# Generating even a tiny registry (git history, DVC, a real model) takes seconds.
pytestmark = pytest.mark.slow

SPEC = RegistrySpec(models=3, versions=2, seed=11)
# A few hundred versions: enough for promotions, archives, alias moves, branches from an
# older main and two levels of the models/ tree's snapshots.
MEDIUM = RegistrySpec(models=60, versions=5, seed=3)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench-work")


@pytest.fixture(scope="module")
def generated(work: Path) -> GeneratedRegistry:
    return ensure_registry(SPEC, work)


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout


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
    results.add(
        Figure("load", "load", [1.25, 1.5, 1.35], floor=floor.name, target=Target(margin=0.2))
    )
    results.add(Figure("show", "show", [0.5, 0.4, 0.6], target=Target(seconds=0.3)))
    results.skip("mlflow", "not available yet")
    data = results.to_json()
    met = {row["name"]: row["met"] for row in data["figures"]}
    assert met == {"floor": None, "load": False, "show": False}
    assert data["figures"][1]["over_floor_s"] == pytest.approx(0.25)
    table = results.table()
    assert "✗" in table and "mlflow: not available yet" in table


def test_harness_judges_a_factor_of_the_floor_on_cpu() -> None:
    # Wall times depend on the neighbours on a shared machine; a factor compares CPU.
    results = Results()
    floor = results.add(Figure("floor", "validate", [10.0], cpu=[8.0]))
    within = results.add(
        Figure("fast", "validate", [30.0], cpu=[9.5], floor=floor.name, target=Target(factor=1.2))
    )
    over = results.add(
        Figure("slow", "validate", [9.0], cpu=[10.0], floor=floor.name, target=Target(factor=1.2))
    )
    assert within.met(floor) is True and over.met(floor) is False
    table = results.table()
    assert "1.19× cpu" in table and "cpu ≤ 1.2× floor's" in table


def test_time_process_reports_each_run_s_peak_memory() -> None:
    from benchmarks.harness import time_process

    grow = (
        "import sys; block = bytearray(int(sys.argv[1])); block[::4096] = b'x' * "
        "(len(block) // 4096 + 1)"
    )
    # This process's own memory must not count: Linux carries a parent's high-water mark
    # into a child it forks and execs directly.
    ballast = bytearray(200 * 10**6)
    ballast[::4096] = b"x" * (len(ballast) // 4096 + 1)
    small = time_process([sys.executable, "-c", grow, "1000"], 1, warmup=0)
    del ballast
    big = time_process([sys.executable, "-c", grow, str(200 * 10**6)], 1, warmup=0)
    assert len(big.peak) == 1 and big.peak[0] >= 200 * 10**6 > 100 * 10**6 > small.peak[0]
    figure = Figure("big", "demo", big)
    assert figure.peak_max == big.peak[0]
    assert "MB" in Results(figures=[figure]).table()


def test_harness_runs_end_to_end(
    work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "latest.json"
    assert (
        bench_main(
            [
                "--models",
                "3",
                "--versions",
                "2",
                "--seed",
                "11",
                "--runs",
                "1",
                "--only",
                "index,history",
                "--work",
                str(work),
                "--json",
                str(out),
            ]
        )
        == 0
    )
    data = json.loads(out.read_text())
    assert data["context"]["registry"]["versions"] == 6
    names = [f["name"] for f in data["figures"]] + [s["name"] for s in data["skipped"]]
    assert any(n.startswith("load_index") for n in names)
    assert any("history" in n for n in names)
    assert "| figure" in capsys.readouterr().out


def _bench_json(work: Path, out: Path, only: str) -> dict:  # type: ignore[type-arg]
    argv = [
        "--models",
        "3",
        "--versions",
        "2",
        "--seed",
        "11",
        "--runs",
        "1",
        "--warmup",
        "0",
        "--only",
        only,
        "--site-sizes",
        "",
        "--work",
        str(work),
        "--json",
        str(out),
    ]
    assert bench_main(argv) == 0
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def _untouched(generated: GeneratedRegistry) -> tuple[str, str]:
    """What a measurement must leave as it was: HEAD, and every file git sees or ignores."""
    return (
        git(generated.root, "rev-parse", "HEAD"),
        git(generated.root, "status", "--porcelain", "--ignored"),
    )


def test_site_and_rebuild_figures_run(
    work: Path, tmp_path: Path, generated: GeneratedRegistry
) -> None:
    """The full build (cache emptied first) with its two floors, the rebuild after a
    promotion commit and the files it changed; the generated registry is only read."""
    before = _untouched(generated)
    data = _bench_json(work, tmp_path / "latest.json", "site,rebuild")
    assert data["skipped"] == []
    figures = {f["name"]: f for f in data["figures"]}
    assert list(figures) == [
        "mkdocs build (6 versions)",
        "floor: trivial MkDocs build (18 pages)",
        "floor: 18 pages from one Jinja template (fresh process)",
        "mkdocs build after a one-line promotion (6 versions)",
        "site files changed by a one-line promotion (6 versions)",
    ]
    timed = [f for f in data["figures"] if f["unit"] == "s"]
    assert all(f["peak_rss_bytes"] and f["cpu_median_s"] for f in timed)
    assert all(0 <= f["system_cpu_median_s"] <= f["cpu_median_s"] for f in timed)
    build = figures["mkdocs build (6 versions)"]
    assert build["floor"] == "floor: trivial MkDocs build (18 pages)"
    assert build["extra"]["cpu_vs_trivial_mkdocs"] > 0 and build["extra"]["cpu_vs_jinja_template"]
    assert build["cpu_per_version_s"] == pytest.approx(build["cpu_median_s"] / 6, rel=0.01)
    changed = figures["site files changed by a one-line promotion (6 versions)"]
    assert changed["unit"] == "files" and changed["median_s"] >= 1
    first = changed["extra"]["first_run_files"]
    assert any(name.endswith(".html") for name in first) and first == sorted(first)
    assert list(changed["checks"]) == ["≤ 10 files in every run"]
    assert _untouched(generated) == before


def test_one_model_pull_request_is_validated_against_the_full_run(
    work: Path, tmp_path: Path, generated: GeneratedRegistry
) -> None:
    before = _untouched(generated)
    data = _bench_json(work, tmp_path / "latest.json", "validate")
    figures = {f["name"]: f for f in data["figures"]}
    pr = figures["registry-gen validate --base PARENT --head HEAD, one-model PR (fresh process)"]
    assert pr["floor"] == "registry-gen validate (fresh process)"
    assert pr["peak_rss_bytes"] and pr["vs_floor"] is not None
    assert "None → Staging" in pr["note"]
    assert pr["target"] is None  # judged at the default size and at 100,000 versions only
    assert _untouched(generated) == before


def test_the_jinja_floor_writes_pages_of_the_asked_size(tmp_path: Path) -> None:
    from benchmarks._site_floors import _JINJA_SCRIPT

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-c", _JINJA_SCRIPT, str(site), "150", "12000"], check=True)
    pages = sorted(site.rglob("index.html"))
    assert len(pages) == 150
    assert all(11_500 <= p.stat().st_size <= 12_500 for p in pages)
    index = json.loads((site / "search" / "search_index.json").read_text())
    assert len(index["docs"]) == 150


def test_harness_shows_counts_and_cpu_per_version() -> None:
    results = Results()
    results.add(Figure("build", "site", [2.0], cpu=[1.5], scale=1_000))
    counted = results.add(Figure("changed", "site", [9.0, 12.0], unit="files"))
    counted.checks["≤ 10 files in every run"] = max(counted.runs) <= 10
    table = results.table()
    assert "1,500 µs" in table  # 1.5 s of CPU over 1,000 versions
    assert "| 12 files" in table and "✗" in table
    rows = {row["name"]: row for row in results.to_json()["figures"]}
    assert rows["build"]["cpu_per_version_s"] == pytest.approx(0.0015)
    assert rows["changed"]["unit"] == "files" and rows["changed"]["met"] is False


def test_a_memory_budget_is_part_of_the_target() -> None:
    target = Target(seconds=600.0, peak_bytes=2_000_000_000)
    within = Figure("build", "site", [300.0], target=target)
    within.peak = [1_500_000_000]
    over = Figure("build", "site", [300.0], target=target)
    over.peak = [2_500_000_000]
    assert within.met(None) is True and over.met(None) is False
    assert target.describe() == "≤ 600.0 s, peak ≤ 2 GB"


# ---------------------------------------------------------------------------
# A few hundred versions: the pack written directly must be what git would write


@pytest.fixture(scope="module")
def medium(work: Path):  # type: ignore[no-untyped-def]
    return ensure_registry(MEDIUM, work)


def test_medium_registry_passes_the_validator(medium) -> None:  # type: ignore[no-untyped-def]
    from registry_gen.validate import validate_change, validate_tree

    report = validate_tree(medium.root)
    assert [f"{f.where} {f.message}" for f in report.errors] == []
    index = load_index(medium.root)
    assert sum(len(m.versions) for m in index.models.values()) == 300
    stages = Counter(v.stage for m in index.models.values() for v in m.versions)
    assert stages["Production"] and stages["Staging"] and stages["Archived"] and stages["None"]
    change = validate_change(medium.root, medium.base_rev, "HEAD")
    assert [f"{f.where} {f.message}" for f in change.errors] == []


def test_medium_pack_passes_git_fsck(medium) -> None:  # type: ignore[no-untyped-def]
    # Checks every object's id against its content, every delta, and connectivity.
    result = subprocess.run(
        ["git", "fsck", "--full", "--strict", "--no-dangling"],
        cwd=medium.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(medium.root, "status", "--porcelain") == ""  # the checkout matches main


def test_records_are_exactly_what_dump_yaml_writes(medium) -> None:  # type: ignore[no-untyped-def]
    # The templates must give dump_yaml's bytes, in every state a record passes through.
    paths = git(
        medium.root, "log", "--format=", "--name-only", "--no-renames", "main", "--", "models"
    ).split()
    blobs = {
        line.split()[2]: line.split("\t")[1]
        for rev in ("main", medium.base_rev, "main~40")
        for line in git(medium.root, "ls-tree", "-r", rev, "models").splitlines()
        if line.endswith(".yaml")
    }
    assert {p for p in paths if p.endswith(".yaml")} >= set(blobs.values())
    for sha, path in blobs.items():
        text = git(medium.root, "cat-file", "blob", sha)
        assert dump_yaml(parse_yaml(text, path).data) == text, path


def test_medium_history_reads_with_its_pull_requests(medium) -> None:  # type: ignore[no-untyped-def]
    history = read_history(medium.root)
    kinds = Counter(event.kind for event in history.events)
    assert kinds["registered"] == 300 and kinds["model_created"] == 60
    assert kinds["stage"] and kinds["alias_set"] and kinds["alias_moved"]
    assert any(e.new == "Archived" for e in history.events if e.kind == "stage")
    assert all(event.commit.pr is not None for event in history.events)
    assert len({event.commit.pr for event in history.events}) == medium.pull_requests
    # Some pull requests were branched from an older main than the one they merged into.
    merges = [
        line.split()
        for line in git(medium.root, "rev-list", "--merges", "--parents", "main").splitlines()
    ]
    older = [m for m in merges if git(medium.root, "rev-parse", f"{m[2]}^").strip() != m[1]]
    assert merges and older


def test_generator_command_prints_time_commits_and_memory(  # type: ignore[no-untyped-def]
    work: Path, medium, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        generate_main(["--models", "60", "--versions", "5", "--seed", "3", "--work", str(work)])
        == 0
    )
    out = capsys.readouterr().out
    assert f"{medium.commits:,} commits" in out and "peak RSS" in out and "wall" in out


def test_sorted_tree_ids_and_deltas_match_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small snapshot levels, so every level and the undo path are exercised.
    monkeypatch.setattr(_gitpack.SortedTree, "LEVELS", (64, 16, 4, 2))
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    pack = _gitpack.PackWriter(tmp_path / ".git")
    tree = _gitpack.SortedTree(pack)
    rng = random.Random(5)
    state: dict[bytes, bytes] = {}
    parents: list[bytes] = []
    expected_trees: list[tuple[bytes, bytes]] = []
    for n in range(300):
        name = b"m%d" % rng.randint(0, 90) + (b"-x" if rng.random() < 0.3 else b"")
        blob = pack.add(_gitpack.BLOB, b"content %d\n" % n)
        folder = pack.add(_gitpack.TREE, _gitpack.entry(_gitpack.FILE_MODE, b"f", blob))
        key = _gitpack.sort_key(name, folder=True)
        state[key] = _gitpack.entry(_gitpack.DIR_MODE, name, folder)
        tree.set(key, state[key])
        sha = tree.write()
        expected_trees.append((sha, b"".join(state[k] for k in sorted(state))))
        if n % 3 == 0 and len(state) > 1:  # an older state: one entry removed
            gone = rng.choice(sorted(state))
            older = tree.write_with({gone: None})
            expected_trees.append((older, b"".join(state[k] for k in sorted(state) if k != gone)))
        root = pack.add(_gitpack.TREE, _gitpack.entry(_gitpack.DIR_MODE, b"models", sha))
        author = b"A <a@example.com> %d +0000" % (1_700_000_000 + n)
        parents = [
            pack.add(
                _gitpack.COMMIT,
                _gitpack.commit_bytes(root, parents, author, author, b"change %d\n" % n),
            )
        ]
    pack.finish()
    for sha, content in expected_trees:
        assert sha == hashlib.sha1(b"tree %d\0" % len(content) + content).digest()
    git(tmp_path, "update-ref", "refs/heads/main", parents[0].hex())
    git(tmp_path, "fsck", "--full", "--strict", "--no-dangling")
    chains = git(
        tmp_path, "verify-pack", "-s", str(next((tmp_path / ".git/objects/pack").glob("*.idx")))
    )
    assert "chain length = 4" in chains and "chain length = 5" not in chains
    assert git(tmp_path, "rev-list", "--count", "main").strip() == "300"
