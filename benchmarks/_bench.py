"""What every measurement shares: the :class:`Bench` it is given, and small helpers.

Measurements reach registry-gen through its public entry points (the CLI, the
package's public functions), looked up with :func:`feature` so a part that has
not landed is reported as a skip instead of failing the run.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .generate import GeneratedRegistry
from .harness import Results, Target

# Issue 16: the sizes where the 100,000-version budgets apply.
SCALE_VERSIONS = 100_000


@dataclass
class Bench:
    """What every measurement gets: the registry, how many runs, where to report."""

    registry: GeneratedRegistry
    runs: int
    results: Results
    work: Path
    log: Callable[[str], None]
    site_sizes: tuple[int, ...] = ()
    default_size: bool = True  # targets apply only at the default size
    warmup: int = 1  # untimed runs before the timed ones (0 at sizes where a run is minutes)

    @property
    def root(self) -> Path:
        return self.registry.root

    @property
    def at_scale(self) -> bool:
        """Whether issue 16's 100,000-version budgets apply."""
        return self.registry.versions >= SCALE_VERSIONS

    def target(self, target: Target) -> Target | None:
        return target if self.default_size else None

    def env(self) -> dict[str, str]:
        """The environment of timed processes: a private artifact cache, no telemetry."""
        return {
            **os.environ,
            "REGISTRY_GEN_CACHE": str(self.work / "artifact-cache"),
            "DVC_NO_ANALYTICS": "1",
            "DVC_SITE_CACHE_DIR": str(self.work / "dvc-site-cache"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "PYTHONDONTWRITEBYTECODE": "0",
        }


def feature(module: str, *names: str) -> Any | None:
    """The module if it imports and has every name in ``names``, else None."""
    try:
        found = importlib.import_module(module)
    except ImportError:
        return None
    return found if all(hasattr(found, n) for n in names) else None


def clear_memos() -> None:
    """Forget what the store memoises per process, so a timed load does the whole work."""
    store = feature("registry_gen.store")
    for memo in ("_GIT_INDEX_MEMO", "_RECORD_MEMO"):
        getattr(store, memo, {}).clear()


def forgetting(kept: list[Any]) -> Callable[[], None]:
    """Before a timed run: drop what the last run kept, and the memos."""

    def before() -> None:
        kept.clear()
        clear_memos()

    return before


def cli() -> Path:
    return Path(sys.executable).with_name("registry-gen")


def has_command(name: str) -> bool:
    found = feature("registry_gen.cli", "main")
    return found is not None and name in getattr(found.main, "commands", {})


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` as a bench user (commits need an identity); its stdout."""
    return subprocess.run(
        [
            "git",
            "-C",
            str(root),
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.invalid",
            *args,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def clone(bench: Bench, dest: Path) -> Path:
    """A clone of the registry at ``dest`` to change: the generated one is never written to.

    ``--local`` hard-links the objects, so only the checkout costs time (about a
    minute at 100,000 versions).
    """
    subprocess.run(["git", "clone", "-q", "--local", str(bench.root), str(dest)], check=True)
    return dest


def waiting_versions(root: Path, count: int) -> list[tuple[str, int]]:
    """``count`` versions in stage None, from models spread over the registry.

    Reads one model at a time through the client (``models/NAME/`` only), so it
    costs the same at any size.
    """
    from registry_gen.client import RegistryClient

    client = RegistryClient(root)
    names = sorted(p.name for p in (root / "models").iterdir() if p.is_dir())
    found: list[tuple[str, int]] = []
    spare: list[tuple[str, int]] = []  # more than one per model, when models run out
    step = max(1, len(names) // max(count * 4, 1))
    for name in names[::step] + [n for i, n in enumerate(names) if i % step]:
        waiting = [
            v.version for v in client.get_registered_model(name).versions if v.stage == "None"
        ]
        found += [(name, number) for number in waiting[-1:]]
        spare += [(name, number) for number in waiting[:-1]]
        if len(found) >= count:
            break
    return (found + spare)[:count]


def promote(root: Path, waiting: list[tuple[str, int]]) -> str:
    """Move the next waiting version from None to Staging in a commit (a one-line diff).

    Returns the commit's parent: the base of that one-model pull request.
    """
    from registry_gen.client import RegistryClient

    name, version = waiting.pop()
    parent = git(root, "rev-parse", "HEAD").strip()
    RegistryClient(root).transition_model_version_stage(name, version, "Staging")
    git(root, "add", "-A", "models")
    git(root, "commit", "-q", "-m", f"Promote {name} v{version} to Staging (#999999)")
    return parent


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def site_config(root: Path, folder: Path) -> Path:
    """``folder/mkdocs.yml`` building the registry at ``root``, and its ``docs/``.

    The ``mkdocs.yml`` and home page are those ``registry-gen init`` writes (the
    registry's own when that is not available), with the plugin's ``root`` set:
    the build reads the registry and writes nothing into it.
    """
    scaffold = feature("registry_gen.scaffold", "template_text")
    try:
        config_text = scaffold.template_text("mkdocs.yml") if scaffold else None
        home = scaffold.template_text("docs/index.md") if scaffold else None
    except OSError:
        config_text = home = None
    config = yaml.safe_load(config_text or (root / "mkdocs.yml").read_text())
    config["plugins"] = [
        {"registry": {"root": str(root)}} if plugin == "registry" else plugin
        for plugin in config.get("plugins", [])
    ]
    (folder / "docs").mkdir(parents=True, exist_ok=True)
    (folder / "docs" / "index.md").write_text(home or (root / "docs" / "index.md").read_text())
    (folder / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder / "mkdocs.yml"


def mkdocs_argv(config: Path, site: Path) -> list[str]:
    """``mkdocs build`` of ``config`` into ``site``, in this interpreter."""
    return [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config), "-d", str(site)]


def site_cache(bench: Bench) -> Path:
    """Where the site builds of the timed processes keep their incremental cache."""
    return Path(bench.env()["REGISTRY_GEN_CACHE"]) / "site-builds"
