"""A registry as a team adopts it: storage that fits a team, and the flow across clones."""

from __future__ import annotations

import json
import os
import re
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
    for path in (
        "registry.yaml",
        "models/churn/1/version.yaml",
        "models/churn/model.yaml",
        ".github/workflows/validate.yml",
    ):
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
    result = CliRunner().invoke(
        main, ["-C", str(root), "--quiet", "register", "churn", str(tmp_path / "m.onnx")]
    )
    assert result.exit_code == 0 and result.stderr == ""


# --- The team flow: a bare origin, three people, pull requests merged by hand ----------

PEOPLE = {"alice": "Alice Archer", "bob": "Bob Baker", "carol": "Carol Chen"}


def clone(origin: Path, where: Path, who: str) -> Path:
    git(where.parent, "clone", "-q", str(origin), where.name)
    git(where, "config", "user.name", PEOPLE[who])
    git(where, "config", "user.email", f"{who}@example.com")
    return where


@pytest.fixture(scope="session")
def local_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of this checkout (its working files), built once, offline, outside the tree."""
    import shutil
    import subprocess
    import sys

    project = Path(__file__).parent.parent
    source = tmp_path_factory.mktemp("wheel-source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(project / name, source / name)
    shutil.copytree(
        project / "registry_gen",
        source / "registry_gen",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    dist = tmp_path_factory.mktemp("dist")
    build = ["wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(source)]
    subprocess.run(
        [sys.executable, "-m", "pip", *build],
        check=True,
        capture_output=True,
    )
    [wheel] = dist.glob("registry_gen-*.whl")
    return wheel


# `python -m pip install ARGS` as the workflow runs it, done by this checkout's uv offline
# (from its cache, which `./dev` filled), within the runtime lock's versions: the requirement
# file is resolved and installed for real, and the test never reaches the network.
PIP_SHIM = """#!/usr/bin/env bash
if [ "$1 $2 $3" = "-m pip install" ]; then
  shift 3
  args=()
  for arg in "$@"; do [ "$arg" = --disable-pip-version-check ] || args+=("$arg"); done
  exec "$UV" pip install --offline --quiet --python "$VENV/bin/python" "${args[@]}"
fi
exec "$VENV/bin/python" "$@"
"""


def fresh_venv(where: Path) -> tuple[Path, dict[str, str]]:
    """An empty venv at ``where/venv`` and the environment of a pip step that installs into it."""
    import subprocess
    import sys

    uv = Path(sys.executable).parent / "uv"
    venv = where / "venv"
    subprocess.run(
        [str(uv), "venv", "-q", "--python", sys.executable, str(venv)],
        check=True,
        capture_output=True,
    )
    shims = where / "shims"
    shims.mkdir()
    (shims / "python").write_text(PIP_SHIM)
    (shims / "python").chmod(0o755)
    project = Path(__file__).parent.parent
    env = {
        "UV": str(uv),
        "VENV": str(venv),
        "UV_CONSTRAINT": str(project / "requirements/runtime.lock"),
        "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}",
    }
    return venv, env


def run_pip_step(run: str, cwd: Path, env: dict[str, str]) -> None:
    import subprocess

    assert (
        run.startswith("python -m pip install ")
        and "-r .github/registry-gen-requirement.txt" in run
    )
    result = subprocess.run(
        ["bash", "-e", "-c", run],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def run_validate_workflow(origin: Path, ci: Path, branch: str, number: int) -> tuple[int, str]:
    """The generated validate.yml's ``run:`` steps, in order, as GitHub runs them for PR #N.

    ``base/`` is the base branch (where the workflow and the pin come from); ``data/``
    is the merge of the PR's head into the base, as refs/pull/N/merge; the steps get
    GitHub's environment. The pip step installs the base's pin into a fresh venv
    (:func:`fresh_venv`), and the steps after it run that venv's registry-gen.
    """
    import shutil
    import subprocess

    import yaml

    shutil.rmtree(ci, ignore_errors=True)
    ci.mkdir()
    git(ci, "clone", "-q", str(origin), "base")
    git(ci, "clone", "-q", str(origin), "data")
    data = ci / "data"
    head_sha = git(data, "rev-parse", f"origin/{branch}").strip()
    git(
        data,
        "-c",
        "user.name=GitHub",
        "-c",
        "user.email=noreply@github.com",
        "merge",
        "-q",
        "--no-ff",
        "-m",
        f"Merge {head_sha} into main",
        head_sha,
    )
    workflow = yaml.safe_load((ci / "base/.github/workflows/validate.yml").read_text())
    summary = ci / "summary.md"
    venv, pip_env = fresh_venv(ci)
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTIONS": "true",
        "EVENT_NAME": "pull_request_target",
        "GROUP_BASE_SHA": "",
        "PR_HEAD_SHA": head_sha,
    }
    output = []
    for step in workflow["jobs"]["validate"]["steps"]:
        if "run" not in step:
            continue
        cwd = ci / step.get("working-directory", ".")
        if "pip install" in step["run"]:
            assert cwd == ci / "base"
            run_pip_step(step["run"], cwd, pip_env)
            continue
        result = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        output.append(result.stdout + result.stderr)
        if result.returncode != 0:
            return result.returncode, "".join(output)
    return 0, "".join(output)


def merge_pull_request(clone_dir: Path, branch: str, number: int) -> None:
    """Merge as GitHub's merge button does: a merge commit by the merger, pushed to main."""
    git(clone_dir, "checkout", "-q", "main")
    git(clone_dir, "pull", "-q", "--ff-only")
    git(clone_dir, "fetch", "-q", "origin", branch)
    git(
        clone_dir,
        "merge",
        "-q",
        "--no-ff",
        "-m",
        f"Merge pull request #{number} from {branch}",
        f"origin/{branch}",
    )
    git(clone_dir, "push", "-q", "origin", "main")


@pytest.mark.slow
def test_team_flow_across_clones(tmp_path: Path, local_wheel: Path) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(origin))
    storage = tmp_path / "storage"
    admin = init_registry(tmp_path / "admin", remote=str(storage), package=local_wheel.as_uri())
    pin = (admin / ".github/registry-gen-requirement.txt").read_text()
    assert local_wheel.as_uri() in pin
    git(admin, "remote", "add", "origin", str(origin))
    git(admin, "push", "-q", "origin", "main")
    alice, bob, carol = (clone(origin, tmp_path / who, who) for who in PEOPLE)
    ci = tmp_path / "ci"
    (tmp_path / "m.onnx").write_bytes(b"model bytes v1")

    def pull_request(author: Path, args: list[str], number: int, merger: Path) -> None:
        git(author, "checkout", "-q", "main")
        git(author, "pull", "-q", "--ff-only")
        result = cli(author, *args, "--branch")
        assert result.exit_code == 0, result.output
        branch = git(author, "branch", "--show-current").strip()
        git(author, "push", "-q", "origin", branch)
        code, output = run_validate_workflow(origin, ci, branch, number)
        assert code == 0, output
        merge_pull_request(merger, branch, number)

    pull_request(
        alice,
        ["register", "churn", str(tmp_path / "m.onnx"), "-d", "First", "--metric", "auc=0.8"],
        1,
        bob,
    )
    (tmp_path / "m.onnx").write_bytes(b"model bytes v2")
    pull_request(
        carol,
        ["register", "churn", str(tmp_path / "m.onnx"), "-d", "Second", "--metric", "auc=0.85"],
        2,
        bob,
    )
    pull_request(bob, ["promote", "churn", "1", "Production"], 3, carol)
    pull_request(alice, ["promote", "churn", "2", "Production", "--archive-existing"], 4, bob)
    pull_request(carol, ["alias", "churn", "champion", "2"], 5, alice)
    git(bob, "pull", "-q", "--ff-only")
    shown = json.loads(cli(bob, "show", "churn", "--json").output)
    assert [v["stage"] for v in shown["versions"]] == ["Archived", "Production"]
    assert shown["versions"][0]["created_by"] == PEOPLE["alice"]

    # A pull request that changes a version's artifact hash fails, annotated at file and line.
    git(carol, "checkout", "-q", "-b", "tamper", "origin/main")
    pointer = carol / "models/churn/1/m.onnx.dvc"
    pointer.write_text(re.sub(r"md5: [0-9a-f]{32}", "md5: " + "0" * 32, pointer.read_text()))
    git(carol, "commit", "-qam", "tamper with v1")
    git(carol, "push", "-q", "origin", "tamper")
    code, output = run_validate_workflow(origin, ci, "tamper", 6)
    assert code == 1
    assert re.search(r"::error file=models/churn/1/m\.onnx\.dvc,line=\d+", output), output

    # The publish workflow's run: steps build the site from main.
    git(admin, "pull", "-q", "origin", "main")
    run_publish_workflow(admin, tmp_path / "publish")
    assert (admin / "_site/index.html").is_file()
    # The site credits each pull request's author, and names who merged it.
    published = json.loads((admin / "_site/api/models/churn.json").read_text())
    credit = {
        (e["kind"], e["version"], e["new"]): (e["author"], e["merged_by"], e["pr"])
        for e in published["history"]
    }
    assert credit[("registered", 1, "None")] == (PEOPLE["alice"], PEOPLE["bob"], 1)
    assert credit[("stage", 1, "Production")] == (PEOPLE["bob"], PEOPLE["carol"], 3)
    assert credit[("alias_set", 2, "2")] == (PEOPLE["carol"], PEOPLE["alice"], 5)
    activity = (admin / "_site/models/activity/index.html").read_text()
    assert PEOPLE["carol"] in activity and "Merged by" in activity


def run_publish_workflow(checkout: Path, work: Path) -> None:
    """publish.yml's build job ``run:`` steps in ``checkout``, the pin installed in a fresh venv."""
    import subprocess

    import yaml

    workflow = yaml.safe_load((checkout / ".github/workflows/publish.yml").read_text())
    work.mkdir()
    venv, pip_env = fresh_venv(work)
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "SITE_URL": "https://acme.github.io/registry/",
    }
    for step in workflow["jobs"]["build"]["steps"]:
        if "run" not in step:
            continue
        if "pip install" in step["run"]:
            run_pip_step(step["run"], checkout, pip_env)
            continue
        result = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_a_pull_request_that_forgets_dvc_remote_fails_the_workflow(
    tmp_path: Path, local_wheel: Path
) -> None:
    """The zero-configuration registry: the bytes live in dvc-remote/, committed or lost."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(origin))
    admin = init_registry(tmp_path / "admin", package=local_wheel.as_uri())
    git(admin, "remote", "add", "origin", str(origin))
    git(admin, "push", "-q", "origin", "main")
    alice = clone(origin, tmp_path / "alice", "alice")
    (tmp_path / "m.onnx").write_bytes(b"model bytes")
    result = cli(alice, "register", "churn", str(tmp_path / "m.onnx"), "-d", "First", "--branch")
    assert result.exit_code == 0, result.output
    objects = git(alice, "diff", "--name-only", "main", "HEAD", "--", "dvc-remote").split()
    assert objects  # register --branch commits them; Alice's own hands leave them out:
    git(alice, "rm", "-q", "--cached", "--", *objects)
    git(alice, "commit", "-q", "--amend", "--no-edit")
    branch = git(alice, "branch", "--show-current").strip()
    git(alice, "push", "-q", "origin", branch)
    code, output = run_validate_workflow(origin, tmp_path / "ci", branch, 1)
    assert code == 1
    assert re.search(
        r"::error file=models/churn/1/m\.onnx\.dvc,line=\d+,title=RG905 artifact-not-committed::",
        output,
    ), output
    git(alice, "add", "--", *objects)
    git(alice, "commit", "-q", "--amend", "--no-edit")
    git(alice, "push", "-q", "--force", "origin", branch)
    code, output = run_validate_workflow(origin, tmp_path / "ci", branch, 1)
    assert code == 0, output
