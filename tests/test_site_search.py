"""Search that finds versions, filter boxes and the compare page, in a real ``mkdocs build``
and in headless Chromium (issue 15, items 2 to 4).

The registry is the small one of ``site_builders`` plus churn v4, registered by Dana with a
``GradientBoostingClassifier`` and a ``roc_auc`` metric, which only v4's page shows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page
from site_builders import build_site_of, build_small_registry
from test_site_browser import _serve, _shot, browser, page, page_errors  # noqa: F401

from builders import commit, write_version

pytestmark = [pytest.mark.slow]

DANA = "Dana Scully <dana@example.com>"


def _registry(root: Path) -> Path:
    build_small_registry(root)
    write_version(
        root,
        "churn",
        4,
        created_by="dana",
        description="Gradient boosting instead of the forest.",
        params={"estimator": "GradientBoostingClassifier", "max_depth": 3},
        metrics={"auc": 0.91, "roc_auc": 0.93},
        tags={"reviewed": "yes"},
        lineage={"run_id": "run-d4"},
    )
    commit(root, "Register churn v4 (#6)", author=DANA, date="2026-03-10T10:00:00Z")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site_of(_registry(tmp_path_factory.mktemp("search") / "registry"))


@pytest.fixture(scope="module")
def site_url(built: Path) -> Iterator[str]:
    yield from _serve(built)


def _entries(site: Path) -> list[dict[str, str]]:
    docs: list[dict[str, str]] = json.loads((site / "search/search_index.json").read_text())["docs"]
    return docs


def _words(entry: dict[str, str]) -> set[str]:
    return set(re.sub("<[^>]+>", " ", entry["title"] + " " + entry["text"]).split())


def test_version_pages_are_searched_by_their_values(built: Path) -> None:
    by_location: dict[str, list[dict[str, str]]] = {}
    for entry in _entries(built):
        by_location.setdefault(entry["location"].split("#")[0], []).append(entry)
    v4 = by_location["models/churn/4/"]
    # One entry: the title and the compact paragraph, not the page's sections and tables.
    assert len(v4) == 1
    words = _words(v4[0])
    for word in ("dana", "Dana", "GradientBoostingClassifier", "roc_auc", "run-d4", "reviewed"):
        assert word in words or any(word in w for w in words), (word, v4[0])
    assert "Gradient boosting instead of the forest." in v4[0]["text"]
    assert "History" not in v4[0]["text"] and "Artifact" not in v4[0]["text"]
    # Aliases as plain words (the search does not split "@champion"): v3 holds @champion.
    assert "champion" in _words(by_location["models/churn/3/"][0])
    assert {"champion", "ml-team"} <= _words(by_location["models/churn/"][0])
    # Each cell a word: the model list's cells are no longer glued together.
    models = " ".join(e["text"] for e in by_location["models/"])
    assert "@ml-team v" in models.replace("\xa0", " ") or "@ml-team" in models.split()
    assert "v2Production" not in models and "Staging v2 Production v3" in models


def test_search_index_stays_linear(built: Path) -> None:
    """A version page costs the index one short entry: its tables are not indexed."""
    versions = [e for e in _entries(built) if e["location"].count("/") == 3]
    assert versions and all(len(e["text"]) < 1_000 for e in versions)


@pytest.mark.browser
def test_search_box_finds_versions(site_url: str, page: Page) -> None:  # noqa: F811
    page.goto(site_url)
    page.click(".md-search__input")
    for query, href in (
        ("Dana", "/models/churn/4/"),
        ("GradientBoostingClassifier", "/models/churn/4/"),
        ("roc_auc", "/models/churn/4/"),
        ("champion", "/models/churn/3/"),
    ):
        page.fill("input.md-search__input", "")
        page.keyboard.type(query)
        page.locator(f".md-search-result__item a[href*='{href}']").first.wait_for(timeout=15_000)
    _shot(page, "search-version")


@pytest.mark.browser
def test_filter_box_hides_rows(site_url: str, page: Page, page_errors: list[str]) -> None:  # noqa: F811
    page.goto(site_url + "models/churn/")
    rows = page.locator("table[data-rg-filter] tbody tr")
    assert rows.count() == 4
    page.fill("input.rg-filter-input", "dana")
    assert [r.is_visible() for r in rows.all()] == [True, False, False, False]
    assert "1 of 4 rows on this page" in page.locator(".rg-filter-count").inner_text()
    page.fill("input.rg-filter-input", "")
    assert all(r.is_visible() for r in rows.all())
    page.goto(site_url + "models/")
    page.fill("input.rg-filter-input", "fraudulent")
    visible = [
        r.inner_text()
        for r in page.locator("table[data-rg-filter] tbody tr").all()
        if r.is_visible()
    ]
    assert len(visible) == 1 and visible[0].startswith("fraud")
    assert page_errors == []


@pytest.mark.browser
def test_compare_two_versions(site_url: str, page: Page, page_errors: list[str]) -> None:  # noqa: F811
    page.goto(site_url + "models/churn/4/")
    page.click("article a:text-is('Compare with…')")
    page.wait_for_url("**/models/compare/?model=churn&v=4")
    table = page.locator(".rg-compare-table table")
    table.wait_for(timeout=15_000)
    # A version page's link starts with the version before it.
    assert [h.inner_text() for h in table.locator("thead th").all()] == ["", "v3", "v4"]
    # Pick v1 as well: three columns, and the deltas run against the first (v1).
    page.check(".rg-compare-picker input[value='1']")
    assert [h.inner_text() for h in table.locator("thead th").all()] == ["", "v1", "v3", "v4"]
    assert "v=1" in page.url and "v=4" in page.url
    auc = table.locator("tr", has=page.locator("td.rg-compare-label:text-is('auc')"))
    assert auc.inner_text().split("\t")[1:] == ["0.81", "0.9 (+0.09)", "0.91 (+0.1)"]
    assert "rg-differs" in (auc.get_attribute("class") or "")
    params = table.locator("tr", has=page.locator("td.rg-compare-label:text-is('estimator')"))
    assert "GradientBoostingClassifier" in params.inner_text()
    history = table.locator("tr", has=page.locator("td.rg-compare-label:text-is('Changes')"))
    assert "None → Production" in history.inner_text()  # v1's promotion
    # Dates on one line: each created cell's text is one line box.
    created = table.locator("tr", has=page.locator("td.rg-compare-label:text-is('Created (UTC)')"))
    lines = created.evaluate(
        "row => [...row.querySelectorAll('td')].slice(1).map(td => {"
        " const range = document.createRange(); range.selectNodeContents(td);"
        " return range.getClientRects().length; })"
    )
    assert lines == [1, 1, 1]
    _shot(page, "compare")
    assert page_errors == []


@pytest.mark.browser
def test_dates_stay_on_one_line_at_1400px(site_url: str, page: Page) -> None:  # noqa: F811
    for path, name in (
        ("", "home-wide"),
        ("models/churn/", "model-wide"),
        ("models/churn/3/", "version-wide"),
        ("models/activity/", "activity-wide"),
    ):
        page.goto(site_url + path)
        heights = page.evaluate(
            "[...document.querySelectorAll('article .rg-date')].map(e => "
            "[e.getClientRects().length, e.getBoundingClientRect().height, "
            "parseFloat(getComputedStyle(e).lineHeight) || 20])"
        )
        assert heights, path
        assert all(rects == 1 and height < 1.6 * line for rects, height, line in heights), path
        # The tables use the width the page has: no more than the side bar beside them.
        width = page.evaluate(
            "document.querySelector('article table').getBoundingClientRect().width"
        )
        assert width > 1_000, (path, width)
        _shot(page, name)


@pytest.mark.browser
def test_activity_and_lineage_are_in_the_navigation(site_url: str, page: Page) -> None:  # noqa: F811
    for path in ("", "models/churn/", "models/churn/3/"):
        page.goto(site_url + path)
        nav = page.locator(".md-sidebar--primary .md-nav__link:visible")
        labels = {link.inner_text().strip() for link in nav.all()}
        assert {"Activity", "Lineage"} <= labels, (path, labels)


@pytest.fixture(scope="module")
def instant_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same registry with Material's instant navigation (pages swapped by script)."""
    import os

    from registry_gen.site import build_site

    root = _registry(tmp_path_factory.mktemp("instant") / "registry")
    (root / "site").mkdir()
    server = _serve(root / "site")
    url = next(server)
    project = Path(__file__).resolve().parent.parent
    # Instant navigation follows only the sitemap's links, so the site must know its address.
    config = (project / "mkdocs.yml").read_text()
    config = config.replace("  features:\n", "  features:\n    - navigation.instant\n", 1)
    config = config.replace("site_url: !ENV [SITE_URL]", f"site_url: {url}")
    (root / "mkdocs.yml").write_text(config)
    (root / "docs").mkdir(exist_ok=True)
    os.symlink(project / "node_modules", root / "node_modules")
    build_site(root, strict=True)
    yield url
    next(server, None)  # the server's own cleanup: it shuts down


@pytest.mark.browser
def test_filter_and_compare_survive_instant_navigation(
    instant_site: str,
    page: Page,  # noqa: F811
    page_errors: list[str],  # noqa: F811
) -> None:
    page.goto(instant_site + "models/")
    page.wait_for_load_state("networkidle")  # the sitemap, which instant navigation follows
    assert page.locator("input.rg-filter-input").count() == 1
    page.evaluate("window.__sameDocument = true")
    page.click("article a[href$='/models/churn/']")
    page.wait_for_url("**/models/churn/")
    page.locator("input.rg-filter-input").wait_for(timeout=15_000)
    # Instant navigation swapped the page in place: no new document was loaded.
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("input.rg-filter-input").count() == 1
    page.fill("input.rg-filter-input", "dana")
    assert page.locator("table[data-rg-filter] tbody tr:visible").count() == 1
    page.click("article a[href$='/models/churn/4/']")
    page.wait_for_url("**/models/churn/4/")
    page.click("article a:text-is('Compare with…')")
    page.wait_for_url("**/models/compare/?model=churn&v=4")
    page.locator(".rg-compare-table table").wait_for(timeout=15_000)
    assert page.evaluate("window.__sameDocument") is True
    assert page_errors == []
