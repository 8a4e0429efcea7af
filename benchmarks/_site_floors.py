"""The site build's floors (issue 15): what the same number of pages costs at least.

* **A trivial MkDocs build**: the same theme (Material, the features and
  Markdown extensions of ``registry-gen init``'s ``mkdocs.yml``) and the search
  plugin, over as many short fixed Markdown pages as the real build wrote, with
  only the home page in the navigation (as the registry's plugin hands MkDocs
  only the navigation's pages). What MkDocs' own per-page pipeline costs:
  Markdown, the theme's templates, search, writing.
* **One Jinja template**: a fresh Python that renders the same number of pages,
  of the real build's mean size, from one compiled template (header, navigation,
  the page's body, footer), writes each, and writes a search index of them. The
  "lean path": what the generated pages would cost without MkDocs' per-page
  pipeline.

Both are fresh processes, with CPU and peak memory (after `sync`: most of the
Jinja floor is the kernel creating folders and files, which a busy disk slows);
the real build's row shows its ratio to each.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import yaml

from ._bench import Bench, mkdocs_argv, remove, site_config
from .harness import Figure, ProcessFailed, time_process

# Floors are for scale, not judged: at most this many runs, even with --runs 5.
FLOOR_RUNS = 3
_PAGES_PER_FOLDER = 100
_TRIVIAL_PAGE = "# Page {n}\n\nThe same short paragraph on every page of the trivial build.\n"

_JINJA_SCRIPT = """\
import json, os, sys
import jinja2, markupsafe
out, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
TEMPLATE = '''<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{ title }} - {{ site }}</title>
<link rel="stylesheet" href="{{ base }}/assets/stylesheets/main.css">
<link rel="stylesheet" href="{{ base }}/assets/registry/registry.css"></head>
<body><header class="md-header"><a href="{{ base }}/" class="md-logo">{{ site }}</a>
<form class="md-search"><input type="text" placeholder="Search"></form></header>
<nav class="md-nav"><ul>{% for item in nav %}
<li class="md-nav__item">
<a href="{{ base }}/{{ item.url }}" class="md-nav__link">{{ item.title }}</a></li>
{% endfor %}</ul></nav>
<main class="md-main"><article class="md-content__inner md-typeset">
<h1 id="{{ slug }}">{{ title }}</h1>
{{ content }}
</article></main>
<footer class="md-footer">{{ filler }}</footer>
<script src="{{ base }}/assets/javascripts/bundle.js"></script></body></html>
'''
env = jinja2.Environment(autoescape=True)
template = env.from_string(TEMPLATE)
nav = [{"url": u + "/", "title": t} for u, t in
       [("models", "Models"), ("activity", "Activity"), ("lineage", "Lineage")]]
content = markupsafe.Markup("<p>The same short paragraph on every page of the floor.</p>")
probe = len(template.render(title="Page", site="Registry", base="..", nav=nav, slug="page",
                            content=content, filler="").encode())
filler = markupsafe.Markup("<!-- " + "x" * max(size - probe - 9, 0) + " -->")
docs = []
for n in range(count):
    folder = os.path.join(out, "pages", "%04d" % (n // 100), "%06d" % n)
    os.makedirs(folder)
    html = template.render(title="Page %d" % n, site="Registry", base="../../..", nav=nav,
                           slug="page-%d" % n, content=content, filler=filler)
    with open(os.path.join(folder, "index.html"), "w", encoding="utf-8") as handle:
        handle.write(html)
    docs.append({"location": "pages/%04d/%06d/" % (n // 100, n), "title": "Page %d" % n,
                 "text": "The same short paragraph on every page of the floor."})
os.makedirs(os.path.join(out, "search"))
with open(os.path.join(out, "search", "search_index.json"), "w", encoding="utf-8") as handle:
    json.dump({"config": {"lang": ["en"]}, "docs": docs}, handle)
print(count)
"""


def _trivial_project(folder: Path, pages: int, base_config: Path) -> Path:
    """A MkDocs project that writes ``pages`` HTML pages (its 404 page included), each from a
    short fixed Markdown page, with the real build's theme settings."""
    config = yaml.safe_load(base_config.read_text())
    config["site_name"] = "Trivial floor"
    config["plugins"] = [p for p in config.get("plugins", []) if p == "search"] or ["search"]
    config["nav"] = ["index.md"]
    docs = folder / "docs"
    docs.mkdir(parents=True)
    (docs / "index.md").write_text(_TRIVIAL_PAGE.format(n=0))
    for n in range(1, pages - 1):
        sub = docs / "pages" / f"{n // _PAGES_PER_FOLDER:04d}"
        if n % _PAGES_PER_FOLDER == 0 or n == 1:
            sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{n:06d}.md").write_text(_TRIVIAL_PAGE.format(n=n))
    (folder / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder / "mkdocs.yml"


def _empty(site: Path) -> None:
    """Before a run of the template floor: no site, and nothing left to write back."""
    shutil.rmtree(site, ignore_errors=True)
    os.sync()


def measure_site_floors(bench: Bench, build: Figure) -> None:
    """Both floors for ``build`` (a full ``mkdocs build`` figure), and its ratios to them."""
    pages = int(build.extra.get("html_pages", 0))
    mean = int(build.extra.get("mean_page_bytes", 0))
    if pages < 2:
        return
    runs = max(1, min(bench.runs, FLOOR_RUNS))
    out = Path(tempfile.mkdtemp(prefix="floors-", dir=bench.work)).resolve()
    trivial_name = f"floor: trivial MkDocs build ({pages:,} pages)"
    jinja_name = f"floor: {pages:,} pages from one Jinja template (fresh process)"
    try:
        bench.log(f"  floors of the site build: {pages:,} pages")
        config = _trivial_project(out / "trivial", pages, site_config(bench.root, out / "base"))
        site = out / "site"
        trivial = time_process(
            mkdocs_argv(config, site),
            runs,
            env=bench.env(),
            cwd=out,
            warmup=0,
            before=os.sync,
        )
        shutil.rmtree(out / "trivial", ignore_errors=True)
        lean = time_process(
            [sys.executable, "-c", _JINJA_SCRIPT, str(site), str(pages), str(mean)],
            runs,
            env=bench.env(),
            cwd=out,
            warmup=0,
            before=lambda: _empty(site),
        )
    except (ProcessFailed, OSError, yaml.YAMLError) as error:
        bench.results.skip("floors of the site build", str(error))
        return
    finally:
        remove(out)
    versions = build.scale
    floors = (
        bench.results.add(
            Figure(
                trivial_name,
                "site",
                trivial,
                note="Material and search, the same page count, each page a short fixed Markdown "
                "page, only the home page in the navigation: MkDocs' own per-page cost",
                scale=versions,
            )
        ),
        bench.results.add(
            Figure(
                jinja_name,
                "site",
                lean,
                note=f"one compiled Jinja template, pages of the build's mean size "
                f"({mean / 1000:.0f} KB), written with a search index: the lean path's floor",
                scale=versions,
            )
        ),
    )
    _compare(build, floors)


def _compare(build: Figure, floors: tuple[Figure, Figure]) -> None:
    """User and system CPU in each note; the build's CPU ratio to each floor."""
    for figure in (build, *floors):  # the template floor is mostly the kernel's file work
        if figure.system and len(figure.system) == len(figure.cpu):
            user = statistics.median(c - s for c, s in zip(figure.cpu, figure.system, strict=True))
            system = statistics.median(figure.system)
            figure.note += f" (cpu: {user:.1f} s user + {system:.1f} s system)"
    build.floor, build.cpu_vs_floor = floors[0].name, True
    ratios = []
    for floor, key, label in zip(
        floors,
        ("trivial_mkdocs", "jinja_template"),
        ("the trivial MkDocs build", "one Jinja template"),
        strict=True,
    ):
        if build.cpu_median and floor.cpu_median:
            ratio = build.cpu_median / floor.cpu_median
            build.extra[f"cpu_vs_{key}"] = round(ratio, 2)
            ratios.append(f"{ratio:.1f}× {label}")
    if ratios:
        build.note += "; cpu " + ", ".join(ratios)
