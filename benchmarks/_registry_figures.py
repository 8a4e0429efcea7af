"""Reading the registry: the libyaml floor, loading the index, validating, ``show``.

The one-model pull request of ``validate --base`` is made in a clone (a
promotion committed there), so the generated registry is only read.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ._bench import (
    Bench,
    clear_memos,
    cli,
    clone,
    feature,
    forgetting,
    has_command,
    promote,
    remove,
    waiting_versions,
)
from .harness import Figure, ProcessFailed, Target, time_calls, time_process

# The targets, at the default size (1,000 models x 10 versions) on 2 cores.
VALIDATE_TARGET = Target(seconds=5.0, label="load + validate ≤ 5 s")
SHOW_TARGET = Target(seconds=0.3)
# Issue 16: at 100,000 versions, the fresh `validate` within 1.2x the CPU of libyaml reading
# every record (below that, importing pydantic and the CLI is a fair part of the time).
VALIDATE_FLOOR_TARGET = Target(factor=1.2)
# Issue 15: `validate --base` on a pull request that touches one model, at most 0.2x the CPU
# of the full validation (judged at the default size and at 100,000 versions; in a tiny
# registry start-up is most of both).
PR_TARGET = Target(factor=0.2, label="cpu ≤ 0.2× full validate")
PARSE_FLOOR = "floor: libyaml parses every record (fresh process)"
FULL_VALIDATE = "registry-gen validate (fresh process)"

# The least reading a registry can cost: list models/, read every record file, and let
# libyaml's C parser load each (no strictness, no schema, no rules). One process.
_PARSE_FLOOR_SCRIPT = """\
import os, sys, yaml
root = sys.argv[1]
count = 0
def load(path):
    global count
    with open(path, "rb") as handle:
        yaml.load(handle.read(), Loader=yaml.CSafeLoader)
    count += 1
if os.path.exists(os.path.join(root, "registry.yaml")):
    load(os.path.join(root, "registry.yaml"))
for folder, dirs, files in os.walk(os.path.join(root, "models")):
    dirs.sort()
    depth = os.path.relpath(folder, root).count(os.sep)
    for name in sorted(files):
        if (depth == 1 and name == "model.yaml") or (depth == 2 and (
                name == "version.yaml" or name.endswith(".dvc"))):
            load(os.path.join(folder, name))
print(count)
"""

_LOAD_INDEX_SCRIPT = """\
import sys
from registry_gen.store import load_index
index = load_index(sys.argv[1])
print(sum(len(m.versions) for m in index.models.values()))
"""


def measure_parse_floor(bench: Bench) -> Figure:
    """The libyaml floor of the same run (measured once, whichever figure asks first)."""
    found = bench.results.by_name(PARSE_FLOOR)
    if found is not None:
        return found
    return bench.results.add(
        Figure(
            PARSE_FLOOR,
            "validate",
            time_process(
                [sys.executable, "-c", _PARSE_FLOOR_SCRIPT, str(bench.root)],
                bench.runs,
                env=bench.env(),
                warmup=bench.warmup,
            ),
            note="os.walk + yaml.load(CSafeLoader) of registry.yaml, every model.yaml, "
            "version.yaml and .dvc: the least reading the registry can cost",
            scale=bench.registry.versions,
        )
    )


def _measure_fresh_load(bench: Bench) -> None:
    floor = measure_parse_floor(bench)
    bench.results.add(
        Figure(
            "load_index (working tree, fresh process)",
            "index",
            time_process(
                [sys.executable, "-c", _LOAD_INDEX_SCRIPT, str(bench.root)],
                bench.runs,
                env=bench.env(),
                warmup=bench.warmup,
            ),
            floor=floor.name,
            note="import, list, read, parse and validate every record: what any whole-registry "
            "command pays first",
            scale=bench.registry.versions,
        )
    )


def measure_index(bench: Bench) -> None:
    store = feature("registry_gen.store", "load_index")
    if store is None:
        bench.results.skip("load_index", "not available yet (registry_gen.store.load_index)")
        return
    versions = bench.registry.versions
    _measure_fresh_load(bench)
    loaded: list[Any] = []  # what the last timed run loaded: looked at, not loaded again
    times = time_calls(
        lambda: loaded.append(store.load_index(bench.root)),
        bench.runs,
        before=forgetting(loaded),
        warmup=bench.warmup,
    )
    index = loaded.pop()
    if index.errors:
        bench.log(
            f"  warning: the generated registry has {len(index.errors)} record errors, "
            f"first: {index.errors[0]}"
        )
    parsed = sum(len(m.versions) for m in index.models.values())
    bench.results.add(
        Figure(
            "load_index (working tree)",
            "index",
            times,
            note=f"{len(index.models):,} models, {parsed:,} versions parsed and validated",
            scale=versions,
        )
    )
    del index
    bench.results.add(
        Figure(
            "load_index (git rev HEAD)",
            "index",
            time_calls(
                lambda: store.load_index(bench.root, rev="HEAD"),
                bench.runs,
                before=clear_memos,
                warmup=bench.warmup,
            ),
            scale=versions,
        )
    )
    if hasattr(store, "_RECORD_MEMO"):
        bench.results.add(
            Figure(
                "load_index again in the same process (working tree)",
                "index",
                time_calls(lambda: store.load_index(bench.root), bench.runs, warmup=bench.warmup),
                note="records already parsed are reused: what `mkdocs serve` pays per edit",
                scale=versions,
            )
        )


def measure_validate(bench: Bench) -> None:
    validate = feature("registry_gen.validate", "validate_tree", "validate_change")
    if validate is None:
        bench.results.skip("validate", "not available yet (registry_gen.validate)")
        return
    versions = bench.registry.versions
    reports: list[Any] = []  # the last timed run's report: looked at, not made again
    bench.results.add(
        Figure(
            "validate_tree (working tree, in-process)",
            "validate",
            time_calls(
                lambda: reports.append(validate.validate_tree(bench.root)),
                bench.runs,
                before=forgetting(reports),
                warmup=bench.warmup,
            ),
            note="includes loading the index",
            scale=versions,
        )
    )
    report = reports.pop()
    if report.errors:
        bench.log(
            f"  warning: validate finds {len(report.errors)} errors in the generated "
            f"registry, first: {report.errors[0].where} {report.errors[0].message}"
        )
    base = bench.registry.base_rev
    bench.results.add(
        Figure(
            f"validate_change ({base}..HEAD, in-process)",
            "validate",
            time_calls(
                lambda: validate.validate_change(bench.root, base, "HEAD"),
                bench.runs,
                before=clear_memos,
                warmup=bench.warmup,
            ),
            note="both sides read from git objects; the change spans the last 25 pull requests",
            scale=versions,
        )
    )
    if not has_command("validate"):
        bench.results.skip("registry-gen validate", "not available yet (CLI command)")
        return
    _measure_validate_cli(bench)
    measure_validate_pr(bench)


def _measure_validate_cli(bench: Bench) -> None:
    root, base, versions = str(bench.root), bench.registry.base_rev, bench.registry.versions
    floor = measure_parse_floor(bench)
    bench.results.add(
        Figure(
            FULL_VALIDATE,
            "validate",
            time_process(
                [str(cli()), "-C", root, "validate"],
                bench.runs,
                env=bench.env(),
                warmup=bench.warmup,
            ),
            target=bench.target(VALIDATE_TARGET)
            or (VALIDATE_FLOOR_TARGET if bench.at_scale else None),
            floor=floor.name,
            scale=versions,
        )
    )
    bench.results.add(
        Figure(
            f"registry-gen validate --base {base} (fresh process)",
            "validate",
            time_process(
                [str(cli()), "-C", root, "validate", "--base", base],
                bench.runs,
                env=bench.env(),
                warmup=bench.warmup,
            ),
            target=bench.target(VALIDATE_TARGET),
            scale=versions,
        )
    )


def measure_validate_pr(bench: Bench) -> None:
    """``validate --base`` on a pull request that promotes one version, vs the full validate.

    The pull request is a real commit in a clone (one version None -> Staging,
    made through the client); each run is a fresh ``registry-gen validate --base
    PARENT --head HEAD`` there.
    """
    name = "registry-gen validate --base PARENT --head HEAD, one-model PR (fresh process)"
    full = bench.results.by_name(FULL_VALIDATE)
    out = Path(tempfile.mkdtemp(prefix="pr-", dir=bench.work)).resolve()
    try:
        repo = clone(bench, out / "repo")
        waiting = waiting_versions(repo, 1)
        if not waiting:
            bench.results.skip(name, "no version in stage None to promote")
            return
        promoted = waiting[0]
        parent = promote(repo, waiting)
        times = time_process(
            [str(cli()), "-C", str(repo), "validate", "--base", parent, "--head", "HEAD"],
            bench.runs,
            env=bench.env(),
            warmup=bench.warmup,
        )
    except (ProcessFailed, subprocess.CalledProcessError) as error:
        bench.results.skip(name, str(error))
        return
    finally:
        remove(out)
    judged = bench.default_size or bench.at_scale
    bench.results.add(
        Figure(
            name,
            "validate",
            times,
            target=PR_TARGET if judged and full is not None else None,
            floor=full.name if full is not None else None,
            note=f"one commit moving {promoted[0]} v{promoted[1]} None → Staging, in a clone; "
            "judged against the full `registry-gen validate` of this run",
        )
    )


def measure_show(bench: Bench) -> None:
    if not has_command("show"):
        bench.results.skip("registry-gen show", "not available yet (CLI command)")
        return
    uri = bench.registry.production_uri
    bench.results.add(
        Figure(
            f"registry-gen show {uri} (fresh process)",
            "show",
            time_process(
                [str(cli()), "-C", str(bench.root), "show", uri],
                bench.runs,
                env=bench.env(),
                warmup=bench.warmup,
            ),
            target=bench.target(SHOW_TARGET),
        )
    )
    bench.results.add(
        Figure(
            "registry-gen --version (fresh process)",
            "show",
            time_process(
                [str(cli()), "--version"], bench.runs, env=bench.env(), warmup=bench.warmup
            ),
            note="the CLI's start-up alone: the floor under every command",
        )
    )
