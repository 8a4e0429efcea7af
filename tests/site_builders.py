"""Registries for the website's tests: a small realistic one and a hostile one.

Commits carry fixed author and committer dates, so commit ids (and the golden
pages that show them) are the same on every run.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from builders import commit, git, init_repo, write_model, write_version

AUTHOR = "Alice Example <alice@example.com>"
REVIEWER = "Bob Builder <bob@example.com>"


def _env(date: str) -> dict[str, str]:
    return {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}


def _merge(root: Path, branch: str, pr: int, title: str, date: str) -> None:
    git(root, "checkout", "-q", "main")
    git(
        root,
        "merge",
        "-q",
        "--no-ff",
        branch,
        "-m",
        f"Merge pull request #{pr} from team/{branch}\n\n{title}",
        env=_env(date),
    )


def _lineage(
    run: str, dataset: str, md5: str, parents: list[str] | None = None
) -> dict[str, object]:
    return {
        "run_id": run,
        "run_url": f"https://mlflow.example.com/#/runs/{run}",
        "code": {"repo": "https://github.com/example/churn", "commit": "0123456789abcdef"},
        "datasets": [{"name": dataset, "path": f"data/{dataset}.parquet", "md5": md5}],
        "parents": parents or [],
    }


def build_small_registry(root: Path) -> Path:
    """churn v1-v3 (v3 Production, v2 Staging, v1 Archived; @champion), fraud v1 from churn v3."""
    init_repo(root)
    # Fix the first commit's dates too, so every commit id below is reproducible.
    git(
        root,
        "commit",
        "-q",
        "--amend",
        "--no-edit",
        "--date=2025-12-31T10:00:00Z",
        env=_env("2025-12-31T10:00:00Z"),
    )
    (root / "models" / ".gitkeep").unlink()
    write_model(
        root,
        "churn",
        description="Predicts **churn** for subscribers.\n\nSee the "
        "[model card](https://example.com/card).",
        owners=["@ml-team"],
        tags={"team": "growth", "task": "classification"},
    )
    write_version(
        root,
        "churn",
        1,
        metrics={"auc": 0.81, "f1": 0.7},
        params={"max_depth": 4, "lr": 0.1},
        lineage=_lineage("run-a1", "customers-2026-01", "a" * 32),
        signature={
            "inputs": [{"name": "tenure", "type": "float", "shape": [-1, 1]}],
            "outputs": [{"name": "churn", "type": "int"}],
        },
    )
    commit(root, "Register churn v1 (#1)", author=AUTHOR, date="2026-01-01T10:00:00Z")
    git(root, "checkout", "-q", "-b", "promote-1")
    write_version(
        root,
        "churn",
        1,
        stage="Production",
        description="First model.",
        metrics={"auc": 0.81, "f1": 0.7},
        params={"max_depth": 4, "lr": 0.1},
        lineage=_lineage("run-a1", "customers-2026-01", "a" * 32),
        signature={
            "inputs": [{"name": "tenure", "type": "float", "shape": [-1, 1]}],
            "outputs": [{"name": "churn", "type": "int"}],
        },
    )
    commit(root, "Promote churn v1", author=REVIEWER, date="2026-01-02T10:00:00Z")
    _merge(root, "promote-1", 2, "Promote churn v1 to Production", "2026-01-02T11:00:00Z")
    write_version(
        root,
        "churn",
        2,
        stage="Staging",
        metrics={"auc": 0.86, "f1": 0.74},
        params={"max_depth": 6, "lr": 0.1},
        lineage=_lineage("run-b2", "customers-2026-02", "b" * 32),
    )
    commit(root, "Register churn v2 (#3)", author=AUTHOR, date="2026-02-01T10:00:00Z")
    write_version(
        root,
        "churn",
        1,
        stage="Archived",
        description="First model.",
        metrics={"auc": 0.81, "f1": 0.7},
        params={"max_depth": 4, "lr": 0.1},
        lineage=_lineage("run-a1", "customers-2026-01", "a" * 32),
        signature={
            "inputs": [{"name": "tenure", "type": "float", "shape": [-1, 1]}],
            "outputs": [{"name": "churn", "type": "int"}],
        },
    )
    write_version(
        root,
        "churn",
        3,
        stage="Production",
        description="Adds tenure buckets.",
        metrics={"auc": 0.9, "f1": 0.78},
        params={"max_depth": 6, "lr": 0.05},
        lineage=_lineage("run-c3", "customers-2026-03", "c" * 32),
    )
    write_model(
        root,
        "churn",
        description="Predicts **churn** for subscribers.\n\nSee the "
        "[model card](https://example.com/card).",
        owners=["@ml-team"],
        tags={"team": "growth", "task": "classification"},
        aliases={"champion": 3},
    )
    commit(
        root,
        "Register churn v3 in Production, archive v1 (#4)",
        author=REVIEWER,
        date="2026-03-01T10:00:00Z",
    )
    write_model(
        root,
        "fraud",
        description="Flags fraudulent payments.",
        owners=["@risk"],
        tags={"team": "risk"},
    )
    write_version(
        root,
        "fraud",
        1,
        stage="Staging",
        metrics={"precision": 0.93},
        lineage=_lineage("run-f1", "payments", "d" * 32, parents=["models:/churn/3"]),
    )
    commit(root, "Register fraud v1 (#5)", author=AUTHOR, date="2026-03-05T10:00:00Z")
    return root


PAYLOAD = "window.__pwned=1;document.title='pwned'"
HOSTILE_DESCRIPTION = f"""Hostile <script>{PAYLOAD}</script> text.

<img src=x onerror="{PAYLOAD}"> <a href="javascript:{PAYLOAD}">a link</a>
[md link](javascript:{PAYLOAD}) ![img](data:text/html,<script>{PAYLOAD}</script>)
<iframe src="javascript:{PAYLOAD}"></iframe> <svg onload="{PAYLOAD}"></svg>
<details open ontoggle="{PAYLOAD}"><summary>s</summary>x</details>
{{{{ config.site_name }}}} and --8<-- "/etc/passwd"
"""
HOSTILE_TEXT = f'<script>{PAYLOAD}</script><img src=x onerror="{PAYLOAD}">'


def build_hostile_registry(root: Path) -> Path:
    """A registry whose every free-text field tries to run script on the site."""
    init_repo(root)
    write_model(
        root,
        "evil",
        description=HOSTILE_DESCRIPTION,
        owners=[HOSTILE_TEXT],
        tags={HOSTILE_TEXT: HOSTILE_TEXT},
    )
    fields: dict[str, Any] = {
        "description": HOSTILE_DESCRIPTION,
        "created_by": HOSTILE_TEXT,
        "params": {HOSTILE_TEXT: HOSTILE_TEXT},
        "tags": {"x": HOSTILE_TEXT},
        "lineage": {
            "run_id": HOSTILE_TEXT,
            "run_url": f"javascript:{PAYLOAD}",
            "code": {"repo": f"javascript:{PAYLOAD}", "commit": "abcdef0"},
            "datasets": [
                {"name": HOSTILE_TEXT, "url": f"javascript:{PAYLOAD}"},
                {"name": '"]; click n0 call alert(1); n9["x', "path": HOSTILE_TEXT},
            ],
        },
        "signature": {"inputs": [{"name": HOSTILE_TEXT, "type": HOSTILE_TEXT}]},
    }
    write_version(root, "evil", 1, stage="Staging", metrics={HOSTILE_TEXT: 1.0}, **fields)
    commit(
        root,
        f"Register <script>{PAYLOAD}</script> (#1)",
        author=f"onmouseover={PAYLOAD} x&lt;script&gt; <evil@example.com>",
    )
    write_version(root, "evil", 1, stage="Production", metrics={HOSTILE_TEXT: 2.0}, **fields)
    write_version(root, "evil", 2, stage="Staging", metrics={HOSTILE_TEXT: 3.0}, **fields)
    commit(root, f'Promote "><img src=x onerror="{PAYLOAD}">', author=AUTHOR)
    _hostile_history(root, fields)
    return root


# Stage values an unvalidated commit can write: the history reads every commit on the line.
HOSTILE_STAGES: list[Any] = [
    f'"><img src=x onerror="{PAYLOAD}">',
    f"x onmouseover={PAYLOAD} md-header",
    {f"<img src=x onerror={PAYLOAD}>": [f"<script>{PAYLOAD}</script>"]},
]
# Git identities cannot hold '<' or '>': everything else that HTML reads is here.
HOSTILE_AUTHOR = f'" onmouseover="{PAYLOAD}" x=\'&lt;img src=x onerror={PAYLOAD}&gt;\' <e@x>'


def _hostile_history(root: Path, fields: dict[str, Any]) -> None:
    """History positions a commit can fill with hostile values: stages and alias names of
    intermediate commits on the first-parent line and inside a merged branch, authors,
    subjects, fake pull-request subjects off the merge line, dates in 2099."""
    git(root, "checkout", "-q", "-b", "hostile-pr")
    for stage in HOSTILE_STAGES:
        write_version(root, "evil", 2, stage=stage, metrics={"m": 1.0}, **fields)
        commit(
            root,
            f"Merge pull request #666 from evil/<script>{PAYLOAD}</script>",
            author=HOSTILE_AUTHOR,
            date="2099-01-01T00:00:00Z",
        )
    edited = {**fields, "description": HOSTILE_DESCRIPTION + "\nEdited in a pull request."}
    write_version(root, "evil", 2, stage="Staging", metrics={HOSTILE_TEXT: 3.0}, **edited)
    commit(root, "Restore (#667)", author=HOSTILE_AUTHOR)
    git(root, "checkout", "-q", "main")
    git(
        root,
        "merge",
        "-q",
        "--no-ff",
        "hostile-pr",
        "-m",
        f'Merge pull request #9 from evil/pr\n\n<img src=x onerror="{PAYLOAD}">',
    )
    for stage in HOSTILE_STAGES:  # straight on the line, as a direct push would land
        write_version(root, "evil", 2, stage=stage, metrics={"m": 1.0}, **fields)
        write_model(
            root,
            "evil",
            description=HOSTILE_DESCRIPTION,
            owners=[HOSTILE_TEXT],
            tags={HOSTILE_TEXT: HOSTILE_TEXT},
            aliases={"ok": 1, HOSTILE_TEXT: f"<b onclick={PAYLOAD}>2</b>"},
        )
        # Registered in a hostile stage, and gone again before the end.
        write_version(root, "evil", 3, stage=stage, **fields)
        commit(
            root,
            f"Merge pull request #777 from x/y <script>{PAYLOAD}</script>",
            author=HOSTILE_AUTHOR,
            date="2099-06-01T00:00:00Z",
        )
    write_version(root, "evil", 2, stage="Staging", metrics={HOSTILE_TEXT: 3.0}, **fields)
    write_model(
        root,
        "evil",
        description=HOSTILE_DESCRIPTION,
        owners=[HOSTILE_TEXT],
        tags={HOSTILE_TEXT: HOSTILE_TEXT},
    )
    shutil.rmtree(root / "models" / "evil" / "3")
    commit(
        root,
        f"Merge pull request #778 from x/y\n\n<script>{PAYLOAD}</script>",
        author=HOSTILE_AUTHOR,
    )


def build_site_of(root: Path) -> Path:
    """Copy the project's mkdocs.yml into the registry ``root`` and build it (strict)."""
    import os

    from registry_gen.site import build_site

    project = Path(__file__).resolve().parent.parent
    shutil.copy(project / "mkdocs.yml", root / "mkdocs.yml")
    (root / "docs").mkdir(exist_ok=True)
    node_modules = root / "node_modules"
    if not node_modules.exists():
        os.symlink(project / "node_modules", node_modules)
    return build_site(root, strict=True)


def write_api(root: Path, site: Path) -> None:
    """The JSON API and a local remote's objects, as the site build writes them.

    What a reader needs of a published site, without MkDocs: ``render_api`` and
    ``object_files`` are the functions the MkDocs plugin calls.
    """
    from registry_gen.site._objects import object_files
    from registry_gen.site.api import read_dvc_remote, render_api
    from registry_gen.store import load_index

    index = load_index(root)
    for relative, text in render_api(index, read_dvc_remote(root)).items():
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_text(text)
    for relative, source in object_files(root, index).items():
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, site / relative)
