"""The pure renderer: golden pages for a small registry, safety and scale properties."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from site_builders import PAYLOAD, build_hostile_registry, build_small_registry

from registry_gen.history import History, read_history
from registry_gen.site.render import (
    NAV_PAGES,
    SiteOptions,
    model_page,
    nav_pages,
    render_feed,
    render_site,
    version_page,
)
from registry_gen.store import RegistryIndex, load_index

GOLDEN = Path(__file__).resolve().parent / "golden" / "site"
GOLDEN_PAGES = ["index.md", "models/index.md", "models/churn/index.md",
                "models/churn/3/index.md", "models/fraud/1/index.md", "models/activity.md",
                "models/lineage.md", "models/feed.xml"]
OPTIONS = SiteOptions(repo_url="https://github.com/example/registry",
                      site_url="https://example.github.io/registry/")
# Set to regenerate the golden files after a deliberate change; review the diff.
UPDATE = os.environ.get("REGISTRY_GEN_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[RegistryIndex, History]:
    root = build_small_registry(tmp_path_factory.mktemp("render") / "registry")
    return load_index(root), read_history(root)


@pytest.fixture(scope="module")
def pages(small: tuple[RegistryIndex, History]) -> dict[str, str]:
    index, history = small
    rendered = render_site(index, history, OPTIONS)
    rendered["models/feed.xml"] = render_feed(index, history, OPTIONS)
    return rendered


@pytest.mark.parametrize("path", GOLDEN_PAGES)
def test_golden_pages(pages: dict[str, str], path: str) -> None:
    golden = GOLDEN / path
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(pages[path], encoding="utf-8")
    assert pages[path] == golden.read_text(encoding="utf-8"), (
        f"{path} differs from {golden}; if the change is intended, rerun with "
        "REGISTRY_GEN_UPDATE_GOLDEN=1 and review the diff")


def test_every_model_and_version_has_a_page(pages: dict[str, str],
                                            small: tuple[RegistryIndex, History]) -> None:
    index, _ = small
    for version in index.versions():
        assert version_page(version.name, version.version) in pages
        assert model_page(version.name) in pages
    assert nav_pages(pages) == set(NAV_PAGES)


def _page_url(path: str) -> str:
    """The URL directory of a generated page (use_directory_urls, MkDocs' default)."""
    if not path.endswith(".md"):
        return os.path.dirname(path)
    stem = path[:-3]
    return stem[: -len("/index")] if stem.endswith("/index") else ("" if stem == "index" else stem)


def test_links_point_at_generated_pages(pages: dict[str, str]) -> None:
    by_url = {_page_url(path): path for path in pages if path.endswith(".md")}
    files = {path for path in pages if not path.endswith(".md")}
    checked = 0
    for path, text in pages.items():
        for target in re.findall(r"href='([^']+)'", text):
            resolved = os.path.normpath(os.path.join(_page_url(path), target))
            resolved = "" if resolved == "." else resolved
            assert resolved in by_url or resolved in files, f"{path} links to missing {target}"
            checked += 1
    assert checked > 50


def test_home_is_left_to_a_hand_written_page(small: tuple[RegistryIndex, History]) -> None:
    assert "index.md" not in render_site(*small, SiteOptions(home=False))


def test_long_tables_are_paginated(tmp_path: Path) -> None:
    from builders import commit, init_repo, write_model, write_version

    root = init_repo(tmp_path / "r")
    for name in ("a", "b", "c", "d", "e", "f", "g"):
        write_model(root, name)
    for number in range(1, 13):
        write_version(root, "a", number, metrics={"auc": number / 100})
    commit(root, "many")
    pages = render_site(load_index(root), read_history(root), SiteOptions(page_size=5))
    assert {"models/index/2.md", "models/a/versions/2.md", "models/a/versions/3.md",
            "models/activity/2.md"} <= set(pages)
    assert "models/a/versions/4.md" not in pages
    assert pages["models/a/index.md"].count("<b>v") == 5
    assert "<a href='../../2/'><b>v2</b></a>" in pages["models/a/versions/3.md"]


def test_shallow_history_is_explained_not_invented(
        small: tuple[RegistryIndex, History]) -> None:
    index, _ = small
    shallow = History.of((), complete=False, warning="this is a shallow git clone")
    page = render_site(index, shallow)["models/churn/3/index.md"]
    assert '!!! warning "History unavailable"' in page and "shallow git clone" in page


def test_feed_is_atom_of_stage_changes(pages: dict[str, str]) -> None:
    import xml.etree.ElementTree as ET

    feed = ET.fromstring(pages["models/feed.xml"])
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in feed.findall("a:entry", ns)]
    assert "churn v1: Production → Archived" in titles
    assert "churn v3 registered in Production" in titles


def test_hostile_records_render_inert(tmp_path: Path) -> None:
    root = build_hostile_registry(tmp_path / "r")
    index = load_index(root)
    assert not index.errors, index.errors
    history = read_history(root)
    pages = render_site(index, history)
    feed = render_feed(index, history, updated=datetime(2026, 1, 1, tzinfo=UTC))
    for path, text in pages.items():
        body = text.split("```mermaid")[0]
        assert "<script" not in body.lower(), path
        assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript:", body, re.IGNORECASE), path
        assert "{{" not in text and "--8<--" not in text, path
        assert not re.search(r"<[a-z][^>]*\son\w+\s*=", body, re.IGNORECASE), path
    assert "<script" not in feed
    graph = pages["models/evil/1/index.md"].split("```mermaid")[1].split("```")[0]
    assert '"]' not in graph.replace('"])', "").replace('")]', "").replace('"]\n', "\n"), graph
    assert PAYLOAD not in "".join(pages.values())
