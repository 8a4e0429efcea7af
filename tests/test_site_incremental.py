"""The incremental site build: a promotion re-renders only the pages it changes.

Real ``mkdocs build`` runs (through :func:`registry_gen.site.build_site`) of a small
registry with real git history; the promotion is a real commit. Every rebuild is
also compared, file by file, with a build made without any cache.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from site_builders import build_site_of, build_small_registry

from builders import commit, write_version
from registry_gen.client import RegistryClient
from registry_gen.site import build_site

_LOGGER = "mkdocs.plugins.registry"
_STATS = re.compile(r"registry: (\d+) generated pages rendered, (\d+) unchanged reused")


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REGISTRY_GEN_CACHE", str(tmp_path / "user-cache"))
    monkeypatch.setenv("SITE_URL", "https://registry.example.org/")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")  # MkDocs' sitemap dates
    root = build_small_registry(tmp_path / "registry")
    build_site_of(root)  # mkdocs.yml, docs/ and Mermaid, as the other site tests have them
    shutil.rmtree(tmp_path / "user-cache" / "site-builds")  # that build's cache
    return root


def _cache_folder(root: Path) -> Path:
    folders = list((root.parent / "user-cache" / "site-builds").iterdir())
    assert len(folders) == 1
    return folders[0]


def _build(root: Path, name: str, caplog: pytest.LogCaptureFixture) -> tuple[Path, int, int]:
    """Build into ``root/name``; the site and how many pages were rendered and reused."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=_LOGGER):
        site = build_site(root, strict=True, site_dir=root / name)
    counts = [m.groups() for r in caplog.records if (m := _STATS.search(r.getMessage()))]
    assert len(counts) == 1, caplog.text
    rendered, reused = counts[0]
    return site, int(rendered), int(reused)


def _files(site: Path) -> dict[str, bytes]:
    """Every file of the site (the API's `generated_at` stamp left out)."""
    files = {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }
    files["api/index.json"] = re.sub(rb'"generated_at": ?"[^"]*"', b"", files["api/index.json"])
    return files


def _uncached(root: Path, name: str) -> dict[str, bytes]:
    """The same site built from scratch with the cache switched off."""
    config = root / "mkdocs.yml"
    text = config.read_text()
    config.write_text(text.replace("  - registry\n", "  - registry:\n      cache: false\n"))
    try:
        return _files(build_site(root, strict=True, site_dir=root / name))
    finally:
        config.write_text(text)


def _generated_pages(files: dict[str, bytes]) -> set[str]:
    return {p for p in files if p.startswith("models/") and p.endswith(".html")}


def test_a_promotion_rerenders_only_the_pages_it_changes(
    registry: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first, rendered, reused = _build(registry, "site-1", caplog)
    before = _files(first)
    assert reused == 0 and rendered >= 6

    again, rendered_again, reused_again = _build(registry, "site-2", caplog)
    assert (rendered_again, reused_again) == (0, rendered)
    assert _files(again) == before

    RegistryClient(registry).transition_model_version_stage("fraud", 1, "Archived")
    commit(registry, "Archive fraud v1 (#9)", date="2026-04-01T10:00:00Z")
    after_site, rendered_after, reused_after = _build(registry, "site-3", caplog)
    after = _files(after_site)
    assert 0 < rendered_after < rendered and rendered_after + reused_after == rendered
    changed = {p for p in _generated_pages(after) if after[p] != before.get(p)}
    assert "models/fraud/1/index.html" in changed and "models/fraud/index.html" in changed
    # The other version pages: byte for byte the same, and taken from the cache.
    for page in (
        "models/churn/1/index.html",
        "models/churn/2/index.html",
        "models/churn/3/index.html",
    ):
        assert after[page] == before[page], page
    # The navigation's pages (home, models, activity, lineage) go through MkDocs itself.
    assert (
        len(
            changed
            - {"models/index.html", "models/activity/index.html", "models/lineage/index.html"}
        )
        <= rendered_after
    )
    # And the result is exactly what a build without any cache makes.
    assert after == _uncached(registry, "site-uncached")
    search = json.loads(after["search/search_index.json"])
    assert any(doc["location"].startswith("models/fraud/") for doc in search["docs"])


def test_sitemap_lists_the_streamed_pages(registry: Path, caplog: pytest.LogCaptureFixture) -> None:
    site, _, _ = _build(registry, "site", caplog)
    sitemap = (site / "sitemap.xml").read_text()
    assert "<loc>https://registry.example.org/models/churn/3/</loc>" in sitemap
    assert "<loc>https://registry.example.org/models/</loc>" in sitemap


def test_a_damaged_cache_is_never_trusted(registry: Path, caplog: pytest.LogCaptureFixture) -> None:
    first, rendered, _ = _build(registry, "site-1", caplog)
    expected = _files(first)
    folder = _cache_folder(registry)
    # A stored page that no longer matches its hash: that page is rendered again.
    blob = next(p for p in (folder / "html").rglob("*") if p.is_file())
    blob.write_bytes(b"<script>alert('stale')</script>")
    site, rendered_now, reused_now = _build(registry, "site-2", caplog)
    assert rendered_now >= 1 and rendered_now + reused_now == rendered
    assert _files(site) == expected

    # A manifest that is not JSON, and one from another registry-gen: ignored wholesale.
    manifest = folder / "manifest.json"
    manifest.write_text("{not json")
    site, rendered_now, reused_now = _build(registry, "site-3", caplog)
    assert (rendered_now, reused_now) == (rendered, 0)
    assert "unreadable cache ignored" in caplog.text
    assert _files(site) == expected
    data = json.loads(manifest.read_text())
    data["registry_gen"] = "0.0.0-other"
    manifest.write_text(json.dumps(data))
    site, rendered_now, reused_now = _build(registry, "site-4", caplog)
    assert (rendered_now, reused_now) == (rendered, 0)
    assert "another registry-gen version" in caplog.text
    assert _files(site) == expected


def test_a_configuration_change_invalidates_the_cache(
    registry: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, rendered, _ = _build(registry, "site-1", caplog)
    config = registry / "mkdocs.yml"
    config.write_text(
        config.read_text().replace("site_name: Model registry", "site_name: Renamed registry")
    )
    site, rendered_now, reused_now = _build(registry, "site-2", caplog)
    assert (rendered_now, reused_now) == (rendered, 0)
    assert "Renamed registry" in (site / "models/churn/3/index.html").read_text()
    shutil.rmtree(site)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


def test_each_kind_of_change_rebuilds_to_what_a_clean_build_writes(
    registry: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Model pages are keyed by their inputs, not their Markdown: each change must reach them."""
    _build(registry, "site-0", caplog)
    models = registry / "models"
    # fraud v1 names its parent by an alias of another model: moving the alias moves it.
    _edit(models / "fraud/1/version.yaml", "models:/churn/3", "models:/churn@champion")
    commit(registry, "Parent by alias (#10)", date="2026-04-01T10:00:00Z")
    steps: list[tuple[str, Callable[[], object]]] = [
        ("alias", lambda: _edit(models / "churn/model.yaml", "champion: 3", "champion: 2")),
        ("stage", lambda: _edit(models / "churn/2/version.yaml", "Staging", "None")),
        (
            "description",
            lambda: RegistryClient(registry).update_model_version(
                "churn", 1, description="Now *described*."
            ),
        ),
        ("new version", lambda: write_version(registry, "churn", 4, description="Fourth.")),
        ("removal", lambda: shutil.rmtree(models / "fraud")),
    ]
    for number, (name, change) in enumerate(steps, start=1):
        before = _files(registry / f"site-{number - 1}")
        change()
        commit(registry, f"{name} (#{10 + number})", date=f"2026-04-0{number + 1}T10:00:00Z")
        site, rendered_now, reused_now = _build(registry, f"site-{number}", caplog)
        after = _files(site)
        assert after == _uncached(registry, f"uncached-{number}"), name
        assert rendered_now > 0 and reused_now > 0, name
        if name == "alias":
            # The child's page shows where its parent now resolves.
            assert after["models/fraud/1/index.html"] != before["models/fraud/1/index.html"]
            assert b"churn v2" in after["models/fraud/1/index.html"]
        if name == "new version":
            assert "models/churn/4/index.html" in after
        if name == "removal":
            assert not any(p.startswith("models/fraud/") for p in after)


def test_unchanged_models_are_not_even_rendered_to_markdown(
    registry: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _, _ = _build(registry, "site-1", caplog)
    RegistryClient(registry).transition_model_version_stage("fraud", 1, "Archived")
    commit(registry, "Archive fraud v1 (#9)", date="2026-04-01T10:00:00Z")
    rendered: list[str] = []
    from registry_gen.site import render

    original = render.version_page_text  # type: ignore[attr-defined]

    def counted(model: Any, version: Any, previous: Any, site: Any) -> str:
        rendered.append(f"{model.name}/{version.version}")
        return original(model, version, previous, site)

    monkeypatch.setattr(render, "version_page_text", counted)
    site, _, _ = _build(registry, "site-2", caplog)
    assert rendered == ["fraud/1"]
    assert _files(site)["models/churn/3/index.html"] == _files(first)["models/churn/3/index.html"]


def test_rebuilding_in_place_leaves_what_a_clean_build_leaves(
    registry: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The last build's files are set aside, not deleted: stale and tampered ones must go."""
    site, _, _ = _build(registry, "site", caplog)
    (site / "models/stale").mkdir()
    (site / "models/stale/index.html").write_text("stale")
    (site / "api/stale.json").write_text("{}")
    tampered = site / "models/churn/1/index.html"
    tampered.write_bytes(tampered.read_bytes().replace(b"churn", b"CHURN"))
    RegistryClient(registry).transition_model_version_stage("fraud", 1, "Archived")
    commit(registry, "Archive fraud v1 (#9)", date="2026-04-01T10:00:00Z")
    shutil.rmtree(registry / "models/churn/2")
    commit(registry, "Remove churn v2 (#10)", date="2026-04-02T10:00:00Z")
    site, rendered, reused = _build(registry, "site", caplog)
    assert rendered > 0 and reused > 0
    files = _files(site)
    assert files == _uncached(registry, "site-uncached")
    assert "models/churn/2/index.html" not in files
    assert not (site / ".registry-gen-previous").exists()
    # Nothing changed: every page stays in place, and the site is still the same.
    page = site / "models/churn/3/index.html"
    written = page.stat().st_mtime_ns, page.stat().st_ino
    site, rendered, _ = _build(registry, "site", caplog)
    assert rendered == 0
    assert _files(site) == files
    assert (page.stat().st_mtime_ns, page.stat().st_ino) == written
