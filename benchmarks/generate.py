"""A synthetic registry of any size with a realistic git history, cached between runs.

The history is what a busy team's registry looks like after a few years: every
change arrives as a merged pull request (registrations, promotions through
Staging to Production that archive the previous holder and move ``champion``,
``challenger`` alias moves), from many authors, on dates spread over years,
some merged with a merge commit (``Merge pull request #N from org/BRANCH``), some
squashed (``TITLE (#N)``), some branched from an older ``main`` so the history
is not a straight line. Every commit on ``main`` is a valid registry: records
follow the current schemas and the default policy (one Production version per
model, Production versions have a description and metrics, no alias on an
Archived version).

The history is written as git objects straight into one pack
(``_gitpack``): each commit stores only what its pull request changed, the
large ``models/`` tree as a small delta, so 230,000 commits over 100,000
versions take minutes, in memory that grows with the number of objects (about
100 bytes each for the pack's index), not with their content. The records come
from ``_story``, which writes them from templates byte-identical to
``registry_gen.yamlio.dump_yaml``.

Run alone (prints time, commits and peak memory)::

    python -m benchmarks.generate --models 10000 --versions 10 --work DIR

One model, ``m``, has a real scikit-learn artifact (skops format) in a real
local DVC remote (``REMOTE/files/md5/xx/yyyy``, DVC 3's layout, configured in
``.dvc/config``), so ``models:/m/Production`` loads for real. The same fitted
model is pickled next to it for the floor benchmark.

Example:
    >>> spec = RegistrySpec(models=3, versions=2)  # doctest: +SKIP
    >>> generated = ensure_registry(spec, Path("benchmarks/.work"))  # doctest: +SKIP
    >>> generated.commits  # doctest: +SKIP
    20
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from ._gitpack import (
    BLOB,
    COMMIT,
    DIR_MODE,
    FILE_MODE,
    TREE,
    PackWriter,
    SortedTree,
    commit_bytes,
    entry,
    small_tree,
    sort_key,
)
from ._story import ARTIFACT, ORG, REAL_MODEL, START, PullRequest, RealArtifact, Story

__all__ = [
    "ARTIFACT",
    "GENERATOR_VERSION",
    "REAL_MODEL",
    "GeneratedRegistry",
    "RegistrySpec",
    "ensure_registry",
    "main",
]

# Bump when the generated content changes, so cached registries are rebuilt.
GENERATOR_VERSION = 6

POLICY = """\
# The registry's rules (registry-gen's defaults, written out).
stages: [None, Staging, Production, Archived]
default_stage: None
single_holder: [Production]
requires:
  Production:
    description: true
    metrics: true
alias_forbidden_stages: [Archived]
"""

MKDOCS = """\
site_name: Synthetic registry ({models} models x {versions} versions)
site_url: https://registry.example.com/
theme:
  name: material
  features:
    - navigation.prune
    - navigation.indexes
plugins:
  - search
  - registry
"""

TIMEZONES = ["+0000", "+0100", "+0200", "-0500", "-0800", "+0530", "+0900"]


@dataclass(frozen=True)
class RegistrySpec:
    """The size and seed of a synthetic registry; equal specs give identical registries."""

    models: int = 1_000
    versions: int = 10
    seed: int = 7

    @property
    def key(self) -> str:
        return f"registry-{self.models}x{self.versions}-s{self.seed}-g{GENERATOR_VERSION}"


@dataclass(frozen=True)
class GeneratedRegistry:
    """Where a generated registry is, and what is in it."""

    root: Path  # the git repository (working tree checked out at main)
    remote: Path  # the local DVC remote holding m's artifact
    floor_pickle: Path  # the same fitted model as m's artifact, pickled
    spec: RegistrySpec
    commits: int
    pull_requests: int
    versions: int
    production_uri: str  # models:/m/Production
    base_rev: str  # a commit some pull requests before main, for validate --base
    sample_row: list[float] = field(default_factory=list)


def ensure_registry(spec: RegistrySpec, work: Path, *, log: Any = None) -> GeneratedRegistry:
    """The registry for ``spec`` under ``work``, generated on first use and reused after.

    Generation happens in a temporary folder renamed into place when complete,
    so an interrupted run never leaves a half-built registry in the cache.
    """
    target = work / spec.key
    meta_file = target / "meta.json"
    if meta_file.is_file():
        return _load_meta(target, json.loads(meta_file.read_text()))
    work.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{spec.key}-", dir=work))
    try:
        meta = _generate(spec, staging, log=log)
        (staging / "meta.json").write_text(json.dumps(meta, indent=2))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _load_meta(target, meta)


def _load_meta(target: Path, meta: dict[str, Any]) -> GeneratedRegistry:
    return GeneratedRegistry(
        root=target / "repo",
        remote=target / "remote",
        floor_pickle=target / "floor" / "model.pkl",
        spec=RegistrySpec(**meta["spec"]),
        commits=meta["commits"],
        pull_requests=meta["pull_requests"],
        versions=meta["versions"],
        production_uri=meta["production_uri"],
        base_rev=meta["base_rev"],
        sample_row=meta["sample_row"],
    )


# ---------------------------------------------------------------------------
# The real artifact of model m


@dataclass(frozen=True)
class _RealArtifact:
    skops_bytes: bytes
    pickle_bytes: bytes
    trusted_types: list[str]
    sample_row: list[float]

    @property
    def md5(self) -> str:
        return hashlib.md5(self.skops_bytes).hexdigest()


def _train_real_artifact(seed: int) -> _RealArtifact:
    import skops.io
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    features, labels = make_classification(n_samples=300, n_features=8, random_state=seed)
    model = LogisticRegression(max_iter=500).fit(features, labels)
    data = skops.io.dumps(model)
    return _RealArtifact(
        skops_bytes=data,
        pickle_bytes=pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL),
        trusted_types=sorted(skops.io.get_untrusted_types(data=data)),
        sample_row=[float(x) for x in features[0]],
    )


# ---------------------------------------------------------------------------
# Writing the history: objects straight into one pack (see _gitpack for why)


class _MainCommit(NamedTuple):
    position: int  # in main's first-parent line
    sha: bytes
    key: bytes | None  # the models/ entry this commit changed
    before: bytes | None  # that entry before the change (None: the model was new)


class _Writer:
    """Turns pull requests into trees and commits; only the changed paths are rebuilt."""

    def __init__(self, pack: PackWriter, initial: dict[str, bytes]) -> None:
        self.pack = pack
        self.models = SortedTree(pack)  # models/: the one tree that grows with the registry
        self.root: dict[bytes, bytes] = {}  # the root's entries other than models/
        folders: dict[str, dict[bytes, bytes]] = {}
        for path, content in initial.items():
            folder, _, name = path.rpartition("/")
            target = folders.setdefault(folder, {}) if folder else self.root
            target[sort_key(name.encode(), folder=False)] = entry(
                FILE_MODE, name.encode(), pack.add(BLOB, content)
            )
        for folder, entries in folders.items():
            self.root[sort_key(folder.encode(), folder=True)] = entry(
                DIR_MODE, folder.encode(), pack.add(TREE, small_tree(entries))
            )
        # models/NAME entries, and models/NAME/VERSION entries, by model.
        self.model_trees: dict[str, dict[bytes, bytes]] = {}
        self.version_trees: dict[str, dict[str, dict[bytes, bytes]]] = {}

    def root_tree(self, models: bytes | None) -> bytes:
        entries = dict(self.root)
        if models is not None:
            entries[b"models/"] = entry(DIR_MODE, b"models", models)
        return self.pack.add(TREE, small_tree(entries))

    def commit(
        self,
        tree: bytes,
        parents: list[bytes],
        author: str,
        committer: str,
        when: int,
        tz: str,
        message: str,
    ) -> bytes:
        return self.pack.add(
            COMMIT,
            commit_bytes(
                tree,
                parents,
                f"{author} {when} {tz}".encode(),
                f"{committer} {when} {tz}".encode(),
                message.encode(),
            ),
        )

    def apply(self, pr: PullRequest) -> tuple[bytes, bytes | None]:
        """Store ``pr``'s files and model tree; the models/ key changed and its old entry."""
        name = pr.model.name
        model_tree = self.model_trees.setdefault(name, {})
        versions = self.version_trees.setdefault(name, {})
        touched: set[str] = set()
        for path, content in pr.files.items():
            parts = path.split("/")  # models/NAME/FILE or models/NAME/VERSION/FILE
            blob = self.pack.add(BLOB, content)
            if len(parts) == 3:
                model_tree[sort_key(parts[2].encode(), folder=False)] = entry(
                    FILE_MODE, parts[2].encode(), blob
                )
            else:
                file = parts[3].encode()
                versions.setdefault(parts[2], {})[sort_key(file, folder=False)] = entry(
                    FILE_MODE, file, blob
                )
                touched.add(parts[2])
        for version in touched:
            tree = self.pack.add(TREE, small_tree(versions[version]))
            model_tree[sort_key(version.encode(), folder=True)] = entry(
                DIR_MODE, version.encode(), tree
            )
        key = sort_key(name.encode(), folder=True)
        model_entry = entry(DIR_MODE, name.encode(), self.pack.add(TREE, small_tree(model_tree)))
        return key, self.models.set(key, model_entry)


def _generate(
    spec: RegistrySpec, target: Path, *, log: Callable[[str], None] | None
) -> dict[str, Any]:
    def say(message: str) -> None:
        if log is not None:
            log(message)

    real = _train_real_artifact(spec.seed)
    remote = target / "remote"
    blob_dir = remote / "files" / "md5" / real.md5[:2]
    blob_dir.mkdir(parents=True)
    (blob_dir / real.md5[2:]).write_bytes(real.skops_bytes)
    (target / "floor").mkdir()
    (target / "floor" / "model.pkl").write_bytes(real.pickle_bytes)

    repo = target / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    story = Story(
        spec.models,
        spec.versions,
        spec.seed,
        RealArtifact(real.md5, len(real.skops_bytes), real.trusted_types),
    )
    say(f"  writing the history of {spec.models * spec.versions:,} versions")
    pack = PackWriter(repo / ".git")
    tips, counts = _write_history(spec, story, pack, say)
    pack.finish()
    _git(repo, "update-ref", "refs/heads/main", tips[0].hex())
    _git(repo, "update-ref", "refs/tags/bench-base", tips[1].hex())
    say("  checking out main")
    _git(repo, "reset", "-q", "--hard", "main")
    return {
        "spec": asdict(spec),
        "commits": counts[0],
        "pull_requests": counts[1],
        "versions": spec.models * spec.versions,
        "production_uri": f"models:/{REAL_MODEL}/Production",
        "base_rev": "bench-base",
        "sample_row": real.sample_row,
    }


def _initial_files(spec: RegistrySpec) -> dict[str, bytes]:
    return {
        "registry.yaml": POLICY.encode(),
        "mkdocs.yml": MKDOCS.format(models=spec.models, versions=spec.versions).encode(),
        "docs/index.md": b"# Synthetic registry\n\nGenerated by `python -m benchmarks`.\n",
        ".dvc/config": b"[core]\n    remote = storage\n['remote \"storage\"']\n"
        b"    url = ../../remote\n",
        ".dvc/.gitignore": b"/config.local\n/tmp\n/cache\n",
        ".dvcignore": b"# Add patterns of files dvc should ignore\n",
        ".gitignore": b"/site/\n",
    }


def _write_history(
    spec: RegistrySpec, story: Story, pack: PackWriter, say: Callable[[str], None]
) -> tuple[tuple[bytes, bytes], tuple[int, int]]:
    """Every pull request as commits; (main, base) tips and (commits, pull requests)."""
    rng = random.Random(spec.seed + 1)
    maintainers = [_identity(p) for p in story.people[:6]]
    writer = _Writer(pack, _initial_files(spec))
    commit = writer.commit
    first = commit(
        writer.root_tree(None),
        [],
        maintainers[0],
        maintainers[0],
        START,
        "+0000",
        "Initialise registry\n",
    )
    # The last few commits of main (a branch starts at most 5 back), and the tips after the
    # last 26 pull requests (bench-base is 25 pull requests before main).
    main = deque([_MainCommit(0, first, None, None)], maxlen=8)
    recent: deque[bytes] = deque(maxlen=26)
    commits = number = 0
    started = time.monotonic()
    for number, pr in enumerate(story.pull_requests(), 1):
        tz = rng.choice(TIMEZONES)
        author = _identity(pr.author)
        key, before = writer.apply(pr)
        models = writer.models.write()
        tip = main[-1]
        if rng.random() < 0.5:
            # Merge commit; the branch may start from an older main (concurrent PRs)
            # but never from before the last change to the same model.
            lag = rng.choice([0, 0, 0, 1, 2, 5])
            start = max(tip.position - lag, pr.model.last_main_index)
            # The branch's models/ is main's, with the changes merged since `start` undone.
            undo = {c.key: c.before for c in reversed(main) if c.position > start and c.key}
            branch_models = writer.models.write_with(undo) if undo else models
            parent = next(c.sha for c in main if c.position == start)
            branch = commit(
                writer.root_tree(branch_models),
                [parent],
                author,
                author,
                pr.when,
                tz,
                f"{pr.title}\n",
            )
            merged_at = pr.when + rng.randint(60, 4 * 60)
            merger = rng.choice(maintainers)
            sha = commit(
                writer.root_tree(models),
                [tip.sha, branch],
                merger,
                merger,
                merged_at,
                "+0000",
                f"Merge pull request #{number} from {ORG}/{pr.branch}\n\n{pr.title}\n",
            )
            commits += 2
        else:
            sha = commit(
                writer.root_tree(models),
                [tip.sha],
                author,
                _identity("GitHub"),
                pr.when,
                tz,
                f"{pr.title} (#{number})\n\n* {pr.title}\n",
            )
            commits += 1
        main.append(_MainCommit(tip.position + 1, sha, key, before))
        pr.model.last_main_index = tip.position + 1
        recent.append(sha)
        if number % 25_000 == 0:
            say(
                f"    {number:,} pull requests, {commits:,} commits, "
                f"{time.monotonic() - started:.0f} s"
            )
    base = recent[0] if recent else first
    return (main[-1].sha, base), (commits + 1, number)


def _identity(name: str) -> str:
    email = "".join(
        c for c in name.lower().replace(" ", ".") if c.isascii() and (c.isalnum() or c == ".")
    )
    return f"{name} <{email}@example.com>"


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"git {args[0]} failed in {repo}: {result.stderr.decode(errors='replace')}"
        )
    return result.stdout.decode()


# ---------------------------------------------------------------------------
# Generator alone: python -m benchmarks.generate --models N --versions N --work DIR


def main(argv: list[str] | None = None) -> int:
    """Generate (or find cached) one registry and print its size, time and peak memory."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=main.__doc__)
    parser.add_argument("--models", type=int, default=RegistrySpec.models)
    parser.add_argument("--versions", type=int, default=RegistrySpec.versions)
    parser.add_argument("--seed", type=int, default=RegistrySpec.seed)
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(__file__).parent / ".work",
        help="cache of generated registries (default benchmarks/.work)",
    )
    parser.add_argument("--force", action="store_true", help="generate again if cached")
    args = parser.parse_args(argv)
    spec = RegistrySpec(models=args.models, versions=args.versions, seed=args.seed)
    if args.force:
        shutil.rmtree(args.work / spec.key, ignore_errors=True)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"{time.perf_counter() - started:7.1f} s {message}", flush=True)

    registry = ensure_registry(spec, args.work, log=log)
    wall = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    pack = sum(p.stat().st_size for p in (registry.root / ".git/objects/pack").glob("*.pack"))
    print(
        f"{registry.root}\n"
        f"{registry.versions:,} versions, {registry.pull_requests:,} pull requests, "
        f"{registry.commits:,} commits, pack {pack / 1e6:.0f} MB\n"
        f"wall {wall:.1f} s, cpu {own.ru_utime + own.ru_stime:.1f} s "
        f"(+ git {children.ru_utime + children.ru_stime:.1f} s), "
        f"peak RSS {own.ru_maxrss / 1024:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
