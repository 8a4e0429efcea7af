"""A one-line promotion rewrites only the site files it changes (issue 15, item 6).

Real ``mkdocs build`` runs of a small registry with real git history, five rows a
table page so the activity is paginated; each promotion is a real commit. The
built sites before and after are compared byte for byte: the set of files that
differ must be exactly the pages that show the promoted version, and the numbered
activity pages (counted from the oldest change) must not shift.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
from site_builders import build_small_registry

from builders import commit
from registry_gen.client import RegistryClient
from registry_gen.history import read_history
from registry_gen.site import build_site

PROJECT = Path(__file__).resolve().parent.parent
PAGE_SIZE = 5


def _changed(before: Path, after: Path) -> set[str]:
    """Every site file whose bytes differ, or that only one of the two sites has."""

    def files(site: Path) -> dict[str, bytes]:
        return {
            p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()
        }

    old, new = files(before), files(after)
    return {p for p in old.keys() | new.keys() if old.get(p) != new.get(p)}


def _pages_of(model: str, version: int) -> set[str]:
    """What a promotion of ``model`` ``version`` must change (and nothing else)."""
    return {
        f"models/{model}/{version}/index.html",  # its stage
        f"models/{model}/index.html",  # versions table, stage timeline, history
        f"models/{model}/timeline/index.html",
        f"api/models/{model}.json",
        "api/index.json",  # the model's stages and the revision
        "index.html",  # counts and recent activity
        "models/index.html",  # the model's row (its stages)
        "models/activity/index.html",  # the newest changes
        "models/feed.xml",
        "search/search_index.json",  # the pages above that are searched
    }


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REGISTRY_GEN_CACHE", str(tmp_path / "user-cache"))
    monkeypatch.setenv("SITE_URL", "https://registry.example.org/")
    # MkDocs dates the sitemap by the build day; both builds must be on the same "day".
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")
    root = build_small_registry(tmp_path / "registry")
    config = (PROJECT / "mkdocs.yml").read_text()
    assert "  - registry\n" in config
    (root / "mkdocs.yml").write_text(
        config.replace("  - registry\n", f"  - registry:\n      page_size: {PAGE_SIZE}\n")
    )
    (root / "docs").mkdir()
    os.symlink(PROJECT / "node_modules", root / "node_modules")
    client = RegistryClient(root)
    # Three more changes: 13 in all, two full activity pages and three on the landing page.
    for n in range(3):
        client.update_model_version("fraud", 1, description=f"Fraud scores, take {n}.")
        commit(root, f"Describe fraud v1 ({n})", date=f"2026-03-1{n}T10:00:00Z")
    assert len(read_history(root).events) == 13
    return root


def _promote(root: Path, name: str, version: int, stage: str, date: str) -> None:
    RegistryClient(root).transition_model_version_stage(name, version, stage)
    commit(root, f"Move {name} v{version} to {stage} (#90)", date=date)


def test_a_promotion_changes_only_the_pages_that_show_it(registry: Path) -> None:
    first = build_site(registry, strict=True, site_dir=registry / "site-1")
    assert (first / "models/activity/2/index.html").exists()
    assert not (first / "models/activity/3/index.html").exists()

    _promote(registry, "churn", 1, "Staging", "2026-04-01T10:00:00Z")  # the 14th change
    second = build_site(registry, strict=True, site_dir=registry / "site-2")
    assert _changed(first, second) == _pages_of("churn", 1)

    # The 15th change fills the third page (once every PAGE_SIZE changes): it appears,
    # page 2 links to it, and the sitemap lists it.
    _promote(registry, "fraud", 1, "Production", "2026-04-02T10:00:00Z")
    third = build_site(registry, strict=True, site_dir=registry / "site-3")
    assert _changed(second, third) == _pages_of("fraud", 1) | {
        "models/activity/3/index.html",
        "models/activity/2/index.html",
        "sitemap.xml",
        "sitemap.xml.gz",
    }
    # Page 1 holds the oldest changes, and still the same bytes as in the first build.
    assert (third / "models/activity/1/index.html").read_bytes() == (
        first / "models/activity/1/index.html"
    ).read_bytes()
    page3 = (third / "models/activity/3/index.html").read_text()
    assert "Changes 11 to 15" in page3 and "fraud v1" in page3


def test_activity_pages_count_from_the_oldest_change(registry: Path) -> None:
    site = build_site(registry, strict=True, site_dir=registry / "site")
    landing = html.unescape((site / "models/activity/index.html").read_text())
    oldest = html.unescape((site / "models/activity/1/index.html").read_text())
    # The first change (churn v1 registered) is on page 1, not on the landing page.
    assert "registered in" in oldest and "Register churn v1 (#1)" in oldest
    assert "Register churn v1 (#1)" not in landing
    assert "Describe fraud v1 (2)" in landing  # the newest change
    # The landing page names the newest numbered page; page 1 names neither the
    # landing page's successor pages beyond page 2 nor how many pages there are.
    assert "href='2/'" in landing
    assert "href='../3/'" not in oldest


def test_every_activity_pager_link_leads_to_a_page(registry: Path) -> None:
    site = build_site(registry, strict=True, site_dir=registry / "site")
    pages = sorted((site / "models/activity").rglob("index.html"))
    assert len(pages) == 3  # the landing page and two full pages
    for page in pages:
        pager = re.search(r'<p class="rg-pager">(.*?)</p>', page.read_text())
        assert pager is not None, page
        targets = re.findall(r"href='([^']*)'", pager[1])
        assert targets and "Latest" in pager[1], page
        for target in targets:
            assert (page.parent / target / "index.html").resolve().is_file(), (page, target)
