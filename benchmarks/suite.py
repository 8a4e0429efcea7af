"""The measurements: each times one thing a user waits for, at the registry's size.

Every measurement checks first that the feature it times exists (by import or
``hasattr``) and records a "not available yet" skip otherwise, so the suite runs
while the registry is being built and measures more as parts land.

In-process figures (index, validate, history, Markdown) time the library call
after one untimed warm-up run, with imports already done and memos cleared
before each run. Fresh-process figures (``registry-gen validate``, ``show``,
``load_model``, the floor, ``mkdocs build``) time the whole process from exec
to exit, which is what a user or CI job waits for.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .generate import GeneratedRegistry, RegistrySpec, ensure_registry
from .harness import Figure, ProcessFailed, Results, Target, time_calls, time_process
from .reader import measure_reader

# The targets, at the default size (1,000 models x 10 versions) on 2 cores.
VALIDATE_TARGET = Target(seconds=5.0, label="load + validate ≤ 5 s")
HISTORY_TARGET = Target(seconds=10.0)
MARKDOWN_TARGET = Target(seconds=10.0)
SITE_TARGET = Target(seconds=60.0)
# Issue 16: the full build at 100,000 versions within ten minutes and 2 GB of memory.
SCALE_SITE_TARGET = Target(seconds=600.0, peak_bytes=2_000_000_000)
SCALE_VERSIONS = 100_000
# Issue 15: a one-line promotion at 10,000 versions rebuilds in a few seconds.
REBUILD_TARGET = Target(seconds=15.0)
SITE_MAX_PAGE_BYTES = 40_000
SHOW_TARGET = Target(seconds=0.3)
LOAD_TARGET = Target(margin=0.2, label="≤ floor + 200 ms")
# Issue 16: at 100,000 versions, the fresh `validate` within 1.2x the CPU of libyaml reading
# every record (below that, importing pydantic and the CLI is a fair part of the time).
VALIDATE_FLOOR_TARGET = Target(factor=1.2)
FLOOR_TARGET_VERSIONS = 100_000
PARSE_FLOOR = "floor: libyaml parses every record (fresh process)"

MEASUREMENTS = (
    "index",
    "validate",
    "history",
    "markdown",
    "site",
    "rebuild",
    "show",
    "load",
    "reader",
    "mlflow",
)


@dataclass
class Bench:
    """What every measurement gets: the registry, how many runs, where to report."""

    registry: GeneratedRegistry
    runs: int
    results: Results
    work: Path
    log: Callable[[str], None]
    site_sizes: tuple[int, ...] = ()
    default_size: bool = True  # targets apply only at the default size
    warmup: int = 1  # untimed runs before the timed ones (0 at sizes where a run is minutes)

    @property
    def root(self) -> Path:
        return self.registry.root

    def target(self, target: Target) -> Target | None:
        return target if self.default_size else None

    def env(self) -> dict[str, str]:
        """The environment of timed processes: a private artifact cache, no telemetry."""
        return {
            **os.environ,
            "REGISTRY_GEN_CACHE": str(self.work / "artifact-cache"),
            "DVC_NO_ANALYTICS": "1",
            "DVC_SITE_CACHE_DIR": str(self.work / "dvc-site-cache"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "PYTHONDONTWRITEBYTECODE": "0",
        }


def _feature(module: str, *names: str) -> Any | None:
    """The module if it imports and has every name in ``names``, else None."""
    try:
        found = importlib.import_module(module)
    except ImportError:
        return None
    return found if all(hasattr(found, n) for n in names) else None


def _clear_memos() -> None:
    """Forget what the store memoises per process, so a timed load does the whole work."""
    store = _feature("registry_gen.store")
    for memo in ("_GIT_INDEX_MEMO", "_RECORD_MEMO"):
        getattr(store, memo, {}).clear()


def _forgetting(kept: list[Any]) -> Callable[[], None]:
    """Before a timed run: drop what the last run kept, and the memos."""

    def before() -> None:
        kept.clear()
        _clear_memos()

    return before


def _cli() -> Path:
    return Path(sys.executable).with_name("registry-gen")


def _has_command(name: str) -> bool:
    cli = _feature("registry_gen.cli", "main")
    return cli is not None and name in getattr(cli.main, "commands", {})


# ---------------------------------------------------------------------------
# Reading the registry: index and validation


# The least reading a registry can cost: list models/, read every record file, and let
# libyaml's C parser load each (no strictness, no schema, no rules). One process.
_PARSE_FLOOR_SCRIPT = """\
import os, sys, yaml
root = sys.argv[1]
count = 0
def load(path):
    global count
    with open(path, "rb") as handle:
        yaml.load(handle.read(), Loader=yaml.CSafeLoader)
    count += 1
if os.path.exists(os.path.join(root, "registry.yaml")):
    load(os.path.join(root, "registry.yaml"))
for folder, dirs, files in os.walk(os.path.join(root, "models")):
    dirs.sort()
    depth = os.path.relpath(folder, root).count(os.sep)
    for name in sorted(files):
        if (depth == 1 and name == "model.yaml") or (depth == 2 and (
                name == "version.yaml" or name.endswith(".dvc"))):
            load(os.path.join(folder, name))
print(count)
"""

_LOAD_INDEX_SCRIPT = """\
import sys
from registry_gen.store import load_index
index = load_index(sys.argv[1])
print(sum(len(m.versions) for m in index.models.values()))
"""


def measure_parse_floor(bench: Bench) -> Figure:
    """The libyaml floor of the same run (measured once, whichever figure asks first)."""
    found = bench.results.by_name(PARSE_FLOOR)
    if found is not None:
        return found
    return bench.results.add(
        Figure(
            PARSE_FLOOR,
            "validate",
            time_process(
                [sys.executable, "-c", _PARSE_FLOOR_SCRIPT, str(bench.root)],
                bench.runs,
                env=bench.env(),
                warmup=bench.warmup,
            ),
            note="os.walk + yaml.load(CSafeLoader) of registry.yaml, every model.yaml, "
            "version.yaml and .dvc: the least reading the registry can cost",
        )
    )


def measure_index(bench: Bench) -> None:
    store = _feature("registry_gen.store", "load_index")
    if store is None:
        bench.results.skip("load_index", "not available yet (registry_gen.store.load_index)")
        return
    floor = measure_parse_floor(bench)
    bench.results.add(
        Figure(
            "load_index (working tree, fresh process)",
            "index",
            time_process(
                [sys.executable, "-c", _LOAD_INDEX_SCRIPT, str(bench.root)],
                bench.runs,
                env=bench.env(),
                warmup=bench.warmup,
            ),
            floor=floor.name,
            note="import, list, read, parse and validate every record: what any whole-registry "
            "command pays first",
        )
    )
    loaded: list[Any] = []  # what the last timed run loaded: looked at, not loaded again
    times = time_calls(
        lambda: loaded.append(store.load_index(bench.root)),
        bench.runs,
        before=_forgetting(loaded),
        warmup=bench.warmup,
    )
    index = loaded.pop()
    if index.errors:
        bench.log(
            f"  warning: the generated registry has {len(index.errors)} record errors, "
            f"first: {index.errors[0]}"
        )
    versions = sum(len(m.versions) for m in index.models.values())
    bench.results.add(
        Figure(
            "load_index (working tree)",
            "index",
            times,
            note=f"{len(index.models):,} models, {versions:,} versions parsed and validated",
        )
    )
    del index
    bench.results.add(
        Figure(
            "load_index (git rev HEAD)",
            "index",
            time_calls(
                lambda: store.load_index(bench.root, rev="HEAD"),
                bench.runs,
                before=_clear_memos,
                warmup=bench.warmup,
            ),
        )
    )
    if hasattr(store, "_RECORD_MEMO"):
        bench.results.add(
            Figure(
                "load_index again in the same process (working tree)",
                "index",
                time_calls(lambda: store.load_index(bench.root), bench.runs, warmup=bench.warmup),
                note="records already parsed are reused: what `mkdocs serve` pays per edit",
            )
        )


def measure_validate(bench: Bench) -> None:
    validate = _feature("registry_gen.validate", "validate_tree", "validate_change")
    if validate is None:
        bench.results.skip("validate", "not available yet (registry_gen.validate)")
        return
    reports: list[Any] = []  # the last timed run's report: looked at, not made again
    bench.results.add(
        Figure(
            "validate_tree (working tree, in-process)",
            "validate",
            time_calls(
                lambda: reports.append(validate.validate_tree(bench.root)),
                bench.runs,
                before=_forgetting(reports),
                warmup=bench.warmup,
            ),
            note="includes loading the index",
        )
    )
    report = reports.pop()
    if report.errors:
        bench.log(
            f"  warning: validate finds {len(report.errors)} errors in the generated "
            f"registry, first: {report.errors[0].where} {report.errors[0].message}"
        )
    base = bench.registry.base_rev
    bench.results.add(
        Figure(
            f"validate_change ({base}..HEAD, in-process)",
            "validate",
            time_calls(
                lambda: validate.validate_change(bench.root, base, "HEAD"),
                bench.runs,
                before=_clear_memos,
                warmup=bench.warmup,
            ),
            note="both sides read from git objects; the change spans the last 25 pull requests",
        )
    )
    if not _has_command("validate"):
        bench.results.skip("registry-gen validate", "not available yet (CLI command)")
        return
    cli = str(_cli())
    floor = measure_parse_floor(bench)
    bench.results.add(
        Figure(
            "registry-gen validate (fresh process)",
            "validate",
            time_process(
                [cli, "-C", str(bench.root), "validate"],
                bench.runs,
                env=bench.env(),
                warmup=bench.warmup,
            ),
            target=bench.target(VALIDATE_TARGET)
            or (
                VALIDATE_FLOOR_TARGET if bench.registry.versions >= FLOOR_TARGET_VERSIONS else None
            ),
            floor=floor.name,
        )
    )
    bench.results.add(
        Figure(
            f"registry-gen validate --base {base} (fresh process)",
            "validate",
            time_process(
                [cli, "-C", str(bench.root), "validate", "--base", base],
                bench.runs,
                env=bench.env(),
                warmup=bench.warmup,
            ),
            target=bench.target(VALIDATE_TARGET),
        )
    )


# ---------------------------------------------------------------------------
# The website: history, Markdown, mkdocs build


def measure_history(bench: Bench) -> None:
    history = _feature("registry_gen.history", "read_history")
    if history is None:
        bench.results.skip("history", "not available yet (registry_gen.history.read_history)")
        return
    counts: list[int] = []  # the timed calls' event counts (no untimed extra read)

    def read() -> None:
        counts.append(len(getattr(history.read_history(bench.root), "events", ()) or ()))

    timings = time_calls(read, bench.runs, warmup=bench.warmup)
    bench.results.add(
        Figure(
            "read_history (whole git history)",
            "history",
            timings,
            target=bench.target(HISTORY_TARGET),
            note=f"{bench.registry.commits:,} commits, {counts[-1]:,} events",
        )
    )


def measure_markdown(bench: Bench) -> None:
    render = _feature("registry_gen.site.render", "render_site")
    history = _feature("registry_gen.history", "read_history")
    store = _feature("registry_gen.store", "load_index")
    if render is None or history is None or store is None:
        bench.results.skip("markdown", "not available yet (registry_gen.site.render.render_site)")
        return
    index = store.load_index(bench.root)
    events = history.read_history(bench.root)
    pages = render.render_site(index, events)
    sizes = [len(text.encode()) for text in pages.values()]
    bench.results.add(
        Figure(
            "render_site (Markdown of every page)",
            "markdown",
            time_calls(lambda: render.render_site(index, events), bench.runs),
            target=bench.target(MARKDOWN_TARGET),
            note=f"{len(pages):,} pages, largest {max(sizes) / 1000:.0f} KB of Markdown; "
            "index and history given",
            extra={"pages": len(pages), "max_markdown_bytes": max(sizes)},
        )
    )


def _prepare_site(root: Path) -> None:
    """Use the mkdocs.yml and home page that `registry-gen init` writes, when it exists."""
    scaffold = _feature("registry_gen.scaffold", "template_text")
    if scaffold is None:
        return
    for name in ("mkdocs.yml", "docs/index.md"):
        try:
            text = scaffold.template_text(name)
        except (FileNotFoundError, OSError):
            continue
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _page_sizes(site: Path) -> list[int]:
    return [p.stat().st_size for p in site.rglob("*.html")]


def _site_build(bench: Bench, registry: GeneratedRegistry, runs: int, *, default: bool) -> Figure:
    _prepare_site(registry.root)
    out = Path(tempfile.mkdtemp(prefix="site-", dir=bench.work))
    try:
        argv = [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "-q",
            "-f",
            str(registry.root / "mkdocs.yml"),
            "-d",
            str(out / "site"),
        ]
        # A full build: no incremental cache from an earlier run (the build writes a new one).
        times = time_process(
            argv,
            runs,
            env=bench.env(),
            cwd=registry.root,
            warmup=0,
            before=lambda: shutil.rmtree(_site_cache(bench), ignore_errors=True),
        )
        sizes = _page_sizes(out / "site")
        total = sum(p.stat().st_size for p in (out / "site").rglob("*") if p.is_file())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    biggest, mean = max(sizes), sum(sizes) / len(sizes)
    figure = Figure(
        f"mkdocs build ({registry.versions:,} versions)",
        "site",
        times,
        target=(
            SITE_TARGET
            if default
            else SCALE_SITE_TARGET
            if registry.versions >= SCALE_VERSIONS
            else None
        ),
        note=(
            f"{len(sizes):,} HTML pages, max {biggest / 1000:.0f} KB, mean "
            f"{mean / 1000:.0f} KB, site {total / 1e6:.0f} MB"
        ),
        extra={
            "versions": registry.versions,
            "html_pages": len(sizes),
            "max_page_bytes": biggest,
            "mean_page_bytes": round(mean),
            "site_bytes": total,
        },
    )
    if default:
        figure.checks[f"pages ≤ {SITE_MAX_PAGE_BYTES // 1000} KB"] = biggest <= SITE_MAX_PAGE_BYTES
    return figure


def measure_site(bench: Bench) -> None:
    if _feature("registry_gen.site.plugin", "RegistryPlugin") is None:
        bench.results.skip("mkdocs build", "not available yet (registry_gen.site.plugin)")
        return
    try:
        import material  # noqa: F401 - the theme the site is built with
    except ImportError:
        bench.results.skip("mkdocs build", "mkdocs-material is not installed")
        return
    spec = bench.registry.spec
    # The curve: smaller registries first, so a slow build shows its trend before the big one.
    for models in sorted(set(bench.site_sizes)):
        if models == spec.models:
            continue
        small = ensure_registry(
            RegistrySpec(models=models, versions=spec.versions, seed=spec.seed),
            bench.work,
            log=bench.log,
        )
        bench.log(f"  mkdocs build at {small.versions:,} versions")
        try:
            bench.results.add(_site_build(bench, small, bench.runs, default=False))
        except ProcessFailed as error:
            bench.results.skip(f"mkdocs build ({small.versions:,} versions)", str(error))
            return
    bench.log(f"  mkdocs build at {bench.registry.versions:,} versions")
    try:
        figure = _site_build(bench, bench.registry, bench.runs, default=bench.default_size)
    except ProcessFailed as error:
        bench.results.skip(f"mkdocs build ({bench.registry.versions:,} versions)", str(error))
        return
    bench.results.add(figure)


def _site_cache(bench: Bench) -> Path:
    """Where the site builds of the timed processes keep their incremental cache."""
    return Path(bench.env()["REGISTRY_GEN_CACHE"]) / "site-builds"


def _waiting_versions(root: Path, count: int) -> list[tuple[str, int]]:
    """``count`` versions in stage None, spread over the registry (fewer if there are not)."""
    from registry_gen.store import load_index

    index = load_index(root)
    waiting = [
        (name, v.version)
        for name, model in sorted(index.models.items())
        for v in model.versions
        if v.stage == "None"
    ]
    return waiting[:: max(1, len(waiting) // count)][:count]


def _promote(root: Path, waiting: list[tuple[str, int]]) -> None:
    """Move the next waiting version from None to Staging and commit it (a one-line diff)."""
    from registry_gen.client import RegistryClient

    name, version = waiting.pop()
    RegistryClient(root).transition_model_version_stage(name, version, "Staging")
    for args in (
        ("add", "-A", "models"),
        ("commit", "-q", "-m", f"Promote {name} v{version} to Staging (#999999)"),
    ):
        subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "-c",
                "user.name=Bench",
                "-c",
                "user.email=bench@example.invalid",
                *args,
            ],
            check=True,
        )


def measure_rebuild(bench: Bench) -> None:
    """`mkdocs build` again after a one-line promotion (a real commit), on a warm cache."""
    name = f"mkdocs build after a one-line promotion ({bench.registry.versions:,} versions)"
    if _feature("registry_gen.site._incremental", "PageCache") is None:
        bench.results.skip(name, "not available yet (registry_gen.site._incremental)")
        return
    out = Path(tempfile.mkdtemp(prefix="rebuild-", dir=bench.work))
    try:
        clone = out / "repo"
        subprocess.run(["git", "clone", "-q", "--local", str(bench.root), str(clone)], check=True)
        waiting = _waiting_versions(clone, bench.runs)
        if len(waiting) < bench.runs:
            bench.results.skip(name, f"only {len(waiting)} versions in stage None to promote")
            return
        _prepare_site(clone)
        argv = [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "-q",
            "-f",
            str(clone / "mkdocs.yml"),
            "-d",
            str(out / "site"),
        ]
        bench.log("  mkdocs build after a one-line promotion: the first build fills the cache")
        time_process(argv, 1, env=bench.env(), cwd=clone, warmup=0)
        times = time_process(
            argv,
            bench.runs,
            env=bench.env(),
            cwd=clone,
            warmup=0,
            before=lambda: _promote(clone, waiting),
        )
    except (ProcessFailed, subprocess.CalledProcessError) as error:
        bench.results.skip(name, str(error))
        return
    finally:
        shutil.rmtree(out, ignore_errors=True)
    bench.results.add(
        Figure(
            name,
            "site",
            times,
            target=bench.target(REBUILD_TARGET),
            note="a fresh `mkdocs build` after each promotion commit; unchanged pages come from "
            "the incremental cache the previous build wrote",
        )
    )


# ---------------------------------------------------------------------------
# Fresh processes a user waits for: show, load


def measure_show(bench: Bench) -> None:
    if not _has_command("show"):
        bench.results.skip("registry-gen show", "not available yet (CLI command)")
        return
    uri = bench.registry.production_uri
    bench.results.add(
        Figure(
            f"registry-gen show {uri} (fresh process)",
            "show",
            time_process(
                [str(_cli()), "-C", str(bench.root), "show", uri],
                bench.runs,
                env=bench.env(),
                warmup=bench.warmup,
            ),
            target=bench.target(SHOW_TARGET),
        )
    )
    bench.results.add(
        Figure(
            "registry-gen --version (fresh process)",
            "show",
            time_process(
                [str(_cli()), "--version"], bench.runs, env=bench.env(), warmup=bench.warmup
            ),
            note="the CLI's start-up alone: the floor under every command",
        )
    )


_LOAD_SCRIPT = """\
import sys
import registry_gen
model = registry_gen.load_model(sys.argv[1], registry=sys.argv[2])
print(model.predict([[{row}]])[0])
"""

_FLOOR_SCRIPT = """\
import pickle, sys
with open(sys.argv[1], "rb") as handle:
    model = pickle.load(handle)
print(model.predict([[{row}]])[0])
"""


def measure_load(bench: Bench) -> None:
    if _feature("registry_gen.loader", "load_model") is None:
        bench.results.skip("load_model", "not available yet (registry_gen.loader.load_model)")
        return
    row = ", ".join(repr(x) for x in bench.registry.sample_row)
    env = bench.env()
    floor = Figure(
        "floor: pickle.load + predict (fresh process)",
        "load",
        time_process(
            [sys.executable, "-c", _FLOOR_SCRIPT.format(row=row), str(bench.registry.floor_pickle)],
            bench.runs,
            env=env,
        ),
        note="the least a fresh process can do: unpickle the same estimator, predict one row",
    )
    # The untimed warm-up run fetches the artifact from the DVC remote into the cache.
    argv = [
        sys.executable,
        "-c",
        _LOAD_SCRIPT.format(row=row),
        bench.registry.production_uri,
        str(bench.root),
    ]
    try:
        warm = time_process(argv, bench.runs, env=env)
    except ProcessFailed as error:
        bench.results.add(floor)
        bench.results.skip("load_model (warm cache)", f"failed: {error}")
        return
    bench.results.add(floor)
    bench.results.add(
        Figure(
            f"load_model({bench.registry.production_uri}) + predict, warm cache (fresh process)",
            "load",
            warm,
            target=bench.target(LOAD_TARGET),
            floor=floor.name,
            note="skops artifact, verified cache entry, resolved against the working tree",
        )
    )


_MLFLOW_SETUP = """\
import pickle, sys
import mlflow
import mlflow.sklearn
mlflow.set_tracking_uri(sys.argv[1])
with open(sys.argv[2], "rb") as handle:
    model = pickle.load(handle)
with mlflow.start_run():
    mlflow.sklearn.log_model(model, "model", registered_model_name="m")
client = mlflow.MlflowClient()
client.transition_model_version_stage("m", 1, "Production")
"""

_MLFLOW_LOAD = """\
import sys
import mlflow
import mlflow.sklearn
mlflow.set_tracking_uri(sys.argv[1])
model = mlflow.sklearn.load_model("models:/m/Production")
print(model.predict([[{row}]])[0])
"""


def measure_mlflow(bench: Bench) -> None:
    """The same warm load through an MLflow registry (sqlite backend), when mlflow is installed.

    mlflow is looked for in ``REGISTRY_GEN_BENCH_MLFLOW_PYTHON``, then this
    interpreter, then ``benchmarks/.work/mlflow-venv``: a venv of the benchmarks'
    own, so the project's environment need not install mlflow.
    """
    candidates = [
        os.environ.get("REGISTRY_GEN_BENCH_MLFLOW_PYTHON"),
        sys.executable,
        str(bench.work / "mlflow-venv" / "bin" / "python"),
    ]
    python = next(
        (c for c in candidates if c and time_process_ok([c, "-c", "import mlflow, sklearn"])), None
    )
    if python is None:
        bench.results.skip(
            "mlflow load",
            "not available (mlflow is not installed; see "
            "benchmarks/README.md to give the benchmarks their own mlflow venv)",
        )
        return
    floor = bench.results.by_name("floor: pickle.load + predict (fresh process)")
    store = bench.root.parent / "mlflow"
    db = store / "mlflow.db"
    uri = f"sqlite:///{db}"
    env = {**bench.env(), "MLFLOW_ARTIFACTS_DESTINATION": str(store / "artifacts")}
    row = ", ".join(repr(x) for x in bench.registry.sample_row)
    try:
        if not db.exists():
            store.mkdir(parents=True, exist_ok=True)
            time_process(
                [python, "-c", _MLFLOW_SETUP, uri, str(bench.registry.floor_pickle)],
                1,
                env=env,
                cwd=store,
                warmup=0,
            )
        times = time_process(
            [python, "-c", _MLFLOW_LOAD.format(row=row), uri], bench.runs, env=env, cwd=store
        )
    except ProcessFailed as error:
        shutil.rmtree(store, ignore_errors=True)
        bench.results.skip("mlflow load", f"failed: {error}")
        return
    bench.results.add(
        Figure(
            "MLflow: load_model(models:/m/Production) + predict, sqlite registry (fresh process)",
            "mlflow",
            times,
            floor=floor.name if floor else None,
            note=f"mlflow.sklearn.load_model, local sqlite tracking/registry store ({python})",
        )
    )


def time_process_ok(argv: list[str]) -> bool:
    try:
        time_process(argv, 1, warmup=0)
    except (ProcessFailed, OSError):
        return False
    return True


MEASURE: dict[str, Callable[[Bench], None]] = {
    "index": measure_index,
    "validate": measure_validate,
    "history": measure_history,
    "markdown": measure_markdown,
    "site": measure_site,
    "rebuild": measure_rebuild,
    "show": measure_show,
    "load": measure_load,
    "reader": measure_reader,
    "mlflow": measure_mlflow,
}
