#!/usr/bin/env python
"""Build the example registry into an existing git repository, with a real history.

    .venv/bin/python scripts/build_example.py TARGET_REPO [--only churn-classifier]

Trains small scikit-learn models on synthetic data (``make_classification`` /
``make_regression`` with fixed seeds: no downloads, the same models on every
machine) and registers them through the public API (``log_model``, the
``RegistryClient``), every registration, promotion, alias and description as
its own branch and commit, merged into the checked-out branch with ``--no-ff``
as "Merge pull request #N from acme-ml/BRANCH", with distinct authors and
increasing dates. The website then shows a history like a real team's.

The artifacts go to ``dvc-remote/``, a DVC remote inside the repository that is
committed to git and configured in ``.dvc/config`` as a relative path, so a
fresh clone loads every model offline (``registry_gen.load_model`` fetches from
it through DVC). The script refuses to run on a repository that already has
these models, or that has uncommitted changes.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from registry_gen import artifacts
from registry_gen.client import RegistryClient, log_model
from registry_gen.paths import POLICY_FILE
from registry_gen.scaffold import template_text

ORG = "acme-ml"
CODE_REPO = "https://github.com/acme-ml/models"
RUNS_URL = "https://mlflow.acme.example/#/experiments/{experiment}/runs/{run}"
REMOTE_NAME = "example"
REMOTE_DIR = "dvc-remote"
START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
# The train/test split of each model's data, shared by all its versions.
HOLDOUT = {"churn": 42, "fraud": 200, "demand": 300}

PEOPLE = {
    "alice": ("Alice Martin", "alice.martin@acme.example"),
    "bongani": ("Bongani Dlamini", "bongani.dlamini@acme.example"),
    "chen": ("Chen Wei", "chen.wei@acme.example"),
    "dana": ("Dana Okafor", "dana.okafor@acme.example"),
}
REVIEWER = {"alice": "dana", "bongani": "alice", "chen": "bongani", "dana": "chen"}


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def fake_sha(*parts: object, length: int = 40) -> str:
    """A stable hex id (run ids, code commits) derived from what it names."""
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()[:length]


# ---------------------------------------------------------------------------
# Training: small, deterministic models on synthetic data


@dataclass
class Trained:
    model: Any
    metrics: dict[str, float]
    params: dict[str, Any]
    example: Any
    dataset: dict[str, str]


def _dataset(name: str, features: Any, target: Any) -> dict[str, str]:
    """Lineage of a generated dataset: its name, where a team would keep it, its md5."""
    import numpy as np

    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([features, target]), delimiter=",", fmt="%.6f")
    md5 = hashlib.md5(buffer.getvalue().encode()).hexdigest()
    return {"name": name, "path": f"data/{name}.csv", "md5": md5}


def train_classifier(version: int, *, fraud: bool) -> Trained:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
    from sklearn.model_selection import train_test_split

    seed = (200 if fraud else 100) + version
    x, y = make_classification(
        n_samples=800,
        n_features=8,
        n_informative=5,
        weights=[0.93] if fraud else [0.7],
        random_state=7 if fraud else 3,
    )
    # One holdout per model, the same for every version: their metrics are comparable,
    # and a description's "ROC AUC up" is true of the numbers beside it.
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=HOLDOUT["fraud" if fraud else "churn"], stratify=y
    )
    model: Any
    if version == 1:
        params: dict[str, Any] = {"model": "LogisticRegression", "C": 1.0, "max_iter": 200}
        model = LogisticRegression(C=1.0, max_iter=200)
    elif version == 2:
        params = {
            "model": "RandomForestClassifier",
            "n_estimators": 30,
            "max_depth": 6,
            "random_state": seed,
        }
        model = RandomForestClassifier(n_estimators=30, max_depth=6, random_state=seed)
    else:
        params = {
            "model": "GradientBoostingClassifier",
            "n_estimators": 300,
            "max_depth": 5,
            "learning_rate": 0.05,
            "random_state": seed,
        }
        model = GradientBoostingClassifier(
            n_estimators=300, max_depth=5, learning_rate=0.05, random_state=seed
        )
    model.fit(x_train, y_train)
    scores = model.predict_proba(x_test)[:, 1]
    predicted = model.predict(x_test)
    metrics = {
        "roc_auc": round(float(roc_auc_score(y_test, scores)), 4),
        "accuracy": round(float(accuracy_score(y_test, predicted)), 4),
        "f1": round(float(f1_score(y_test, predicted)), 4),
    }
    name = "transactions-2026" if fraud else "customer-events-2026"
    return Trained(
        model, metrics, params, x_test[:5], _dataset(f"{name}-v{version}", x_train, y_train)
    )


def train_regressor(version: int) -> Trained:
    from sklearn.datasets import make_friedman1
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import Ridge
    from sklearn.metrics import mean_absolute_error, r2_score
    from sklearn.model_selection import train_test_split

    # Non-linear sales (Friedman #1, in units): a linear baseline leaves error that
    # boosting removes, so v2's "MAE down" holds on the shared holdout.
    x, y = make_friedman1(n_samples=600, n_features=6, noise=1.0, random_state=11)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y * 10, test_size=0.25, random_state=HOLDOUT["demand"]
    )
    model: Any
    if version == 1:
        params: dict[str, Any] = {"model": "Ridge", "alpha": 1.0}
        model = Ridge(alpha=1.0)
    else:
        params = {
            "model": "GradientBoostingRegressor",
            "n_estimators": 60,
            "max_depth": 3,
            "random_state": 300 + version,
        }
        model = GradientBoostingRegressor(n_estimators=60, max_depth=3, random_state=300 + version)
    model.fit(x_train, y_train)
    predicted = model.predict(x_test)
    metrics = {
        "mae": round(float(mean_absolute_error(y_test, predicted)), 3),
        "r2": round(float(r2_score(y_test, predicted)), 4),
    }
    return Trained(
        model,
        metrics,
        params,
        x_test[:5],
        _dataset(f"store-sales-2026-v{version}", x_train, y_train),
    )


# ---------------------------------------------------------------------------
# Pull requests: a branch, one commit, a --no-ff merge, by a person at a date


@dataclass
class History:
    root: Path
    base: str
    number: int = 0
    clock: datetime = START
    merged: list[str] = field(default_factory=list)

    def tick(self, hours: float) -> datetime:
        self.clock += timedelta(hours=hours)
        return self.clock

    @contextmanager
    def pull_request(self, author: str, hours: float = 20) -> Iterator[dict[str, Any]]:
        """Run a change as ``author``; the block sets ``info["branch"]`` to merge."""
        name, email = PEOPLE[author]
        when = self.tick(hours)
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_AUTHOR_DATE": when.isoformat(),
            "GIT_COMMITTER_DATE": when.isoformat(),
        }
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        info: dict[str, Any] = {"when": when}
        try:
            yield info
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        self.merge(info["branch"], REVIEWER[author])

    def merge(self, branch: str, reviewer: str) -> None:
        self.number += 1
        name, email = PEOPLE[reviewer]
        when = self.tick(3).isoformat()
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_COMMITTER_DATE": when,
        }
        # GitHub's merge message: the pull request's title (here the change's commit
        # subject) on the first body line, which the site shows as the change.
        title = git(self.root, "log", "-1", "--format=%s", branch).strip()
        git(self.root, "checkout", "--quiet", self.base)
        git(
            self.root,
            "merge",
            "--no-ff",
            "--quiet",
            "-m",
            f"Merge pull request #{self.number} from {ORG}/{branch}",
            "-m",
            title,
            branch,
            env=env,
        )
        git(self.root, "branch", "--quiet", "-d", branch)
        self.merged.append(branch)


def current(root: Path) -> str:
    return git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()


# ---------------------------------------------------------------------------
# The registry's story


@dataclass
class Example:
    root: Path
    client: RegistryClient
    history: History

    def create(
        self, author: str, name: str, description: str, owners: list[str], tags: dict[str, str]
    ) -> None:
        with self.history.pull_request(author) as pr:
            self.client.create_registered_model(name, tags, description, owners=owners, branch=True)
            pr["branch"] = current(self.root)

    # One line of the example's story per call (who registers which version, trained how);
    # the optional lineage is keyword-only.
    def register(
        self,
        author: str,
        name: str,
        version: int,
        trained: Trained,
        description: str,
        *,
        parents: tuple[str, ...] = (),
        tags: dict[str, str] | None = None,
    ) -> None:
        experiment = {"churn-classifier": 1, "fraud-detector": 2, "demand-forecast": 3}[name]
        run = fake_sha("run", name, version, length=32)
        with self.history.pull_request(author) as pr:
            registered = log_model(
                trained.model,
                name,
                registry=self.root,
                input_example=trained.example,
                description=description,
                metrics=trained.metrics,
                params=trained.params,
                run_id=run,
                run_url=RUNS_URL.format(experiment=experiment, run=run),
                code={"repo": CODE_REPO, "commit": fake_sha("code", name, version)},
                datasets=[trained.dataset],
                parents=list(parents),
                tags=tags or {},
                created_at=pr["when"],
                branch=True,
            )
            assert registered.version == version, (name, registered.version, version)
            pr["branch"] = current(self.root)

    def promote(
        self, author: str, name: str, version: int, stage: str, archive_existing: bool = False
    ) -> None:
        with self.history.pull_request(author, hours=30) as pr:
            self.client.transition_model_version_stage(
                name, version, stage, archive_existing_versions=archive_existing, branch=True
            )
            pr["branch"] = current(self.root)

    def alias(self, author: str, name: str, alias: str, version: int) -> None:
        with self.history.pull_request(author, hours=6) as pr:
            self.client.set_registered_model_alias(name, alias, version, branch=True)
            pr["branch"] = current(self.root)

    def describe(self, author: str, name: str, version: int, text: str) -> None:
        with self.history.pull_request(author, hours=8) as pr:
            self.client.update_model_version(name, version, text, branch=True)
            pr["branch"] = current(self.root)


CHURN = """\
Predicts which subscribers will **cancel within 30 days**, scored nightly for the
retention team's outreach list.

| | |
|---|---|
| Owner | Customer analytics |
| Input | 8 engineered features per customer (tenure, usage, support tickets, ...) |
| Output | churn probability in [0, 1] |

> Retrain monthly; the feature pipeline lives in `features/churn.py`.
"""

FRAUD = """\
Flags **card transactions** for manual review before settlement. The positive class
is rare (about 7 %), so the decision threshold is tuned for recall.

- Inputs: 8 transaction features
- Output: probability of fraud
- Review queue: `risk-ops`
"""

DEMAND = """\
Forecasts **daily unit sales per store** for replenishment, two weeks ahead.

Evaluated on a held-out quarter by mean absolute error (MAE, units) and R².
"""


def setup_registry(root: Path) -> Path:
    """Give ``root`` a policy and DVC with the in-repository remote, committed."""
    if git(root, "status", "--porcelain").strip():
        raise SystemExit(f"{root} has uncommitted changes; commit or stash them first")
    if (root / "models" / "churn-classifier").exists():
        raise SystemExit(f"{root} already has the example models")
    changed = []
    if not (root / POLICY_FILE).exists():
        (root / POLICY_FILE).write_text(template_text("registry.yaml"))
        changed.append(POLICY_FILE)
    if not artifacts.is_dvc_repo(root):
        artifacts.init_dvc(root)
        changed += [".dvc", ".dvcignore"]
    remote = artifacts.default_remote(root)
    if remote is None or remote.local_folder(root) != (root / REMOTE_DIR).resolve():
        (root / REMOTE_DIR).mkdir(exist_ok=True)
        (root / REMOTE_DIR / "README.md").write_text(
            "# dvc-remote\n\nThe DVC remote of the example registry: the bytes of every\n"
            "artifact under `models/`, content-addressed by md5. It is committed so that a\n"
            "fresh clone loads the example models offline.\n"
        )
        artifacts.add_remote(root, REMOTE_NAME, REMOTE_DIR)  # stored as ../dvc-remote
        changed += [".dvc/config", REMOTE_DIR]
    if changed:
        name, email = PEOPLE["alice"]
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_AUTHOR_DATE": START.isoformat(),
            "GIT_COMMITTER_DATE": START.isoformat(),
        }
        git(root, "add", "--", *changed)
        git(
            root,
            "commit",
            "--quiet",
            "-m",
            "Set up the example registry's DVC remote",
            "--",
            *changed,
            env=env,
        )
    return root


def build(root: Path, only: set[str] | None = None) -> History:
    """Register the example models into ``root``; ``only`` limits it to some model names."""
    root = root.resolve()
    setup_registry(root)
    history = History(root, current(root))
    ex = Example(root, RegistryClient(root), history)

    def wanted(name: str) -> bool:
        return only is None or name in only

    steps: list[tuple[str, Callable[[], None]]] = []

    def step(name: str, action: Callable[[], None]) -> None:
        steps.append((name, action))

    churn, fraud, demand = "churn-classifier", "fraud-detector", "demand-forecast"
    step(
        churn,
        lambda: ex.create(
            "alice",
            churn,
            CHURN,
            ["@acme-ml/retention"],
            {"team": "retention", "domain": "customers"},
        ),
    )
    step(
        churn,
        lambda: ex.register(
            "alice",
            churn,
            1,
            train_classifier(1, fraud=False),
            "Baseline **logistic regression** on the January extract.",
        ),
    )
    step(churn, lambda: ex.promote("alice", churn, 1, "Staging"))
    step(churn, lambda: ex.promote("dana", churn, 1, "Production"))
    step(churn, lambda: ex.alias("dana", churn, "champion", 1))
    step(
        fraud,
        lambda: ex.create(
            "bongani", fraud, FRAUD, ["@acme-ml/risk"], {"team": "risk", "domain": "payments"}
        ),
    )
    step(
        fraud,
        lambda: ex.register(
            "bongani",
            fraud,
            1,
            train_classifier(1, fraud=True),
            "First model: logistic regression, class weights off.",
        ),
    )
    step(
        demand,
        lambda: ex.create(
            "chen", demand, DEMAND, ["@acme-ml/supply"], {"team": "supply", "domain": "stores"}
        ),
    )
    step(
        demand,
        lambda: ex.register("chen", demand, 1, train_regressor(1), "Ridge regression baseline."),
    )
    step(fraud, lambda: ex.promote("bongani", fraud, 1, "Staging"))
    step(
        churn,
        lambda: ex.register(
            "alice",
            churn,
            2,
            train_classifier(2, fraud=False),
            "Random forest (30 trees, depth 6).\n\nBetter recall on long-tenure customers; "
            "slower to score.",
            tags={"candidate": "true"},
        ),
    )
    step(churn, lambda: ex.promote("alice", churn, 2, "Staging"))
    step(churn, lambda: ex.alias("alice", churn, "challenger", 2))
    step(
        demand,
        lambda: ex.register(
            "chen",
            demand,
            2,
            train_regressor(2),
            "Gradient boosting replaces the ridge baseline: **MAE down** on every store cluster.",
            parents=(f"models:/{demand}/1",),
        ),
    )
    step(demand, lambda: ex.promote("dana", demand, 2, "Production"))
    step(demand, lambda: ex.promote("chen", demand, 1, "Archived"))
    step(
        fraud,
        lambda: ex.register(
            "bongani",
            fraud,
            2,
            train_classifier(2, fraud=True),
            "Random forest trained on the February transactions.",
            parents=(f"models:/{fraud}/1",),
        ),
    )
    step(fraud, lambda: ex.promote("bongani", fraud, 2, "Production"))
    step(fraud, lambda: ex.alias("bongani", fraud, "champion", 2))
    step(
        churn,
        lambda: ex.register(
            "dana",
            churn,
            3,
            train_classifier(3, fraud=False),
            "Gradient boosting, warm-started from the ideas of v2.\n\n"
            "- ROC AUC up on the March holdout\n- same features as v2",
            parents=(f"models:/{churn}/2",),
        ),
    )
    step(churn, lambda: ex.promote("dana", churn, 3, "Staging"))
    step(churn, lambda: ex.alias("alice", churn, "champion", 3))
    step(churn, lambda: ex.promote("alice", churn, 3, "Production", archive_existing=True))
    step(
        churn,
        lambda: ex.describe(
            "alice",
            churn,
            1,
            "Baseline **logistic regression** on the January extract.\n\n"
            "_Archived when v3 went to Production._",
        ),
    )
    # A model that feeds another: v3 adds the churn score as a feature, so the global
    # lineage page has an edge between registered models.
    fraud_v3_parents = (f"models:/{fraud}/2",) + ((f"models:/{churn}/3",) if wanted(churn) else ())
    step(
        fraud,
        lambda: ex.register(
            "chen",
            fraud,
            3,
            train_classifier(3, fraud=True),
            "Gradient boosting experiment that adds the **churn-classifier v3** score as a "
            "feature; not yet reviewed by risk, and its ROC AUC is still below v2's.",
            parents=fraud_v3_parents,
        ),
    )
    for name, action in steps:
        if wanted(name):
            action()
    return history


# ---------------------------------------------------------------------------
# What a reader of the example may rely on (checked after a build, and by the tests)

# Metric name in a description -> (metrics key, whether higher is better).
METRIC_WORDS = {"roc auc": ("roc_auc", True), "mae": ("mae", False)}
_CLAIM = re.compile(r"\b(ROC AUC|MAE)\W{0,3}\s+(up|down)\b", re.IGNORECASE)


def consistency_problems(root: Path, rev: str = "HEAD") -> list[str]:
    """What in the registry at ``rev`` contradicts itself or its history; [] if nothing.

    - A description's "ROC AUC up" / "MAE down" is true against the version's
      lineage parent in the same model (else the version before it).
    - A Production version is better on its model's main metric than every
      Staging or Archived version, unless a line of its description names that
      version and the metric (``ROC AUC below v2's``) to say why.
    - ``created_by`` and ``created_at`` are the author and the date of the
      commit that added the version (its pull request's branch commit).
    """
    from registry_gen.store import load_index

    index = load_index(root, rev=rev)
    problems: list[str] = []
    for model in index.models.values():
        for version in model.versions:
            problems += _claim_problems(model, version)
            problems += _production_problems(model, version)
            problems += _credit_problems(root, rev, version)
    return problems


def _metric(version: Any, key: str) -> float | None:
    value = version.record.metrics.get(key)
    return float(value) if value is not None else None


def _claim_problems(model: Any, version: Any) -> list[str]:
    same = [p for p in version.record.lineage.parents if p.startswith(f"models:/{model.name}/")]
    base_number = int(same[0].rsplit("/", 1)[1]) if same else version.version - 1
    if base_number < 1:
        return []
    base = model.version(base_number)
    problems = []
    for word, direction in _CLAIM.findall(version.record.description.replace("*", "")):
        key = METRIC_WORDS[word.lower()][0]
        new, old = _metric(version, key), _metric(base, key)
        if new is None or old is None or (new > old) != (direction.lower() == "up"):
            problems.append(
                f"{model.name} v{version.version} says {word} {direction}, but its {key} is "
                f"{new} against v{base_number}'s {old}"
            )
    return problems


def _production_problems(model: Any, version: Any) -> list[str]:
    if version.stage != "Production":
        return []
    problems = []
    lines = version.record.description.replace("*", "").lower().splitlines()
    for word, (key, higher_better) in METRIC_WORDS.items():
        mine = _metric(version, key)
        if mine is None:
            continue
        for other in model.versions:
            theirs = _metric(other, key)
            if other.stage not in ("Staging", "Archived") or theirs is None:
                continue
            worse = mine < theirs if higher_better else mine > theirs
            said = any(f"v{other.version}" in line and word in line for line in lines)
            if worse and not said:
                problems.append(
                    f"{model.name} v{version.version} is in Production with {key} {mine}, worse "
                    f"than {other.stage} v{other.version}'s {theirs}, and its description "
                    "does not say why"
                )
    return problems


def _credit_problems(root: Path, rev: str, version: Any) -> list[str]:
    added = git(
        root, "log", "--diff-filter=A", "--format=%an%x00%aI", rev, "--", version.record_file
    ).splitlines()
    if not added:
        return [f"{version.record_file}: no commit adds it"]
    author, date = added[-1].split("\0")
    record = version.record
    if author != record.created_by or datetime.fromisoformat(date) != record.created_at:
        return [
            f"{version.record_file}: created_by {record.created_by!r} at "
            f"{record.created_at.isoformat()}, but the commit that added it is {author!r}'s "
            f"at {date}"
        ]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path, help="an existing git repository")
    parser.add_argument(
        "--only",
        action="append",
        metavar="MODEL",
        help="build only this model (repeatable); for quick tests",
    )
    args = parser.parse_args(argv)
    history = build(args.target, set(args.only) if args.only else None)
    print(f"merged {len(history.merged)} pull requests into {history.base} of {args.target}")
    problems = consistency_problems(args.target)
    for problem in problems:
        print(f"inconsistent: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
