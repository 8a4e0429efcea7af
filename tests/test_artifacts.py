"""The DVC edge: init, remotes, dvc add and dvc push on a real repository."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from builders import git
from registry_gen import artifacts
from registry_gen.errors import ArtifactError


@pytest.fixture(scope="module")
def dvc_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dvc") / "reg"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    artifacts.init_dvc(root)
    return root


@pytest.mark.slow
def test_track_and_push_a_file(dvc_repo: Path, tmp_path: Path) -> None:
    remote_dir = tmp_path / "remote"
    remote = artifacts.add_remote(dvc_repo, "storage", str(remote_dir))
    assert remote == artifacts.Remote("storage", str(remote_dir))
    assert remote.local_folder(dvc_repo) == remote_dir
    folder = dvc_repo / "models/churn/1"
    folder.mkdir(parents=True)
    (folder / "model.pkl").write_bytes(b"weights")
    pointer = artifacts.track(dvc_repo, "models/churn/1/model.pkl")
    md5 = hashlib.md5(b"weights").hexdigest()
    assert (pointer.path, pointer.md5, pointer.size) == ("model.pkl", md5, 7)
    assert (folder / ".gitignore").read_text().strip() == "/model.pkl"
    artifacts.push(dvc_repo, "models/churn/1/model.pkl")
    assert (remote_dir / "files/md5" / md5[:2] / md5[2:]).read_bytes() == b"weights"


def test_track_a_folder(dvc_repo: Path) -> None:
    folder = dvc_repo / "models/bert/1/model"
    folder.mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "weights.bin").write_bytes(b"\0" * 10)
    pointer = artifacts.track(dvc_repo, "models/bert/1/model")
    assert pointer.is_dir
    assert pointer.nfiles == 2


def test_default_remote_reads_config_and_local_override(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    assert artifacts.default_remote(tmp_path) is None
    (tmp_path / ".dvc/config").write_text(
        "[core]\n    remote = storage\n['remote \"storage\"']\n    url = ../dvc-remote\n"
        "['remote \"s3\"']\n    url = s3://bucket/path\n"
    )
    remote = artifacts.default_remote(tmp_path)
    assert remote == artifacts.Remote("storage", "../dvc-remote")
    assert remote.local_folder(tmp_path) == (tmp_path / "dvc-remote").resolve()
    (tmp_path / ".dvc/config.local").write_text("[core]\n    remote = s3\n")
    remote = artifacts.default_remote(tmp_path)
    assert remote == artifacts.Remote("s3", "s3://bucket/path")
    assert remote.local_folder(tmp_path) is None
    (tmp_path / ".dvc/config.local").write_text("[core]\n    remote = ghost\n")
    with pytest.raises(ArtifactError, match="'ghost' has no url"):
        artifacts.default_remote(tmp_path)


def test_dvc_errors_carry_dvcs_message(dvc_repo: Path) -> None:
    # models/ exists, as in a registry; without it (this test alone on an xdist worker)
    # DVC complains about the folder instead of naming the file.
    (dvc_repo / "models").mkdir(exist_ok=True)
    with pytest.raises(ArtifactError, match=r"dvc add failed in .*missing\.pkl"):
        artifacts.track(dvc_repo, "models/missing.pkl")


def test_is_dvc_repo(dvc_repo: Path, tmp_path: Path) -> None:
    assert artifacts.is_dvc_repo(dvc_repo)
    assert not artifacts.is_dvc_repo(tmp_path)
