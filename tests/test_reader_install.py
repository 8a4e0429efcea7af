"""The reader install (issue 12, "Done when"): a fresh venv with only this checkout loads models.

A session-wide fixture builds this checkout's wheel once and installs it into fresh
virtual environments with the dev venv's uv, offline (from the uv cache the dev
install filled; nothing beyond 127.0.0.1 is reached). Loading a skops model needs
skops and scikit-learn, so those environments get the ``sklearn`` extra; the S3 one
gets ``s3`` too. In each, ``dvc`` and ``mkdocs`` must not be importable, and a
skops model is loaded and predicts from:

(a) a site built (with MkDocs, in the dev venv) from a registry whose DVC remote is
    the in-repo ``dvc-remote/`` folder, served from another path by a real HTTP server
    on 127.0.0.1 after the registry itself is gone;
(b) a moto S3 server on 127.0.0.1, through the site's JSON API (``endpointurl``);
(c) a git URL (a ``file://`` bare origin, the in-repo remote committed).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from loader_fixtures import ROWS, add_skops_version, dvc, train

from builders import commit, git, init_repo, write_model

pytestmark = pytest.mark.slow

CHECKOUT = Path(__file__).resolve().parent.parent
UV = Path(sys.executable).parent / "uv"

_LOAD = """
import importlib.util, json, sys
import numpy as np
from registry_gen import load_model
model = load_model(sys.argv[1], registry=sys.argv[2])
print(json.dumps({
    "version": model.version,
    "prediction": np.asarray(model.predict(np.array(json.loads(sys.argv[3])))).tolist(),
    "absent": [m for m in ("dvc", "mkdocs", "material", "git")
               if importlib.util.find_spec(m) is None],
}))
"""


def _uv(*args: str) -> None:
    env = {**os.environ, "UV_OFFLINE": "1", "UV_NO_PROGRESS": "1"}
    result = subprocess.run([str(UV), *args], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, f"uv {' '.join(args)}: {result.stderr}"


@pytest.fixture(scope="session")
def reader_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's wheel, built once, offline, from a copy (the checkout stays clean)."""
    if not UV.is_file():
        pytest.skip("uv is not installed in this venv (./dev installs it)")
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(CHECKOUT / name, source / name)
    shutil.copytree(
        CHECKOUT / "registry_gen",
        source / "registry_gen",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    _uv("build", "--wheel", "--offline", "--quiet", "--out-dir", str(base / "dist"), str(source))
    (wheel,) = (base / "dist").glob("registry_gen-*.whl")
    return wheel


def _venv(base: Path, wheel: Path, extras: str) -> Path:
    _uv("venv", "--quiet", "--offline", "--python", sys.executable, str(base))
    python = base / "bin" / "python"
    _uv(
        "pip",
        "install",
        "--quiet",
        "--offline",
        "--python",
        str(python),
        f"registry-gen[{extras}] @ {wheel.as_uri()}",
    )
    return python


@pytest.fixture(scope="session")
def reader_python(reader_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv: the reader install plus the sklearn extra (skops models need it)."""
    return _venv(tmp_path_factory.mktemp("venv") / "reader", reader_wheel, "sklearn")


def _load(python: Path, uri: str, registry: str, cache: Path, **env: str) -> dict[str, Any]:
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_GEN_", "PYTHON"))}
    run_env.update(REGISTRY_GEN_CACHE=str(cache), **env)
    result = subprocess.run(
        [str(python), "-I", "-c", _LOAD, uri, registry, json.dumps(ROWS.tolist())],
        capture_output=True,
        text=True,
        env=run_env,
        cwd=cache.parent,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout)
    assert loaded["absent"] == ["dvc", "mkdocs", "material", "git"]
    return loaded


def _serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.fixture(scope="module")
def in_repo_registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A registry whose remote is the committed dvc-remote/ folder, one skops version."""
    root = init_repo(tmp_path_factory.mktemp("inrepo") / "registry")
    dvc(root, "init", "-q")
    dvc(root, "remote", "add", "-d", "storage", "dvc-remote")  # cwd-relative: ../dvc-remote
    model = train("logreg", 1)
    write_model(root, "churn")
    target = add_skops_version(root, "churn", 1, "Production", model)
    dvc(root, "add", "-q", target)
    dvc(root, "push", "-q")
    commit(root, "Register churn v1, its bytes in dvc-remote/")
    assert git(root, "ls-files", "dvc-remote").strip()
    return root, model


def test_a_fresh_reader_venv_loads_from_a_site_built_elsewhere(
    in_repo_registry: tuple[Path, Any], reader_python: Path, tmp_path: Path
) -> None:
    root, model = in_repo_registry
    build_machine = tmp_path / "build-machine"
    shutil.copytree(root, build_machine / "registry")
    (build_machine / "registry" / "mkdocs.yml").write_text(
        "site_name: Registry\ntheme:\n  name: material\nplugins:\n  - registry\n"
    )
    (build_machine / "registry" / "docs").mkdir()
    site = tmp_path / "published"
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(site)],
        cwd=build_machine / "registry",
        check=True,
        capture_output=True,
    )
    shutil.rmtree(build_machine)  # the site alone must be enough
    index = json.loads((site / "api" / "index.json").read_text())
    assert index["dvc_remote"] == {"name": "storage", "url": "objects/"}
    assert list((site / "api" / "objects" / "files" / "md5").rglob("*"))

    server, url = _serve(site)
    try:
        loaded = _load(reader_python, "models:/churn/Production", url, tmp_path / "cache")
    finally:
        server.shutdown()
        server.server_close()
    assert loaded["version"] == 1
    np.testing.assert_array_equal(loaded["prediction"], model.predict(ROWS))


def test_a_fresh_reader_venv_loads_from_a_git_url(
    in_repo_registry: tuple[Path, Any], reader_python: Path, tmp_path: Path
) -> None:
    root, model = in_repo_registry
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(root), str(origin))
    loaded = _load(
        reader_python, "models:/churn/1", f"git+{origin.as_uri()}@main", tmp_path / "cache"
    )
    np.testing.assert_array_equal(loaded["prediction"], model.predict(ROWS))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.s3
def test_a_fresh_reader_venv_loads_from_s3_through_the_site(
    reader_wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    from registry_gen.site.api import read_dvc_remote, render_api
    from registry_gen.store import load_index

    aws = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for key, value in aws.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    python = _venv(tmp_path / "venv-s3", reader_wheel, "sklearn,s3")
    port = _free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
            Bucket="models"
        )
        root = init_repo(tmp_path / "registry")
        dvc(root, "init", "-q")
        dvc(root, "remote", "add", "-d", "storage", "s3://models/store")
        dvc(root, "remote", "modify", "storage", "endpointurl", endpoint)
        model = train("tree", 2)
        write_model(root, "churn")
        dvc(root, "add", "-q", add_skops_version(root, "churn", 1, "Production", model))
        dvc(root, "push", "-q")
        commit(root, "Register churn v1 on S3")
        site = tmp_path / "site"
        for relative, text in render_api(load_index(root), read_dvc_remote(root)).items():
            (site / relative).parent.mkdir(parents=True, exist_ok=True)
            (site / relative).write_text(text)
        assert json.loads((site / "api/index.json").read_text())["dvc_remote"]["options"] == {
            "endpointurl": endpoint
        }
        shutil.rmtree(root)
        server, url = _serve(site)
        try:
            # The reader names the endpoint its credentials are for: a site's endpoint
            # gets them only then (docs/security.md, S3 endpoints named by a site).
            loaded = _load(
                python, "models:/churn/1", url, tmp_path / "cache", **aws, AWS_ENDPOINT_URL=endpoint
            )
        finally:
            server.shutdown()
            server.server_close()
    finally:
        moto.stop()
    np.testing.assert_array_equal(loaded["prediction"], model.predict(ROWS))


def test_the_reader_cli_works_without_extras_and_names_the_missing_ones(
    reader_wheel: Path, tmp_path: Path, in_repo_registry: tuple[Path, Any]
) -> None:
    python = _venv(tmp_path / "bare", reader_wheel, "s3")  # no sklearn, no write, no site
    cli = python.parent / "registry-gen"
    root, _model = in_repo_registry
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_GEN_")}
    env["REGISTRY_GEN_CACHE"] = str(tmp_path / "cache")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(cli), "-C", str(root), *args], capture_output=True, text=True, env=env, check=False
        )

    assert run("--help").returncode == 0
    assert "churn" in run("list").stdout
    assert run("show", "churn").returncode == 0
    assert run("search", "name = 'churn'").returncode == 0
    downloaded = run("download", "models:/churn/1", "-o", str(tmp_path / "out"))
    assert downloaded.returncode == 0, downloaded.stderr
    assert (tmp_path / "out" / "model.skops").is_file()
    (tmp_path / "m.onnx").write_bytes(b"onnx")
    for args, message in (
        (("register", "churn", str(tmp_path / "m.onnx")), "registering needs the write extra"),
        (("docs", "build"), "building the site needs the site extra"),
    ):
        result = run(*args)
        assert result.returncode == 1
        extra = message.split(" the ")[-1].split()[0]
        assert result.stderr == f"error: {message}: pip install 'registry-gen[{extra}]'\n"
