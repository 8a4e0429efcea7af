"""Loading a model in a fresh process: registry-gen's loader against its floor, and MLflow.

``load_model`` of ``models:/m/Production`` from a warm artifact cache is judged
against a fresh Python unpickling the same estimator; the same load through an
MLflow registry (sqlite backend) is shown for comparison when mlflow is
installed. MLflow's store is kept under the benchmarks' work folder, next to
(never inside) the generated registry.
"""

from __future__ import annotations

import os
import shutil
import sys

from ._bench import Bench, feature
from .harness import Figure, ProcessFailed, Target, time_process

LOAD_TARGET = Target(margin=0.2, label="≤ floor + 200 ms")

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
    if feature("registry_gen.loader", "load_model") is None:
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
    store = bench.work / f"mlflow-{bench.registry.spec.key}"
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
