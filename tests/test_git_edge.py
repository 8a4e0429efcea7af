"""The git edge as the store, history, gitops and scaffold use it, on real repositories."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from builders import commit, git, init_repo, small_registry_at, write_model
from registry_gen import _git, gitops
from registry_gen.errors import GitError
from registry_gen.history import read_history
from registry_gen.store import GitRevision, load_index


@pytest.fixture
def nested(tmp_path: Path) -> Path:
    """A registry folder inside another project's repository (not a repository itself)."""
    outer = init_repo(tmp_path / "project")
    registry = outer / "registry"
    small_registry_at(tmp_path / "elsewhere")  # a committed registry to copy
    registry.mkdir()
    git(
        outer,
        "--work-tree",
        str(registry),
        "--git-dir",
        str(tmp_path / "elsewhere/.git"),
        "checkout",
        "-q",
        "HEAD",
        "--",
        ".",
    )
    commit(outer, "Vendor a registry")
    return registry


def test_a_registry_is_read_from_git_only_at_the_top_of_its_repository(nested: Path) -> None:
    assert not _git.is_top_level(nested) and _git.is_top_level(nested.parent)
    with pytest.raises(GitError, match="not a git repository"):
        GitRevision(nested)
    with pytest.raises(GitError, match="not the top folder of a git repository"):
        gitops.current_branch(nested)
    assert read_history(nested).events == () and not read_history(nested).complete
    assert load_index(nested).models.keys() == {"churn", "fraud"}  # the working tree is fine


def test_a_missing_folder_is_not_a_repository(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert not _git.is_top_level(missing)
    with pytest.raises(GitError, match="not a git repository"):
        GitRevision(missing)
    assert read_history(missing).events == ()
    with pytest.raises(GitError, match="is not a folder"):
        _git.run(missing, "status")


@pytest.mark.parametrize("rev", ["--output=/tmp/x", "-p", "HEAD..main", "a b", ""])
def test_revisions_that_could_be_options_never_reach_git(small_registry: Path, rev: str) -> None:
    with pytest.raises(GitError, match="invalid revision"):
        GitRevision(small_registry, rev)
    with pytest.raises(GitError, match="invalid revision"):
        read_history(small_registry, rev)
    with pytest.raises(GitError, match="invalid revision"):
        GitRevision(small_registry).changed_paths(rev, "models")


def test_git_revision_reads_any_file_and_lists_changes(small_registry: Path) -> None:
    base = git(small_registry, "rev-parse", "HEAD").strip()
    (small_registry / ".github").mkdir()
    (small_registry / ".github/CODEOWNERS").write_text("/models/churn/ @alice\n")
    write_model(small_registry, "spam")
    commit(small_registry, "Add spam and owners")
    head = GitRevision(small_registry)
    assert head.read_file(".github/CODEOWNERS") == b"/models/churn/ @alice\n"
    assert head.read_file("no/such/file") is None
    assert head.read_file(".github") is None  # a folder is not a file
    assert head.changed_paths(base, "models") == ["models/spam/model.yaml"]
    assert head.changed_paths(base) == [".github/CODEOWNERS", "models/spam/model.yaml"]
    with pytest.raises(GitError, match="git diff failed"):
        head.changed_paths("no-such-branch", "models")


def test_git_commands_are_logged_at_debug_level(
    small_registry: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="registry_gen._git"):
        GitRevision(small_registry, "HEAD").list_files()
    assert "git: git ls-tree -r -l -z --full-tree" in caplog.text


def test_a_failed_command_names_git_s_explanation(small_registry: Path) -> None:
    with pytest.raises(
        GitError, match=r"^git checkout nope failed in .*: invalid reference: nope$"
    ):
        _git.run(small_registry, "checkout", "nope", "--")


_NO_GITPYTHON = """
import json, sys
from pathlib import Path
from registry_gen import gitops, history, scaffold
from registry_gen.store import load_index
root = Path(sys.argv[1])
load_index(root, rev="HEAD")
history.read_history(root)
gitops.current_branch(root), gitops.default_base(root), gitops.user_name(root)
scaffold.init_registry(root.parent / "fresh")
print(json.dumps("git" in sys.modules))
"""


@pytest.mark.slow
def test_reading_and_writing_git_never_imports_gitpython(small_registry: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _NO_GITPYTHON, str(small_registry)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) is False
