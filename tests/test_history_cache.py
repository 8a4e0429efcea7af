"""The kept history: reading only the new commits gives exactly what a full read gives."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from builders import commit, git, init_repo, write_model, write_version
from registry_gen._cache_guard import UnsafeCache
from registry_gen.history import read_history
from registry_gen.history._cache import history_cache_file, read_history_cached

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _merge(root: Path, branch: str, message: str, change: Callable[[], object]) -> None:
    git(root, "checkout", "-q", "-b", branch)
    change()
    commit(root, f"work on {branch}", author="Bob Builder <bob@example.com>")
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-ff", branch, "-m", message)


def _steps(root: Path) -> list[Callable[[], None]]:
    """A line of merges, renames, alias moves, removals and a clamped date, one step each."""

    def register() -> None:
        write_model(root, "old-name", aliases={"champion": 1})
        write_version(root, "old-name", 1)
        commit(root, "Register old-name v1 (#1)", date="2026-01-01T10:00:00Z")

    def second() -> None:
        write_version(root, "old-name", 2)
        commit(root, "Register old-name v2 (#2)", date="2026-01-01T11:00:00Z")

    def merged_promotion() -> None:
        _merge(
            root,
            "promote",
            "Merge pull request #3 from team/promote\n\nPromote v2",
            lambda: write_version(root, "old-name", 2, stage="Staging"),
        )

    def alias_move() -> None:
        write_model(root, "old-name", aliases={"champion": 2, "challenger": 1})
        # Dated after the next commit: a full read clamps it to that commit's date.
        commit(root, "Move champion (#4)", date="2029-01-01T10:00:00Z")

    def rename() -> None:
        git(root, "mv", "models/old-name", "models/new-name")
        write_model(root, "new-name", aliases={"champion": 2, "challenger": 1})
        commit(root, "Rename (#5)", date="2026-01-02T10:00:00Z")

    def archive_and_alias() -> None:
        write_version(root, "new-name", 1, stage="Archived")
        commit(root, "Archive v1 (#6)", date="2026-01-02T11:00:00Z")
        write_model(root, "new-name", aliases={"champion": 1})
        commit(root, "Champion back to v1 (#7)", date="2026-01-02T12:00:00Z")

    def renumber() -> None:
        git(root, "mv", "models/new-name/2", "models/new-name/3")
        write_version(root, "new-name", 3, stage="Staging")
        commit(root, "Renumber v2 as v3 (#8)", date="2026-01-02T13:00:00Z")

    def other() -> None:
        write_model(root, "other")
        write_version(root, "other", 1)
        commit(root, "Register other v1 (#9)", date="2026-01-02T14:00:00Z")
        git(root, "rm", "-rq", "models/other")
        commit(root, "Remove other (#10)", date="2026-01-02T15:00:00Z")

    def again() -> None:
        write_model(root, "other", description="Back")
        write_version(root, "other", 1, stage="Production")
        commit(root, "Register other again (#11)", date="2026-01-02T16:00:00Z")
        commit(root, "An empty commit (#12)", date="2026-01-02T17:00:00Z")

    def merged_alias() -> None:
        _merge(
            root,
            "alias",
            "Merge pull request #13 from team/alias\n\nSet challenger",
            lambda: write_model(root, "other", description="Back", aliases={"challenger": 1}),
        )

    return [
        register,
        second,
        merged_promotion,
        alias_move,
        rename,
        archive_and_alias,
        renumber,
        other,
        again,
        merged_alias,
    ]


def test_each_step_read_from_the_kept_history_equals_a_full_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = init_repo(tmp_path / "r")
    cache = tmp_path / "cache"
    full_reads: list[str] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        full_reads.append(step.__name__)
        return read_history(*args, **kwargs)

    monkeypatch.setattr("registry_gen.history._cache.read_history", counted)
    for step in _steps(root):
        step()
        cached = read_history_cached(root, cache, now=NOW)
        full = read_history(root, now=NOW)
        assert cached.events == full.events, step.__name__
        assert cached.for_model("new-name") == full.for_model("new-name")
        # Asked again with nothing new: the kept events, unchanged.
        assert read_history_cached(root, cache, now=NOW).events == full.events
    # The first read, the rename, the renumbering (renames) and the commit after the clamped
    # date (dated before it) read the whole line; the others appended the new commits.
    assert full_reads == ["register", "rename", "renumber"], full_reads
    assert any(e.commit.claimed_date is not None for e in full.events)
    assert full.for_model("old-name") == ()


def test_only_the_new_commits_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = init_repo(tmp_path / "r")
    cache = tmp_path / "cache"
    write_model(root, "m")
    write_version(root, "m", 1)
    commit(root, "Register (#1)", date="2026-01-01T10:00:00Z")
    read_history_cached(root, cache, now=NOW)
    write_version(root, "m", 1, stage="Staging")
    commit(root, "Promote (#2)", date="2026-01-01T11:00:00Z")

    def no_full_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole line was read again")

    monkeypatch.setattr("registry_gen.history._cache.read_history", no_full_read)
    history = read_history_cached(root, cache, now=NOW)
    assert [(e.kind, e.commit.pr) for e in history.for_version("m", 1)] == [
        ("registered", 1),
        ("stage", 2),
    ]


def test_a_rewritten_line_or_an_earlier_date_reads_in_full(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r")
    cache = tmp_path / "cache"
    write_model(root, "m")
    write_version(root, "m", 1)
    commit(root, "Register (#1)", date="2026-01-01T10:00:00Z")
    write_version(root, "m", 1, stage="Staging")
    commit(root, "Promote (#2)", date="2026-01-01T11:00:00Z")
    read_history_cached(root, cache, now=NOW)
    # The kept commit is no longer on the line (amended away).
    git(root, "reset", "-q", "--hard", "HEAD~1")
    write_version(root, "m", 1, stage="Production")
    commit(root, "Promote further (#3)", date="2026-01-01T12:00:00Z")
    assert read_history_cached(root, cache, now=NOW).events == read_history(root, now=NOW).events
    # A new commit dated before the kept one: a full read clamps the older date to it.
    write_version(root, "m", 1, stage="Archived")
    commit(root, "Archive (#4)", date="2025-06-01T12:00:00Z")
    cached = read_history_cached(root, cache, now=NOW)
    assert cached.events == read_history(root, now=NOW).events
    assert cached.events[-2].commit.claimed_date is not None


def test_a_planted_or_damaged_cache_is_never_trusted(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r")
    cache = tmp_path / "cache"
    write_model(root, "m")
    write_version(root, "m", 1)
    commit(root, "Register (#1)", date="2026-01-01T10:00:00Z")
    full = read_history(root, now=NOW)
    read_history_cached(root, cache, now=NOW)
    kept = history_cache_file(cache, root)
    data = json.loads(kept.read_text())
    damages: list[Callable[[Any], object]] = [
        lambda d: d["events"][0].__setitem__(0, "hacked"),
        lambda d: d["events"][0].__setitem__(3, 99),
        lambda d: d["commits"][0].__setitem__(2, "yesterday"),
        lambda d: d.__setitem__("code", "0" * 64),
        lambda d: d.__setitem__("root", "/elsewhere"),
    ]
    for damage in damages:
        broken = json.loads(json.dumps(data))
        damage(broken)
        kept.write_text(json.dumps(broken))
        assert read_history_cached(root, cache, now=NOW).events == full.events
    kept.write_text("{not json")
    assert read_history_cached(root, cache, now=NOW).events == full.events
    # A cache other users could have written is not read (and not rewritten).
    forged = json.loads(json.dumps(data))
    forged["commits"][0][1] = "Mallory"
    kept.write_text(json.dumps(forged))
    os.chmod(kept, 0o666)
    history = read_history_cached(root, cache, now=NOW)
    assert [e.commit.author for e in history.events] == ["Alice Example"] * len(history.events)
    with pytest.raises(UnsafeCache):
        from registry_gen._cache_guard import check_private

        check_private(kept, "history cache")


def test_a_history_clamped_to_the_time_of_reading_is_not_kept(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r")
    cache = tmp_path / "cache"
    write_model(root, "m")
    write_version(root, "m", 1)
    commit(root, "Register (#1)", date="2031-01-01T10:00:00Z")  # after NOW
    history = read_history_cached(root, cache, now=NOW)
    assert history.events[0].commit.date == NOW
    assert not history_cache_file(cache, root).exists()


def test_a_kept_date_out_of_range_is_a_miss_not_a_crash(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r")
    cache = tmp_path / "cache"
    write_model(root, "m")
    write_version(root, "m", 1)
    commit(root, "Register (#1)", date="2026-01-01T10:00:00Z")
    full = read_history(root, now=NOW)
    read_history_cached(root, cache, now=NOW)
    kept = history_cache_file(cache, root)
    data = json.loads(kept.read_text())
    data["commits"][0][2] = "9999-12-31T23:59:59-05:00"  # past datetime.max in UTC
    kept.write_text(json.dumps(data))
    assert read_history_cached(root, cache, now=NOW).events == full.events
