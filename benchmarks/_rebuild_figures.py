"""The site after a one-line promotion (issue 15): how long the rebuild takes, and
how many of the built site's files it changes.

In a clone of the registry (the generated one is only read), the site is built
once, filling the incremental cache; then before each timed run one version
moves from None to Staging in a real commit (untimed), and the run is a fresh
``mkdocs build``. Between runs the built site is compared file by file with the
previous build: a file whose bytes differ, or that was added or removed, counts.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from ._bench import (
    Bench,
    clone,
    feature,
    mkdocs_argv,
    promote,
    remove,
    site_config,
    waiting_versions,
)
from .harness import Figure, ProcessFailed, Target, time_process

# Issue 15: a one-line promotion at 10,000 versions rebuilds in a few seconds...
REBUILD_TARGET = Target(seconds=15.0)
# ... and rewrites at most ten files of the site.
MAX_CHANGED_FILES = 10
_SHOWN = 6  # changed files named in the note


def site_digests(site: Path) -> dict[str, bytes]:
    """Every file of a built site (relative path) and a digest of its bytes."""
    return {
        path.relative_to(site).as_posix(): hashlib.blake2b(
            path.read_bytes(), digest_size=16
        ).digest()
        for path in site.rglob("*")
        if path.is_file()
    }


def changed_files(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """Files whose bytes differ between two builds, added and removed ones included.

    >>> changed_files({"a": b"1", "b": b"2"}, {"a": b"1", "b": b"3", "c": b"4"})
    ['b', 'c']
    """
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )


class _SiteDiffs:
    """Before each timed run: compare the last build with the one before, then promote."""

    def __init__(self, repo: Path, site: Path, waiting: list[tuple[str, int]]) -> None:
        self.repo, self.site, self.waiting = repo, site, waiting
        self.last = site_digests(site)
        self.built = False
        self.changes: list[list[str]] = []

    def record(self) -> None:
        now = site_digests(self.site)
        self.changes.append(changed_files(self.last, now))
        self.last = now

    def before_run(self) -> None:
        if self.built:
            self.record()
        promote(self.repo, self.waiting)
        self.built = True


def measure_rebuild(bench: Bench) -> None:
    """`mkdocs build` again after a one-line promotion (a real commit), on a warm cache."""
    name = f"mkdocs build after a one-line promotion ({bench.registry.versions:,} versions)"
    if feature("registry_gen.site.plugin", "RegistryPlugin") is None:
        bench.results.skip(name, "not available yet (registry_gen.site.plugin)")
        return
    out = Path(tempfile.mkdtemp(prefix="rebuild-", dir=bench.work)).resolve()
    try:
        repo = clone(bench, out / "repo")
        waiting = waiting_versions(repo, bench.runs)
        if len(waiting) < bench.runs:
            bench.results.skip(name, f"only {len(waiting)} versions in stage None to promote")
            return
        argv = mkdocs_argv(site_config(repo, out / "config"), out / "site")
        bench.log("  mkdocs build after a one-line promotion: the first build fills the cache")
        time_process(argv, 1, env=bench.env(), cwd=out, warmup=0)
        diffs = _SiteDiffs(repo, out / "site", waiting)
        times = time_process(
            argv, bench.runs, env=bench.env(), cwd=out, warmup=0, before=diffs.before_run
        )
        diffs.record()
    except (ProcessFailed, subprocess.CalledProcessError) as error:
        bench.results.skip(name, str(error))
        return
    finally:
        remove(out)
    bench.results.add(
        Figure(
            name,
            "site",
            times,
            target=bench.target(REBUILD_TARGET),
            note="a fresh `mkdocs build` after each promotion commit; unchanged pages come from "
            "the incremental cache the previous build wrote",
        )
    )
    _add_changed_files(bench, diffs.changes)


def summarise(files: list[str], shown: int = _SHOWN) -> str:
    """The changed files by kind (numbered folders folded into ``N``), largest kinds first.

    >>> summarise(["models/activity/1/index.html", "models/activity/2/index.html", "a.json"])
    'models/activity/N/index.html ×2, a.json'
    """
    kinds = Counter(re.sub(r"(^|/)\d+(?=/)", r"\1N", name) for name in files)
    ordered = sorted(kinds.items(), key=lambda item: (-item[1], item[0]))
    parts = [kind if count == 1 else f"{kind} ×{count:,}" for kind, count in ordered[:shown]]
    more = len(ordered) - shown
    return ", ".join(parts) + (f", … ({more:,} more kinds)" if more > 0 else "")


def _add_changed_files(bench: Bench, changes: list[list[str]]) -> None:
    counts = [len(files) for files in changes]
    figure = Figure(
        f"site files changed by a one-line promotion ({bench.registry.versions:,} versions)",
        "site",
        [float(n) for n in counts],
        note="files whose bytes differ (added and removed too) between two builds; first run: "
        + (summarise(changes[0]) or "none"),
        extra={"changed_files": counts, "first_run_files": changes[0][:50]},
        unit="files",
    )
    figure.checks[f"≤ {MAX_CHANGED_FILES} files in every run"] = max(counts) <= MAX_CHANGED_FILES
    bench.results.add(figure)
