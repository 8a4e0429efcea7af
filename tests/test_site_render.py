"""The pure renderer: golden pages for a small registry, safety and scale properties."""

from __future__ import annotations

import html
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from site_builders import PAYLOAD, build_hostile_registry, build_small_registry

from registry_gen.history import History, read_history
from registry_gen.site.render import (
    NAV_PAGES,
    SEARCH_END,
    SiteOptions,
    model_page,
    nav_pages,
    render_feed,
    render_site,
    version_page,
)
from registry_gen.store import RegistryIndex, load_index

GOLDEN = Path(__file__).resolve().parent / "golden" / "site"
GOLDEN_PAGES = [
    "index.md",
    "models/index.md",
    "models/churn/index.md",
    "models/churn/3/index.md",
    "models/fraud/1/index.md",
    "models/activity.md",
    "models/lineage.md",
    "models/feed.xml",
]
OPTIONS = SiteOptions(
    repo_url="https://github.com/example/registry", site_url="https://example.github.io/registry/"
)
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
        "REGISTRY_GEN_UPDATE_GOLDEN=1 and review the diff"
    )


def test_every_model_and_version_has_a_page(
    pages: dict[str, str], small: tuple[RegistryIndex, History]
) -> None:
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
            target_path = target.split("#")[0].split("?")[0]  # the compare page takes a query
            resolved = os.path.normpath(os.path.join(_page_url(path), target_path))
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
    assert {
        "models/index/2.md",
        "models/a/versions/2.md",
        "models/a/versions/3.md",
        "models/activity/2.md",
    } <= set(pages)
    assert "models/a/versions/4.md" not in pages
    assert pages["models/a/index.md"].count("<b>v") == 5
    assert "<a href='../../2/'><b>v2</b></a>" in pages["models/a/versions/3.md"]


def test_pagers_and_lineage_stay_small_as_the_registry_grows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from builders import commit, init_repo, write_model, write_version
    from registry_gen.site import _html, _pages

    root = init_repo(tmp_path / "r")
    children = [f"m{n:02d}" for n in range(12)]
    for name in ("a", *children):
        write_model(root, name)
    write_version(root, "a", 1)
    for name in children:
        write_version(root, name, 1, lineage={"parents": ["models:/a/1"]})
        commit(root, f"register {name}")
    monkeypatch.setattr(_pages, "LINEAGE_ROWS", 5)
    monkeypatch.setattr(_pages, "GLOBAL_GRAPH_NODES", 5)
    pages = render_site(load_index(root), read_history(root), SiteOptions(page_size=2))
    # 12 pairs at 5 a page; each page's table holds only its own pairs.
    lineage = [p for p in pages if p.startswith("models/lineage")]
    assert sorted(lineage) == ["models/lineage.md", "models/lineage/2.md", "models/lineage/3.md"]
    assert pages["models/lineage.md"].count("<tr><td>") == 5
    assert pages["models/lineage/3.md"].count("<tr><td>") == 2
    assert 'class="mermaid"' not in pages["models/lineage.md"]
    assert "<a href='../../m11/#lineage'>m11</a>" in pages["models/lineage/3.md"]
    # The pager shows the first, last and nearby pages, not one link per page.
    assert "models/activity/12.md" in pages
    middle = pages["models/activity/7.md"]
    pager = re.search(r'<p class="rg-pager">.*</p>', middle)
    assert pager is not None and "…" in pager[0] and "Next →" in pager[0]
    assert pager[0].count("<a href") <= 2 * _html.PAGER_WINDOW + 4


def test_shallow_history_is_explained_not_invented(small: tuple[RegistryIndex, History]) -> None:
    index, _ = small
    shallow = History.of((), complete=False, warning="this is a shallow git clone")
    page = render_site(index, shallow)["models/churn/3/index.md"]
    assert '<p class="admonition-title">History unavailable</p>' in page
    assert "shallow git clone" in page


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
        body = text.split('<pre class="mermaid">')[0]
        assert "<script" not in body.lower(), path
        assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript:", body, re.IGNORECASE), path
        assert "{{" not in text and "--8<--" not in text, path
        assert not re.search(r"<[a-z][^>]*\son\w+\s*=", body, re.IGNORECASE), path
    assert "<script" not in feed
    graph = pages["models/evil/1/index.md"].split('<pre class="mermaid"><code>')[1]
    graph = html.unescape(graph.split("</code></pre>")[0])
    assert "<" not in graph.replace("-->", ""), graph
    assert '"]' not in graph.replace('"])', "").replace('")]', "").replace('"]\n', "\n"), graph
    assert PAYLOAD not in "".join(pages.values())


def test_lineage_parents_resolve_with_the_one_resolver(tmp_path: Path) -> None:
    """A parent URI links to what `registry_gen.resolve.resolve` finds, and to nothing
    when it raises: the website agrees with every other place that resolves URIs."""
    from builders import commit, init_repo, write_model, write_version
    from registry_gen.errors import RegistryError
    from registry_gen.site._context import Lookups

    root = init_repo(tmp_path / "r")
    write_model(root, "a", aliases={"champ": 1})
    write_version(root, "a", 1, stage="Production")
    write_version(root, "a", 2, stage="Staging")
    write_model(root, "b")
    parents = [
        "models:/a/LATEST",
        "models:/a/production",
        "models:/a@champ",
        "models:/a/2",
        "models:/a/Nope",
        "models:/a/9",
        "models:/a@gone",
        "models:/zz/1",
    ]
    write_version(root, "b", 1, lineage={"parents": parents})
    commit(root, "lineage")
    index = load_index(root)
    assert not index.errors, index.errors
    lookups = Lookups(index)
    assert lookups.resolve("not a uri") is None
    for uri in parents:
        try:
            expected = index.resolve(uri)
        except RegistryError:
            assert lookups.resolve(uri) is None, uri
        else:
            found = lookups.resolve(uri)
            assert found is not None and (found.name, found.version) == (
                expected.name,
                expected.version,
            ), uri
    page = render_site(index, read_history(root))["models/b/1/index.md"]
    assert page.count("→ <a href='../../a/2/'>a v2</a>") == 2  # LATEST and /2
    assert page.count("→ <a href='../../a/1/'>a v1</a>") == 2  # production and @champ
    assert page.count("<dt>Parent</dt>") == len(parents)


def test_links_follow_directory_urls(small: tuple[RegistryIndex, History]) -> None:
    """Two renderings with different URL styles do not leak into each other."""
    flat = render_site(*small, SiteOptions(directory_urls=False))
    nested = render_site(*small)
    assert "<a href='3/index.html'><b>v3</b></a>" in flat["models/churn/index.md"]
    assert "<a href='3/'><b>v3</b></a>" in nested["models/churn/index.md"]
    assert "<a href='../index.html'>churn</a>" in flat["models/churn/3/index.md"]


def test_build_files_is_pure_and_complete(small: tuple[RegistryIndex, History]) -> None:
    from registry_gen.site.render import ASSET_DIR, SiteInputs, build_files

    index, history = small
    stamp = datetime(2026, 4, 1, tzinfo=UTC)
    inputs = SiteInputs(
        index, history, stamp, dvc_remote={"name": "storage", "url": "/remote"}, revision="f" * 40
    )
    files = build_files(inputs, OPTIONS)
    assert files == build_files(inputs, OPTIONS)
    assert {p: t for p, t in files.items() if p.endswith(".md")} == render_site(
        index, history, OPTIONS
    )
    assert files["models/feed.xml"] == render_feed(index, history, OPTIONS)
    assert {
        "api/index.json",
        "api/models/churn.json",
        f"{ASSET_DIR}/registry.css",
        f"{ASSET_DIR}/registry.js",
    } <= set(files)
    assert '"generated_at":"2026-04-01T00:00:00Z"' in files["api/index.json"]


# Every class name a generated page may write: chosen from fixed sets, never from a value.
_CLASSES = re.compile(
    r'class="(rg-[a-z-]+(?: rg-[a-z-]+)*|headerlink|admonition warning|admonition-title|'
    r'mermaid)"'
)


def test_hostile_history_reaches_pages_as_text_only(tmp_path: Path) -> None:
    root = build_hostile_registry(tmp_path / "r")
    pages = render_site(load_index(root), read_history(root), OPTIONS)
    activity = pages["models/activity.md"]
    for path, text in pages.items():
        body = text.split('<pre class="mermaid">')[0]
        classes = re.findall(r"class=(\"[^\"]*\"|'[^']*')", body)
        assert all(_CLASSES.fullmatch(f"class={c}") for c in classes), (path, classes)
        assert "2099" not in body.replace("(claims 2099-", ""), path
        assert "#666" not in body and "#667" not in body and "#777" not in body, path
        assert PAYLOAD not in body, path
    # Hostile stages are shown, as text, in plain badges.
    assert '<span class="rg-stage">"&#62;&#60;img src=x onerror' in activity
    # The direct push's 2099 date is shown as the bound, flagged.
    assert "(claims 2099-06-01)</span>" in activity
    # Authors are git identities, marked unverified; the merged change gets the credit.
    assert "<th>Author (git identity, unverified)</th> <th>Merged by</th>" in activity
    assert '<span class="rg-git-identity" title="git identity, unverified">onmouseover' in activity
    assert '/pull/9"' in activity  # the merge commit of the pull request
    assert "/pull/778" not in activity  # a merge subject on a single-parent commit


# Issue 15: search that finds versions, filter boxes, compare, reading comfort.


def _load_it_uris(page: str) -> list[str]:
    section = page.split("## Load it", 1)[1].split("## Versions", 1)[0]
    return [html.unescape(u) for u in re.findall(r'<code class="rg-uri">([^<]+)</code>', section)]


def test_load_it_prefers_production_then_champion_then_aliases_then_latest(
    tmp_path: Path,
) -> None:
    from builders import commit, init_repo, write_model, write_version

    root = init_repo(tmp_path / "r")
    write_model(root, "m", aliases={"challenger": 2, "champion": 3, "backup": 1})
    for number, stage in ((1, "Archived"), (2, "Staging"), (3, "Production"), (4, "None")):
        write_version(root, "m", number, stage=stage)
    commit(root, "m")
    page = render_site(load_index(root), read_history(root))["models/m/index.md"]
    assert _load_it_uris(page) == [
        "models:/m/Production",
        "models:/m@champion",
        "models:/m@backup",
        "models:/m@challenger",
        "models:/m/None",
        "models:/m/Staging",
        "models:/m/Archived",
        "models:/m/latest",
    ]
    assert 'load_model("models:/m/Production")' in page
    # Without a Production version, @champion comes first.
    write_version(root, "m", 3, stage="Staging")
    commit(root, "demote")
    page = render_site(load_index(root), read_history(root))["models/m/index.md"]
    assert _load_it_uris(page)[0] == "models:/m@champion"
    assert 'load_model("models:/m@champion")' in page


def test_version_pages_offer_search_one_paragraph_of_their_words(pages: dict[str, str]) -> None:
    page = pages["models/churn/3/index.md"]
    assert "search:" not in page.split("# churn v3", 1)[0]  # in the search index
    head, _, body = page.partition(SEARCH_END)
    assert head.count("<table") == 0 and "<table" in body
    words = re.search(r'<p class="rg-search-text" hidden>(.*)</p>', head)
    assert words is not None
    for value in (
        "Adds tenure buckets.",
        "Production",
        "alias champion",
        "max_depth 6",
        "lr 0.05",
        "auc 0.9",
        "run-c3",
        "customers-2026-03",
        "alice",
    ):
        assert value in html.unescape(words[1]), value


def test_table_cells_are_separate_words(pages: dict[str, str]) -> None:
    """Text extracted from a page (the search index) must not glue cells together."""
    text = re.sub(r"<[^>]+>", "", pages["models/index.md"])
    assert "Predicts churn for subscribers. Staging" in text
    assert "subscribers.Staging" not in text and "v2Production" not in text


def test_model_and_version_tables_have_a_filter_box(pages: dict[str, str]) -> None:
    assert "<table data-rg-filter>" in pages["models/index.md"]
    assert "<table data-rg-filter>" in pages["models/churn/index.md"]
    assert "data-rg-filter" not in pages["models/activity.md"]


def test_every_version_page_links_the_compare_page(pages: dict[str, str]) -> None:
    compare = pages["models/compare.md"]
    assert "search:\n  exclude: true" in compare and 'id="rg-compare"' in compare
    assert 'data-root="../../"' in compare
    assert 'data-version-url="../__rg_name__/__rg_version__/"' in compare
    for number in (1, 2, 3):
        assert (
            f"<a href='../../compare/?model=churn&amp;v={number}'>Compare with…</a>"
            in pages[f"models/churn/{number}/index.md"]
        )
    # A model with one version has nothing to compare with.
    assert "Compare with" not in pages["models/fraud/1/index.md"]


def test_dates_do_not_wrap(pages: dict[str, str]) -> None:
    assert '<span class="rg-date">2026-03-05&nbsp;10:00</span>' in pages["models/activity.md"]
    assert '<td><span class="rg-date">2026-03-01</span></td>' in pages["models/index.md"]


def test_compare_page_finds_the_api_without_directory_urls(
    small: tuple[RegistryIndex, History],
) -> None:
    pages = render_site(*small, SiteOptions(directory_urls=False))
    compare = pages["models/compare.md"]  # built as models/compare.html
    assert 'data-root="../"' in compare
    assert 'data-version-url="__rg_name__/__rg_version__/index.html"' in compare
    assert "href='../../compare.html?model=churn&amp;v=3'" in pages["models/churn/3/index.md"]
