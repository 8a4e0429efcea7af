"""The registry-gen commands of the registry core, run as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from builders import git
from registry_gen.cli import main


def run(root: Path | None, *args: str) -> Result:
    prefix = ["-C", str(root)] if root is not None else []
    return CliRunner().invoke(main, [*prefix, *args], catch_exceptions=False)


@pytest.mark.slow
def test_done_when_flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """init, register --branch, promote --branch, show: the issue's acceptance test."""
    root = tmp_path / "reg"
    result = run(None, "init", str(root))
    assert result.exit_code == 0, result.output
    monkeypatch.chdir(root)
    Path("model.pkl").write_bytes(b"a model")
    result = run(
        None,
        "register",
        "churn",
        "model.pkl",
        "--description",
        "First churn model",
        "--metric",
        "auc=0.81",
        "--param",
        "max_depth=3",
        "--tag",
        "team=risk",
        "--run-id",
        "run-1",
        "--code",
        "https://github.com/acme/churn@3f2a9c1",
        "--branch",
    )
    assert result.exit_code == 0, result.output
    assert "Registered models:/churn/1" in result.output
    assert "branch register/churn-v1" in result.output
    files = git(root, "show", "--name-only", "--format=", "HEAD").split()
    assert "models/churn/1/version.yaml" in files
    assert any(f.startswith("dvc-remote/files/md5/") for f in files)

    result = run(None, "promote", "churn", "1", "Staging", "--branch")
    assert result.exit_code == 0, result.output
    assert "churn v1: None → Staging" in result.output
    stat = git(root, "show", "--numstat", "--format=", "HEAD").split()
    assert stat == ["1", "1", "models/churn/1/version.yaml"]

    result = run(None, "show", "models:/churn/Staging", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert (shown["name"], shown["version"], shown["stage"]) == ("churn", 1, "Staging")
    assert shown["metrics"] == {"auc": 0.81} and shown["params"] == {"max_depth": 3}
    assert shown["lineage"]["code"] == {
        "repo": "https://github.com/acme/churn",
        "commit": "3f2a9c1",
    }
    assert shown["artifact"]["format"] == "pickle" and len(shown["artifact"]["md5"]) == 32
    for uri in ("models:/churn/latest", "models:/churn/1", "models:/churn/staging"):
        assert json.loads(run(None, "show", uri, "--json").output)["version"] == 1


def test_promote_alias_and_show(small_registry: Path) -> None:
    result = run(small_registry, "promote", "fraud", "1", "staging")
    assert result.exit_code == 0 and "fraud v1: None → Staging" in result.output
    result = run(small_registry, "alias", "churn", "challenger", "2", "--branch")
    assert result.exit_code == 0, result.output
    assert "alias/churn-challenger-v2" in result.output
    shown = json.loads(run(small_registry, "show", "models:/churn@challenger", "--json").output)
    assert shown["version"] == 2 and shown["aliases"] == ["challenger"]
    result = run(small_registry, "alias", "churn", "challenger", "--delete")
    assert result.exit_code == 0 and "Removed churn@challenger" in result.output
    result = run(small_registry, "show", "churn")
    assert "aliases: @champion → v3" in result.output
    assert result.output.index("\n3 ") < result.output.index("\n1 ")  # newest first
    result = run(small_registry, "show", "models:/churn/3")
    assert result.output.startswith("models:/churn/3  Production  @champion")
    assert "metrics: auc=0.9" in result.output


def test_rule_and_usage_errors_exit_codes(small_registry: Path) -> None:
    result = run(small_registry, "promote", "churn", "2", "Production")
    assert result.exit_code == 1
    assert "error:" in result.stderr and "--archive-existing" in result.stderr
    result = run(small_registry, "promote", "churn", "3", "None")
    assert result.exit_code == 1 and "not allowed by registry.yaml" in result.stderr
    result = run(small_registry, "show", "models:/churn/../x")
    assert result.exit_code == 2 and "invalid model URI 'models:/churn/../x'" in result.stderr
    result = run(small_registry, "show", "models:/churn/Gold")
    assert result.exit_code == 1 and "'Gold' in models:/churn/Gold is not a stage" in (
        result.stderr
    )
    result = run(small_registry, "search", "name = churn")
    assert result.exit_code == 2 and "got 'churn'" in result.stderr
    result = run(small_registry, "promote", "churn")
    assert result.exit_code == 2  # click's own usage error
    result = run(small_registry, "alias", "churn", "champion")
    assert result.exit_code == 2 and "give the VERSION" in result.stderr


def test_describe_and_tag(small_registry: Path, tmp_path: Path) -> None:
    result = run(small_registry, "describe", "churn", "Predicts **churn**, retrained weekly.")
    assert result.exit_code == 0, result.output
    notes = tmp_path / "notes.md"
    notes.write_text("## Evaluation\n\nAUC 0.86 on May data.\n")
    result = run(small_registry, "describe", "churn", "2", "--file", str(notes), "--branch")
    assert result.exit_code == 0, result.output
    assert "describe/churn-v2" in result.output
    shown = json.loads(run(small_registry, "show", "models:/churn/2", "--json").output)
    assert shown["description"] == "## Evaluation\n\nAUC 0.86 on May data.\n"
    result = run(small_registry, "tag", "churn", "team=risk", "tier=gold")
    assert result.exit_code == 0, result.output
    result = run(small_registry, "tag", "churn", "2", "validated=yes")
    assert result.exit_code == 0, result.output
    shown = json.loads(run(small_registry, "show", "models:/churn/2", "--json").output)
    assert shown["tags"] == {"validated": "yes"}
    model = json.loads(run(small_registry, "show", "churn", "--json").output)
    assert model["tags"] == {"team": "risk", "tier": "gold"}
    result = run(small_registry, "tag", "churn", "--delete", "tier")
    assert result.exit_code == 0
    assert json.loads(run(small_registry, "show", "churn", "--json").output)["tags"] == {
        "team": "risk"
    }
    assert run(small_registry, "tag", "churn").exit_code == 2
    assert run(small_registry, "describe", "churn").exit_code == 2


def test_list_and_search(small_registry: Path) -> None:
    result = run(small_registry, "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAME", "VERSIONS", "LATEST", "STAGES", "ALIASES", "DESCRIPTION"]
    assert lines[1].startswith("churn") and "@champion=v3" in lines[1]
    listed = json.loads(run(small_registry, "list", "--json").output)
    assert [m["name"] for m in listed] == ["churn", "fraud"]
    assert listed[0]["latest_version"] == 3
    result = run(
        small_registry, "search", "name LIKE 'ch%'", "--order-by", "version_number ASC", "--json"
    )
    assert [v["version"] for v in json.loads(result.output)] == [1, 2, 3]
    result = run(small_registry, "search", "current_stage = 'Production'")
    assert result.output.splitlines()[1].split()[:3] == ["churn", "3", "Production"]
    result = run(small_registry, "search", "name = 'fraud'", "--models", "--json")
    assert [m["name"] for m in json.loads(result.output)] == ["fraud"]
    assert "No versions match." in run(small_registry, "search", "name = 'zzz'").output


def test_every_command_has_help() -> None:
    for command in (
        "init",
        "register",
        "promote",
        "alias",
        "describe",
        "tag",
        "list",
        "show",
        "search",
    ):
        result = run(None, command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output, command


def test_register_usage_errors_exit_2_before_touching_anything(
    small_registry: Path, tmp_path: Path
) -> None:
    source = tmp_path / "model.onnx"
    source.write_bytes(b"x")
    cases = [
        (["--metric", "auc=high"], "--metric auc must be a number, got 'high'"),
        (["--tag", "novalue"], "--tag 'novalue' must look like KEY=VALUE"),
        (["--code", "no-commit"], "--code 'no-commit' must look like REPO@COMMIT"),
        (["--dataset", "=x"], "--dataset '=x' must look like NAME=PATH"),
        (["--format", "zip"], "unknown artifact format 'zip'"),
    ]
    for extra, message in cases:
        result = run(small_registry, "register", "churn", str(source), *extra)
        assert result.exit_code == 2, (extra, result.output)
        assert message in result.stderr
    result = run(small_registry, "register", "churn", str(tmp_path / "missing.pkl"))
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert not (small_registry / "models/churn/4").exists()
    assert git(small_registry, "status", "--porcelain").strip() == ""


def test_custom_branch_name(small_registry: Path) -> None:
    result = run(small_registry, "promote", "fraud", "1", "Staging", "--branch", "review/fraud")
    assert result.exit_code == 0, result.output
    assert "git push -u origin review/fraud" in result.output
    result = run(small_registry, "promote", "fraud", "1", "Archived", "--branch", "review/fraud")
    assert result.exit_code == 1 and "already exists" in result.stderr


def test_errors_are_one_line_unless_traceback_is_asked_for(small_registry: Path) -> None:
    plain = run(small_registry, "show", "models:/churn/Gold")
    assert plain.exit_code == 1
    assert len(plain.stderr.splitlines()) == 1 and plain.stderr.startswith("error: ")
    result = CliRunner().invoke(
        main,
        ["--traceback", "-C", str(small_registry), "show", "models:/churn/Gold"],
        catch_exceptions=False,
    )
    assert result.exit_code == 1  # the same exit code, with the traceback for a bug report
    lines = result.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-1] == plain.stderr.splitlines()[0]
    assert any("VersionNotFound" in line or "Error" in line for line in lines[1:-1])
    usage = CliRunner().invoke(
        main,
        ["--traceback", "-C", str(small_registry), "alias", "churn", "champion"],
        catch_exceptions=False,
    )
    assert usage.exit_code == 2 and "Traceback" in usage.stderr


def test_list_summarises_the_stages_between_default_and_archive(small_registry: Path) -> None:
    churn = run(small_registry, "list").output.splitlines()[1]
    assert "Staging: v2, Production: v3" in churn
    assert "Archived" not in churn and "None" not in churn


@pytest.mark.parametrize(
    "args",
    [
        ["list"],
        ["show", "churn"],
        ["promote", "churn", "1", "x"],
        ["validate"],
        ["codeowners"],
        ["search"],
        ["docs", "build"],
        ["download", "models:/churn/1"],
    ],
)
def test_every_command_outside_a_registry_fails_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("REGISTRY_GEN_REGISTRY", raising=False)
    monkeypatch.delenv("REGISTRY_GEN_URI", raising=False)
    result = run(None, *args)
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"error: not a registry (no registry.yaml found in {elsewhere} or any parent)\n"
    )


def test_the_registry_is_found_upwards_from_a_subfolder(
    small_registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REGISTRY_GEN_REGISTRY", raising=False)
    monkeypatch.chdir(small_registry / "models" / "churn" / "2")
    result = run(None, "list", "--json")
    assert result.exit_code == 0, result.output
    assert {m["name"] for m in json.loads(result.output)} == {"churn", "fraud"}
    result = run(small_registry / "models", "show", "models:/churn/2", "--json")
    assert json.loads(result.output)["version"] == 2


def test_the_registry_named_by_the_environment(
    small_registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTRY_GEN_REGISTRY", str(small_registry / "models"))
    result = run(None, "show", "churn")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("churn  (3 versions)")


def test_find_registry_is_the_python_equivalent(small_registry: Path, tmp_path: Path) -> None:
    from registry_gen.discover import find_registry
    from registry_gen.errors import NotARegistry

    assert find_registry(small_registry / "models" / "churn") == small_registry.resolve()
    with pytest.raises(NotARegistry, match="not a registry"):
        find_registry(tmp_path)


def test_json_commands_report_errors_as_json(small_registry: Path) -> None:
    result = run(small_registry, "show", "models:/churn/9", "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "VersionNotFound" and error["exit_code"] == 1
    assert "churn" in error["message"]
    result = run(small_registry, "show", "models:/", "--json")
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["exit_code"] == 2


def test_promoting_to_the_stage_it_is_in_is_an_error(small_registry: Path) -> None:
    result = run(small_registry, "promote", "churn", "3", "production")
    assert result.exit_code == 1
    assert "churn v3 is already in Production" in result.stderr
    assert "→" not in result.output


def test_no_color_turns_colour_off(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from registry_gen.cli._output import use_colour

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert use_colour()
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour()


def test_every_registry_command_shows_examples() -> None:
    commands = [
        ["init"],
        ["register"],
        ["promote"],
        ["alias"],
        ["describe"],
        ["tag"],
        ["list"],
        ["show"],
        ["search"],
        ["download"],
        ["validate"],
        ["codeowners"],
        ["cache", "list"],
        ["cache", "prune"],
        ["docs", "build"],
        ["docs", "serve"],
        ["upgrade"],
        [],
    ]
    for command in commands:
        result = run(None, *command, "--help")
        assert result.exit_code == 0, command
        assert "Examples:\n    registry-gen " in result.output, command


def test_an_empty_summary_path_is_a_warning_not_a_traceback(small_registry: Path) -> None:
    result = run(small_registry, "validate", "--summary", "")
    assert "no summary is written" in result.stderr and "Traceback" not in result.output
    result = run(small_registry, "validate", "--summary", str(small_registry / "no/such/x.md"))
    assert result.exit_code == 2 and "error: --summary" in result.stderr
