"""The MLflow plugin on a git URL and on the published site (read-only), and its rename.

Uses the loader's registry (real DVC, a local-folder remote): MLflow's own client
reads it through ``registry-gen+file://…`` (a bare clone) and
``registry-gen+http://127.0.0.1:…/`` (the site's JSON API served locally).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from loader_fixtures import Registry, copy_registry
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from site_builders import write_api

from builders import git
from registry_gen.mlflow_plugin import RegistryGenStore
from registry_gen.store import load_index


@pytest.fixture(autouse=True)
def _tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_dir: Path) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")


@pytest.fixture
def bare(reg: Registry, tmp_path: Path) -> Path:
    bare = tmp_path / "registry.git"
    git(tmp_path, "clone", "-q", "--bare", str(reg.root), str(bare))
    return bare


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def site(reg: Registry, tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "site"
    write_api(reg.root, root)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _reads(client: Any, reg: Registry) -> None:
    model = client.get_registered_model("churn")
    assert model.aliases == {"champion": 3}
    assert {v.current_stage: int(v.version) for v in model.latest_versions}["Production"] == 3
    found = client.search_model_versions("name = 'churn' AND version_number > 1")
    assert sorted(int(v.version) for v in found) == [2, 3]
    assert client.get_model_version_by_alias("churn", "champion").version == 3
    local = Path(client.get_model_version_download_uri("churn", "3"))
    index = load_index(reg.root)
    assert _md5(local) == index.model("churn").version(3).artifact_md5


def _writes_refused(client: Any) -> None:
    for call in (
        lambda: client.create_registered_model("new-model"),
        lambda: client.set_registered_model_alias("churn", "best", 2),
        lambda: client.rename_registered_model("churn", "churn-2"),
    ):
        with pytest.raises(MlflowException, match="read-only") as info:
            call()
        assert info.value.error_code == "INVALID_PARAMETER_VALUE"
        assert "registry-gen:///path/to/checkout" in info.value.message


def test_a_git_url_is_read_only(reg: Registry, bare: Path) -> None:
    client = MlflowClient(registry_uri=f"registry-gen+file://{bare}#main")
    assert isinstance(client._get_registry_client().store, RegistryGenStore)
    _reads(client, reg)
    _writes_refused(client)


def test_the_published_site_is_read_only(reg: Registry, site: str) -> None:
    client = MlflowClient(registry_uri=f"registry-gen+{site}")
    _reads(client, reg)
    version = client.get_model_version("churn", "2")
    assert (version.current_stage, version.user_id) == ("Staging", "alice")
    assert version.description == ""  # the site does not publish descriptions
    _writes_refused(client)


def test_a_local_folder_after_the_plus_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MlflowException, match="local folder"):
        RegistryGenStore(f"registry-gen+file:{tmp_path}")


def test_mlflow_rename_through_the_plugin(reg: Registry, tmp_path: Path) -> None:
    copy = copy_registry(reg, tmp_path)
    client = MlflowClient(registry_uri=f"registry-gen://{copy.root}?branch=1")
    client.rename_registered_model("churn", "churn-renamed")  # MLflow's client returns None
    assert client.get_registered_model("churn-renamed").aliases == {"champion": 3}
    assert git(copy.root, "log", "-1", "--format=%s").strip() == (
        "Rename registered model churn to churn-renamed"
    )
    with pytest.raises(MlflowException) as info:
        client.get_registered_model("churn")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "renamed to 'churn-renamed'" in info.value.message
    assert client.get_model_version_download_uri("churn-renamed", "3")
