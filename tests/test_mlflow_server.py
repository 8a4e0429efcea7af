"""``mlflow server --registry-store-uri registry-gen:///…``: MLflow's REST API over a registry.

mlflow-skinny ships the server's code and its ``mlflow server`` command; the REST
API needs only Flask, flask-cors and graphene besides, which the dev lock pins, so
the server runs from the test's own interpreter (MLflow's web UI, whose built
JavaScript only the full ``mlflow`` package carries, is not tested).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from builders import git, small_registry_at

pytestmark = pytest.mark.slow

STARTUP_DEADLINE_S = 600  # a deadline to give up, not a timing assertion: the server is slow
# to import on a loaded machine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


class Server:
    def __init__(self, python: Path, registry_uri: str, workdir: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/2.0/mlflow/"
        self.log = workdir / "server.log"
        env = {**os.environ, "MLFLOW_TRACKING_URI": ""}
        self.process = subprocess.Popen(
            [
                str(python),
                "-m",
                "mlflow",
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--backend-store-uri",
                f"sqlite:///{workdir / 'mlflow.db'}",
                "--registry-store-uri",
                registry_uri,
            ],
            cwd=workdir,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )

    def wait(self) -> None:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"mlflow server exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(1)
        pytest.fail(f"mlflow server never listened: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def get(self, path: str) -> tuple[int, Any]:
        return _call(self.url + path)

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        return _call(self.url + path, body)


@pytest.fixture(scope="module")
def server_python() -> Path:
    return Path(sys.executable)


@pytest.fixture
def serve(server_python: Path, tmp_path: Path) -> Iterator[Any]:
    started: list[Server] = []

    def start(registry_uri: str) -> Server:
        server = Server(server_python, registry_uri, tmp_path)
        started.append(server)
        server.wait()
        return server

    yield start
    for server in started:
        server.stop()


def test_the_server_reads_and_writes_a_checkout(serve: Any, tmp_path: Path) -> None:
    registry = small_registry_at(tmp_path / "registry")
    server = serve(f"registry-gen://{registry}")

    status, found = server.get("registered-models/search")
    assert status == 200, found
    assert [m["name"] for m in found["registered_models"]] == ["churn", "fraud"]
    status, got = server.get("model-versions/get?name=churn&version=3")
    assert (status, got["model_version"]["current_stage"]) == (200, "Production")

    status, _ = server.post(
        "registered-models/set-tag", {"name": "churn", "key": "team", "value": "ml"}
    )
    assert status == 200
    assert "team: ml" in (registry / "models" / "churn" / "model.yaml").read_text()
    status, refused = server.post(
        "model-versions/transition-stage", {"name": "churn", "version": "2", "stage": "Production"}
    )
    assert (status, refused["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "Production holds one version of churn" in refused["message"]


def test_the_server_on_a_git_url_is_read_only(serve: Any, tmp_path: Path) -> None:
    registry = small_registry_at(tmp_path / "registry")
    bare = tmp_path / "registry.git"
    git(tmp_path, "clone", "-q", "--bare", str(registry), str(bare))
    server = serve(f"registry-gen+file://{bare}#main")

    status, found = server.get("registered-models/search")
    assert status == 200, found
    assert [m["name"] for m in found["registered_models"]] == ["churn", "fraud"]
    status, refused = server.post(
        "registered-models/set-tag", {"name": "churn", "key": "team", "value": "ml"}
    )
    assert (status, refused["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "read-only" in refused["message"]
