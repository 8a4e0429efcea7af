"""The one DVC edge: its .dvc/config reader and the remote check the validator uses."""

from __future__ import annotations

from pathlib import Path

import pytest
from loader_fixtures import Registry

from registry_gen import _dvc
from registry_gen.errors import ArtifactError


def test_one_config_reader_for_every_quoting_and_the_local_overlay(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc/config").write_text(
        "[core]\n    remote = a\n['remote \"a\"']\n    url = s3://one\n"
        '[remote "b"]\n    url = s3://two\n'
    )
    (tmp_path / ".dvc/config.local").write_text(
        "[core]\n    remote = b\n['remote \"b\"']\n    access_key_id = secret\n"
    )
    sections = _dvc.read_config(tmp_path)
    assert sections['remote "a"'] == {"url": "s3://one"}
    assert sections['remote "b"'] == {"url": "s3://two", "access_key_id": "secret"}
    assert _dvc.default_remote(tmp_path) == _dvc.Remote("b", "s3://two")
    shared = _dvc.read_config(tmp_path, local=False)
    assert "access_key_id" not in shared['remote "b"']
    assert _dvc.default_remote(tmp_path, local=False) == _dvc.Remote("a", "s3://one")


def test_an_unparsable_config_names_the_file(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc/config").write_text("[core\n    remote = a\n")
    with pytest.raises(ArtifactError, match=r"cannot read .*\.dvc/config"):
        _dvc.read_config(tmp_path)


def test_missing_objects_of_a_local_remote(reg: Registry) -> None:
    pushed = reg.md5("churn", 1)
    ghost = "0" * 32
    found = _dvc.missing_objects(reg.root, [pushed, ghost])
    assert found.missing == frozenset({ghost})
    assert found.remote.startswith("DVC remote ")
    assert _dvc.missing_objects(reg.root, []).missing == frozenset()


def test_missing_objects_of_an_unknown_remote_is_an_error(reg: Registry) -> None:
    with pytest.raises(ArtifactError, match="cannot check the DVC remote"):
        _dvc.missing_objects(reg.root, ["0" * 32], remote="ghost")
