"""Build small real registries fast: records written as files, real git commits.

These builders write records directly (no DVC, no network), so tests of the
validator, the site and the loader do not depend on the registration code.
Tests of registration itself go through :mod:`registry_gen.client`.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

from registry_gen.yamlio import dump_yaml

DEFAULT_POLICY = """\
# The registry's rules; see docs/policy.md.
stages: [None, Staging, Production, Archived]
single_holder: [Production]
"""


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in ``root`` and return its stdout."""
    import os

    full_env = {**os.environ, **(env or {})}
    result = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, env=full_env, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def init_repo(root: Path, policy: str = DEFAULT_POLICY) -> Path:
    """A git repository with a registry.yaml and an empty models/ folder, committed."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    (root / "registry.yaml").write_text(policy)
    (root / "models").mkdir(exist_ok=True)
    (root / "models" / ".gitkeep").write_text("")
    commit(root, "Initialise registry")
    return root


def write_model(root: Path, name: str, **fields: Any) -> Path:
    """Write models/NAME/model.yaml with ``fields`` (name is filled in)."""
    path = root / "models" / name / "model.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_yaml({"name": name, **fields}))
    return path


def write_version(
    root: Path,
    name: str,
    version: int,
    *,
    stage: str = "None",
    artifact: str = "model.skops",
    fmt: str = "skops",
    content: bytes | None = None,
    **fields: Any,
) -> Path:
    """Write models/NAME/VERSION/version.yaml and a .dvc pointer for its artifact."""
    folder = root / "models" / name / str(version)
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "version": version,
        "stage": stage,
        "created_at": fields.pop("created_at", f"2026-01-{version:02d}T10:00:00Z"),
        "created_by": fields.pop("created_by", "alice"),
        "artifact": {"path": artifact, "format": fmt},
        **fields,
    }
    (folder / "version.yaml").write_text(dump_yaml(record))
    payload = content if content is not None else f"{name}-{version}".encode()
    md5 = hashlib.md5(payload).hexdigest()
    (folder / f"{artifact}.dvc").write_text(
        f"outs:\n- md5: {md5}\n  size: {len(payload)}\n  hash: md5\n  path: {artifact}\n"
    )
    (folder / ".gitignore").write_text(f"/{artifact}\n")
    return folder


def commit(
    root: Path,
    message: str,
    *,
    author: str = "Alice Example <alice@example.com>",
    date: str | None = None,
) -> str:
    """Stage everything and commit; return the new commit's SHA."""
    git(root, "add", "-A")
    env = {}
    if date:
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    git(root, "commit", "-q", "--allow-empty", "-m", message, f"--author={author}", env=env)
    return git(root, "rev-parse", "HEAD").strip()


def small_registry_at(root: Path, policy: str = DEFAULT_POLICY) -> Path:
    """A committed registry: churn v1-v3 (v3 Production, v2 Staging, @champion v3), fraud v1."""
    init_repo(root, policy)
    write_model(
        root,
        "churn",
        description="Predicts **churn**.",
        owners=["@ml-team"],
        aliases={"champion": 3},
    )
    write_version(root, "churn", 1, stage="Archived", metrics={"auc": 0.81})
    write_version(root, "churn", 2, stage="Staging", metrics={"auc": 0.86})
    write_version(root, "churn", 3, stage="Production", description="Third.", metrics={"auc": 0.9})
    write_model(root, "fraud", description="Flags fraud.")
    write_version(root, "fraud", 1)
    commit(root, "Register churn and fraud")
    return root
