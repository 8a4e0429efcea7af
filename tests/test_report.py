"""The validator's output: for people, JSON, GitHub annotations and the step summary in words."""

from __future__ import annotations

import json

from registry_gen.report import (
    describe_change,
    describe_model_change,
    format_github,
    format_human,
    format_json,
    format_summary,
    printable,
    runner_safe,
)
from registry_gen.validate import ChangeSummary, Finding, ModelChange, Report

STAGES = ("None", "Staging", "Production", "Archived")
CHANGE = ChangeSummary(
    base="main (1234567890)",
    head="pr (abcdef1234)",
    stage_order=STAGES,
    models=(
        ModelChange("churn", registered=((4, "None"),)),
        ModelChange(
            "churn2",
            stage_changes=((2, "Production", "Archived"), (3, "Staging", "Production")),
            approvers=("@ml-team", "@ml-leads"),
        ),
    ),
)
FINDINGS = (
    Finding("RG404", "churn has 2 versions in Production", "models/churn/3/version.yaml", 2),
    Finding("RG207", "stray file", "models/churn/notes.txt"),
    Finding("RG603", "pin the parent", "models/churn/4/version.yaml", 9, "warning"),
    Finding(
        "RG801",
        "changes to churn need a review by its owners: @ml-team",
        "models/churn/model.yaml",
        None,
        "notice",
    ),
)
REPORT = Report(FINDINGS, CHANGE, "pr (abcdef1234)")


def test_the_change_in_words() -> None:
    assert describe_change(CHANGE) == (
        "registers churn v4; promotes churn2 v3 Staging → Production and archives v2"
    )


def test_every_kind_of_model_change_has_words() -> None:
    change = ModelChange(
        "fraud", created=True, registered=((1, "Staging"),), aliases_set=(("champion", None, 1),)
    )
    assert describe_model_change(change) == (
        "registers new model fraud v1 in Staging and points @champion at v1"
    )
    moved = ModelChange(
        "fraud",
        stage_changes=((2, "Archived", "Staging"), (3, "Production", "Staging")),
        aliases_set=(("champion", 3, 2),),
        aliases_removed=(("old", 1),),
        edited=(4,),
        record_edited=True,
    )
    assert describe_model_change(moved, STAGES) == (
        "restores fraud v2 to Staging, moves v3 Production → Staging, points @champion at v2 "
        "(was v3), removes @old (was v1), edits v4 and edits model.yaml"
    )
    assert describe_model_change(ModelChange("fraud", aliases_removed=(("old", 1),))) == (
        "removes fraud@old (was v1)"
    )
    assert describe_change(ChangeSummary("a", "b", policy_changed=True)) == (
        "changes registry.yaml"
    )
    assert describe_change(ChangeSummary("a", "b")) == "no registry changes"


def test_human_output_is_grouped_by_file_without_colour_by_default() -> None:
    text = format_human(REPORT)
    assert "\033[" not in text
    lines = text.splitlines()
    header = lines.index("models/churn/3/version.yaml")
    assert lines[header + 1].split()[:3] == ["2", "error", "RG404"]
    assert "Change: registers churn v4;" in text
    assert lines[-1] == "pr (abcdef1234): failed (2 errors, 1 warning, 1 notice)"


def test_human_output_colours_on_request() -> None:
    assert "\033[31merror\033[0m" in format_human(REPORT, colour=True)


def test_warnings_fail_only_when_strict() -> None:
    warning_only = Report((FINDINGS[2], FINDINGS[3]))
    assert not warning_only.failed() and warning_only.failed(strict=True)
    assert format_human(warning_only).endswith("passed (0 errors, 1 warning, 1 notice)")
    assert json.loads(format_json(warning_only, strict=True))["ok"] is False


def test_json_output() -> None:
    data = json.loads(format_json(REPORT))
    assert data["ok"] is False
    assert data["counts"] == {"error": 2, "warning": 1, "notice": 1}
    assert data["findings"][0] == {
        "code": "RG404",
        "title": "single-holder",
        "severity": "error",
        "message": "churn has 2 versions in Production",
        "file": "models/churn/3/version.yaml",
        "line": 2,
        "field": None,
    }
    assert data["change"]["models"][1]["stage_changes"][1] == {
        "version": 3,
        "from": "Staging",
        "to": "Production",
    }
    assert data["change"]["summary"].startswith("registers churn v4")


def test_github_annotations_and_escaping() -> None:
    lines = format_github(REPORT).splitlines()
    assert lines[0] == (
        "::error file=models/churn/3/version.yaml,line=2,title=RG404 "
        "single-holder::churn has 2 versions in Production"
    )
    assert lines[1] == "::error file=models/churn/notes.txt,title=RG207 stray-file::stray file"
    assert lines[2].startswith("::warning file=models/churn/4/version.yaml,line=9,")
    assert lines[3].startswith("::notice ")
    tricky = Report((Finding("RG101", "bad\n::error::forged 100%", "a,b:c.yaml", 1),))
    assert format_github(tricky) == (
        "::error file=a%2Cb%3Ac.yaml,line=1,title=RG101 invalid-record::"
        "bad%0A::error::forged 100%25"
    )


def test_step_summary_markdown() -> None:
    text = format_summary(REPORT)
    assert text.startswith("## Registry validation: ❌ failed")
    assert (
        "**Change:** registers churn v4; promotes churn2 v3 Staging → Production and archives v2"
    ) in text
    assert "- changes to churn need a review by its owners: @ml-team" in text
    assert "| error | RG404 single-holder | `models/churn/3/version.yaml:2` |" in text
    injected = Report((Finding("RG101", "<img src=x onerror=alert(1)> a|b", "x.yaml"),))
    table_row = format_summary(injected).splitlines()[-3]
    assert "<img" not in table_row and "&lt;img" in table_row and "a\\|b" in table_row


def test_the_change_in_words_uses_the_policys_stages() -> None:
    change = ModelChange(
        "churn",
        registered=((4, "Dev"),),
        stage_changes=((3, "Live", "Retired"), (2, "Dev", "Live")),
    )
    summary = ChangeSummary(
        "a",
        "b",
        models=(change,),
        stage_order=("Dev", "Live", "Retired"),
        default_stage="Dev",
        archive_stage="Retired",
    )
    assert describe_change(summary) == (
        "registers churn v4, promotes v2 Dev → Live and archives v3"
    )


# ---------------------------------------------------------------------------
# Values from a pull request cannot shape the report (issue 10)

FORGED = Report(
    (
        Finding("RG207", "stray file", "models/x/1/a\n::error file=registry.yaml::forged"),
        Finding("RG101", "bad\r\n##[error]legacy \x1b[2Jclear \u202egnp.exe", "m.yaml", 1),
    ),
    revision="pr\n::notice::x (abc)",
)


def test_human_report_shows_control_characters_as_escapes() -> None:
    text = format_human(FORGED)
    lines = text.splitlines()
    assert "models/x/1/a\\n::error file=registry.yaml::forged" in lines
    assert any(
        line.endswith("bad\\r\\n##[error]legacy \\x1b[2Jclear \\u202egnp.exe") for line in lines
    )
    assert "\x1b" not in text and "\u202e" not in text and "\r" not in text
    assert lines[-1].startswith("pr\\n::notice::x (abc): failed")
    assert printable("plain név") == "plain név"


def test_runner_safe_text_holds_no_workflow_command() -> None:
    text = runner_safe(format_human(FORGED) + "\n::error::raw\n   ::warning::indented")
    for line in text.splitlines():
        assert not line.lstrip().startswith("::") and "##[" not in line, line
    assert "\\::error::raw" in text and "#\\#[error]legacy" in text
    assert runner_safe("a::b c:: d") == "a::b c:: d"  # only a line's start is a command
