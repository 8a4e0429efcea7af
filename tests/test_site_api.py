"""The static JSON API (contract: /work/brief/JSON_API.md) and the DVC remote it names."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from builders import commit
from registry_gen.site.api import committed_revision, read_dvc_remote, render_api
from registry_gen.store import load_index


def test_index_and_model_files(small_registry: Path) -> None:
    index = load_index(small_registry)
    files = render_api(
        index,
        {"name": "storage", "url": "s3://bucket/path"},
        datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
        revision="a" * 40,
    )
    assert sorted(files) == ["api/index.json", "api/models/churn.json", "api/models/fraud.json"]
    top = json.loads(files["api/index.json"])
    assert top == {
        "format": 1,
        "revision": "a" * 40,
        "generated_at": "2026-11-26T10:00:00Z",
        "stages": ["None", "Staging", "Production", "Archived"],
        "dvc_remote": {"name": "storage", "url": "s3://bucket/path"},
        "models": {
            "churn": {
                "href": "api/models/churn.json",
                "latest": 3,
                "aliases": {"champion": 3},
                "stages": {"Production": [3], "Staging": [2], "Archived": [1]},
            },
            "fraud": {
                "href": "api/models/fraud.json",
                "latest": 1,
                "aliases": {},
                "stages": {"None": [1]},
            },
        },
    }
    churn = json.loads(files["api/models/churn.json"])
    assert churn["format"] == 1 and churn["aliases"] == {"champion": 3}
    assert churn["versions"][0] == {
        "version": 1,
        "stage": "Archived",
        "created_at": "2026-01-01T10:00:00Z",
        "created_by": "alice",
        "uri": "models:/churn/1",
        "artifact": {
            "path": "models/churn/1/model.skops",
            "format": "skops",
            "md5": churn["versions"][0]["artifact"]["md5"],
            "size": 7,
            "nfiles": None,
            "trusted_types": [],
        },
        # For the compare page: what a reader compares versions by.
        "params": {},
        "metrics": {"auc": 0.81},
        "tags": {},
        "lineage": {"datasets": [], "parents": []},
    }


def test_dvc_remote_without_credentials(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    config = tmp_path / ".dvc" / "config"
    config.write_text(
        "[core]\n    remote = storage\n['remote \"storage\"']\n"
        "    url = https://user:secret@example.com/dvc\n"
    )
    assert read_dvc_remote(tmp_path) == {"name": "storage", "url": "https://example.com/dvc"}
    config.write_text(
        "[core]\n    remote = storage\n['remote \"storage\"']\n"
        "    url = https://example.com/dvc?sig=s3cret&se=2030#frag\n"
    )
    assert read_dvc_remote(tmp_path) == {"name": "storage", "url": "https://example.com/dvc"}
    # Was: the build machine's absolute path. A local folder is published by the site itself
    # (issue 12.3), and named relative to api/index.json.
    config.write_text("[core]\n    remote = local\n['remote \"local\"']\n    url = ../store\n")
    assert read_dvc_remote(tmp_path) == {"name": "local", "url": "objects/"}
    config.write_text("[core]\n    remote = local\n['remote \"local\"']\n    url = /srv/store\n")
    assert read_dvc_remote(tmp_path) == {"name": "local", "url": "objects/"}
    config.write_text("['remote \"x\"']\n    url = /abs\n")
    assert read_dvc_remote(tmp_path) is None
    assert read_dvc_remote(tmp_path / "missing") is None


def test_revision_only_for_committed_records(small_registry: Path) -> None:
    head = committed_revision(small_registry)
    assert head is not None and len(head) == 40
    (small_registry / "models" / "churn" / "model.yaml").write_text("name: churn\n")
    assert committed_revision(small_registry) is None
    commit(small_registry, "edit")
    assert committed_revision(small_registry) not in (None, head)
    assert committed_revision(small_registry.parent) is None


def test_the_reader_parses_what_the_writer_writes(small_registry: Path) -> None:
    from registry_gen._api import INDEX, check_artifact, model_api_path, parse_index, parse_model

    index = load_index(small_registry)
    files = render_api(index, {"name": "storage", "url": "s3://bucket/path"})
    top = parse_index(json.loads(files[INDEX]), INDEX)
    assert top.stages == tuple(index.policy.stages)
    assert top.models == frozenset(index.models)
    assert top.remote_url == "s3://bucket/path"
    churn = parse_model(json.loads(files[model_api_path("churn")]), "churn", "churn.json")
    assert churn.aliases == {"champion": 3}
    assert churn.versions == {v.version: v.stage for v in index.models["churn"].versions}
    artifact = check_artifact(churn.artifacts[3], "churn", 3, "churn.json")
    assert (artifact.path, artifact.format) == ("models/churn/3/model.skops", "skops")


def test_dvc_remote_ignores_config_local_and_unreadable_config(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc" / "config").write_text(
        "[core]\n    remote = shared\n['remote \"shared\"']\n    url = s3://shared\n"
    )
    (tmp_path / ".dvc" / "config.local").write_text(
        "[core]\n    remote = mine\n['remote \"mine\"']\n    url = s3://mine\n"
    )
    assert read_dvc_remote(tmp_path) == {"name": "shared", "url": "s3://shared"}
    (tmp_path / ".dvc" / "config").write_text("[core\n")
    assert read_dvc_remote(tmp_path) is None


def test_no_revision_for_a_folder_inside_another_repository(small_registry: Path) -> None:
    inner = small_registry / "models"
    assert committed_revision(inner) is None


def test_an_s3_compatible_remote_keeps_its_endpoint_and_loses_its_keys(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc" / "config").write_text(
        "[core]\n    remote = minio\n['remote \"minio\"']\n    url = s3://models/registry\n"
        "    endpointurl = http://127.0.0.1:9000\n    region = eu-west-1\n"
        "    access_key_id = AKIAEXAMPLE\n    secret_access_key = s3cret\n"
    )
    assert read_dvc_remote(tmp_path) == {
        "name": "minio",
        "url": "s3://models/registry",
        "options": {"endpointurl": "http://127.0.0.1:9000", "region": "eu-west-1"},
    }


def test_the_reader_takes_only_public_options_and_resolves_a_relative_remote() -> None:
    from registry_gen._api import INDEX, parse_index
    from registry_gen.locate._site import remote_url

    data = {
        "format": 1,
        "stages": ["None"],
        "models": {},
        "dvc_remote": {
            "name": "s",
            "url": "s3://b/p",
            "options": {"endpointurl": "http://127.0.0.1:9", "ssl_verify": "false", "region": 3},
        },
    }
    from registry_gen._constants import API_FORMAT

    data["format"] = API_FORMAT
    assert parse_index(data, INDEX).remote_options == (("endpointurl", "http://127.0.0.1:9"),)
    assert remote_url("http://h/site/", "objects/") == "http://h/site/api/objects/"
    assert remote_url("http://h/site/", "https://dvc.example.org/s") == "https://dvc.example.org/s"
