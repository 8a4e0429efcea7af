"""A 300 MB model: refused by the in-repo remote, registered to S3 (moto on 127.0.0.1).

The artifact is a sparse file (no disk space until copied). The S3 registration runs
the real CLI in a subprocess whose stderr is a pseudo-terminal, so the progress line
is drawn as a person would see it.
"""

from __future__ import annotations

import os
import pty
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from builders import git
from registry_gen.scaffold import init_registry

pytestmark = [pytest.mark.s3, pytest.mark.slow]

BUCKET = "models"
SIZE_MB = 300


def sparse_file(path: Path, megabytes: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(megabytes * 1024 * 1024)
    return path


@pytest.fixture()
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 with an empty bucket; credentials in the environment."""
    from moto.server import ThreadedMotoServer

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        import boto3

        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
            Bucket=BUCKET
        )
        yield endpoint
    finally:
        server.stop()


def run_on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``registry-gen ARGS`` with stderr on a pseudo-terminal: (exit code, stdout, stderr)."""
    main_fd, child_fd = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(main_fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        result = subprocess.run(
            [str(Path(sys.executable).parent / "registry-gen"), *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=child_fd,
            env={**os.environ, "DVC_NO_ANALYTICS": "1"},
            timeout=600,
            check=False,
        )
    finally:
        os.close(child_fd)
        reader.join(timeout=30)
        os.close(main_fd)
    return result.returncode, result.stdout.decode(), b"".join(chunks).decode(errors="replace")


def test_300_mb_is_refused_by_the_in_repo_remote(tmp_path: Path) -> None:
    root = init_registry(tmp_path / "reg")
    big = sparse_file(tmp_path / "big.onnx", SIZE_MB)
    code, _out, err = run_on_a_terminal(["register", "churn", str(big), "-d", "big"], root)
    assert code == 1
    assert "over the 50 MB limit for the in-repository DVC remote" in err
    assert "--remote" in err and "Traceback" not in err
    assert not (root / "models/churn").exists()
    assert git(root, "status", "--porcelain").strip() == ""


def test_300_mb_registers_to_s3_with_progress(tmp_path: Path, s3_endpoint: str) -> None:
    import boto3

    prefix = f"large-{uuid.uuid4().hex}"  # the moto server and bucket are shared by the session
    root = init_registry(
        tmp_path / "reg",
        remote=f"s3://{BUCKET}/{prefix}",
        remote_options={"endpointurl": s3_endpoint},
    )
    big = sparse_file(tmp_path / "big.onnx", SIZE_MB)
    code, out, err = run_on_a_terminal(
        ["register", "churn", str(big), "-d", "A large model", "--format", "onnx"], root
    )
    assert code == 0, out + err
    assert out.startswith("Registered models:/churn/1")
    for step in ("churn v1: copying…", "churn v1: hashing…", "churn v1: pushing to s3://"):
        assert step in err, err
    pointer = (root / "models/churn/1/big.onnx.dvc").read_text()
    assert f"size: {SIZE_MB * 1024 * 1024}" in pointer
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    [stored] = client.list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/")["Contents"]
    assert stored["Size"] == SIZE_MB * 1024 * 1024
    assert not any(name.startswith("dvc-remote") for name in os.listdir(root))
