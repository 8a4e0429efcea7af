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
    assert churn == [
        ("model_created", None, None, None, 1),
        ("alias_set", None, "3", "champion", 4),
    ]
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
        ("registered", None, "None", None, 1),
        ("stage", "None", "Staging", None, 3),
    ]


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


# The merge form counts on merge commits only and the squash form on single-parent ones
# (before issue 10 either form counted on any commit on the line).
@pytest.mark.parametrize(
    ("message", "merge", "number"),
    [
        ("Merge pull request #12 from alice/promote\n\nPromote churn", True, 12),
        ("Merge pull request #12 from alice/promote\n\nPromote churn", False, None),
        ("Promote churn to Production (#7)", False, 7),
        ("Promote churn to Production (#7)", True, None),
        ("Promote churn (#7)\n\n* squashed commit (#3)", False, 7),
        ("Merge pull request #12 from alice/promote and more", True, None),
        ("Merge pull request #12", True, None),
        ("(#7)", False, None),
        ("Fix #7 in the docs", False, None),
        ("x\nMerge pull request #9 from a/b", True, None),
        ("", False, None),
    ],
)
def test_pr_number(message: str, merge: bool, number: int | None) -> None:
    assert pr_number(message, merge=merge) == number


def _forged_history(root: Path) -> Path:
    """A registry whose history lies: fake PR subjects off the merge line, an HTML author,
    hostile stages in a pull request's intermediate commits, dates in 2099."""
    init_repo(root)
    write_model(root, "m")
    write_version(root, "m", 1)
    commit(root, "Register m v1 (#1)", date="2026-01-01T10:00:00Z")
    git(root, "checkout", "-q", "-b", "feature")
    write_version(root, "m", 1, stage='"><img src=x onerror=alert(1)>')
    commit(
        root,
        "Merge pull request #666 from evil/credit",
        author='Mallory &amp; "x" onmouseover=alert(1) <m@x>',
        date="2099-01-01T00:00:00Z",
    )
    write_version(root, "m", 1, stage="Staging")
    commit(root, "Tidy (#667)", date="2026-01-02T09:00:00Z")
    git(root, "checkout", "-q", "main")
    git(
        root,
        "merge",
        "-q",
        "--no-ff",
        "feature",
        "-m",
        "Merge pull request #2 from team/feature\n\nStage m v1",
        env={
            "GIT_AUTHOR_DATE": "2026-01-02T10:00:00Z",
            "GIT_COMMITTER_DATE": "2026-01-02T10:00:00Z",
        },
    )
    # A direct push that claims a pull request and the future.
    write_version(root, "m", 1, stage="Production")
    commit(
        root,
        "Merge pull request #777 from evil/direct",
        author="Root <r@x>",
        date="2099-06-01T00:00:00Z",
    )
    write_version(root, "m", 2)
    commit(root, "Register m v2 (#4)", date="2026-01-03T10:00:00Z")
    return root


def test_forged_history_credits_the_landed_change_only(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    root = _forged_history(tmp_path / "r")
    now = datetime(2026, 2, 1, tzinfo=UTC)
    history = read_history(root, now=now)
    story = [(e.kind, e.version, e.new, e.commit.pr) for e in history.events]
    # The pull request's own commits are not on the line: no hostile stage, no #666/#667.
    assert story == [
        ("registered", 1, "None", 1),
        ("model_created", None, None, 1),
        ("stage", 1, "Staging", 2),
        ("stage", 1, "Production", None),  # a merge subject on a single-parent commit
        ("registered", 2, "None", 4),
    ]
    by_pr = {e.commit.pr: e.commit for e in history.events}
    assert by_pr[2].subject == "Stage m v1"
    direct = history.events[3].commit
    # 2099 is after the commit that followed it: clamped to that bound and flagged.
    assert direct.claimed_date == datetime(2099, 6, 1, tzinfo=UTC)
    assert direct.date == history.events[4].commit.date == datetime(2026, 1, 3, 10, tzinfo=UTC)
    assert all(e.commit.claimed_date is None for e in history.events if e is not history.events[3])
    # The newest commit is bounded by the time of reading.
    later = read_history(root, now=datetime(2026, 1, 3, tzinfo=UTC)).events[-1].commit
    assert later.date == datetime(2026, 1, 3, tzinfo=UTC)
    assert later.claimed_date == datetime(2026, 1, 3, 10, tzinfo=UTC)


def _alice_branch_merged_by_bob(root: Path) -> Path:
    init_repo(root)
    write_model(root, "m")
    write_version(root, "m", 1)
    commit(root, "Register m v1 (#1)", author="Carol Squash <carol@x>")
    git(root, "checkout", "-q", "-b", "promote")
    write_version(root, "m", 1, stage="Staging")
    commit(root, "Promote m v1", author="Alice Example <alice@example.com>")
    git(root, "checkout", "-q", "main")
    bob = {
        "GIT_AUTHOR_NAME": "Bob Builder",
        "GIT_AUTHOR_EMAIL": "bob@example.com",
        "GIT_COMMITTER_NAME": "Bob Builder",
        "GIT_COMMITTER_EMAIL": "bob@example.com",
    }
    message = "Merge pull request #2 from team/promote\n\nPromote m v1"
    git(root, "merge", "-q", "--no-ff", "promote", "-m", message, env=bob)
    git(root, "checkout", "-q", "-b", "alias")
    write_model(root, "m", aliases={"champion": 1})
    commit(root, "Set champion", author="Alice Example <alice@example.com>")
    git(root, "checkout", "-q", "main")
    web_flow = {
        "GIT_AUTHOR_NAME": "GitHub",
        "GIT_AUTHOR_EMAIL": "noreply@github.com",
        "GIT_COMMITTER_NAME": "GitHub",
        "GIT_COMMITTER_EMAIL": "noreply@github.com",
    }
    message = "Merge pull request #3 from team/alias\n\nSet champion"
    git(root, "merge", "-q", "--no-ff", "alias", "-m", message, env=web_flow)
    return root


def test_credit_goes_to_the_pr_author_and_the_merger(tmp_path: Path) -> None:
    root = _alice_branch_merged_by_bob(tmp_path / "r")
    history = read_history(root)
    credit = [(e.kind, e.commit.pr, e.commit.author, e.commit.merged_by) for e in history.events]
    assert credit == [
        # A squash or direct commit: its author, nobody merged it.
        ("registered", 1, "Carol Squash", None),
        ("model_created", 1, "Carol Squash", None),
        # Alice's branch, merged by Bob: Alice is the author, Bob the merger.
        ("stage", 2, "Alice Example", "Bob Builder"),
        # Merged by GitHub's web-flow identity: no merger is claimed.
        ("alias_set", 3, "Alice Example", None),
    ]


@pytest.mark.parametrize(
    ("known", "other", "expected"),
    [
        (b"version: 1\nstage: None\n", b"version: 1\nstage: Staging\n", "Staging"),
        # Anything but one plain-word stage line moving is parsed in full.
        (b"version: 1\nstage: None\n", b"version: 2\nstage: Staging\n", None),
        (b"version: 1\nstage: None\n", b"version: 1\nstage: 'Staging'\n", None),
        (b"version: 1\nstage: None\n", b"version: 1\nstage: yes\n", None),  # not a string
        (b"stage: None\nx: |\n  a\nstage: None\n", b"stage: None\nx: |\n  a\nstage: Prod\n", None),
        (b"version: 1\n  stage: None\n", b"version: 1\n  stage: Prod\n", None),
    ],
)
def test_a_promotion_is_read_from_its_one_line(
    known: bytes, other: bytes, expected: str | None
) -> None:
    from registry_gen.history._derive import summary, values_only_change

    seen = summary(known, "models/m/1/version.yaml")
    found = values_only_change(known, seen, other) if seen is not None else None
    assert (found.fields if found else {}).get("stage") == expected
    if found is not None:
        assert found == summary(other, "models/m/1/version.yaml")


def _line_with_renames_merges_and_alias_moves(root: Path) -> Path:
    """Twelve commits on the line, each kind of state that crosses a split somewhere."""
    init_repo(root)
    write_model(root, "old-name", aliases={"champion": 1})
    write_version(root, "old-name", 1)
    commit(root, "Register old-name v1 (#1)", date="2026-01-01T10:00:00Z")
    write_version(root, "old-name", 2)
    commit(root, "Register old-name v2 (#2)", date="2026-01-01T11:00:00Z")
    git(root, "checkout", "-q", "-b", "promote")
    write_version(root, "old-name", 2, stage="Staging")
    commit(root, "Promote v2", author="Bob Builder <bob@example.com>")
    git(root, "checkout", "-q", "main")
    message = "Merge pull request #3 from team/promote\n\nPromote v2"
    git(root, "merge", "-q", "--no-ff", "promote", "-m", message)
    write_model(root, "old-name", aliases={"champion": 2, "challenger": 1})
    # A date after the next commit's: clamped to that bound, which crosses a split too.
    commit(root, "Move champion (#4)", date="2099-01-01T10:00:00Z")
    git(root, "mv", "models/old-name", "models/new-name")
    write_model(root, "new-name", aliases={"champion": 2, "challenger": 1})
    commit(root, "Rename (#5)", date="2026-01-02T10:00:00Z")
    write_version(root, "new-name", 1, stage="Archived")
    commit(root, "Archive v1 (#6)", date="2026-01-02T11:00:00Z")
    write_model(root, "new-name", aliases={"champion": 1})
    commit(root, "Champion back to v1 (#7)", date="2026-01-02T12:00:00Z")
    git(root, "mv", "models/new-name/2", "models/new-name/3")
    write_version(root, "new-name", 3, stage="Staging")
    commit(root, "Renumber v2 as v3 (#8)", date="2026-01-02T13:00:00Z")
    write_model(root, "other")
    write_version(root, "other", 1)
    commit(root, "Register other v1 (#9)", date="2026-01-02T14:00:00Z")
    git(root, "rm", "-rq", "models/other")
    commit(root, "Remove other (#10)", date="2026-01-02T15:00:00Z")
    write_model(root, "other")
    write_version(root, "other", 1, stage="Production")
    commit(root, "Register other again (#11)", date="2026-01-02T16:00:00Z")
    return root


def test_split_log_gives_exactly_the_events_of_one_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _line_with_renames_merges_and_alias_moves(tmp_path / "r")
    whole = read_history(root, parts=1)
    kinds = {e.kind for e in whole.events}
    assert {"alias_moved", "stage", "removed", "model_removed", "registered"} <= kinds
    assert whole.for_model("old-name") == ()  # renamed: named where it lives at the end
    assert any(e.commit.claimed_date is not None for e in whole.events)
    merged = [e for e in whole.events if e.commit.pr == 3]
    assert [(e.kind, e.commit.author) for e in merged] == [("stage", "Bob Builder")]
    lines = int(git(root, "rev-list", "--first-parent", "--count", "HEAD"))
    # Every split point, one run per commit, and more runs than commits.
    for parts in range(2, lines + 3):
        assert read_history(root, parts=parts).events == whole.events, parts
    assert read_history(root).events == whole.events  # the automatic choice
    # Chunks of a few commits: each chunk's objects are read while the one before is compared.
    monkeypatch.setattr("registry_gen.history._read._CHUNK_COMMITS", 3)
    assert read_history(root, parts=2).events == whole.events


def test_a_spooled_command_that_fails_names_git_s_explanation(tmp_path: Path) -> None:
    from registry_gen import _git
    from registry_gen.errors import GitError

    root = init_repo(tmp_path / "r")
    failing = _git.Spool(root, "log", "--end-of-options", "no-such-branch")
    with failing as out, pytest.raises(GitError, match=r"git log failed in .*no-such-branch"):
        b"".join(out.read())
    with _git.Spool(root, "log", "--format=%s") as out:
        assert b"".join(out.read()).strip() != b""
    # Followed as git writes it: the same bytes, and the same error at the end.
    for _ in range(3):
        commit(root, "Another commit")
    expected = git(root, "log", "--format=%H %s").encode()
    with _git.Spool(root, "log", "--format=%H %s") as out:
        assert b"".join(out.follow(chunk_size=7)) == expected
    failing = _git.Spool(root, "log", "--end-of-options", "no-such-branch")
    with failing as out, pytest.raises(GitError, match=r"git log failed in .*no-such-branch"):
        b"".join(out.follow())
