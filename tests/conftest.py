"""Shared fixtures: a git identity for test commits, and small real registries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from loader_fixtures import Registry, shared_registry

from builders import small_registry_at


@pytest.fixture(autouse=True, scope="session")
def _git_identity(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Give git an identity and defaults of its own, whatever the machine has configured."""
    home = tmp_path_factory.mktemp("gitconfig")
    config = home / ".gitconfig"
    config.write_text(
        "[user]\n\tname = Registry Tests\n\temail = tests@registry-gen.invalid\n"
        "[init]\n\tdefaultBranch = main\n"
        "[advice]\n\tdetachedHead = false\n"
    )
    mp = pytest.MonkeyPatch()
    mp.setenv("GIT_CONFIG_GLOBAL", str(config))
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    mp.setenv("DVC_NO_ANALYTICS", "1")
    mp.setenv("DVC_SITE_CACHE_DIR", str(home / "dvc-site-cache"))
    mp.setenv("REGISTRY_GEN_CACHE", str(home / "artifact-cache"))
    mp.delenv("REGISTRY_GEN_URI", raising=False)
    mp.delenv("REGISTRY_GEN_OFFLINE", raising=False)
    yield
    mp.undo()


@pytest.fixture
def small_registry(tmp_path: Path) -> Path:
    """A committed registry: churn v1-v3 (v3 Production, v2 Staging), fraud v1."""
    return small_registry_at(tmp_path / "registry")


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """The loader tests' registry: real DVC, a local-folder remote, small real models."""
    return shared_registry(tmp_path_factory.getbasetemp() / "loader-registry")


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cold artifact cache of the test's own."""
    monkeypatch.setenv("REGISTRY_GEN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
