"""RG905 on real repositories: with the in-repo DVC remote, the bytes are committed too."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from builders import commit, git, init_repo, write_model, write_version
from registry_gen.cli import main
from registry_gen.scaffold import init_registry
from registry_gen.validate import validate_change, validate_tree

IN_REPO = "[core]\n    remote = storage\n['remote \"storage\"']\n    url = ../dvc-remote\n"


def test_rg905_reads_the_commit_not_the_disk(tmp_path: Path) -> None:
    """Fast, with hand-written records: the object is judged by what the commit holds."""
    root = init_repo(tmp_path / "reg")
    (root / ".dvc").mkdir()
    (root / ".dvc/config").write_text(IN_REPO)
    write_model(root, "churn")
    write_version(root, "churn", 1, content=b"bytes")
    md5 = hashlib.md5(b"bytes").hexdigest()
    obj = root / "dvc-remote/files/md5" / md5[:2] / md5[2:]
    obj.parent.mkdir(parents=True)
    obj.write_bytes(b"bytes")
    (root / ".git/info/exclude").write_text("dvc-remote/\n")  # on disk, never committed
    commit(root, "register churn v1")
    [finding] = validate_tree(root, "HEAD").errors
    assert (finding.code, finding.file, finding.line) == (
        "RG905",
        "models/churn/1/model.skops.dvc",
        2,
    )
    assert f"dvc-remote/files/md5/{md5[:2]}/{md5[2:]} is not in HEAD" in finding.message
    (root / ".git/info/exclude").write_text("")
    commit(root, "commit the bytes")
    assert not validate_tree(root, "HEAD").errors
    assert not validate_tree(root).errors


# The rest registers through the CLI (DVC add and push): seconds each.
slow = pytest.mark.slow


def cli(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-C", str(root), *args], catch_exceptions=False)


def register_on_branch(root: Path, source: Path, *extra: str) -> list[str]:
    """``register --branch``; returns the objects the branch added under dvc-remote/."""
    result = cli(root, "register", "churn", str(source), "-d", "First", "--branch", *extra)
    assert result.exit_code == 0, result.output
    added = git(root, "diff", "--name-only", "main", "HEAD", "--", "dvc-remote")
    return [line for line in added.splitlines() if line]


def forget_to_commit(root: Path, paths: list[str]) -> None:
    """The author pushed to dvc-remote/ but left those objects out of the commit."""
    git(root, "rm", "-q", "--cached", "--", *paths)
    git(root, "commit", "-q", "--amend", "--no-edit")


@slow
def test_a_pull_request_that_forgets_dvc_remote_fails_at_the_pointer(tmp_path: Path) -> None:
    root = init_registry(tmp_path / "reg")
    (tmp_path / "m.onnx").write_bytes(b"model bytes")
    objects = register_on_branch(root, tmp_path / "m.onnx")
    assert len(objects) == 1 and objects[0].startswith("dvc-remote/files/md5/")
    assert not validate_change(root, "main", "HEAD").errors  # committed: fine

    forget_to_commit(root, objects)
    report = validate_change(root, "main", "HEAD")
    [finding] = report.errors
    assert finding.code == "RG905"
    assert finding.file == "models/churn/1/m.onnx.dvc"
    pointer = (root / finding.file).read_text().splitlines()
    assert finding.line is not None and "md5:" in pointer[finding.line - 1]
    assert objects[0] in finding.message and "git add dvc-remote" in finding.message

    result = cli(root, "validate", "--base", "main", "--head", "HEAD", "--format", "github")
    assert result.exit_code == 1
    assert re.search(
        r"::error file=models/churn/1/m\.onnx\.dvc,line=\d+,title=RG905 artifact-not-committed::",
        result.output,
    ), result.output
    # The object is still on the author's disk, untracked and not ignored: `git add -A`
    # would commit it, so the working tree is fine; the committed tree is not.
    assert not validate_tree(root).errors
    assert [f.code for f in validate_tree(root, "HEAD").errors] == ["RG905"]


@slow
def test_an_ignored_object_fails_the_working_tree(tmp_path: Path) -> None:
    root = init_registry(tmp_path / "reg")
    (tmp_path / "m.onnx").write_bytes(b"model bytes")
    objects = register_on_branch(root, tmp_path / "m.onnx")
    forget_to_commit(root, objects)
    (root / ".git/info/exclude").write_text("dvc-remote/files/\n")
    [finding] = validate_tree(root).errors
    assert finding.code == "RG905" and "what `git add` would commit" in finding.message


@slow
def test_a_folder_artifact_needs_its_manifest_and_its_files(tmp_path: Path) -> None:
    root = init_registry(tmp_path / "reg")
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "weights.bin").write_bytes(b"weights")
    objects = register_on_branch(root, folder, "--format", "mlflow")
    manifest = next(p for p in objects if p.endswith(".dir"))
    files = [p for p in objects if not p.endswith(".dir")]
    assert len(files) == 2

    forget_to_commit(root, files[:1])
    [finding] = validate_change(root, "main", "HEAD").errors
    assert finding.code == "RG905" and files[0] in finding.message

    forget_to_commit(root, [manifest])
    [finding] = validate_change(root, "main", "HEAD").errors
    assert finding.code == "RG905" and manifest in finding.message


@slow
def test_a_remote_outside_the_repository_is_left_to_check_remote(tmp_path: Path) -> None:
    root = init_registry(tmp_path / "reg", remote=str(tmp_path / "shared"))
    (tmp_path / "m.onnx").write_bytes(b"model bytes")
    assert register_on_branch(root, tmp_path / "m.onnx") == []
    assert not validate_change(root, "main", "HEAD").errors
    assert not validate_tree(root, "HEAD").errors


@slow
def test_versions_merged_before_are_not_judged_again_by_a_change(tmp_path: Path) -> None:
    root = init_registry(tmp_path / "reg")
    (tmp_path / "m.onnx").write_bytes(b"model bytes")
    forget_to_commit(root, register_on_branch(root, tmp_path / "m.onnx"))
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-ff", "-m", "merge", "-")
    git(root, "checkout", "-q", "-b", "alias")
    assert cli(root, "alias", "churn", "champion", "1").exit_code == 0
    git(root, "commit", "-qam", "alias")
    assert not validate_change(root, "main", "HEAD").errors  # not this change's version
    assert [f.code for f in validate_tree(root, "HEAD").errors] == ["RG905"]


@slow
def test_check_remote_looks_inside_a_folder_artifact(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    root = init_registry(tmp_path / "reg", remote=str(shared))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "weights.bin").write_bytes(b"weights")
    register_on_branch(root, folder, "--format", "mlflow")
    assert not validate_change(root, "main", "HEAD", check_remote=True).errors
    weights = hashlib.md5(b"weights").hexdigest()
    (shared / "files/md5" / weights[:2] / weights[2:]).unlink()
    [finding] = validate_change(root, "main", "HEAD", check_remote=True).errors
    assert finding.code == "RG903" and finding.file == "models/churn/1/model.dvc"
    assert f"has 1 of its 2 files (first md5 {weights}) not in" in finding.message
