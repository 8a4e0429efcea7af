"""`registry-gen init`: a working registry repository with zero configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from builders import git
from registry_gen import artifacts
from registry_gen.errors import AlreadyExists, UsageError
from registry_gen.scaffold import TEMPLATES, init_registry, template_text
from registry_gen.schema import Policy, parse_record
from registry_gen.store import load_index


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return init_registry(tmp_path_factory.mktemp("init") / "reg")


def test_init_commits_a_complete_registry(fresh: Path) -> None:
    assert git(fresh, "branch", "--show-current").strip() == "main"
    assert git(fresh, "log", "--format=%s").strip() == "Initialise the model registry"
    assert git(fresh, "status", "--porcelain").strip() == ""
    committed = set(git(fresh, "ls-files").split())
    assert {"registry.yaml", "mkdocs.yml", "README.md", ".gitignore", "docs/index.md",
            "models/.gitkeep", ".dvc/config", ".dvcignore", "dvc-remote/.gitkeep"} <= committed


def test_default_remote_is_a_committed_folder_inside_the_repo(fresh: Path) -> None:
    remote = artifacts.default_remote(fresh)
    assert remote == artifacts.Remote("storage", "../dvc-remote")
    assert remote.local_folder(fresh) == fresh / "dvc-remote"


def test_policy_template_is_the_default_policy(fresh: Path) -> None:
    policy = parse_record((fresh / "registry.yaml").read_bytes(), "registry.yaml", Policy)
    assert policy == Policy()
    assert "# " in template_text("registry.yaml")  # commented for the people who edit it
    index = load_index(fresh, rev="HEAD")
    assert index.errors == () and dict(index.models) == {}


def test_mkdocs_config_uses_material_and_the_registry_plugin(fresh: Path) -> None:
    config = yaml.safe_load((fresh / "mkdocs.yml").read_text())
    assert config["theme"]["name"] == "material"
    assert config["plugins"] == ["search", "registry"]
    assert (fresh / "docs/index.md").read_text().startswith("# Model registry")


def test_every_template_is_shipped() -> None:
    for name in TEMPLATES:
        assert template_text(name).strip()


def test_refuses_a_folder_that_is_not_empty(fresh: Path, tmp_path: Path) -> None:
    with pytest.raises(AlreadyExists, match="already holds a registry"):
        init_registry(fresh)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="is not empty"):
        init_registry(tmp_path)
    assert not (tmp_path / ".git").exists()


@pytest.mark.slow
def test_custom_remote(tmp_path: Path) -> None:
    root = init_registry(tmp_path / "reg", remote=str(tmp_path / "shared"))
    assert artifacts.default_remote(root) == artifacts.Remote("storage", str(tmp_path / "shared"))
    assert not (root / "dvc-remote").exists()


@pytest.mark.slow
def test_the_new_registry_builds_its_website(fresh: Path, tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "copy"
    shutil.copytree(fresh, copy)
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                             str(tmp_path / "site")], cwd=copy, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "index.html").is_file()
