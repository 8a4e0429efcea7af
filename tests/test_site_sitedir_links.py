"""The in-place site folder never writes or deletes through a symlink left in it."""

from __future__ import annotations

from pathlib import Path

from mkdocs import utils

from registry_gen.site._sitedir import SiteFolder


def _rebuild(site: Path, writes: list[str]) -> None:
    folder = SiteFolder(site)
    folder.set_aside()
    folder.take_back()
    for relative in writes:
        dest = site / relative
        folder.wrote(dest)
        utils.write_file(b"<p>new</p>", str(dest))
    folder.finish()


def test_a_symlinked_folder_in_the_site_is_not_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.html").write_text("mine")
    site = tmp_path / "site"
    site.mkdir()
    (site / "models").symlink_to(outside, target_is_directory=True)
    _rebuild(site, ["models/churn/index.html"])
    assert sorted(p.name for p in outside.iterdir()) == ["keep.html"]
    assert (site / "models/churn/index.html").read_bytes() == b"<p>new</p>"
    assert not (site / "models").is_symlink()


def test_a_symlink_inside_a_taken_back_folder_is_dropped(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    site = tmp_path / "site"
    (site / "models").mkdir(parents=True)
    (site / "models/old.html").write_text("old")
    (site / "models/churn").symlink_to(outside, target_is_directory=True)
    (site / "models/link.html").symlink_to(outside / "x.html")
    _rebuild(site, ["models/churn/index.html"])
    assert list(outside.iterdir()) == []
    assert not (site / "models/churn").is_symlink()
    assert not (site / "models/link.html").is_symlink()
    assert not (site / "models/old.html").exists()  # stale: this build did not write it
