"""Stage, alias and description history read from real git repositories."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from site_builders import build_small_registry

from builders import commit, git, init_repo, write_model, write_version
from registry_gen.history import SHALLOW_WARNING, pr_number, read_history


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_registry(tmp_path_factory.mktemp("history") / "registry")


def _story(events: object) -> list[tuple[str, str | None, str | None, str | None, int | None]]:
    return [(e.kind, e.old, e.new, e.alias, e.commit.pr) for e in events]  # type: ignore[attr-defined]


def test_version_history_follows_the_first_parent(small: Path) -> None:
    history = read_history(small)
    assert history.complete and history.warning is None
    assert _story(history.for_version("churn", 1)) == [
        ("registered", None, "None", None, 1),
        ("stage", "None", "Production", None, 2),
        ("description", None, None, None, 2),
        ("stage", "Production", "Archived", None, 4),
    ]
    merge = history.for_version("churn", 1)[1].commit
    # A merge reads as its pull request: its title, not "Merge pull request ...".
    assert merge.subject == "Promote churn v1 to Production"
    assert merge.date.isoformat() == "2026-01-02T11:00:00+00:00"
    # The branch's own commit did not land on its own, so it is not an event.
    assert "Promote churn v1" not in [e.commit.subject for e in history.events]


def test_alias_and_model_events(small: Path) -> None:
    history = read_history(small)
    churn = _story(e for e in history.for_model("churn") if e.version is None or e.alias)
    assert churn == [("model_created", None, None, None, 1),
                     ("alias_set", None, "3", "champion", 4)]
    assert history.for_version("churn", 3)[0].commit.author == "Bob Builder"
    last = history.last_change("fraud")
    assert last is not None and last.commit.pr == 5
    assert history.last_change("nope") is None


def test_events_are_oldest_first(small: Path) -> None:
    dates = [e.commit.date for e in read_history(small).events]
    assert dates == sorted(dates)


def test_alias_move_and_removal(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r")
    write_model(root, "m", aliases={"champion": 1})
    write_version(root, "m", 1)
    write_version(root, "m", 2)
    commit(root, "add")
    write_model(root, "m", aliases={"champion": 2, "challenger": 1})
    commit(root, "move")
    write_model(root, "m", aliases={"challenger": 1})
    commit(root, "drop")
    history = read_history(root)
    aliases = [(e.kind, e.alias, e.old, e.new) for e in history.for_model("m") if e.alias]
    assert aliases == [
        ("alias_set", "champion", None, "1"),
        ("alias_set", "challenger", None, "1"),
        ("alias_moved", "champion", "1", "2"),
        ("alias_removed", "champion", "2", None),
    ]
    # A move shows in the history of both versions.
    assert "alias_moved" in [e.kind for e in history.for_version("m", 1)]
    assert "alias_moved" in [e.kind for e in history.for_version("m", 2)]


def test_renamed_model_keeps_its_history(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r")
    write_model(root, "old-name")
    write_version(root, "old-name", 1)
    commit(root, "register (#1)")
    git(root, "mv", "models/old-name", "models/new-name")
    write_model(root, "new-name")
    commit(root, "rename (#2)")
    write_version(root, "new-name", 1, stage="Staging")
    commit(root, "promote (#3)")
    history = read_history(root)
    assert history.for_model("old-name") == ()
    assert _story(history.for_version("new-name", 1)) == [
        ("registered", None, "None", None, 1), ("stage", "None", "Staging", None, 3)]


def test_removed_version_and_unreadable_records(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r")
    write_model(root, "m")
    write_version(root, "m", 1)
    write_version(root, "m", 2)
    commit(root, "add")
    (root / "models" / "m" / "2" / "version.yaml").write_text("stage: [unclosed\n")
    commit(root, "break v2")
    git(root, "rm", "-rq", "models/m/1")
    commit(root, "remove v1")
    history = read_history(root)
    assert [e.kind for e in history.for_version("m", 1)] == ["registered", "removed"]
    # A record that cannot be read says nothing about what changed: no invented events.
    assert [e.kind for e in history.for_version("m", 2)] == ["registered"]


def test_shallow_clone_gives_a_warning_and_no_history(
    small: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{small}", str(clone))
    with caplog.at_level(logging.WARNING, logger="registry_gen.history"):
        history = read_history(clone)
    assert history.events == () and not history.complete
    assert history.warning == SHALLOW_WARNING
    assert "shallow" in caplog.text


def test_not_a_repository_or_no_commits(tmp_path: Path) -> None:
    assert read_history(tmp_path).events == ()
    git(tmp_path, "init", "-q")
    assert read_history(tmp_path).events == ()


def test_commit_messages_cannot_forge_records(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r")
    write_model(root, "m")
    write_version(root, "m", 1)
    commit(root, "x\x1eCdeadbeef\x1f2020-01-01T00:00:00+00:00\n\x1f <script>")
    history = read_history(root)
    assert {e.commit.sha for e in history.events} == {git(root, "rev-parse", "HEAD").strip()}


@pytest.mark.parametrize(("message", "number"), [
    ("Merge pull request #12 from alice/promote\n\nPromote churn", 12),
    ("Promote churn to Production (#7)", 7),
    ("Promote churn (#7)\n\n* squashed commit (#3)", 7),
    ("Fix #7 in the docs", None),
    ("", None),
])
def test_pr_number(message: str, number: int | None) -> None:
    assert pr_number(message) == number
