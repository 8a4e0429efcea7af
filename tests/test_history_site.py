"""Credit and the stage timeline as the site and its JSON API show them."""

from __future__ import annotations

import json
from pathlib import Path

from site_builders import build_small_registry
from test_history import _alice_branch_merged_by_bob

from registry_gen._timeline import intervals
from registry_gen.history import read_history
from registry_gen.site.api import render_api
from registry_gen.site.render import render_site
from registry_gen.store import load_index


def test_site_rows_and_api_credit_the_author_and_the_merger(tmp_path: Path) -> None:
    root = _alice_branch_merged_by_bob(tmp_path / "r")
    index, history = load_index(root), read_history(root)
    pages = render_site(index, history)
    row = next(r for r in pages["models/m/1/index.md"].split("<tr>") if "→" in r)
    cells = row.split("</td> <td>")
    # Author, then the merger, in their own columns.
    assert "Alice Example</span>" in cells[2] and "Bob Builder</span>" in cells[3]
    document = json.loads(render_api(index, None, history=history)["api/models/m.json"])
    staged = next(e for e in document["history"] if e["kind"] == "stage")
    assert (staged["author"], staged["merged_by"], staged["pr"]) == (
        "Alice Example",
        "Bob Builder",
        2,
    )
    assert staged["new"] == "Staging" and staged["date"].endswith("Z")
    assert document["versions"][0]["version"] == 1  # existing fields stay
    # Without history (``history: false``) the documents are as before.
    assert "history" not in json.loads(render_api(index, None)["api/models/m.json"])


def test_timeline_intervals_and_page(tmp_path: Path) -> None:
    root = build_small_registry(tmp_path / "r")
    history = read_history(root)
    held = [
        (i.kind, i.label, i.version, i.started_by.pr, i.ended_by.pr if i.ended_by else None)
        for i in intervals(history.for_model("churn"), skip_stages={"None"})
    ]
    assert held == [
        ("stage", "Production", 1, 2, 4),
        ("stage", "Staging", 2, 3, None),
        ("alias", "champion", 3, 4, None),
        ("stage", "Archived", 1, 4, None),
        ("stage", "Production", 3, 4, None),
    ]
    pages = render_site(load_index(root), history)
    page = pages["models/churn/timeline.md"]
    assert "# churn: stage timeline" in page
    first_production = page.split("<tr>")[-1]
    assert "v1</a>" in first_production and "2026-03-01&nbsp;10:00" in first_production
    assert "Bob Builder</span>" in first_production and "&#35;2" in first_production
    assert "href='timeline/'" in pages["models/churn/index.md"]
