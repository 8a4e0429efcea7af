"""The website's figures: history, the Markdown of every page, and ``mkdocs build``.

The site is built from a ``mkdocs.yml`` written outside the registry (the one
``registry-gen init`` writes, with the plugin's ``root`` pointing at the
registry), so a build never changes the generated registry. Each full build is
followed by its two floors (``_site_floors``): a trivial MkDocs build and one
Jinja template writing the same number of pages.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from ._bench import SCALE_VERSIONS, Bench, feature, mkdocs_argv, remove, site_cache, site_config
from ._site_floors import measure_site_floors
from .generate import GeneratedRegistry, RegistrySpec, ensure_registry
from .harness import Figure, ProcessFailed, Target, time_calls, time_process

# The targets, at the default size (1,000 models x 10 versions) on 2 cores.
HISTORY_TARGET = Target(seconds=10.0)
MARKDOWN_TARGET = Target(seconds=10.0)
SITE_TARGET = Target(seconds=60.0)
SITE_MAX_PAGE_BYTES = 40_000
# Issue 16: at 100,000 versions, history within 60 s and the full build within ten
# minutes and 2 GB of memory.
SCALE_HISTORY_TARGET = Target(seconds=60.0)
SCALE_SITE_TARGET = Target(seconds=600.0, peak_bytes=2_000_000_000)

_HISTORY_SCRIPT = """\
import sys
from registry_gen.history import read_history
history = read_history(sys.argv[1])
print(len(getattr(history, "events", ()) or ()))
"""


def measure_history(bench: Bench) -> None:
    history = feature("registry_gen.history", "read_history")
    if history is None:
        bench.results.skip("history", "not available yet (registry_gen.history.read_history)")
        return
    counts: list[int] = []  # the timed calls' event counts (no untimed extra read)

    def read() -> None:
        counts.append(len(getattr(history.read_history(bench.root), "events", ()) or ()))

    timings = time_calls(read, bench.runs, warmup=bench.warmup)
    bench.results.add(
        Figure(
            "read_history (whole git history)",
            "history",
            timings,
            target=bench.target(HISTORY_TARGET)
            or (SCALE_HISTORY_TARGET if bench.at_scale else None),
            note=f"{bench.registry.commits:,} commits, {counts[-1]:,} events",
            scale=bench.registry.versions,
        )
    )
    bench.results.add(
        Figure(
            "read_history (whole git history, fresh process)",
            "history",
            time_process(
                [sys.executable, "-c", _HISTORY_SCRIPT, str(bench.root)],
                bench.runs,
                env=bench.env(),
                warmup=bench.warmup,
            ),
            target=SCALE_HISTORY_TARGET if bench.at_scale else None,
            note="import and read the whole history: its peak memory (issue 16: ≤ 60 s at "
            "100,000 versions)",
            scale=bench.registry.versions,
        )
    )


def measure_markdown(bench: Bench) -> None:
    render = feature("registry_gen.site.render", "render_site")
    history = feature("registry_gen.history", "read_history")
    store = feature("registry_gen.store", "load_index")
    if render is None or history is None or store is None:
        bench.results.skip("markdown", "not available yet (registry_gen.site.render.render_site)")
        return
    index = store.load_index(bench.root)
    events = history.read_history(bench.root)
    rendered: list[Any] = []  # the last timed run's pages: measured, not rendered again
    times = time_calls(
        lambda: rendered.append(render.render_site(index, events)),
        bench.runs,
        before=rendered.clear,
        warmup=bench.warmup,
    )
    sizes = [len(text.encode()) for text in rendered.pop().values()]
    bench.results.add(
        Figure(
            "render_site (Markdown of every page)",
            "markdown",
            times,
            target=bench.target(MARKDOWN_TARGET),
            note=f"{len(sizes):,} pages, largest {max(sizes) / 1000:.0f} KB of Markdown; "
            "index and history given",
            extra={"pages": len(sizes), "max_markdown_bytes": max(sizes)},
            scale=bench.registry.versions,
        )
    )


def _site_build(bench: Bench, registry: GeneratedRegistry, runs: int, *, default: bool) -> Figure:
    out = Path(tempfile.mkdtemp(prefix="site-", dir=bench.work)).resolve()
    try:
        config = site_config(registry.root, out / "config")
        # A full build: no incremental cache from an earlier run (the build writes a new one).
        times = time_process(
            mkdocs_argv(config, out / "site"),
            runs,
            env=bench.env(),
            cwd=out,
            warmup=0,
            before=lambda: shutil.rmtree(site_cache(bench), ignore_errors=True),
        )
        sizes = [p.stat().st_size for p in (out / "site").rglob("*.html")]
        total = sum(p.stat().st_size for p in (out / "site").rglob("*") if p.is_file())
    finally:
        remove(out)
    biggest, mean = max(sizes), sum(sizes) / len(sizes)
    figure = Figure(
        f"mkdocs build ({registry.versions:,} versions)",
        "site",
        times,
        target=(
            SITE_TARGET
            if default
            else SCALE_SITE_TARGET
            if registry.versions >= SCALE_VERSIONS
            else None
        ),
        note=(
            f"{len(sizes):,} HTML pages, max {biggest / 1000:.0f} KB, mean "
            f"{mean / 1000:.0f} KB, site {total / 1e6:.0f} MB"
        ),
        extra={
            "versions": registry.versions,
            "html_pages": len(sizes),
            "max_page_bytes": biggest,
            "mean_page_bytes": round(mean),
            "site_bytes": total,
        },
        scale=registry.versions,
    )
    if default:
        figure.checks[f"pages ≤ {SITE_MAX_PAGE_BYTES // 1000} KB"] = biggest <= SITE_MAX_PAGE_BYTES
    return figure


def _site_available(bench: Bench) -> bool:
    if feature("registry_gen.site.plugin", "RegistryPlugin") is None:
        bench.results.skip("mkdocs build", "not available yet (registry_gen.site.plugin)")
        return False
    try:
        import material  # noqa: F401 - the theme the site is built with
    except ImportError:
        bench.results.skip("mkdocs build", "mkdocs-material is not installed")
        return False
    return True


def measure_site(bench: Bench) -> None:
    """The size curve, the full build at the registry's size, then its two floors."""
    if not _site_available(bench):
        return
    spec = bench.registry.spec
    # The curve: smaller registries first, so a slow build shows its trend before the big one.
    for models in sorted(set(bench.site_sizes)):
        if models == spec.models:
            continue
        small = ensure_registry(
            RegistrySpec(models=models, versions=spec.versions, seed=spec.seed),
            bench.work,
            log=bench.log,
        )
        bench.log(f"  mkdocs build at {small.versions:,} versions")
        try:
            bench.results.add(_site_build(bench, small, bench.runs, default=False))
        except ProcessFailed as error:
            bench.results.skip(f"mkdocs build ({small.versions:,} versions)", str(error))
            return
    bench.log(f"  mkdocs build at {bench.registry.versions:,} versions")
    try:
        figure = _site_build(bench, bench.registry, bench.runs, default=bench.default_size)
    except ProcessFailed as error:
        bench.results.skip(f"mkdocs build ({bench.registry.versions:,} versions)", str(error))
        return
    bench.results.add(figure)
    measure_site_floors(bench, figure)
