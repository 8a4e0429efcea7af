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
    assert {
        "registry.yaml",
        "mkdocs.yml",
        "README.md",
        ".gitignore",
        "docs/index.md",
        "models/.gitkeep",
        ".dvc/config",
        ".dvcignore",
        "dvc-remote/.gitkeep",
    } <= committed


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
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "index.html").is_file()


GITHUB_FILES = {
    ".github/workflows/validate.yml",
    ".github/workflows/publish.yml",
    ".github/CODEOWNERS",
    ".github/registry-gen-requirement.txt",
    ".github/PULL_REQUEST_TEMPLATE/register.md",
    ".github/PULL_REQUEST_TEMPLATE/promote.md",
    ".github/pull_request_template.md",
    ".pre-commit-config.yaml",
}


def test_init_writes_a_ready_github_registry(fresh: Path) -> None:
    from registry_gen import __version__
    from registry_gen.codeowners import render_codeowners

    assert set(git(fresh, "ls-files").split()) >= GITHUB_FILES
    pin = (fresh / ".github/registry-gen-requirement.txt").read_text()
    requirements = [line for line in pin.splitlines() if line and not line.startswith("#")]
    # [write,site] since DVC and MkDocs left the base install (issue 12.1)
    assert requirements == [f"registry-gen[write,site]=={__version__}"]
    assert (fresh / ".github/CODEOWNERS").read_text() == render_codeowners(load_index(fresh))
    hooks = yaml.safe_load((fresh / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert hooks[0]["additional_dependencies"] == [f"registry-gen[write,site]=={__version__}"]


def test_the_workflows_install_the_pin_from_the_base_branch(fresh: Path) -> None:
    workflow = yaml.safe_load((fresh / ".github/workflows/validate.yml").read_text())
    assert set(workflow[True]) == {"pull_request_target", "merge_group"}  # `on:` parses as True
    steps = workflow["jobs"]["validate"]["steps"]
    base, data = steps[0], steps[1]
    assert base["with"]["path"] == "base" and data["with"]["path"] == "data"
    install = next(s for s in steps if "pip install" in s.get("run", ""))
    assert install["working-directory"] == "base"
    assert "-r .github/registry-gen-requirement.txt" in install["run"]
    assert "registry-gen -C data validate --base" in steps[-1]["run"]
    for step in steps:
        assert (
            "persist-credentials" not in step.get("with", {})
            or step["with"]["persist-credentials"] is False
        )


def test_generated_workflows_pass_actionlint_and_zizmor(fresh: Path) -> None:
    import shutil
    import subprocess

    from test_workflows import PINNED, actionlint, load, steps

    workflows = sorted((fresh / ".github/workflows").glob("*.yml"))
    assert len(workflows) == 2
    found = actionlint({p.name: p.read_text() for p in workflows})
    assert [r["message"] for results in found.values() for r in results] == []
    for path in workflows:
        for step in steps(load(path)):
            assert "uses" not in step or PINNED.match(step["uses"]), step["uses"]
    venv_bin = Path(__file__).resolve().parent.parent / ".venv/bin"
    zizmor = shutil.which("zizmor") or shutil.which("zizmor", path=str(venv_bin))
    if zizmor is None:
        pytest.skip("zizmor is not installed (pip install zizmor)")
    result = subprocess.run(
        [zizmor, "--offline", "--persona=pedantic", "--format=plain", *map(str, workflows)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_init_with_a_package_spec_and_remote_options(tmp_path: Path) -> None:
    spec = "registry-gen @ git+https://github.com/acme/registry-gen@3f2a9c1"
    root = init_registry(
        tmp_path / "reg",
        remote="s3://models/reg",
        package=spec,
        remote_options={"endpointurl": "http://127.0.0.1:9000"},
    )
    # The workflows validate (DVC) and build the site (MkDocs): the pin gets those extras.
    pinned = "registry-gen[write,site] @ git+https://github.com/acme/registry-gen@3f2a9c1"
    assert pinned in (root / ".github/registry-gen-requirement.txt").read_text().splitlines()
    config = (root / ".dvc/config").read_text()
    assert "url = s3://models/reg" in config and "endpointurl = http://127.0.0.1:9000" in config
    assert git(root, "status", "--porcelain").strip() == ""
    assert not (root / "dvc-remote").exists()
    with pytest.raises(UsageError, match="--remote-option needs --remote"):
        init_registry(tmp_path / "other", remote_options={"region": "eu"})


def test_generated_regions_are_marked_and_replaceable(fresh: Path) -> None:
    from registry_gen._generated import GENERATED, render, replace_region

    for target in GENERATED:
        text = (fresh / target).read_text()
        assert "registry-gen: generated, edit outside the markers" in text.splitlines()[0]
        edited = "# our own note\n" + text + "# after\n"
        assert replace_region(edited, render(target, "registry-gen==9.9")) == (
            "# our own note\n" + render(target, "registry-gen==9.9") + "# after\n"
        )


def test_a_fresh_registry_validates(fresh: Path) -> None:
    from registry_gen.validate import validate_tree

    report = validate_tree(fresh)
    assert not report.failed(True), report


def test_upgrade_rewrites_the_generated_regions_and_keeps_hand_edits(tmp_path: Path) -> None:
    from registry_gen._upgrade import upgrade_registry

    root = init_registry(tmp_path / "reg")
    assert upgrade_registry(root) == []  # fresh: nothing to do
    workflow = root / ".github/workflows/validate.yml"
    stale = workflow.read_text().replace("timeout-minutes: 15", "timeout-minutes: 5")
    workflow.write_text("# our note, kept\n" + stale + "# after the region, kept\n")
    (root / ".pre-commit-config.yaml").unlink()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "hand edits and an old workflow")
    changed = upgrade_registry(root / "models", package="registry-gen==9.9")
    assert set(changed) == {
        ".github/workflows/validate.yml",
        ".pre-commit-config.yaml",
        ".github/registry-gen-requirement.txt",
    }
    assert git(root, "branch", "--show-current").strip().startswith("upgrade/registry-gen-")
    text = workflow.read_text()
    assert text.startswith("# our note, kept\n") and text.endswith("# after the region, kept\n")
    assert "timeout-minutes: 15" in text
    assert (
        "registry-gen[write,site]==9.9"
        in (root / ".github/registry-gen-requirement.txt").read_text()
    )
    assert git(root, "status", "--porcelain").strip() == ""


def test_upgrade_refuses_a_file_without_markers(tmp_path: Path) -> None:
    from registry_gen._upgrade import upgrade_registry
    from registry_gen.errors import RecordError

    root = init_registry(tmp_path / "reg")
    (root / ".github/workflows/publish.yml").write_text("name: ours\n")
    with pytest.raises(RecordError, match=r"publish\.yml.*markers are missing"):
        upgrade_registry(root, branch=False)


def test_the_readme_says_how_to_make_a_bare_origin_that_points_at_main(fresh: Path) -> None:
    readme = " ".join((fresh / "README.md").read_text().split())
    assert "git init --bare --initial-branch=main" in readme
    assert "git -C origin.git symbolic-ref HEAD refs/heads/main" in readme
    assert "RG905" in readme  # the in-repo remote: commit its bytes with the version
    project = " ".join((Path(__file__).parent.parent / "README.md").read_text().split())
    assert "git init --bare --initial-branch=main" in project
    assert "symbolic-ref HEAD refs/heads/main" in project
