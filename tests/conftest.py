"""Shared fixtures: a git identity for test commits, and small real registries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from builders import commit, init_repo, write_model, write_version


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
    root = init_repo(tmp_path / "registry")
    write_model(root, "churn", description="Predicts **churn**.", owners=["@ml-team"],
                aliases={"champion": 3})
    write_version(root, "churn", 1, stage="Archived", metrics={"auc": 0.81})
    write_version(root, "churn", 2, stage="Staging", metrics={"auc": 0.86})
    write_version(root, "churn", 3, stage="Production", description="Third.",
                  metrics={"auc": 0.9})
    write_model(root, "fraud", description="Flags fraud.")
    write_version(root, "fraud", 1)
    commit(root, "Register churn and fraud")
    return root
