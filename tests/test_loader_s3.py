"""Loading through an S3 DVC remote: a real S3-compatible server (moto) on 127.0.0.1, dvc-s3."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from loader_fixtures import ROWS, add_skops_version, dvc, set_alias, train

from builders import commit, init_repo, write_model
from registry_gen import load_model
from registry_gen.cache import ArtifactCache
from registry_gen.errors import HashMismatch, OfflineMiss
from registry_gen.fetch import RemoteObjectMissing

# Slow: the moto server and dvc-s3 start once per module. A cold artifact cache for every test.
pytestmark = [pytest.mark.s3, pytest.mark.slow, pytest.mark.usefixtures("cache_dir")]

BUCKET = "models"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A moto S3 server, credentials in the environment, and a registry pushed to it."""
    from moto.server import ThreadedMotoServer

    mp = pytest.MonkeyPatch()
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        mp.setenv(key, value)
    mp.delenv("AWS_PROFILE", raising=False)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)

        root = init_repo(tmp_path_factory.mktemp("s3") / "registry")
        dvc(root, "init", "-q")
        dvc(root, "remote", "add", "-d", "storage", f"s3://{BUCKET}/store")
        dvc(root, "remote", "modify", "storage", "endpointurl", endpoint)
        models = {1: train("logreg", 1), 2: train("tree", 2)}
        write_model(root, "churn", aliases={"champion": 1})
        targets = [
            add_skops_version(root, "churn", 1, "Production", models[1]),
            add_skops_version(root, "churn", 2, "Staging", models[2]),
        ]
        dvc(root, "add", "-q", *targets)
        dvc(root, "push", "-q")
        commit(root, "Register churn v1 and v2 on S3")
        yield {"root": root, "client": client, "models": models}
    finally:
        server.stop()
        mp.undo()


def _key(root: Path, version: int) -> str:
    pointer = (root / "models" / "churn" / str(version) / "model.skops.dvc").read_text()
    md5 = pointer.split("md5: ")[1].split()[0]
    return f"store/files/md5/{md5[:2]}/{md5[2:]}"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("models:/churn/Production", 1),
        ("models:/churn/staging", 2),
        ("models:/churn@champion", 1),
        ("models:/churn/latest", 2),
        ("models:/churn/2", 2),
    ],
)
def test_cold_load_of_every_uri_form_from_s3(s3: dict[str, Any], uri: str, expected: int) -> None:
    model = load_model(uri, registry=s3["root"])
    assert model.version == expected
    np.testing.assert_array_equal(model.predict(ROWS), s3["models"][expected].predict(ROWS))


def test_warm_load_does_not_touch_s3(
    s3: dict[str, Any], monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    load_model("models:/churn/1", registry=s3["root"])

    def no_network(*_args: object, **_kwargs: object) -> Path:
        raise AssertionError("a warm load went to S3")

    monkeypatch.setattr("registry_gen.fetch.fetch_artifact", no_network)
    assert load_model("models:/churn/Production", registry=s3["root"]).version == 1
    assert load_model("models:/churn/Production", registry=s3["root"], offline=True).version == 1
    with pytest.raises(OfflineMiss):
        load_model("models:/churn/2", registry=s3["root"], offline=True)


def test_a_moved_alias_between_two_loads(s3: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(s3["root"], root)
    assert load_model("models:/churn@champion", registry=root).version == 1
    set_alias(root, "churn", "champion", 2)
    model = load_model("models:/churn@champion", registry=root)
    assert model.version == 2
    np.testing.assert_array_equal(model.predict(ROWS), s3["models"][2].predict(ROWS))


def test_wrong_bytes_and_a_missing_object_on_s3(s3: dict[str, Any], cache_dir: Path) -> None:
    client, root = s3["client"], s3["root"]
    key1, key2 = _key(root, 1), _key(root, 2)
    original1 = client.get_object(Bucket=BUCKET, Key=key1)["Body"].read()
    original2 = client.get_object(Bucket=BUCKET, Key=key2)["Body"].read()
    try:
        client.put_object(Bucket=BUCKET, Key=key1, Body=b"tampered in the bucket")
        with pytest.raises(HashMismatch):
            load_model("models:/churn/1", registry=root)
        client.delete_object(Bucket=BUCKET, Key=key2)
        with pytest.raises(RemoteObjectMissing, match="dvc push"):
            load_model("models:/churn/2", registry=root)
        assert ArtifactCache(cache_dir).list_entries() == []
        assert list((cache_dir / "tmp").iterdir()) == []
    finally:
        client.put_object(Bucket=BUCKET, Key=key1, Body=original1)
        client.put_object(Bucket=BUCKET, Key=key2, Body=original2)


def test_the_validators_remote_check_on_s3(s3: dict[str, Any]) -> None:
    from registry_gen._dvc import missing_objects

    root = s3["root"]
    pushed = _key(root, 1).rpartition("/md5/")[2].replace("/", "")
    ghost = "0" * 32
    found = missing_objects(root, [pushed, ghost])
    assert found == ("DVC remote 'storage'", frozenset({ghost}))
