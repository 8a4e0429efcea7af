"""`registry-gen serve` against `mlflow models serve`: same model, same workers, wrk load.

Run:  .venv/bin/python -m benchmarks.serve [--duration 10] [--workers 1] [--connections 8]

Both servers serve the same fitted scikit-learn LogisticRegression (4 features):
ours from a fresh registry (``init_registry`` + ``log_model``, skops, DVC remote
in the repository), MLflow's from a sqlite registry (``mlflow.sklearn.log_model``
with ``registered_model_name``) in the benchmarks' own venv
(``benchmarks/.work/mlflow-venv``, see README.md), with ``--env-manager local``.
For each: the time from process start to ``/ping`` answering 200, then Debian's
``wrk`` posting MLflow ``dataframe_split`` JSON bodies of 1 and 100 rows to
``/invocations`` (after a warm-up of the same length's fifth), reporting
requests/s and p50/p99 latency. Both servers' predictions are checked equal first.
Results go to ``benchmarks/results/serve.json`` and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
MLFLOW_PYTHON = HERE / ".work" / "mlflow-venv" / "bin" / "python"
COLUMNS = ["f0", "f1", "f2", "f3"]

_MLFLOW_SETUP = """\
import pickle, sys
import pandas as pd
import mlflow, mlflow.sklearn
mlflow.set_tracking_uri(sys.argv[1])
model = pickle.load(open(sys.argv[2], "rb"))
example = pd.DataFrame(pickle.load(open(sys.argv[3], "rb")), columns=sys.argv[4].split(","))
with mlflow.start_run():
    mlflow.sklearn.log_model(model, name="model", registered_model_name="m",
                             input_example=example)
"""

_WRK_LUA = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{body}", "rb"); wrk.body = f:read("*a"); f:close()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fit_model() -> tuple[Any, Any]:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.random((500, len(COLUMNS)))
    y = (x.sum(axis=1) > len(COLUMNS) / 2).astype(int)
    return LogisticRegression().fit(x, y), x


def our_registry(work: Path, model: Any, x: Any) -> Path:
    from registry_gen.client import RegistryClient, log_model
    from registry_gen.scaffold import init_registry

    root = init_registry(work / "registry")
    log_model(model, "m", registry=root, input_example=x[:5])
    RegistryClient(root).set_registered_model_alias("m", "champion", 1)
    return root


def mlflow_registry(work: Path, model: Any, x: Any) -> str:
    store = work / "mlflow"
    store.mkdir()
    (store / "model.pkl").write_bytes(pickle.dumps(model))
    (store / "example.pkl").write_bytes(pickle.dumps(x[:5]))
    uri = f"sqlite:///{store / 'mlflow.db'}"
    subprocess.run(
        [
            str(MLFLOW_PYTHON),
            "-c",
            _MLFLOW_SETUP,
            uri,
            "model.pkl",
            "example.pkl",
            ",".join(COLUMNS),
        ],
        cwd=store,
        check=True,
        capture_output=True,
    )
    return uri


def start(argv: list[str], env: dict[str, str], log: Path) -> tuple[Any, int, float]:
    """Start a server on a free port; return it, the port and the seconds to /ping 200."""
    port = free_port()
    argv = [*argv, "--port", str(port)]
    began = time.perf_counter()
    with log.open("ab") as out:  # its own session: stop() ends the server and its children
        process = subprocess.Popen(
            argv, env=env, cwd=log.parent, stdout=out, stderr=out, start_new_session=True
        )
    while time.perf_counter() - began < 300:
        if process.poll() is not None:
            raise RuntimeError(f"{argv[0]} exited with {process.returncode}: see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1) as reply:
                if reply.status == 200:
                    return process, port, time.perf_counter() - began
        except OSError:
            time.sleep(0.02)
    process.kill()
    raise RuntimeError(f"{argv[0]} did not become ready")


def stop(process: Any) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def predict(port: int, body: bytes) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())["predictions"]


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk(port: int, body_file: Path, duration: float, connections: int) -> dict[str, float]:
    lua = body_file.with_suffix(".lua")
    lua.write_text(_WRK_LUA.format(body=body_file))
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration:g}s",
            "--latency",
            "-s",
            str(lua),
            f"http://127.0.0.1:{port}/invocations",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))}  # type: ignore[union-attr]
    for label, pct in (("p50", "50"), ("p99", "99")):
        value, unit = re.search(rf"^\s+{pct}%\s+([0-9.]+)(us|ms|s|m)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        result[label] = float(value) * _UNITS[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["errors"] = float(errors.group(1)) if errors else 0.0
    return result


def servers(
    work: Path, model: Any, x: Any, workers: int
) -> dict[str, tuple[list[str], dict[str, str]]]:
    root = our_registry(work, model, x)
    tracking = mlflow_registry(work, model, x)
    ours_env = {**os.environ, "REGISTRY_GEN_CACHE": str(work / "cache")}
    ours = [
        sys.executable,
        "-m",
        "registry_gen.serving",
        "models:/m@champion",
        "--from",
        str(root),
        "--workers",
        str(workers),
    ]  # access logs on, as MLflow's uvicorn
    mlflow_env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking,  # it runs `uvicorn` from PATH
        "PATH": f"{MLFLOW_PYTHON.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    theirs = [
        str(MLFLOW_PYTHON),
        "-m",
        "mlflow",
        "models",
        "serve",
        "-m",
        "models:/m/1",
        "--env-manager",
        "local",
        "--host",
        "127.0.0.1",
        "--workers",
        str(workers),
    ]
    return {"registry-gen": (ours, ours_env), "mlflow": (theirs, mlflow_env)}


def measure(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    model, x = fit_model()
    bodies = {}
    for rows in (1, 100):
        data = np.random.default_rng(rows).random((rows, len(COLUMNS))).round(6).tolist()
        bodies[rows] = work / f"body-{rows}.json"
        bodies[rows].write_text(json.dumps({"dataframe_split": {"columns": COLUMNS, "data": data}}))
    results: dict[str, Any] = {}
    answers: dict[str, Any] = {}
    for name, (argv, env) in servers(work, model, x, args.workers).items():
        log = work / f"{name}.log"
        process, _, cold = start(argv, env, log)  # the first start fetches the artifact
        stop(process)
        process, port, ready = start(argv, env, log)
        try:
            answers[name] = predict(port, bodies[100].read_bytes())
            results[name] = {"ready_s": ready, "ready_first_s": cold}
            for rows, body in bodies.items():
                wrk(port, body, max(1.0, args.duration / 5), args.connections)  # warm-up
                results[name][f"{rows}_rows"] = wrk(port, body, args.duration, args.connections)
        finally:
            stop(process)
    results["same_predictions"] = answers["registry-gen"] == answers["mlflow"]
    return results


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    ours, theirs = results["registry-gen"], results["mlflow"]
    print(
        f"workers={args.workers} connections={args.connections} duration={args.duration:g}s "
        f"same predictions: {results['same_predictions']}"
    )
    print(f"{'':14}{'registry-gen':>28}{'mlflow':>28}{'ratio':>22}")
    for key, label in (("ready_first_s", "ready (first)"), ("ready_s", "ready (again)")):
        print(
            f"{label:14}{ours[key]:>27.2f}s{theirs[key]:>27.2f}s"
            f"{theirs[key] / ours[key]:>17.2f}x faster"
        )
    for rows in (1, 100):
        a, b = ours[f"{rows}_rows"], theirs[f"{rows}_rows"]
        print(
            f"{rows:>3} row(s)    {a['rps']:>9.0f} rps p50 {a['p50'] * 1e3:5.2f}ms "
            f"p99 {a['p99'] * 1e3:6.2f}ms  {b['rps']:>7.0f} rps p50 {b['p50'] * 1e3:5.2f}ms "
            f"p99 {b['p99'] * 1e3:6.2f}ms  rps x{a['rps'] / b['rps']:.2f} "
            f"p99 x{a['p99'] / b['p99']:.2f}  errors {a['errors']:.0f}/{b['errors']:.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--json", type=Path, default=HERE / "results" / "serve.json")
    args = parser.parse_args()
    if not MLFLOW_PYTHON.exists() or shutil.which("wrk") is None:
        sys.exit("needs benchmarks/.work/mlflow-venv (see README.md) and wrk (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        results = measure(args, Path(tmp))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, **results}, indent=2)
    )
    report(results, args)


if __name__ == "__main__":
    main()
