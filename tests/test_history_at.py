"""The registry as it stood at a date or revision: show --at, load_model(at=), history CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from site_builders import build_small_registry

from builders import git
from registry_gen.cli import main
from registry_gen.errors import UsageError, VersionNotFound
from registry_gen.history import commit_at, index_at
from registry_gen.loader import resolve


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_registry(tmp_path_factory.mktemp("at") / "registry")


# churn: v1 registered 01-01, v1 → Production 01-02 (PR 2), v2 in Staging 02-01,
# v1 archived + v3 Production + @champion v3 on 03-01.
@pytest.mark.parametrize(
    ("uri", "at", "version"),
    [
        ("models:/churn/Production", "2026-01-02", 1),
        ("models:/churn/Production", "2026-01-02T10:59:00Z", None),
        ("models:/churn/Production", "2026-02-28", 1),
        ("models:/churn/Production", "2026-03-01", 3),
        ("models:/churn/Staging", "2026-01-15", None),
        ("models:/churn/Staging", "2026-02-01", 2),
        ("models:/churn/Archived", "2026-03-02", 1),
        ("models:/churn@champion", "2026-02-28", None),
        ("models:/churn@champion", "2026-03-01", 3),
        ("models:/churn/latest", "2026-02-01", 2),
    ],
)
def test_index_at_resolves_as_it_stood(small: Path, uri: str, at: str, version: int | None) -> None:
    index, _ = index_at(small, at)
    if version is None:
        with pytest.raises(VersionNotFound):
            index.resolve(uri)
    else:
        assert index.resolve(uri).version == version


def test_at_a_revision_and_before_anything(small: Path) -> None:
    past = commit_at(small, "HEAD~1")
    assert past.sha == git(small, "rev-parse", "HEAD~1").strip() and past.date is None
    with pytest.raises(UsageError, match="nothing had landed"):
        commit_at(small, "2020-01-01")
    with pytest.raises(UsageError, match="not a date"):
        commit_at(small, "no-such-branch")


def test_load_model_at_from_a_checkout_a_git_url_and_not_the_site(
    small: Path, tmp_path: Path
) -> None:
    cache = str(tmp_path / "cache")
    from registry_gen.cache import ArtifactCache

    here = resolve(
        "models:/churn/Production", registry=str(small), at="2026-02-01", cache=ArtifactCache(cache)
    )
    assert (here.version, here.stage) == (1, "Production")
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(small), str(bare))
    there = resolve(
        "models:/churn/Production",
        registry=f"git+file://{bare}@main",
        at="2026-02-01",
        cache=ArtifactCache(cache),
    )
    assert there.version == 1 and there.md5 == here.md5
    assert (
        resolve("models:/churn/Production", registry=str(small), cache=ArtifactCache(cache)).version
        == 3
    )
    with pytest.raises(UsageError, match="at= needs a git checkout or a git URL"):
        resolve(
            "models:/churn/1",
            registry="http://127.0.0.1:9/site/",
            at="2026-01-01",
            cache=ArtifactCache(cache),
        )


def test_show_at_and_history_cli(small: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(
        main, ["-C", str(small), "show", "models:/churn/Production", "--at", "2026-02-01"]
    )
    assert shown.exit_code == 0, shown.output
    assert "models:/churn/1  Production" in shown.output
    listed = runner.invoke(main, ["-C", str(small), "history", "churn/1", "--json"])
    assert listed.exit_code == 0, listed.output
    entries = json.loads(listed.output)
    assert [(e["kind"], e["pr"]) for e in entries] == [
        ("registered", 1),
        ("stage", 2),
        ("description", 2),
        ("stage", 4),
    ]
    promoted = entries[1]
    assert promoted["author"] == "Bob Builder"  # the branch's author, not the merger
    assert promoted["merged_by"] == "Registry Tests"  # the test suite's git identity
    window = runner.invoke(
        main, ["-C", str(small), "history", "--since", "2026-02-01", "--until", "2026-03-01"]
    )
    assert window.exit_code == 0, window.output
    assert "churn v2: registered in Staging" in window.output
    assert "fraud" not in window.output and "2026-01-02" not in window.output
    assert "MERGED BY" in window.output
