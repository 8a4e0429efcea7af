"""`serve` and `build-docker`: the click commands, several workers in a real process,
graceful shutdown on SIGTERM, and the Docker build context (checked as files: no Docker here)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner
from loader_fixtures import ROWS, Registry
from serving_fixtures import post_json, request

from registry_gen import load_model
from registry_gen.serving._cli import build_docker_command, serve_command


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_two_workers_share_the_cache_and_stop_on_sigterm(reg: Registry, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "REGISTRY_GEN_CACHE": str(tmp_path / "cache")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "registry_gen.serving",
            "models:/churn/Production",
            "--from",
            str(reg.root),
            "--port",
            str(port),
            "--workers",
            "2",
            "--interval",
            "5",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if request(url + "/ping").status == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, process.stdout
            time.sleep(0.2)
        expected = reg.models["churn/3"].predict(ROWS).tolist()
        for _ in range(20):
            reply = post_json(url + "/invocations", {"inputs": ROWS.tolist()})
            assert reply.status == 200 and reply.json() == {"predictions": expected}
            assert reply.headers["x-model-version"] == "3"
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert "models:/churn/Production" in output  # the serving line names what it follows
    entries = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert entries  # one cache, written by the parent, read by both workers


def test_serve_reports_a_bad_uri_in_one_line(reg: Registry) -> None:
    result = CliRunner().invoke(serve_command, ["models:/nope/1", "--from", str(reg.root)])
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    assert "nope" in result.output


def test_build_docker_bakes_the_exact_version(reg: Registry, tmp_path: Path) -> None:
    out = tmp_path / "ctx"
    result = CliRunner().invoke(
        build_docker_command,
        [
            "models:/churn@champion",
            "-t",
            "acme/churn:3",
            "-o",
            str(out),
            "--from",
            str(reg.root),
            "--workers",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"docker build -t acme/churn:3 {out}" in result.output
    dockerfile = (out / "Dockerfile").read_text().splitlines()
    assert dockerfile[1] == "FROM python:3.11-slim"
    # sklearn since skops/scikit-learn left the base install (issue 12.1)
    assert 'RUN pip install "registry-gen[serve,sklearn]==0.1.0"' in dockerfile
    assert "USER 10001" in dockerfile and "EXPOSE 8080" in dockerfile
    assert any(line.startswith("HEALTHCHECK") and "/ping" in line for line in dockerfile)
    assert "REGISTRY_GEN_OFFLINE=1" in next(line for line in dockerfile if "OFFLINE" in line)
    command = json.loads(next(line for line in dockerfile if line.startswith("CMD "))[4:])
    assert command[:4] == ["python", "-m", "registry_gen.serving", "models:/churn/3"]
    assert command[command.index("--workers") + 1] == "2"
    assert command[command.index("--from") + 1] == "/srv/registry-gen/registry"
    # What the image copies serves offline from its own cache, verified as always.
    model = load_model(
        "models:/churn/3", registry=out / "registry", offline=True, cache_dir=out / "cache"
    )
    assert model.predict(ROWS).tolist() == reg.models["churn/3"].predict(ROWS).tolist()
    assert sorted(p.name for p in (out / "registry" / "models" / "churn").iterdir()) == [
        "3",
        "model.yaml",
    ]


def test_build_docker_without_baking_fetches_at_start(tmp_path: Path) -> None:
    out = tmp_path / "ctx"
    wheel = tmp_path / "registry_gen-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"not really a wheel")
    result = CliRunner().invoke(
        build_docker_command,
        [
            "models:/churn@champion",
            "-t",
            "churn",
            "-o",
            str(out),
            "--no-bake",
            "--from",
            "https://github.com/acme/registry.git@main",
            "--package",
            str(wheel),
        ],
    )
    assert result.exit_code == 0, result.output
    text = (out / "Dockerfile").read_text()
    assert f"COPY {wheel.name} /tmp/{wheel.name}" in text and (out / wheel.name).is_file()
    assert "OFFLINE" not in text and not (out / "registry").exists()
    assert '"models:/churn@champion", "--from", "https://github.com/acme/registry.git@main"' in text


def test_build_docker_refuses_to_fetch_from_a_local_folder(reg: Registry, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        build_docker_command,
        [
            "models:/churn/3",
            "-t",
            "churn",
            "-o",
            str(tmp_path / "ctx"),
            "--no-bake",
            "--from",
            str(reg.root),
        ],
    )
    assert result.exit_code == 2 and "--no-bake needs --from" in result.output
