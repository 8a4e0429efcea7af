"""The objects a site publishes for a local-folder DVC remote (registry_gen.site._objects)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from loader_fixtures import Registry, copy_registry

from registry_gen.site._objects import object_files
from registry_gen.store import load_index


def test_every_referenced_object_and_the_files_of_a_folder(reg: Registry) -> None:
    published = object_files(reg.root, load_index(reg.root))
    onnx = reg.md5("onnxy", 1)
    manifest = json.loads(reg.object_path(onnx).read_bytes())
    wanted = {reg.md5("churn", n) for n in (1, 2, 3)} | {onnx} | {e["md5"] for e in manifest}
    assert {f"api/objects/files/md5/{m[:2]}/{m[2:]}" for m in wanted} <= set(published)
    for site_path, source in published.items():
        md5 = site_path.removeprefix("api/objects/files/md5/").replace("/", "")
        assert source == reg.object_path(md5)


def test_missing_objects_are_left_out_in_one_log_line(
    reg: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    copy = copy_registry(reg, tmp_path, own_remote=True)
    gone = reg.md5("churn", 1)
    copy.object_path(gone).unlink()
    with caplog.at_level(logging.INFO, logger="mkdocs.plugins.registry"):
        published = object_files(copy.root, load_index(copy.root))
    assert f"api/objects/files/md5/{gone[:2]}/{gone[2:]}" not in published
    assert [r.levelno for r in caplog.records] == [logging.INFO]
    assert "1 object(s)" in caplog.records[0].getMessage()


def test_nothing_for_a_remote_in_object_storage(reg: Registry, tmp_path: Path) -> None:
    copy = copy_registry(reg, tmp_path)
    (copy.root / ".dvc" / "config").write_text(
        "[core]\n    remote = s3\n['remote \"s3\"']\n    url = s3://bucket/store\n"
    )
    assert object_files(copy.root, load_index(copy.root)) == {}
