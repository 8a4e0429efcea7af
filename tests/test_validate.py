"""The validator, one real git repository per rule: a base commit on main, a head on a branch.

Every failing fixture asserts the rule code and the file:line the author must fix.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from builders import (
    DEFAULT_POLICY,
    commit,
    git,
    init_repo,
    small_registry_at,
    write_model,
    write_version,
)
from registry_gen.cli import main
from registry_gen.validate import (
    RULES,
    Finding,
    Report,
    validate_change,
    validate_tree,
)
from registry_gen.validate._tree import _cycles

POLICY = DEFAULT_POLICY + "approvers:\n  Production: ['@ml-leads']\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The base registry, committed on main: copied (with its .git) for each test."""
    return small_registry_at(tmp_path_factory.mktemp("template") / "registry", policy=POLICY)


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    shutil.copytree(template, root, symlinks=True)
    return root


def pr(root: Path, edit: Callable[[Path], object], branch: str = "pr") -> Report:
    """Apply ``edit`` on a new branch, commit it and validate main → branch."""
    git(root, "checkout", "-q", "-b", branch, "main")
    edit(root)
    commit(root, f"Change on {branch}")
    return validate_change(root, "main", branch)


def codes(report: Report) -> set[str]:
    return {f.code for f in report.findings if f.severity != "notice"}


def only(report: Report, code: str) -> Finding:
    found = [f for f in report.findings if f.code == code]
    assert len(found) == 1, report.findings
    return found[0]


def set_line(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, text
    path.write_text(text.replace(old, new))


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


# ---------------------------------------------------------------------------
# A change that follows every rule


def good_change(root: Path) -> None:
    write_version(
        root,
        "churn",
        4,
        stage="Staging",
        description="Retrained on **May**.",
        metrics={"auc": 0.92},
        lineage={"parents": ["models:/churn/3"]},
    )
    set_line(root / "models/churn/2/version.yaml", "stage: Staging", "stage: Archived")


def test_a_change_that_follows_every_rule_passes(repo: Path) -> None:
    report = pr(repo, good_change)
    assert not report.errors and not report.warnings, report.findings
    assert report.change is not None
    assert [m.name for m in report.change.models] == ["churn"]
    assert report.change.models[0].registered == ((4, "Staging"),)
    assert report.change.models[0].stage_changes == ((2, "Staging", "Archived"),)
    notices = report.notices
    assert [n.code for n in notices] == ["RG801"] and "@ml-team" in notices[0].message


def test_the_base_registry_passes_as_a_tree(repo: Path) -> None:
    assert validate_tree(repo).findings == ()
    assert validate_tree(repo, rev="main").findings == ()


def test_artifact_bytes_next_to_their_pointer_are_fine_in_the_working_tree(repo: Path) -> None:
    (repo / "models/churn/3/model.skops").write_bytes(b"\0" * 300_000)
    assert validate_tree(repo).findings == ()


# ---------------------------------------------------------------------------
# RG1xx schema


def test_rg101_unknown_key_in_version_record(repo: Path) -> None:
    report = pr(
        repo,
        lambda r: set_line(
            r / "models/churn/2/version.yaml",
            "stage: Staging",
            "stage: Staging\nstagee: Production",
        ),
    )
    finding = only(report, "RG101")
    assert finding.file == "models/churn/2/version.yaml"
    assert finding.line == line_of(repo / finding.file, "stagee")
    assert "stagee" in finding.message


def test_rg102_invalid_policy(repo: Path) -> None:
    report = pr(
        repo,
        lambda r: (r / "registry.yaml").write_text(
            "stages: [None, Staging, Production, Archived]\nmax_git_file_bytes: 0\n"
        ),
    )
    finding = only(report, "RG102")
    assert (finding.file, finding.line) == ("registry.yaml", 2)
    assert "max_git_file_bytes" in finding.message


def test_rg103_dvc_pointer_with_two_outputs(repo: Path) -> None:
    def edit(root: Path) -> None:
        pointer = root / "models/fraud/1/model.skops.dvc"
        text = pointer.read_text()
        pointer.write_text(text + text.removeprefix("outs:\n"))

    finding = only(pr(repo, edit), "RG103")
    assert finding.file == "models/fraud/1/model.skops.dvc"
    assert finding.line == 1 and "exactly one output" in finding.message


def test_rg104_version_folder_without_record(repo: Path) -> None:
    def edit(root: Path) -> None:
        (root / "models/fraud/2").mkdir()
        (root / "models/fraud/2/model.skops.dvc").write_text(
            (root / "models/fraud/1/model.skops.dvc").read_text()
        )

    finding = only(pr(repo, edit), "RG104")
    assert finding.file == "models/fraud/2/version.yaml" and finding.line is None


# ---------------------------------------------------------------------------
# RG2xx names and files


def test_rg201_and_rg204_uppercase_name_collides(repo: Path) -> None:
    def edit(root: Path) -> None:
        write_model(root, "Churn")
        write_version(root, "Churn", 1)

    report = pr(repo, edit)
    assert only(report, "RG201").file == "models/Churn"
    collisions = sorted((f.file, f.line) for f in report.findings if f.code == "RG204")
    assert collisions == [("models/Churn/model.yaml", 1), ("models/churn/model.yaml", 1)]


def test_rg202_name_differs_from_folder(repo: Path) -> None:
    report = pr(
        repo, lambda r: set_line(r / "models/fraud/model.yaml", "name: fraud", "name: fraud2")
    )
    finding = only(report, "RG202")
    assert (finding.file, finding.line) == ("models/fraud/model.yaml", 1)


def test_rg203_reserved_name(repo: Path) -> None:
    def edit(root: Path) -> None:
        write_model(root, "search")
        write_version(root, "search", 1)

    assert only(pr(repo, edit), "RG203").file == "models/search"


def test_rg205_symlink_under_models(repo: Path) -> None:
    def edit(root: Path) -> None:
        os.symlink("../../../registry.yaml", root / "models/churn/3/notes.yaml")

    finding = only(pr(repo, edit), "RG205")
    assert finding.file == "models/churn/3/notes.yaml"


def test_rg205_symlink_is_not_followed_in_the_working_tree(repo: Path) -> None:
    os.symlink("/etc", repo / "models/etc")
    assert only(validate_tree(repo), "RG205").file == "models/etc"


def test_rg206_artifact_committed_to_git(repo: Path) -> None:
    def edit(root: Path) -> None:
        (root / "models/fraud/1/model.skops").write_bytes(b"fraud-1")
        git(root, "add", "-f", "models/fraud/1/model.skops")

    finding = only(pr(repo, edit), "RG206")
    assert finding.file == "models/fraud/1/model.skops" and "DVC" in finding.message


def test_rg206_large_file_committed_directly(repo: Path) -> None:
    report = pr(repo, lambda r: (r / "models/fraud/1/weights.bin").write_bytes(b"1" * 250_000))
    finding = only(report, "RG206")
    assert finding.file == "models/fraud/1/weights.bin"


@pytest.mark.parametrize(
    "stray",
    [
        "models/notes.txt",
        "models/churn/README.md",
        "models/churn/3/extra.dvc",
        "models/churn/3/sub/x.txt",
    ],
)
def test_rg207_stray_files(repo: Path, stray: str) -> None:
    def edit(root: Path) -> None:
        (root / stray).parent.mkdir(parents=True, exist_ok=True)
        (root / stray).write_text("notes\n")

    assert only(pr(repo, edit), "RG207").file == stray


def test_rg208_gitignore_may_only_ignore_the_artifact(repo: Path) -> None:
    report = pr(
        repo,
        lambda r: (r / "models/fraud/1/.gitignore").write_text("/model.skops\n/version.yaml\n"),
    )
    finding = only(report, "RG208")
    assert (finding.file, finding.line) == ("models/fraud/1/.gitignore", 2)


# ---------------------------------------------------------------------------
# RG3xx versions


def test_rg301_version_field_differs_from_folder(repo: Path) -> None:
    report = pr(
        repo, lambda r: set_line(r / "models/fraud/1/version.yaml", "version: 1", "version: 2")
    )
    finding = only(report, "RG301")
    assert (finding.file, finding.line) == ("models/fraud/1/version.yaml", 1)


def test_rg302_and_rg303_new_version_skips_a_number(repo: Path) -> None:
    report = pr(repo, lambda r: write_version(r, "churn", 5, metrics={"auc": 0.9}))
    assert codes(report) == {"RG302", "RG303"}
    for code in ("RG302", "RG303"):
        finding = only(report, code)
        assert (finding.file, finding.line) == ("models/churn/5/version.yaml", 1)
    assert "should be 4" in only(report, "RG303").message


def test_rg302_gap_in_a_tree(repo: Path) -> None:
    shutil.rmtree(repo / "models/churn/2")
    finding = only(validate_tree(repo), "RG302")
    assert finding.file == "models/churn/3/version.yaml" and "missing 2" in finding.message


def test_rg304_deleted_version_and_model(repo: Path) -> None:
    def edit(root: Path) -> None:
        shutil.rmtree(root / "models/fraud")
        shutil.rmtree(root / "models/churn/3")
        set_line(root / "models/churn/model.yaml", "champion: 3", "champion: 2")

    report = pr(repo, edit)
    deleted = sorted(f.file for f in report.findings if f.code == "RG304")  # type: ignore[type-var]
    assert deleted == ["models/churn/3/version.yaml", "models/fraud/model.yaml"]


@pytest.mark.parametrize(
    ("file", "old", "new", "field"),
    [
        ("models/churn/2/version.yaml", "created_by: alice", "created_by: mallory", "created_by"),
        ("models/churn/2/version.yaml", "format: skops", "format: pickle", "format"),
        ("models/churn/2/model.skops.dvc", "size: 7", "size: 8", "size"),
    ],
)
def test_rg305_immutable_fields(repo: Path, file: str, old: str, new: str, field: str) -> None:
    finding = only(pr(repo, lambda r: set_line(r / file, old, new)), "RG305")
    assert finding.file == file
    assert finding.line == line_of(repo / file, new)
    assert field in finding.message


def test_rg305_the_reviewed_sha256_cannot_be_added_or_changed_later(repo: Path) -> None:
    # The loader trusts a pickle by this sha256: editing it after review would trust
    # bytes nobody reviewed.
    file = "models/churn/2/version.yaml"
    text = (repo / file).read_text()
    indent = next(ln for ln in text.splitlines() if ln.strip().startswith("format:")).split("f")[0]
    finding = only(
        pr(
            repo,
            lambda r: set_line(
                r / file, "format: skops", f"format: skops\n{indent}sha256: {'a' * 64}"
            ),
        ),
        "RG305",
    )
    assert finding.file == file and "sha256" in finding.message


def test_rg305_artifact_hash_changed(repo: Path) -> None:
    def edit(root: Path) -> None:
        pointer = root / "models/churn/2/model.skops.dvc"
        md5 = hashlib.md5(b"churn-2").hexdigest()
        set_line(pointer, md5, hashlib.md5(b"other").hexdigest())

    finding = only(pr(repo, edit), "RG305")
    assert (finding.file, finding.line) == ("models/churn/2/model.skops.dvc", 2)
    assert "md5" in finding.message


# ---------------------------------------------------------------------------
# RG4xx stages


def test_rg401_stage_spelling(repo: Path) -> None:
    report = pr(
        repo, lambda r: set_line(r / "models/fraud/1/version.yaml", "stage: None", "stage: staging")
    )
    finding = only(report, "RG401")
    assert (finding.file, finding.line) == ("models/fraud/1/version.yaml", 2)
    assert "'Staging'" in finding.message


def test_rg402_transition_not_allowed(repo: Path) -> None:
    report = pr(
        repo,
        lambda r: set_line(
            r / "models/churn/1/version.yaml", "stage: Archived", "stage: Production"
        ),
    )
    assert "RG402" in codes(report)
    finding = only(report, "RG402")
    assert (finding.file, finding.line) == ("models/churn/1/version.yaml", 2)
    assert "None, Staging" in finding.message


def test_rg403_new_version_must_start_near_the_default_stage(tmp_path: Path) -> None:
    root = init_repo(
        tmp_path / "r",
        policy=DEFAULT_POLICY
        + (
            "transitions:\n  None: [Staging]\n  Staging: [Production]\n  Production: [Archived]\n"
            "  Archived: []\nrequires: {}\n"
        ),
    )
    write_model(root, "churn")
    write_version(root, "churn", 1)
    commit(root, "base")
    report = pr(root, lambda r: write_version(r, "churn", 2, stage="Production"))
    finding = only(report, "RG403")
    assert (finding.file, finding.line) == ("models/churn/2/version.yaml", 2)


def test_rg404_the_race_two_promotions_pass_alone_and_fail_merged(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r")
    write_model(root, "churn")
    for number in (1, 2):
        write_version(
            root, "churn", number, stage="Staging", description=f"v{number}.", metrics={"auc": 0.9}
        )
    commit(root, "base")

    def promote(number: int) -> Callable[[Path], None]:
        def edit(root: Path) -> None:
            set_line(
                root / f"models/churn/{number}/version.yaml", "stage: Staging", "stage: Production"
            )

        return edit

    assert not pr(root, promote(1), "promote-1").errors
    assert not pr(root, promote(2), "promote-2").errors

    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-edit", "promote-1")
    before = git(root, "rev-parse", "HEAD").strip()
    git(root, "merge", "-q", "--no-edit", "promote-2")  # different files: git merges cleanly
    for report in (validate_change(root, before, "main"), validate_tree(root, rev="main")):
        holders = sorted((f.file, f.line) for f in report.findings if f.code == "RG404")
        assert holders == [("models/churn/1/version.yaml", 2), ("models/churn/2/version.yaml", 2)]


def test_rg405_production_needs_description_and_metrics(repo: Path) -> None:
    def edit(root: Path) -> None:
        set_line(root / "models/fraud/1/version.yaml", "stage: None", "stage: Production")

    finding = only(pr(repo, edit), "RG405")
    assert (finding.file, finding.line) == ("models/fraud/1/version.yaml", 2)
    assert "a description and metrics" in finding.message


# ---------------------------------------------------------------------------
# RG5xx aliases


@pytest.mark.parametrize(
    ("alias", "target", "code"),
    [
        ("champion", 9, "RG501"),
        ("staging", 2, "RG502"),
        ("old", 1, "RG503"),
    ],
)
def test_rg5xx_aliases(repo: Path, alias: str, target: int, code: str) -> None:
    def edit(root: Path) -> None:
        path = root / "models/churn/model.yaml"
        set_line(
            path,
            "champion: 3",
            f"champion: 3\n  {alias}: {target}" if alias != "champion" else f"champion: {target}",
        )

    report = pr(repo, edit)
    finding = only(report, code)
    assert finding.file == "models/churn/model.yaml"
    assert finding.line == line_of(repo / finding.file, f"{alias}: {target}")


# ---------------------------------------------------------------------------
# RG6xx lineage


def test_rg601_parent_does_not_resolve(repo: Path) -> None:
    report = pr(
        repo,
        lambda r: write_version(
            r, "churn", 4, lineage={"parents": ["models:/churn/3", "models:/nope/1"]}
        ),
    )
    finding = only(report, "RG601")
    assert finding.file == "models/churn/4/version.yaml"
    assert finding.line == line_of(repo / finding.file, "models:/nope/1")


def test_rg602_lineage_cycle(repo: Path) -> None:
    def edit(root: Path) -> None:
        write_version(root, "churn", 4, lineage={"parents": ["models:/churn/5"]})
        write_version(root, "churn", 5, lineage={"parents": ["models:/churn/4"]})

    finding = only(pr(repo, edit), "RG602")
    assert finding.file == "models/churn/4/version.yaml"
    assert finding.line == line_of(repo / finding.file, "parents:")
    assert "churn/4 → churn/5 → churn/4" in finding.message


def test_rg602_cycle_search_is_iterative_on_long_chains() -> None:
    edges = {("m", n): [("m", n + 1)] for n in range(1, 5000)}
    edges[("m", 5000)] = [("m", 1)]
    cycles = list(_cycles(edges))
    assert len(cycles) == 1 and len(cycles[0]) == 5000


def test_rg603_parent_by_stage_is_a_warning(repo: Path) -> None:
    report = pr(
        repo,
        lambda r: write_version(r, "churn", 4, lineage={"parents": ["models:/churn/Production"]}),
    )
    finding = only(report, "RG603")
    assert finding.severity == "warning" and "models:/churn/3" in finding.message
    assert not report.failed() and report.failed(strict=True)


# ---------------------------------------------------------------------------
# RG7xx annotations


def test_rg701_unsafe_markup_in_a_changed_description(repo: Path) -> None:
    report = pr(
        repo,
        lambda r: write_version(
            r, "churn", 4, description="See [docs](javascript:alert(1)) <script>x</script>"
        ),
    )
    finding = only(report, "RG701")
    assert finding.file == "models/churn/4/version.yaml"
    assert finding.line == line_of(repo / finding.file, "description:")
    assert "javascript:" in finding.message and "<script>" in finding.message
    assert finding.severity == "warning"


def test_rg702_a_description_beyond_the_render_limits_is_named_not_rendered(repo: Path) -> None:
    # 20 KB of unclosed brackets took over a minute to render before the limits.
    report = pr(repo, lambda r: write_version(r, "churn", 4, description="[" * 9_000 + "x"))
    finding = only(report, "RG702")
    assert finding.file == "models/churn/4/version.yaml"
    assert finding.line == line_of(repo / finding.file, "description:")
    assert "plain text" in finding.message and finding.severity == "warning"
    assert not [f for f in report.findings if f.code == "RG701"]


# ---------------------------------------------------------------------------
# RG8xx approvals


def test_rg801_lists_owners_and_stage_approvers(repo: Path) -> None:
    def edit(root: Path) -> None:
        write_version(
            root, "churn", 2, stage="Production", description="Two.", metrics={"auc": 0.86}
        )
        set_line(root / "models/churn/3/version.yaml", "stage: Production", "stage: Archived")
        set_line(root / "models/churn/model.yaml", "champion: 3", "champion: 2")

    report = pr(repo, edit)
    assert not report.errors, report.findings
    messages = [n.message for n in report.notices]
    assert any("@ml-team" in m for m in messages)
    stage = next(n for n in report.notices if "@ml-leads" in n.message)
    assert (stage.file, stage.line) == ("models/churn/2/version.yaml", 2)
    assert report.change is not None
    assert report.change.models[0].approvers == ("@ml-team", "@ml-leads")


def test_rg802_stale_codeowners(repo: Path) -> None:
    def edit(root: Path) -> None:
        (root / ".github").mkdir()
        (root / ".github/CODEOWNERS").write_text("/models/churn/ @someone-else\n")

    finding = only(pr(repo, edit), "RG802")
    assert finding.file == ".github/CODEOWNERS"


def test_rg802_current_codeowners_passes(repo: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(repo), "codeowners"])
    assert result.exit_code == 0, result.output
    assert not validate_tree(repo).findings
    git(repo, "add", "-A")
    commit(repo, "CODEOWNERS")
    assert not validate_tree(repo, rev="HEAD").findings


def test_rg803_owner_that_codeowners_cannot_enforce(repo: Path) -> None:
    report = pr(
        repo, lambda r: write_model(r, "fraud", description="Flags fraud.", owners=["alice"])
    )
    finding = only(report, "RG803")
    assert (finding.file, finding.line) == ("models/fraud/model.yaml", 4)
    assert "'@alice'" in finding.message


# ---------------------------------------------------------------------------
# RG9xx artifacts


def test_rg901_missing_pointer(repo: Path) -> None:
    report = pr(repo, lambda r: (r / "models/fraud/1/model.skops.dvc").unlink())
    finding = only(report, "RG901")
    assert finding.file == "models/fraud/1/version.yaml"
    assert finding.line == line_of(repo / finding.file, "path:")


def test_rg902_pointer_tracks_another_file(repo: Path) -> None:
    report = pr(
        repo,
        lambda r: set_line(
            r / "models/fraud/1/model.skops.dvc", "path: model.skops", "path: other.skops"
        ),
    )
    finding = only(report, "RG902")
    assert finding.file == "models/fraud/1/model.skops.dvc"
    assert finding.line == line_of(repo / finding.file, "path:")


def test_rg903_new_artifact_missing_from_a_local_remote(repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    (repo / ".dvc").mkdir()
    (repo / ".dvc/config").write_text(
        f"[core]\n    remote = store\n['remote \"store\"']\n    url = {remote}\n"
    )
    git(repo, "add", ".dvc")
    commit(repo, "DVC remote")

    def edit(root: Path) -> None:
        write_version(root, "churn", 4, content=b"pushed")
        write_version(root, "churn", 5, content=b"not pushed")

    pushed = hashlib.md5(b"pushed").hexdigest()
    (remote / "files/md5" / pushed[:2]).mkdir(parents=True)
    (remote / "files/md5" / pushed[:2] / pushed[2:]).write_bytes(b"pushed")
    git(repo, "checkout", "-q", "-b", "pr", "main")
    edit(repo)
    commit(repo, "register")
    report = validate_change(repo, "main", "pr", check_remote=True)
    finding = only(report, "RG903")
    assert (finding.file, finding.line) == ("models/churn/5/model.skops.dvc", 2)
    assert not validate_change(repo, "main", "pr").errors


# ---------------------------------------------------------------------------
# The rule table and the command line


def test_every_rule_is_documented() -> None:
    docs = (Path(__file__).parent.parent / "docs/rules.md").read_text()
    for code, rule in RULES.items():
        assert f"| {code} |" in docs and rule.title in docs, code


def test_cli_exit_codes_and_formats(repo: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["-C", str(repo), "validate"])
    assert ok.exit_code == 0, ok.output
    assert "passed" in ok.output

    git(repo, "checkout", "-q", "-b", "pr")
    write_version(repo, "churn", 4, lineage={"parents": ["models:/churn/Production"]})
    set_line(repo / "models/fraud/1/version.yaml", "stage: None", "stage: Produktion")
    commit(repo, "bad")
    summary = tmp_path / "summary.md"
    bad = runner.invoke(
        main,
        [
            "-C",
            str(repo),
            "validate",
            "--base",
            "main",
            "--format",
            "github",
            "--summary",
            str(summary),
        ],
    )
    assert bad.exit_code == 1
    assert (
        "::error file=models/fraud/1/version.yaml,line=2,title=RG401 unknown-stage::" in bad.stdout
    )
    assert "registers churn v4" in summary.read_text()

    # Fix the error: only the warning remains, which fails only with --strict.
    set_line(repo / "models/fraud/1/version.yaml", "stage: Produktion", "stage: None")
    commit(repo, "fix")
    warn = runner.invoke(main, ["-C", str(repo), "validate", "--base", "main", "--format", "json"])
    assert warn.exit_code == 0, warn.output
    strict = runner.invoke(main, ["-C", str(repo), "validate", "--base", "main", "--strict"])
    assert strict.exit_code == 1
    usage = runner.invoke(main, ["-C", str(repo), "validate", "--head", "pr"])
    assert usage.exit_code == 2
    missing = runner.invoke(main, ["-C", str(repo), "validate", "--base", "no-such-branch"])
    # A base that is not a commit is a usage error (exit 2) naming the option (issue 10).
    assert missing.exit_code == 2 and "--base: 'no-such-branch'" in missing.output


def test_files_git_ignores_are_not_stray_in_the_working_tree(repo: Path) -> None:
    (repo / ".gitignore").write_text(".DS_Store\n")
    (repo / "models/churn/.DS_Store").write_bytes(b"\0\1")
    assert validate_tree(repo).findings == ()
    (repo / "models/churn/notes.txt").write_text("not ignored\n")
    assert only(validate_tree(repo), "RG207").file == "models/churn/notes.txt"


def test_a_policy_change_needs_the_approvers(repo: Path) -> None:
    report = pr(repo, lambda r: (r / "registry.yaml").write_text(POLICY + "requires: {}\n"))
    assert not report.errors
    notice = only(report, "RG801")
    assert notice.file == "registry.yaml" and "@ml-leads" in notice.message
    assert report.change is not None and report.change.policy_changed


# ---------------------------------------------------------------------------
# Every problem of a record file, each with its own line and field (issue 9)


def test_four_problems_in_one_version_record_give_four_findings(repo: Path) -> None:
    record = repo / "models/fraud/1/version.yaml"

    def edit(root: Path) -> None:
        text = record.read_text()
        text = text.replace("stage: None", "stage: 5")
        text = text.replace("created_by: alice", "created_by: [alice]")
        record.write_text(text + "colour: red\nmetrics:\n  auc: high\n")

    found = [f for f in pr(repo, edit).findings if f.code == "RG101"]
    assert len(found) == 4, found
    assert {f.file for f in found} == {"models/fraud/1/version.yaml"}
    assert sorted((f.line, f.field) for f in found) == sorted(
        [
            (line_of(record, "stage: 5"), "stage"),
            (line_of(record, "created_by:"), "created_by"),
            (line_of(record, "colour: red"), "colour"),
            (line_of(record, "auc: high"), "metrics.auc"),
        ]
    )
    assert len({f.line for f in found}) == 4
    as_json = [f.to_dict()["field"] for f in found]
    assert None not in as_json


def test_a_model_record_problem_is_an_invalid_record_not_a_version_folder(repo: Path) -> None:
    # Every model.yaml problem used to be labelled RG301 (version folders are named 1, 2, 3).
    report = pr(
        repo,
        lambda r: set_line(r / "models/fraud/model.yaml", "name: fraud", "name: fraud\nowners: 7"),
    )
    finding = only(report, "RG101")
    assert (finding.file, finding.field) == ("models/fraud/model.yaml", "owners")
    assert finding.line == line_of(repo / "models/fraud/model.yaml", "owners: 7")
    assert "RG301" not in codes(report)


def test_record_errors_carry_a_code_the_rule_comes_from() -> None:
    from registry_gen.errors import Location, RecordError
    from registry_gen.validate import record_rule

    def rule(file: str, code: str) -> str:
        return record_rule(RecordError(Location(file), "whatever the wording", code=code))  # type: ignore[arg-type]

    assert rule("models/churn/model.yaml", "schema") == "RG101"
    assert rule("models/churn/model.yaml", "yaml") == "RG101"
    assert rule("registry.yaml", "schema") == "RG102"
    assert rule("models/churn/1/model.skops.dvc", "schema") == "RG103"
    assert rule("models/churn/model.yaml", "missing-file") == "RG104"
    assert rule("models/Churn", "model-folder-name") == "RG201"
    assert rule("models/search", "model-folder-name") == "RG203"
    assert rule("models/churn/model.yaml", "name-mismatch") == "RG202"
    assert rule("models/churn/x", "version-folder-name") == "RG301"
    assert rule("models/churn/1/version.yaml", "version-mismatch") == "RG301"
