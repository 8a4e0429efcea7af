"""The built website in headless Chromium: pages open, Mermaid draws, search works, no script runs.

Screenshots go to test-artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect
from site_builders import build_hostile_registry, build_site_of, build_small_registry

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a real Chromium per page

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Material draws Mermaid into a closed shadow root; keep a reference so the test can look inside.
SHADOW_SPY = """
(() => {
  const attach = Element.prototype.attachShadow;
  window.__shadowRoots = [];
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    window.__shadowRoots.push(root);
    return root;
  };
})();
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run ./dev setup (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _serve(site: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = build_small_registry(tmp_path_factory.mktemp("browser") / "registry")
    yield from _serve(build_site_of(root))


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = build_hostile_registry(tmp_path_factory.mktemp("browser-hostile") / "registry")
    yield from _serve(build_site_of(root))


@pytest.fixture
def page_errors() -> list[str]:
    """The script errors of the test's page."""
    return []


@pytest.fixture
def page(browser: Browser, page_errors: list[str]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    # Nothing but the local site may be fetched: the site must work offline.
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith("http://127.0.0.1") else route.abort()
        ),
    )
    context.add_init_script(SHADOW_SPY)
    page = context.new_page()
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    yield page
    context.close()


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_home_lists_models(small_site: str, page: Page, page_errors: list[str]) -> None:
    page.goto(small_site)
    assert page.title().startswith("Model registry")
    table = page.locator("article table").first
    assert "churn" in table.inner_text() and "fraud" in table.inner_text()
    assert "Production" in table.inner_text()
    _shot(page, "home")
    page.click("article a:text-is('churn')")
    page.wait_for_url("**/models/churn/")
    assert page_errors == []


def test_model_page_draws_lineage_graph(
    small_site: str, page: Page, page_errors: list[str]
) -> None:
    page.goto(small_site + "models/churn/")
    page.wait_for_function(
        "window.__shadowRoots.some(r => r.querySelector('svg g.node'))", timeout=15_000
    )
    labels = page.evaluate(
        "window.__shadowRoots.flatMap(r => [...r.querySelectorAll('svg g.node')]"
        ".map(n => n.textContent))"
    )
    assert "churn v3" in labels and "customers-2026-03" in labels and "fraud v1" in labels
    # The self-hosted Mermaid keeps its default, strict security level.
    assert page.evaluate("mermaid.mermaidAPI.getConfig().securityLevel") == "strict"
    _shot(page, "model")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    button = page.locator("button.rg-copy[data-copy='models:/churn@champion']")
    button.click()
    expect(button).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "models:/churn@champion"
    assert page_errors == []


def test_version_page_opens(small_site: str, page: Page) -> None:
    page.goto(small_site + "models/churn/3/")
    text = page.locator("article").inner_text()
    assert "churn v3" in text and "Production" in text and "customers-2026-03" in text
    assert "+0.04" in text  # auc delta against v2
    page.wait_for_function("window.__shadowRoots.some(r => r.querySelector('svg'))", timeout=15_000)
    _shot(page, "version")
    page.click("article a:text-is('churn')")
    page.wait_for_url("**/models/churn/")


def test_search_finds_a_model_by_description_word(small_site: str, page: Page) -> None:
    page.goto(small_site)
    page.click(".md-search__input")
    page.keyboard.type("fraudulent")
    results = page.locator(".md-search-result__item a")
    results.first.wait_for(timeout=15_000)
    hrefs = [link.get_attribute("href") or "" for link in results.all()]
    assert any("/models/fraud/?" in href for href in hrefs), hrefs
    _shot(page, "search")
    # ... and by a tag.
    page.fill("input.md-search__input", "")
    page.keyboard.type("classification")
    page.locator(".md-search-result__item a[href*='/models/churn/?']").first.wait_for(
        timeout=15_000
    )


def test_hostile_records_run_no_script(hostile_site: str, page: Page) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    # Every page showing records or history: v2's history holds hostile stages written by
    # commits on the first-parent line, with hostile authors, subjects and dates in 2099.
    for path in (
        "",
        "models/",
        "models/evil/",
        "models/evil/1/",
        "models/evil/2/",
        "models/activity/",
        "models/lineage/",
    ):
        page.goto(hostile_site + path)
        page.wait_for_load_state("networkidle")
        for element in page.locator("article a, article img, article details").all():
            element.hover(timeout=2_000, force=True)
        # Every element's handlers, had a value become one (spans may be out of view).
        page.evaluate(
            "document.querySelectorAll('article *').forEach(e => ['mouseover', "
            "'click', 'focus'].forEach(t => e.dispatchEvent(new Event(t))))"
        )
        assert page.evaluate("window.__pwned") is None, path
        assert "pwned" not in page.title(), path
        # No value became markup: every class in the article is one the site chose.
        classes = page.evaluate(
            "[...document.querySelectorAll('article [class]')].flatMap(e => [...e.classList])"
        )
        assert not [c for c in classes if "pwned" in c or "onerror" in c or "=" in c], path
    # The compare page draws the JSON API's hostile values with textContent only.
    page.goto(hostile_site + "models/compare/?model=evil&v=1&v=2")
    page.locator(".rg-compare-table table").wait_for(timeout=15_000)
    compare = page.locator(".rg-compare-table").inner_text()
    assert "<script>" in compare and "onerror" in compare  # shown as text
    page.evaluate(
        "document.querySelectorAll('article *').forEach(e => ['mouseover', "
        "'click', 'focus'].forEach(t => e.dispatchEvent(new Event(t))))"
    )
    assert page.locator(".rg-compare-table script, .rg-compare-table img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    page.goto(hostile_site + "models/activity/")
    _shot(page, "hostile-activity")
    text = page.locator("article").inner_text()
    assert "Author (git identity, unverified)" in text and "(claims 2099-06-01)" in text
    page.goto(hostile_site + "models/evil/")
    _shot(page, "hostile-model")
    page.click(".md-search__input")
    page.keyboard.type("hostile")
    page.locator(".md-search-result__item").first.wait_for(timeout=15_000)
    assert page.evaluate("window.__pwned") is None
    assert "pwned" not in page.title()
