"""Rebuilding into the last build's site folder without deleting and recreating it all.

``mkdocs build`` starts by deleting everything in the site folder (12,000 pages in
as many folders at 10,000 versions: seconds of system time, and far more wall time
on a busy disk), and the build then creates every folder and file again. The
registry's pages are mostly the same from one build to the next, so instead:

1. before MkDocs cleans, :meth:`SiteFolder.set_aside` moves the last build's
   top-level entries into a hidden folder of the site folder (one rename each;
   MkDocs' clean leaves hidden entries alone);
2. once MkDocs has written its own files, :meth:`SiteFolder.take_back` moves the
   old entries back wherever MkDocs wrote nothing (a folder at a time);
3. the plugin writes its files over them, skipping a page whose file is still the
   one the last build wrote with the same bytes (:mod:`registry_gen.site._incremental`
   keeps its hash and ``stat`` signature, as git's index does);
4. :meth:`SiteFolder.finish` deletes every file taken back that this build did not
   write, the folders left empty, and the hidden folder.

So the site folder ends exactly as a clean build leaves it
(``tests/test_site_incremental.py`` compares them file for file). A build that fails
half-way leaves the hidden folder; the next build deletes it first.
"""

from __future__ import annotations

import logging
import os
import shutil
from contextlib import suppress
from pathlib import Path

log = logging.getLogger("mkdocs.plugins.registry")

ASIDE = ".registry-gen-previous"


class SiteFolder:
    """The site folder of one build, and the last build's files set aside in it."""

    def __init__(self, site_dir: Path) -> None:
        """Nothing is moved until :meth:`set_aside`."""
        self.site_dir = site_dir
        self.aside = site_dir / ASIDE
        self.taken: set[str] = set()  # files taken back, relative to the site folder
        self.written: set[str] = set()  # files this build wrote or kept

    def set_aside(self) -> None:
        """Move the last build's entries into the hidden folder (before MkDocs cleans)."""
        if self.aside.exists() or self.aside.is_symlink():
            _remove(self.aside)  # a failed build's
        try:
            entries = [e for e in self.site_dir.iterdir() if not e.name.startswith(".")]
        except OSError:
            return
        if not entries:
            return
        self.aside.mkdir()
        for entry in entries:
            entry.rename(self.aside / entry.name)

    def take_back(self) -> None:
        """Move the set-aside entries back where MkDocs wrote nothing this build."""
        if self.aside.is_dir():
            self._merge(self.aside, self.site_dir, "")

    def _merge(self, source: Path, target: Path, relative: str) -> None:
        for entry in os.scandir(source):
            name = f"{relative}{entry.name}"
            there = target / entry.name
            if entry.is_symlink():
                # No build writes one: taken back, this build's pages would be written
                # through it, outside the site folder. It goes with the hidden folder.
                continue
            if not os.path.lexists(there):
                Path(entry.path).rename(there)
                self._note_taken(there, name, entry.is_dir(follow_symlinks=False))
            elif entry.is_dir(follow_symlinks=False) and there.is_dir() and not there.is_symlink():
                self._merge(Path(entry.path), there, f"{name}/")

    def _note_taken(self, path: Path, relative: str, folder: bool) -> None:
        if not folder:
            self.taken.add(relative)
            return
        for top, folders, files in os.walk(path):
            # os.walk lists a symlink to a folder with the folders and does not enter it.
            links = [n for n in (*folders, *files) if (Path(top) / n).is_symlink()]
            for name in links:
                (Path(top) / name).unlink()  # as in _merge: never written through
            folders[:] = [n for n in folders if n not in links]
            prefix = Path(top).relative_to(self.site_dir).as_posix()
            self.taken.update(f"{prefix}/{name}" for name in files if name not in links)

    def relative(self, path: str | Path) -> str:
        """``path`` (in the site folder) relative to it, POSIX style."""
        return os.path.relpath(path, self.site_dir).replace(os.sep, "/")

    def wrote(self, path: str | Path) -> None:
        """Note a file this build wrote (or kept as it was)."""
        self.written.add(self.relative(path))

    def was_taken_back(self, path: str | Path) -> bool:
        """Whether the file at ``path`` is one the last build wrote, taken back."""
        return bool(self.taken) and self.relative(path) in self.taken

    def finish(self) -> None:
        """Delete the taken-back files this build did not write, then the hidden folder."""
        stale = self.taken - self.written
        folders: set[Path] = set()
        for relative in stale:
            path = self.site_dir / relative
            path.unlink(missing_ok=True)
            folders.update(path.parents)
        # Deepest first: a folder whose files were all stale goes with them.
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            if folder != self.site_dir and self.site_dir in folder.parents:
                with suppress(OSError):  # not empty
                    folder.rmdir()
        if stale:
            log.info("registry: %d files of the last build removed", len(stale))
        self.discard()

    def discard(self) -> None:
        """Delete the hidden folder (what is left of the last build)."""
        if os.path.lexists(self.aside):
            _remove(self.aside)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
