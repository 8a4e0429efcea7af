"""Branches and single commits of exactly the changed paths, on real git repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import git, init_repo
from registry_gen import gitops
from registry_gen.errors import GitError


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "reg")


def test_change_on_branch_commits_only_the_named_paths(repo: Path) -> None:
    (repo / "unrelated.txt").write_text("work in progress\n")
    git(repo, "add", "unrelated.txt")  # staged, must stay out of the commit
    with gitops.change_on_branch(repo, "register/churn-v1", ["models/churn"], "Register churn v1"):
        (repo / "models" / "churn").mkdir()
        (repo / "models" / "churn" / "model.yaml").write_text("name: churn\n")
    assert gitops.current_branch(repo) == "register/churn-v1"
    assert git(repo, "log", "-1", "--format=%s").strip() == "Register churn v1"
    changed = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert changed == ["models/churn/model.yaml"]
    assert git(repo, "status", "--porcelain").strip() == "A  unrelated.txt"
    assert git(repo, "rev-parse", "HEAD~1").strip() == git(repo, "rev-parse", "main").strip()


def test_refuses_existing_branch(repo: Path) -> None:
    git(repo, "branch", "promote/x")
    with (
        pytest.raises(GitError, match="already exists"),
        gitops.change_on_branch(repo, "promote/x", ["registry.yaml"], "m"),
    ):
        pass
    assert gitops.current_branch(repo) == "main"


def test_refuses_uncommitted_edits_to_the_paths(repo: Path) -> None:
    (repo / "registry.yaml").write_text("stages: [None, Staging]\n")
    with (
        pytest.raises(GitError, match=r"uncommitted changes in registry\.yaml"),
        gitops.change_on_branch(repo, "b", ["registry.yaml"], "m"),
    ):
        pass
    assert gitops.current_branch(repo) == "main"
    assert "b" not in git(repo, "branch", "--list", "b")


def test_failure_inside_the_block_switches_back_and_deletes_the_branch(repo: Path) -> None:
    with pytest.raises(RuntimeError), gitops.change_on_branch(repo, "alias/x", ["models"], "m"):
        raise RuntimeError("boom")
    assert gitops.current_branch(repo) == "main"
    assert git(repo, "branch", "--list", "alias/x").strip() == ""


def test_invalid_branch_name_is_refused(repo: Path) -> None:
    with (
        pytest.raises(GitError, match="not a valid branch name"),
        gitops.change_on_branch(repo, "bad..name", ["models"], "m"),
    ):
        pass


def test_default_base_is_upstream_else_head(repo: Path, tmp_path: Path) -> None:
    assert gitops.default_base(repo) == "HEAD"
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    assert gitops.default_base(clone) == "origin/main"
    git(clone, "checkout", "-q", "--detach")
    assert gitops.default_base(clone) == "HEAD"
    assert gitops.current_branch(clone) is None


def test_default_base_is_none_without_commits(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    assert gitops.default_base(tmp_path) is None


def test_branch_name_tidies_parts() -> None:
    assert gitops.branch_name("promote", "churn-v3-Production") == "promote/churn-v3-production"
    assert gitops.branch_name("tag", "churn v1 data owner") == "tag/churn-v1-data-owner"


def test_dirty_paths_lists_untracked_and_modified(repo: Path) -> None:
    (repo / "models" / "new.txt").write_text("x")
    (repo / "registry.yaml").write_text("stages: [None]\n")
    assert gitops.dirty_paths(repo, ["models", "registry.yaml"]) == [
        "models/new.txt",
        "registry.yaml",
    ]
    assert gitops.dirty_paths(repo, []) == []


def test_user_name_from_git_config(repo: Path) -> None:
    assert gitops.user_name(repo) == "Registry Tests"


def test_commit_without_identity_falls_back_to_user(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("USER", "carol")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    (repo / "models" / "a.txt").write_text("a")
    gitops.commit_paths(repo, ["models/a.txt"], "Add a")
    assert git(repo, "log", "-1", "--format=%an <%ae>").strip() == "carol <carol@localhost>"


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not the top folder of a git repository"):
        gitops.open_repo(tmp_path)
