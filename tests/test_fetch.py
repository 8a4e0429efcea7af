"""Fetching one object by md5 through DVC: repo remotes, bare URLs, folders, faults."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from loader_fixtures import Registry, copy_registry

from registry_gen.cache import ArtifactCache
from registry_gen.errors import ArtifactError, HashMismatch
from registry_gen.fetch import DvcSource, RemoteObjectMissing, fetch_artifact


@pytest.fixture
def cache(tmp_path: Path) -> ArtifactCache:
    return ArtifactCache(tmp_path / "cache")


def test_fetch_a_file_through_the_repository_remote(reg: Registry, cache: ArtifactCache) -> None:
    md5 = reg.md5("churn", 1)
    path = fetch_artifact(md5, DvcSource(repo_root=reg.root), cache, info={"uri": "x"})

    assert path == cache.path_for(md5)
    assert path.read_bytes() == (reg.root / "models/churn/1/model.skops").read_bytes()
    assert cache.list_entries()[0].info["uri"] == "x"
    # A second fetch finds the entry under the lock and does not download again.
    assert fetch_artifact(md5, DvcSource(repo_root=reg.root), cache) == path


def test_fetch_a_folder_by_its_dir_md5(reg: Registry, cache: ArtifactCache) -> None:
    md5 = reg.md5("onnxy", 1)
    path = fetch_artifact(md5, DvcSource(repo_root=reg.root), cache)

    source = reg.root / "models/onnxy/1/model"
    assert sorted(p.name for p in path.iterdir()) == sorted(p.name for p in source.iterdir())
    for file in source.iterdir():
        assert (path / file.name).read_bytes() == file.read_bytes()
    cache.verify(md5)


def test_fetch_from_a_bare_remote_url(reg: Registry, cache: ArtifactCache) -> None:
    """What a registry read from its website does: only the remote's URL is known."""
    md5 = reg.md5("churn", 2)
    path = fetch_artifact(md5, DvcSource(url=str(reg.remote)), cache)
    assert hashlib.md5(path.read_bytes()).hexdigest() == md5


def test_fetch_from_a_dvc2_layout_remote(
    reg: Registry, cache: ArtifactCache, tmp_path: Path
) -> None:
    md5 = reg.md5("churn", 3)
    legacy = tmp_path / "legacy-remote"
    (legacy / md5[:2]).mkdir(parents=True)
    shutil.copyfile(reg.object_path(md5), legacy / md5[:2] / md5[2:])

    path = fetch_artifact(md5, DvcSource(url=str(legacy)), cache)  # tries both layouts
    assert hashlib.md5(path.read_bytes()).hexdigest() == md5


def test_missing_and_corrupt_objects(reg: Registry, cache: ArtifactCache, tmp_path: Path) -> None:
    copy = copy_registry(reg, tmp_path, own_remote=True)
    gone, bad = reg.md5("churn", 1), reg.md5("churn", 2)
    copy.object_path(gone).unlink()
    copy.object_path(bad).chmod(0o644)
    copy.object_path(bad).write_bytes(b"flipped bits")

    with pytest.raises(RemoteObjectMissing, match=f"no object {gone}"):
        fetch_artifact(gone, DvcSource(repo_root=copy.root), cache)
    with pytest.raises(HashMismatch, match="Nothing was cached"):
        fetch_artifact(bad, DvcSource(repo_root=copy.root), cache)
    assert cache.list_entries() == []
    assert list((cache.root / "tmp").iterdir()) == []


def test_a_corrupt_file_inside_a_folder_artifact(
    reg: Registry, cache: ArtifactCache, tmp_path: Path
) -> None:
    copy = copy_registry(reg, tmp_path, own_remote=True)
    weights = hashlib.md5((reg.root / "models/onnxy/1/model/weights.bin").read_bytes()).hexdigest()
    copy.object_path(weights).chmod(0o644)
    copy.object_path(weights).write_bytes(b"0" * 8)

    with pytest.raises(HashMismatch, match=r"weights\.bin"):
        fetch_artifact(reg.md5("onnxy", 1), DvcSource(repo_root=copy.root), cache)
    assert cache.list_entries() == []
    assert list((cache.root / "tmp").iterdir()) == []


def test_a_registry_without_a_remote(reg: Registry, cache: ArtifactCache, tmp_path: Path) -> None:
    copy = copy_registry(reg, tmp_path)
    (copy.root / ".dvc" / "config").write_text("")
    with pytest.raises(ArtifactError, match="dvc remote add"):
        fetch_artifact(reg.md5("churn", 1), DvcSource(repo_root=copy.root), cache)


def test_a_source_names_exactly_one_place() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        DvcSource()
    with pytest.raises(ValueError, match="exactly one"):
        DvcSource(repo_root=Path(), url="s3://b")


def test_a_progress_bar_only_on_a_terminal(
    reg: Registry, cache: ArtifactCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    fetch_artifact(reg.md5("churn", 3), DvcSource(repo_root=reg.root), cache)
    assert "B/s" in terminal.getvalue() or "kB" in terminal.getvalue()

    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    fetch_artifact(reg.md5("churn", 2), DvcSource(repo_root=reg.root), cache)
    assert piped.getvalue() == ""
