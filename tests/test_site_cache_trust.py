"""The site's page cache is private to its user, as every registry-gen cache is (class 9)."""

from __future__ import annotations

import os
from pathlib import Path

from registry_gen.site._incremental import PageCache


def _saved(folder: Path) -> str:
    cache = PageCache.open(folder, "f" * 64)
    key = cache.key("models/m/index.md", "text")
    cache.store("models/m/index.md", key, b"<p>planted</p>", [])
    cache.save()
    return key


def test_a_group_writable_page_cache_is_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "cache" / "site-builds" / "abc"
    key = _saved(folder)
    assert PageCache.open(folder, "f" * 64).lookup("models/m/index.md", key) is not None
    os.chmod(folder, 0o777)  # another local user could have written the manifest
    cache = PageCache.open(folder, "f" * 64)
    assert cache.lookup("models/m/index.md", key) is None
    assert "refusing" in cache.stats.reason


def test_a_world_writable_manifest_is_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "cache" / "site-builds" / "abc"
    key = _saved(folder)
    os.chmod(folder / "manifest.json", 0o666)
    assert PageCache.open(folder, "f" * 64).lookup("models/m/index.md", key) is None


def test_the_page_cache_is_written_private_whatever_the_umask(tmp_path: Path) -> None:
    folder = tmp_path / "cache" / "site-builds" / "abc"
    old = os.umask(0o002)
    try:
        _saved(folder)
    finally:
        os.umask(old)
    for path in (folder.parent, folder, folder / "manifest.json", *folder.rglob("*")):
        assert os.lstat(path).st_mode & 0o022 == 0, path
