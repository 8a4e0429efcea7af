"""Issue 15 item 6: `validate --base` judges a change by what it touches (``validate/_scope``).

Every scenario is a real pull request (a base on main, a head on a branch) judged
twice: scoped, as CI runs it, and over the whole head (``_judge_change(...,
scoped=False)``, the validator before the scope). Both must give the same
findings. The attacks are changes to one model that make another, untouched
model invalid: the scoped check must still fail them, or hand them to the full one.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from builders import DEFAULT_POLICY, commit, git, small_registry_at, write_model, write_version
from registry_gen import _git
from registry_gen.codeowners import write_codeowners
from registry_gen.errors import GitError
from registry_gen.store import load_index
from registry_gen.validate import Finding, Report, _scope, validate_tree
from registry_gen.validate._runner import _judge_change

POLICY = DEFAULT_POLICY + "approvers:\n  Production: ['@ml-leads']\nadmins: ['@org/admins']\n"
WHOLE = "judging the whole head"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """churn v1-v3 (v3 Production, @champion v3), fraud v1, ranker v1-v2 and scorer v1
    (lineage pinned to churn, fraud and each other), a redirect churn-old → churn, and
    the CODEOWNERS they make. Valid: no finding at all."""
    root = small_registry_at(tmp_path_factory.mktemp("template") / "registry", policy=POLICY)
    write_model(root, "ranker", description="Ranks.", owners=["@rank-team"])
    write_version(root, "ranker", 1, lineage={"parents": ["models:/churn/2"]})
    write_version(
        root,
        "ranker",
        2,
        stage="Staging",
        lineage={"parents": ["models:/ranker/1", "models:/fraud/1"]},
    )
    write_model(root, "scorer", description="Scores.")
    write_version(root, "scorer", 1, lineage={"parents": ["models:/ranker/2"]})
    (root / "models/churn-old").mkdir()
    (root / "models/churn-old/moved.yaml").write_text("to: churn\n")
    write_codeowners(root, load_index(root))
    commit(root, "ranker, scorer, a redirect and CODEOWNERS")
    report = validate_tree(root, "main")
    assert not report.findings, report.findings
    return root


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    shutil.copytree(template, root, symlinks=True)
    return root


def on_main(root: Path, edit: Callable[[Path], object]) -> None:
    """A base that already holds what ``edit`` writes (a victim of a later attack)."""
    edit(root)
    commit(root, "base")


def judge(
    root: Path, edit: Callable[[Path], object], caplog: pytest.LogCaptureFixture
) -> tuple[Report, Report, bool]:
    """The pull request ``edit`` judged scoped and whole, and whether the scoped run fell back."""
    git(root, "checkout", "-q", "-b", "pr", "main")
    edit(root)
    commit(root, "the pull request")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="registry_gen.validate"):
        scoped = _judge_change(root, "main", "pr")
    fell_back = WHOLE in caplog.text
    full = _judge_change(root, "main", "pr", scoped=False)
    return scoped, full, fell_back


def same(scoped: Report, full: Report) -> None:
    assert scoped.findings == full.findings
    assert scoped.change == full.change
    assert scoped.revision == full.revision


def codes(report: Report) -> set[str]:
    return {f.code for f in report.findings if f.severity != "notice"}


def of(report: Report, code: str) -> list[Finding]:
    return [f for f in report.findings if f.code == code]


def set_line(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, text
    path.write_text(text.replace(old, new))


# ---------------------------------------------------------------------------
# The same findings as the whole head, on the changes pull requests make


def register(root: Path) -> None:
    write_version(
        root,
        "churn",
        4,
        stage="Staging",
        description="Retrained.",
        metrics={"auc": 0.93},
        lineage={"parents": ["models:/churn/3", "models:/ranker/1", "models:/churn-old/2"]},
    )


def promote(root: Path) -> None:
    set_line(
        root / "models/churn/2/version.yaml",
        "stage: Staging",
        "stage: Production\ndescription: Second.",
    )
    set_line(root / "models/churn/3/version.yaml", "stage: Production", "stage: Archived")
    set_line(root / "models/churn/model.yaml", "champion: 3", "champion: 2")


def move_alias(root: Path) -> None:
    set_line(root / "models/churn/model.yaml", "champion: 3", "champion: 2")


def describe(root: Path) -> None:
    set_line(root / "models/fraud/model.yaml", "Flags fraud.", "Flags **fraud** in payments.")


def new_model(root: Path) -> None:
    write_model(root, "pricer", description="Prices.", owners=["@price-team"])
    write_version(root, "pricer", 1, lineage={"parents": ["models:/scorer/1"]})
    write_codeowners(root, load_index(root))


def promote_two_models(root: Path) -> None:
    set_line(root / "models/fraud/1/version.yaml", "stage: None", "stage: Staging")
    set_line(root / "models/ranker/1/version.yaml", "stage: None", "stage: Staging")


GOOD = [register, promote, move_alias, describe, new_model, promote_two_models]


@pytest.mark.parametrize("edit", GOOD, ids=lambda e: e.__name__)
def test_good_changes_are_scoped_and_pass_as_in_full(
    repo: Path, edit: Callable[[Path], object], caplog: pytest.LogCaptureFixture
) -> None:
    scoped, full, fell_back = judge(repo, edit, caplog)
    assert not fell_back, caplog.text
    assert codes(scoped) <= {"RG804"}, scoped.findings  # CODEOWNERS regenerated: the admins'
    same(scoped, full)


def jump_to_production(root: Path) -> None:
    set_line(root / "models/fraud/1/version.yaml", "stage: None", "stage: Production")


def edit_immutable(root: Path) -> None:
    set_line(root / "models/churn/1/version.yaml", "created_by: alice", "created_by: mallory")


def parent_names_nothing(root: Path) -> None:
    write_version(root, "churn", 4, lineage={"parents": ["models:/nope/1", "models:/ranker/9"]})


def skip_a_number(root: Path) -> None:
    write_version(root, "fraud", 3)


def alias_to_nothing(root: Path) -> None:
    set_line(root / "models/churn/model.yaml", "champion: 3", "champion: 7")


def new_model_without_codeowners(root: Path) -> None:
    write_model(root, "pricer", description="Prices.", owners=["@price-team"])
    write_version(root, "pricer", 1)


def unsafe_markup(root: Path) -> None:
    write_version(root, "fraud", 2, description="See [x](javascript:alert(1))")


def cycle_in_new_versions(root: Path) -> None:
    write_version(root, "churn", 4, lineage={"parents": ["models:/churn/5"]})
    write_version(root, "churn", 5, lineage={"parents": ["models:/churn/4"]})


def stray_file(root: Path) -> None:
    (root / "models/fraud/1/notes.txt").write_text("hi\n")


def second_production(root: Path) -> None:
    set_line(root / "models/churn/2/version.yaml", "stage: Staging", "stage: Production")


def unpinned_parent(root: Path) -> None:
    write_version(root, "fraud", 2, lineage={"parents": ["models:/churn@champion"]})


BAD: dict[Callable[[Path], object], str] = {
    jump_to_production: "RG405",
    edit_immutable: "RG305",
    parent_names_nothing: "RG601",
    skip_a_number: "RG303",
    alias_to_nothing: "RG501",
    new_model_without_codeowners: "RG802",
    unsafe_markup: "RG701",
    cycle_in_new_versions: "RG602",
    stray_file: "RG207",
    second_production: "RG404",
    unpinned_parent: "RG603",
}


@pytest.mark.parametrize("edit", BAD, ids=lambda e: e.__name__)
def test_bad_changes_are_scoped_and_fail_as_in_full(
    repo: Path, edit: Callable[[Path], object], caplog: pytest.LogCaptureFixture
) -> None:
    scoped, full, fell_back = judge(repo, edit, caplog)
    assert not fell_back, caplog.text
    assert BAD[edit] in codes(scoped), scoped.findings
    same(scoped, full)


def test_a_parent_naming_no_model_lists_every_registered_name(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """RegistryIndex.model lists the first registered names: the scoped index reads them."""
    scoped, _, _ = judge(repo, parent_names_nothing, caplog)
    (finding,) = [f for f in of(scoped, "RG601") if "nope" in f.message]
    assert "registered models: churn, fraud, ranker, scorer" in finding.message


def test_a_one_model_change_reads_only_that_model(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """fraud v1 is named by ranker v2 (pinned): nothing reads fraud's versions by stage,
    so a promotion of fraud reads fraud and the models whose lineage names it."""
    judge(repo, lambda r: set_line(r / "models/fraud/1/version.yaml", "None", "Staging"), caplog)
    # fraud; ranker (its v2 names fraud v1), and churn (the redirect churn-old's target,
    # and ranker v1's parent); of five folders (churn-old holds the redirect alone).
    assert "judging 3 of 5" in caplog.text


# ---------------------------------------------------------------------------
# Changes that can alter every record are judged whole


def change_policy(root: Path) -> None:
    (root / "registry.yaml").write_text(POLICY + "max_git_file_bytes: 300000\n")


def rename(root: Path) -> None:
    shutil.move(root / "models/fraud", root / "models/fraud-detector")
    set_line(root / "models/fraud-detector/model.yaml", "name: fraud", "name: fraud-detector")
    (root / "models/fraud").mkdir()
    (root / "models/fraud/moved.yaml").write_text("to: fraud-detector\n")


def delete_model(root: Path) -> None:
    shutil.rmtree(root / "models/fraud")


def break_model(root: Path) -> None:
    set_line(root / "models/churn/2/version.yaml", "stage: Staging", "stage: [Staging]")


def delete_model_file(root: Path) -> None:
    (root / "models/churn/model.yaml").unlink()


WHOLE_HEAD = [change_policy, rename, delete_model, break_model, delete_model_file]


@pytest.mark.parametrize("edit", WHOLE_HEAD, ids=lambda e: e.__name__)
def test_changes_that_reach_every_record_are_judged_whole(
    repo: Path, edit: Callable[[Path], object], caplog: pytest.LogCaptureFixture
) -> None:
    scoped, full, fell_back = judge(repo, edit, caplog)
    assert fell_back, caplog.text
    same(scoped, full)


def test_deleting_a_model_others_name_fails_on_both(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scoped, _, fell_back = judge(repo, delete_model, caplog)
    assert fell_back
    assert {"RG304", "RG601"} <= codes(scoped)  # ranker v2 names fraud v1
    assert any(f.file == "models/ranker/2/version.yaml" for f in of(scoped, "RG601"))


def test_a_scope_past_half_the_records_is_judged_whole(
    repo: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_scope, "_SMALL_RECORDS", 0)
    scoped, full, fell_back = judge(repo, register, caplog)
    assert fell_back and "records, as many as a full read" in caplog.text
    same(scoped, full)


# ---------------------------------------------------------------------------
# Attacks: a change to churn that makes an untouched model invalid


def victim(parent: str) -> Callable[[Path], None]:
    """scorer v2, whose lineage names ``parent`` (a warning in the base when unpinned)."""

    def write(root: Path) -> None:
        write_version(root, "scorer", 2, lineage={"parents": [parent]})

    return write


def attack(
    root: Path,
    base: Callable[[Path], object],
    edit: Callable[[Path], object],
    caplog: pytest.LogCaptureFixture,
) -> Report:
    on_main(root, base)
    scoped, full, fell_back = judge(root, edit, caplog)
    assert not fell_back, caplog.text
    same(scoped, full)
    assert scoped.failed()
    return scoped


def drop_alias(root: Path) -> None:
    set_line(root / "models/churn/model.yaml", "  champion: 3\n", "")
    set_line(root / "models/churn/model.yaml", "aliases:\n", "aliases: {}\n")


def test_removing_an_alias_another_model_names_fails(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    report = attack(repo, victim("models:/churn@champion"), drop_alias, caplog)
    (finding,) = of(report, "RG601")
    assert finding.file == "models/scorer/2/version.yaml"


def test_archiving_the_production_version_another_model_names_fails(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def archive(root: Path) -> None:
        set_line(root / "models/churn/3/version.yaml", "stage: Production", "stage: Archived")
        set_line(root / "models/churn/model.yaml", "champion: 3", "champion: 2")

    report = attack(repo, victim("models:/churn/Production"), archive, caplog)
    assert [f.file for f in of(report, "RG601")] == ["models/scorer/2/version.yaml"]


def test_a_new_latest_version_that_closes_a_cycle_fails(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    report = attack(
        repo,
        victim("models:/churn/latest"),
        lambda r: write_version(r, "churn", 4, lineage={"parents": ["models:/scorer/2"]}),
        caplog,
    )
    (finding,) = of(report, "RG602")
    assert "churn/4 → scorer/2 → churn/4" in finding.message


def test_a_cycle_reads_the_same_whichever_version_the_search_enters_it_by(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """aardvark v1 (untouched, first in order) descends from the new cycle: the whole-head
    search enters the cycle through it, the scoped one at churn v4; one message."""

    def base(root: Path) -> None:
        victim("models:/churn/latest")(root)
        write_model(root, "aardvark", description="First.")
        write_version(root, "aardvark", 1, lineage={"parents": ["models:/scorer/2"]})
        write_codeowners(root, load_index(root))

    def edit(root: Path) -> None:
        write_version(root, "churn", 4, lineage={"parents": ["models:/scorer/2"]})

    report = attack(repo, base, edit, caplog)
    (finding,) = of(report, "RG602")
    assert "churn/4 → scorer/2 → churn/4" in finding.message


def test_a_cycle_through_unchanged_models_fails(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """churn@champion moves to a new v4 whose parent (ranker v3) descends from scorer v2,
    which names churn@champion: the cycle runs through two untouched models."""

    def base(root: Path) -> None:
        victim("models:/churn@champion")(root)
        write_version(root, "ranker", 3, lineage={"parents": ["models:/scorer/2"]})

    def edit(root: Path) -> None:
        write_version(root, "churn", 4, lineage={"parents": ["models:/ranker/3"]})
        set_line(root / "models/churn/model.yaml", "champion: 3", "champion: 4")

    report = attack(repo, base, edit, caplog)
    assert of(report, "RG602"), report.findings


def test_deleting_a_version_another_model_names_fails(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def delete(root: Path) -> None:
        shutil.rmtree(root / "models/churn/3")
        set_line(root / "models/churn/model.yaml", "champion: 3", "champion: 2")

    report = attack(repo, victim("models:/churn/3"), delete, caplog)
    assert {"RG304", "RG601"} <= codes(report)
    assert any(f.file == "models/scorer/2/version.yaml" for f in of(report, "RG601"))


def test_a_parent_named_through_a_redirect_is_found(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    report = attack(repo, victim("models:/churn-old@champion"), drop_alias, caplog)
    assert [f.file for f in of(report, "RG601")] == ["models/scorer/2/version.yaml"]


def test_a_parent_spelled_with_a_yaml_escape_is_found(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    r"""``"models:/ch\x75rn@champion"`` holds no ``models:/churn`` byte for byte: the
    backslash makes the record a candidate anyway."""

    def base(root: Path) -> None:
        victim("models:/churn@champion")(root)
        set_line(
            root / "models/scorer/2/version.yaml",
            "- models:/churn@champion",
            '- "models:/ch\\x75rn@champion"',
        )

    report = attack(repo, base, drop_alias, caplog)
    assert [f.file for f in of(report, "RG601")] == ["models/scorer/2/version.yaml"]


def test_a_redirect_target_that_names_the_changed_model_is_judged(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """churn is read anyway (churn-old redirects to it); its new v4 names fraud@best.
    Read is not judged: dropping fraud's alias must still fail churn v4."""

    def base(root: Path) -> None:
        set_line(
            root / "models/fraud/model.yaml", "name: fraud", "name: fraud\naliases:\n  best: 1"
        )
        write_version(root, "churn", 4, lineage={"parents": ["models:/fraud@best"]})

    def edit(root: Path) -> None:
        set_line(root / "models/fraud/model.yaml", "aliases:\n  best: 1", "aliases: {}")

    report = attack(repo, base, edit, caplog)
    assert [f.file for f in of(report, "RG601")] == ["models/churn/4/version.yaml"]


def test_new_owners_without_codeowners_fail(repo: Path, caplog: pytest.LogCaptureFixture) -> None:
    def edit(root: Path) -> None:
        set_line(root / "models/fraud/model.yaml", "name: fraud", "name: fraud\nowners: ['@x']")

    scoped, full, fell_back = judge(repo, edit, caplog)
    assert not fell_back
    same(scoped, full)
    assert [f.code for f in scoped.errors] == ["RG802"]


def test_a_hand_edited_codeowners_fails(repo: Path, caplog: pytest.LogCaptureFixture) -> None:
    def edit(root: Path) -> None:
        with (root / ".github/CODEOWNERS").open("a") as out:
            out.write("/models/churn/ @mallory\n")

    scoped, full, fell_back = judge(repo, edit, caplog)
    assert not fell_back
    same(scoped, full)
    assert "RG802" in codes(scoped)


def test_a_model_beside_a_redirect_fails(repo: Path, caplog: pytest.LogCaptureFixture) -> None:
    """models/churn-old/ keeps only its moved.yaml: a model written there is RG209."""

    def edit(root: Path) -> None:
        write_model(root, "churn-old", description="Back.")

    scoped, full, fell_back = judge(repo, edit, caplog)
    assert not fell_back
    same(scoped, full)
    assert "RG209" in codes(scoped)


def test_a_name_that_collides_in_case_fails(repo: Path, caplog: pytest.LogCaptureFixture) -> None:
    def edit(root: Path) -> None:
        write_model(root, "Fraud", description="Shadow.")
        write_version(root, "Fraud", 1)

    scoped, full, fell_back = judge(repo, edit, caplog)
    assert fell_back  # the folder's name is not a model name: unreadable
    same(scoped, full)
    assert {"RG201", "RG204"} <= codes(scoped)


def test_a_collision_is_found_among_names_the_scope_did_not_read(repo: Path) -> None:
    """RG204 compares every model folder of the listing, read or not."""
    from registry_gen.store import FileEntry
    from registry_gen.validate import Findings, file_findings

    index = load_index(repo)
    files = [FileEntry("models/Fraud/model.yaml", 0o100644, 10)]
    out = Findings()
    file_findings(files, index, {}, out, working_tree=False, names=["churn", "fraud", "Fraud"])
    assert {f.code for f in out.resolve_lines({})} == {"RG204"}


# ---------------------------------------------------------------------------
# What the scope leaves to the base, and the git edge it searches with


def test_findings_of_untouched_models_are_the_bases_and_not_repeated(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A base that already warns (fraud v2 names churn by ``latest``): a change to ranker
    does not reach fraud, so only the whole-head run repeats fraud's warning."""
    on_main(repo, victim_of_latest)
    scoped, full, fell_back = judge(repo, describe_ranker, caplog)
    assert not fell_back
    assert not codes(scoped)
    assert codes(full) == {"RG603"}


def victim_of_latest(root: Path) -> None:
    write_version(root, "fraud", 2, lineage={"parents": ["models:/churn/latest"]})


def describe_ranker(root: Path) -> None:
    set_line(root / "models/ranker/model.yaml", "Ranks.", "Ranks results.")


def test_grep_files_finds_fixed_strings_and_tells_nothing_from_failure(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    found = _git.grep_files(repo, head, ["models:/churn/", "\\"], "models")
    assert found == ["models/ranker/1/version.yaml"]
    assert _git.grep_files(repo, head, ["no such text"], "models") == []
    with pytest.raises(GitError, match="grep"):
        _git.grep_files(repo, head, ["x"], ":(nonsense)models")


def test_a_literal_pathspec_environment_does_not_blind_the_search(
    repo: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With GIT_LITERAL_PATHSPECS=1 a glob names a file called ``*``: the search forces
    globs on, so the victim is still found."""
    monkeypatch.setenv("GIT_LITERAL_PATHSPECS", "1")
    report = attack(repo, victim("models:/churn@champion"), drop_alias, caplog)
    assert [f.file for f in of(report, "RG601")] == ["models/scorer/2/version.yaml"]


# ---------------------------------------------------------------------------
# The same findings on a generated registry's own pull requests


@pytest.mark.slow
def test_every_merged_pull_request_of_a_generated_registry_is_judged_the_same(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The benchmark generator's history (registrations, promotions, archives, alias
    moves, lineage between models): each of the last merged pull requests, and the
    range the benchmarks judge, give the same findings scoped and whole."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.generate import RegistrySpec, ensure_registry

    generated = ensure_registry(RegistrySpec(models=40, versions=5, seed=5), tmp_path)
    root = generated.root
    firsts = git(root, "rev-list", "--first-parent", "-n", "25", "main").split()
    ranges = [*zip(firsts[1:], firsts, strict=False), (generated.base_rev, "main")]
    scoped_runs = 0
    for base, head in ranges:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="registry_gen.validate"):
            scoped = _judge_change(root, base, head)
        scoped_runs += WHOLE not in caplog.text
        same(scoped, _judge_change(root, base, head, scoped=False))
    assert scoped_runs == len(ranges)


def test_many_touched_models_list_the_base_whole(
    repo: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The base is listed per touched model folder up to a count, then whole: the same."""
    from registry_gen.validate import _runner

    monkeypatch.setattr(_runner, "_LISTED_APART", 0)
    scoped, full, fell_back = judge(repo, promote_two_models, caplog)
    assert not fell_back
    same(scoped, full)
    assert scoped.change is not None
    assert {c.name for c in scoped.change.models} == {"fraud", "ranker"}


@pytest.mark.parametrize(
    "spelling",
    [
        "- 'models:/churn@champion'",  # single-quoted
        '- "models:/churn\\\n    @champion"',  # an escaped line break joins with nothing
        "- ! models:/churn@champion # the non-specific tag, a comment",
        "- >-\n    models:/churn@champion",  # a folded block scalar
    ],
)
def test_other_spellings_of_a_parent_are_found(
    repo: Path, caplog: pytest.LogCaptureFixture, spelling: str
) -> None:
    """Each YAML spelling of a parent holds ``models:/churn@`` or a backslash (red team)."""

    def base(root: Path) -> None:
        victim("models:/churn@champion")(root)
        set_line(root / "models/scorer/2/version.yaml", "- models:/churn@champion", spelling)
        record = (root / "models/scorer/2/version.yaml").read_text()
        assert "churn@champion" in str(load_index(root).models["scorer"].version(2).record), record

    report = attack(repo, base, drop_alias, caplog)
    assert [f.file for f in of(report, "RG601")] == ["models/scorer/2/version.yaml"]
