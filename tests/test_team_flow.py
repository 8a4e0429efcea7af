"""A registry as a team adopts it: storage that fits a team, and the flow across clones."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from builders import git
from registry_gen.cli import main
from registry_gen.scaffold import init_registry


def cli(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-C", str(root), *args], catch_exceptions=False)


def sparse_file(path: Path, megabytes: int) -> Path:
    """A file of that size that takes no disk space (the limit reads its size only)."""
    with path.open("wb") as handle:
        handle.truncate(megabytes * 1024 * 1024)
    return path


def test_the_in_repo_remote_refuses_a_large_artifact(tmp_path: Path) -> None:
    root = init_registry(tmp_path / "reg")
    big = sparse_file(tmp_path / "big.onnx", 51)
    result = cli(root, "register", "churn", str(big), "--description", "too big")
    assert result.exit_code == 1
    assert "over the 50 MB limit for the in-repository DVC remote" in result.stderr
    assert "registry-gen init --remote URL" in result.stderr
    assert not (root / "models/churn").exists()
    assert git(root, "status", "--porcelain").strip() == ""


def test_the_limit_is_set_in_registry_yaml(tmp_path: Path) -> None:
    root = init_registry(tmp_path / "reg")
    policy = root / "registry.yaml"
    policy.write_text(policy.read_text() + "max_in_repo_artifact_mb: 0.001\n")
    git(root, "commit", "-qam", "a tiny limit")
    (tmp_path / "m.onnx").write_bytes(b"x" * 2048)
    result = cli(root, "register", "churn", str(tmp_path / "m.onnx"))
    assert result.exit_code == 1 and "over the 0.001 MB limit" in result.stderr
    (tmp_path / "s.onnx").write_bytes(b"x" * 512)
    result = cli(root, "register", "churn", str(tmp_path / "s.onnx"))
    assert result.exit_code == 0, result.output


def test_a_remote_outside_the_repository_has_no_limit(tmp_path: Path) -> None:
    root = init_registry(tmp_path / "reg", remote=str(tmp_path / "shared-remote"))
    big = sparse_file(tmp_path / "big.onnx", 51)
    result = cli(root, "register", "churn", str(big), "--description", "large")
    assert result.exit_code == 0, result.output
    assert (root / "models/churn/1/big.onnx.dvc").is_file()
    assert not any(name.startswith("dvc-remote") for name in os.listdir(root))


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_files_the_cli_writes_follow_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        root = init_registry(tmp_path / "reg")
        (tmp_path / "m.onnx").write_bytes(b"model")
        assert cli(root, "register", "churn", str(tmp_path / "m.onnx")).exit_code == 0
    finally:
        os.umask(old)
    for path in ("registry.yaml", "models/churn/1/version.yaml", "models/churn/model.yaml",
                 ".github/workflows/validate.yml"):
        assert (root / path).stat().st_mode & 0o777 == 0o666 & ~umask, path


def test_register_shows_progress_on_a_terminal_unless_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry_gen.cli import _output

    root = init_registry(tmp_path / "reg")
    (tmp_path / "m.onnx").write_bytes(b"model")
    result = cli(root, "register", "churn", str(tmp_path / "m.onnx"))
    assert result.exit_code == 0 and result.stderr == ""  # not a terminal: no progress
    monkeypatch.setattr(_output, "stderr_is_terminal", lambda: True)
    result = cli(root, "register", "churn", str(tmp_path / "m.onnx"))
    assert result.exit_code == 0, result.output
    for step in ("churn v2: copying…", "churn v2: hashing…", "churn v2: pushing to ../dvc-remote…"):
        assert step in result.stderr
    assert result.stdout.startswith("Registered models:/churn/2")
    result = CliRunner().invoke(main, ["-C", str(root), "--quiet", "register", "churn",
                                       str(tmp_path / "m.onnx")])
    assert result.exit_code == 0 and result.stderr == ""
