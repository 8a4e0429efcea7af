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

The whole history is written by one ``git fast-import`` process from a stream
of commits, so 20,000 commits take seconds, not the minutes 20,000 ``git
commit`` calls would.

One model, ``m``, has a real scikit-learn artifact (skops format) in a real
local DVC remote (``REMOTE/files/md5/xx/yyyy``, DVC 3's layout, configured in
``.dvc/config``), so ``models:/m/Production`` loads for real. The same fitted
model is pickled next to it for the floor benchmark.

Example:
    >>> spec = RegistrySpec(models=3, versions=2)            # doctest: +SKIP
    >>> generated = ensure_registry(spec, Path("benchmarks/.work"))  # doctest: +SKIP
    >>> generated.commits                                     # doctest: +SKIP
    20
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import random
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from registry_gen.yamlio import dump_yaml

# Bump when the generated content changes, so cached registries are rebuilt.
GENERATOR_VERSION = 4
REAL_MODEL = "m"
ARTIFACT = "model.skops"
ORG = "acme-ml"
START = 1_640_995_200  # 2022-01-01T00:00:00Z

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

FIRST = ["Ada", "Grace", "Alan", "Barbara", "Edsger", "Donald", "Frances", "John", "Margaret",
         "Ken", "Dennis", "Radia", "Tim", "Sophie", "Guido", "Linus", "Hedy", "Katherine",
         "Niklaus", "Leslie", "Anita", "Whitfield", "Shafi", "Yukihiro", "Bjarne", "Jean",
         "Mary", "Fei-Fei", "Yann", "Geoffrey", "Daphne", "Andrew", "Chloé", "José", "Zoë",
         "Søren", "Ayşe", "Wei", "Priya", "Olúwáseun"]
LAST = ["Lovelace", "Hopper", "Turing", "Liskov", "Dijkstra", "Knuth", "Allen", "McCarthy",
        "Hamilton", "Thompson", "Ritchie", "Perlman", "Berners-Lee", "Wilson", "van Rossum",
        "Torvalds", "Lamarr", "Johnson", "Wirth", "Lamport", "Borg", "Diffie", "Goldwasser",
        "Matsumoto", "Stroustrup", "Sammet", "Kenyon", "Li", "LeCun", "Hinton", "Koller", "Ng",
        "Dubois", "García", "Ødegaard", "Kierkegaard", "Yılmaz", "Zhang", "Patel", "Adébáyọ̀"]
DOMAINS = ["churn", "fraud", "ranking", "pricing", "demand", "credit", "vision", "speech",
           "search", "ads", "recsys", "forecast", "anomaly", "nlp", "risk", "ltv"]
TASKS = ["classifier", "regressor", "scorer", "ranker", "detector", "embedder", "tagger"]
TEAMS = ["@acme-ml/core", "@acme-ml/growth", "@acme-ml/risk", "@acme-ml/vision",
         "@acme-ml/search", "@acme-ml/platform"]
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
# The story: which pull requests happen, in what order


@dataclass
class _Model:
    name: str
    description: str
    owners: list[str]
    tags: dict[str, str]
    aliases: dict[str, int] = field(default_factory=dict)
    stages: dict[int, str] = field(default_factory=dict)  # version -> stage
    records: dict[int, str] = field(default_factory=dict)  # version -> version.yaml text
    last_main_index: int = 0  # position in the main line of the last commit touching it


@dataclass
class _PullRequest:
    title: str
    branch: str
    author: str
    files: dict[str, bytes]  # path -> new content
    model: _Model
    when: int  # when the branch commit was made (unix time)


class _Story:
    """Generates the pull requests of the registry's life, in merge order."""

    def __init__(self, spec: RegistrySpec, real: _RealArtifact) -> None:
        self.spec = spec
        self.real = real
        self.rng = random.Random(spec.seed)
        self.people = [f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}"
                       for i in range(60)]
        self.models = [self._new_model(i) for i in range(spec.models)]
        self.clock = START

    def _new_model(self, index: int) -> _Model:
        rng = self.rng
        if index == 0:
            name = REAL_MODEL
        else:
            name = f"{DOMAINS[index % len(DOMAINS)]}-{TASKS[index % len(TASKS)]}-{index:04d}"
        domain = DOMAINS[index % len(DOMAINS)]
        description = (
            f"Scores **{domain}** events for the {rng.choice(['web', 'mobile', 'batch'])} "
            f"pipeline.\n\n"
            f"- Owner team: {rng.choice(TEAMS)}\n"
            f"- Retrained {rng.choice(['weekly', 'monthly', 'on drift'])}; see the "
            f"[runbook](https://wiki.example.com/ml/{name}).\n"
        )
        return _Model(
            name=name,
            description=description,
            owners=sorted(set(rng.sample(TEAMS, k=rng.randint(1, 2)))),
            tags={"domain": domain, "task": TASKS[index % len(TASKS)],
                  "tier": rng.choice(["gold", "silver", "bronze"])},
        )

    def person(self) -> str:
        return self.rng.choice(self.people)

    def tick(self) -> int:
        """The next pull request's time: minutes to hours after the previous one."""
        self.clock += self.rng.randint(5 * 60, 9 * 3600)
        return self.clock

    def pull_requests(self) -> Iterator[_PullRequest]:
        """Round r registers version r of every model, then promotes some of them."""
        rng = self.rng
        for round_number in range(1, self.spec.versions + 1):
            order = list(self.models)
            rng.shuffle(order)
            for model in order:
                yield self._register(model, round_number)
            later: list[_PullRequest] = []
            for model in order:
                later.extend(self._promotions(model, round_number))
            yield from later
        real = self.models[0]
        if "Production" not in real.stages.values():
            yield self._to_production(real, max(real.stages))

    def _promotions(self, model: _Model, newest: int) -> Iterator[_PullRequest]:
        rng = self.rng
        staging = [v for v, s in model.stages.items() if s == "Staging"]
        is_real = model.name == REAL_MODEL
        for version in staging:
            if is_real or rng.random() < 0.5:
                yield self._to_production(model, version)
        if is_real or rng.random() < 0.25:
            yield self._transition(model, newest, "Staging", f"promote/{model.name}-v{newest}",
                                   f"Promote {model.name} v{newest} to Staging")
            if is_real or rng.random() < 0.3:
                yield self._move_alias(model, "challenger", newest)

    def _register(self, model: _Model, version: int) -> _PullRequest:
        rng = self.rng
        author = self.person()
        when = self.tick()
        folder = f"models/{model.name}/{version}"
        files: dict[str, bytes] = {}
        if version == 1:
            files[f"models/{model.name}/model.yaml"] = self._model_yaml(model)
        if model.name == REAL_MODEL:
            md5, size = self.real.md5, len(self.real.skops_bytes)
            trusted = self.real.trusted_types
        else:
            payload = f"{model.name}-{version}-{self.spec.seed}".encode()
            md5 = hashlib.md5(payload).hexdigest()
            size = rng.randint(50_000, 80_000_000)
            trusted = []
        parents = []
        if version >= 2 and rng.random() < 0.3:
            parent = rng.choice(self.models)
            if parent is not model and 1 in parent.stages:
                parents.append(f"models:/{parent.name}/1")
        auc = round(rng.uniform(0.70, 0.97), 4)
        change = rng.choice(["new features", "more data", "tuned depth", "fixed leakage"])
        description = (
            f"Retrained on {rng.randint(1, 52)} weeks of data; AUC {auc}.\n\n"
            f"Changes since v{version - 1}: {change}."
            if version > 1 else "First version, trained on the launch data set."
        )
        record: dict[str, Any] = {
            "version": version,
            "stage": "None",
            "description": description,
            "created_at": _timestamp(when),
            "created_by": author,
            "artifact": {"path": ARTIFACT, "format": "skops",
                         **({"trusted_types": trusted} if trusted else {})},
            "lineage": {
                "run_id": f"{rng.getrandbits(64):016x}",
                "run_url": f"https://ci.example.com/runs/{rng.randint(10_000, 999_999)}",
                "code": {"repo": f"https://git.example.com/{ORG}/{model.name}",
                         "commit": f"{rng.getrandbits(160):040x}"},
                "datasets": [{"name": f"{model.tags['domain']}-events",
                              "path": f"data/{model.tags['domain']}/events.parquet",
                              "md5": f"{rng.getrandbits(128):032x}"}],
                **({"parents": parents} if parents else {}),
            },
            "params": {"n_estimators": rng.choice([100, 200, 400]),
                       "max_depth": rng.randint(3, 12),
                       "learning_rate": rng.choice([0.01, 0.05, 0.1])},
            "metrics": {"auc": auc, "accuracy": round(rng.uniform(0.7, 0.99), 4),
                        "f1": round(rng.uniform(0.5, 0.95), 4),
                        "log_loss": round(rng.uniform(0.05, 0.6), 4)},
            "signature": {
                "inputs": [{"name": f"f{i}", "type": "double"} for i in range(8)],
                "outputs": [{"name": "score", "type": "double", "shape": [-1]}],
            },
            "tags": {"trainer": rng.choice(["xgboost", "sklearn", "lightgbm"])},
        }
        text = dump_yaml(record)
        model.records[version] = text
        model.stages[version] = "None"
        files[f"{folder}/version.yaml"] = text.encode()
        files[f"{folder}/{ARTIFACT}.dvc"] = (
            f"outs:\n- md5: {md5}\n  size: {size}\n  hash: md5\n  path: {ARTIFACT}\n"
        ).encode()
        files[f"{folder}/.gitignore"] = f"/{ARTIFACT}\n".encode()
        return _PullRequest(f"Register {model.name} v{version}",
                            f"register/{model.name}-v{version}", author, files, model, when)

    def _model_yaml(self, model: _Model) -> bytes:
        data: dict[str, Any] = {"name": model.name, "description": model.description,
                                "owners": model.owners, "tags": model.tags}
        if model.aliases:
            data["aliases"] = dict(sorted(model.aliases.items()))
        return dump_yaml(data).encode()

    def _set_stage(self, model: _Model, version: int, stage: str) -> tuple[str, bytes]:
        old = model.stages[version]
        text = model.records[version]
        # version.yaml is written with `stage` as its second top-level key.
        new = text.replace(f"\nstage: {old}\n", f"\nstage: {stage}\n", 1)
        assert new != text or old == stage
        model.records[version] = new
        model.stages[version] = stage
        return f"models/{model.name}/{version}/version.yaml", new.encode()

    def _transition(self, model: _Model, version: int, stage: str, branch: str,
                    title: str) -> _PullRequest:
        path, content = self._set_stage(model, version, stage)
        return _PullRequest(title, branch, self.person(), {path: content}, model, self.tick())

    def _to_production(self, model: _Model, version: int) -> _PullRequest:
        files = dict([self._set_stage(model, version, "Production")])
        archived = [v for v, s in model.stages.items() if s == "Production" and v != version]
        for old in archived:
            path, content = self._set_stage(model, old, "Archived")
            files[path] = content
        for alias, target in list(model.aliases.items()):
            if target in archived:
                model.aliases[alias] = version
        model.aliases["champion"] = version
        files[f"models/{model.name}/model.yaml"] = self._model_yaml(model)
        title = f"Promote {model.name} v{version} to Production"
        if archived:
            title += f", archive v{', v'.join(map(str, archived))}"
        return _PullRequest(title, f"promote/{model.name}-v{version}-production", self.person(),
                            files, model, self.tick())

    def _move_alias(self, model: _Model, alias: str, version: int) -> _PullRequest:
        model.aliases[alias] = version
        return _PullRequest(f"Point {model.name}@{alias} at v{version}",
                            f"alias/{model.name}-{alias}-v{version}", self.person(),
                            {f"models/{model.name}/model.yaml": self._model_yaml(model)}, model,
                            self.tick())


# ---------------------------------------------------------------------------
# Writing the history with git fast-import


class _Stream:
    """Builds a ``git fast-import`` stream: blobs and commits with marks."""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self.next_mark = 0
        self.blob_marks: dict[bytes, int] = {}

    def mark(self) -> int:
        self.next_mark += 1
        return self.next_mark

    def data(self, payload: bytes) -> None:
        self.out.write(b"data %d\n" % len(payload))
        self.out.write(payload)
        self.out.write(b"\n")

    def blob(self, content: bytes) -> int:
        digest = hashlib.sha1(content).digest()
        if digest not in self.blob_marks:
            mark = self.mark()
            self.out.write(b"blob\nmark :%d\n" % mark)
            self.data(content)
            self.blob_marks[digest] = mark
        return self.blob_marks[digest]

    def commit(self, ref: str, *, author: str, committer: str, when: int, tz: str,
               message: str, parent: int | None, merge: int | None,
               files: dict[str, int]) -> int:
        mark = self.mark()
        out = self.out
        out.write(f"commit {ref}\nmark :{mark}\n".encode())
        out.write(f"author {author} {when} {tz}\n".encode())
        out.write(f"committer {committer} {when} {tz}\n".encode())
        self.data(message.encode())
        if parent is not None:
            out.write(b"from :%d\n" % parent)
        if merge is not None:
            out.write(b"merge :%d\n" % merge)
        for path, blob in sorted(files.items()):
            out.write(f"M 100644 :{blob} {path}\n".encode())
        out.write(b"\n")
        return mark


def _identity(name: str) -> str:
    email = "".join(c for c in name.lower().replace(" ", ".") if c.isascii() and
                    (c.isalnum() or c == "."))
    return f"{name} <{email}@example.com>"


def _timestamp(when: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _generate(spec: RegistrySpec, target: Path, *, log: Any) -> dict[str, Any]:
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

    story = _Story(spec, real)
    stream = _Stream()
    rng = random.Random(spec.seed + 1)
    maintainers = [_identity(p) for p in story.people[:6]]
    initial = {
        "registry.yaml": POLICY.encode(),
        "mkdocs.yml": MKDOCS.format(models=spec.models, versions=spec.versions).encode(),
        "docs/index.md": b"# Synthetic registry\n\nGenerated by `python -m benchmarks`.\n",
        ".dvc/config": b"[core]\n    remote = storage\n['remote \"storage\"']\n"
                       b"    url = ../../remote\n",
        ".dvc/.gitignore": b"/config.local\n/tmp\n/cache\n",
        ".dvcignore": b"# Add patterns of files dvc should ignore\n",
        ".gitignore": b"/site/\n",
    }
    tip = stream.commit(
        "refs/heads/main", author=maintainers[0], committer=maintainers[0],
        tz="+0000", message="Initialise registry\n", parent=None, merge=None, when=START,
        files={p: stream.blob(c) for p, c in initial.items()},
    )
    main_line = [tip]  # marks of main's first-parent commits, in order
    commits, number = 1, 0
    base_index = 0
    say(f"  writing the records of {spec.models * spec.versions:,} versions")
    pull_requests = list(story.pull_requests())
    for pr in pull_requests:
        number += 1
        when = pr.when
        tz = rng.choice(TIMEZONES)
        files = pr.files
        marks = {path: stream.blob(content) for path, content in files.items()}
        author = _identity(pr.author)
        if rng.random() < 0.5:
            # Merge commit; the branch may start from an older main (concurrent PRs)
            # but never from before the last change to the same model.
            lag = rng.choice([0, 0, 0, 1, 2, 5])
            start = max(len(main_line) - 1 - lag, pr.model.last_main_index)
            branch = stream.commit(
                "refs/heads/pr", author=author, committer=author, when=when, tz=tz,
                message=f"{pr.title}\n", parent=main_line[start], merge=None, files=marks,
            )
            merged_at = when + rng.randint(60, 4 * 60)
            merger = rng.choice(maintainers)
            tip = stream.commit(
                "refs/heads/main", author=merger, committer=merger, when=merged_at,
                tz="+0000", parent=tip, merge=branch, files=marks,
                message=f"Merge pull request #{number} from {ORG}/{pr.branch}\n\n{pr.title}\n",
            )
            commits += 2
        else:
            tip = stream.commit(
                "refs/heads/main", author=author, committer=_identity("GitHub"), when=when,
                tz=tz, parent=tip, merge=None, files=marks,
                message=f"{pr.title} (#{number})\n\n* {pr.title}\n",
            )
            commits += 1
        main_line.append(tip)
        pr.model.last_main_index = len(main_line) - 1
        if number == max(1, len(pull_requests) - 25):
            base_index = len(main_line) - 1
    stream.out.write(b"reset refs/tags/bench-base\nfrom :%d\n\n" % main_line[base_index])
    say(f"  writing {commits:,} commits with git fast-import")
    _git(repo, "fast-import", "--quiet", "--done", stdin=stream.out.getvalue() + b"done\n")
    _git(repo, "update-ref", "-d", "refs/heads/pr")
    _git(repo, "reset", "-q", "--hard", "main")
    versions = spec.models * spec.versions
    return {
        "spec": asdict(spec),
        "commits": commits,
        "pull_requests": number,
        "versions": versions,
        "production_uri": f"models:/{REAL_MODEL}/Production",
        "base_rev": "bench-base",
        "sample_row": real.sample_row,
    }


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
    result = subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True,
                            env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed in {repo}: "
                           f"{result.stderr.decode(errors='replace')}")
    return result.stdout.decode()
