"""The synthetic registry's life: which pull requests happen, in what order, with what records.

Records are written from templates rather than through ``yamlio.dump_yaml``
(17 us a record instead of 1.5 ms or more in PyYAML's emitter); a template gives
byte for byte what ``dump_yaml`` gives for the same data, which
``tests/test_benchmarks.py`` checks by dumping every generated record again.
The real model's records (``trusted_types``) still go through ``dump_yaml``: ten
records, not worth a template.

Memory: a record's text is kept only while its version can still change stage
(Staging or Production); others are dropped once their round is over.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from registry_gen.yamlio import dump_yaml

REAL_MODEL = "m"
ARTIFACT = "model.skops"
ORG = "acme-ml"
START = 1_640_995_200  # 2022-01-01T00:00:00Z
# Every story ends before this (2026-01-01): a commit dated after the reader's clock is
# clamped to it (and flagged) by the history, which would make pages change on every build.
END = 1_767_225_600
MEAN_STEP = (5 * 60 + 9 * 3600) // 2  # seconds between pull requests, when the span allows

FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Barbara",
    "Edsger",
    "Donald",
    "Frances",
    "John",
    "Margaret",
    "Ken",
    "Dennis",
    "Radia",
    "Tim",
    "Sophie",
    "Guido",
    "Linus",
    "Hedy",
    "Katherine",
    "Niklaus",
    "Leslie",
    "Anita",
    "Whitfield",
    "Shafi",
    "Yukihiro",
    "Bjarne",
    "Jean",
    "Mary",
    "Fei-Fei",
    "Yann",
    "Geoffrey",
    "Daphne",
    "Andrew",
    "Chloé",
    "José",
    "Zoë",
    "Søren",
    "Ayşe",
    "Wei",
    "Priya",
    "Olúwáseun",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Liskov",
    "Dijkstra",
    "Knuth",
    "Allen",
    "McCarthy",
    "Hamilton",
    "Thompson",
    "Ritchie",
    "Perlman",
    "Berners-Lee",
    "Wilson",
    "van Rossum",
    "Torvalds",
    "Lamarr",
    "Johnson",
    "Wirth",
    "Lamport",
    "Borg",
    "Diffie",
    "Goldwasser",
    "Matsumoto",
    "Stroustrup",
    "Sammet",
    "Kenyon",
    "Li",
    "LeCun",
    "Hinton",
    "Koller",
    "Ng",
    "Dubois",
    "García",
    "Ødegaard",
    "Kierkegaard",
    "Yılmaz",
    "Zhang",
    "Patel",
    "Adébáyọ̀",
]
DOMAINS = [
    "churn",
    "fraud",
    "ranking",
    "pricing",
    "demand",
    "credit",
    "vision",
    "speech",
    "search",
    "ads",
    "recsys",
    "forecast",
    "anomaly",
    "nlp",
    "risk",
    "ltv",
]
TASKS = ["classifier", "regressor", "scorer", "ranker", "detector", "embedder", "tagger"]
TEAMS = [
    "@acme-ml/core",
    "@acme-ml/growth",
    "@acme-ml/risk",
    "@acme-ml/vision",
    "@acme-ml/search",
    "@acme-ml/platform",
]

_SIGNATURE = "".join(f"  - name: f{i}\n    type: double\n" for i in range(8))


@dataclass(frozen=True)
class RealArtifact:
    """What the story needs to know of model m's real artifact."""

    md5: str
    size: int
    trusted_types: list[str]


@dataclass
class Model:
    name: str
    domain: str
    head: str  # model.yaml without its aliases
    aliases: dict[str, int] = field(default_factory=dict)
    stages: dict[int, str] = field(default_factory=dict)  # version -> stage
    records: dict[int, str] = field(default_factory=dict)  # version -> version.yaml, while live
    last_main_index: int = 0  # position in the main line of the last commit touching it


@dataclass
class PullRequest:
    title: str
    branch: str
    author: str
    files: dict[str, bytes]  # path -> new content, all under models/NAME/
    model: Model
    when: int  # when the branch commit was made (unix time)


class Story:
    """Generates the pull requests of the registry's life, in merge order."""

    def __init__(self, models: int, versions: int, seed: int, real: RealArtifact) -> None:
        self.versions = versions
        self.seed = seed
        self.real = real
        self.rng = random.Random(seed)
        self.people = [f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}" for i in range(60)]
        self.models = [self._new_model(i) for i in range(models)]
        self.clock = START
        # At most two pull requests a version (its registration, maybe a promotion or an
        # alias), so the mean step that fits them all between START and END.
        self.mean_step = min(MEAN_STEP, (END - START) // max(1, 2 * models * versions))

    def _new_model(self, index: int) -> Model:
        rng = self.rng
        name = (
            REAL_MODEL
            if index == 0
            else (f"{DOMAINS[index % len(DOMAINS)]}-{TASKS[index % len(TASKS)]}-{index:04d}")
        )
        domain = DOMAINS[index % len(DOMAINS)]
        channel, team = rng.choice(["web", "mobile", "batch"]), rng.choice(TEAMS)
        cadence = rng.choice(["weekly", "monthly", "on drift"])
        owners = sorted(set(rng.sample(TEAMS, k=rng.randint(1, 2))))
        tier = rng.choice(["gold", "silver", "bronze"])
        # What dump_yaml writes for {name, description, owners, tags}.
        head = (
            f"name: {name}\ndescription: |\n"
            f"  Scores **{domain}** events for the {channel} pipeline.\n\n"
            f"  - Owner team: {team}\n"
            f"  - Retrained {cadence}; see the [runbook](https://wiki.example.com/ml/{name}).\n"
            "owners:\n"
            + "".join(f"- '{owner}'\n" for owner in owners)
            + f"tags:\n  domain: {domain}\n  task: {TASKS[index % len(TASKS)]}\n  tier: {tier}\n"
        )
        return Model(name=name, domain=domain, head=head)

    def person(self) -> str:
        return self.rng.choice(self.people)

    def tick(self) -> int:
        """The next pull request's time: minutes to hours after the previous one."""
        least = self.mean_step // 30
        self.clock += self.rng.randint(least, 2 * self.mean_step - least)
        return self.clock

    def pull_requests(self) -> Iterator[PullRequest]:
        """Round r registers version r of every model, then promotes some of them."""
        rng = self.rng
        for round_number in range(1, self.versions + 1):
            order = list(self.models)
            rng.shuffle(order)
            for model in order:
                yield self._register(model, round_number)
            later: list[PullRequest] = []
            for model in order:
                later.extend(self._promotions(model, round_number))
                _forget_settled(model)
            yield from later
        real = self.models[0]
        if "Production" not in real.stages.values():
            yield self._to_production(real, max(real.stages))

    def _promotions(self, model: Model, newest: int) -> Iterator[PullRequest]:
        rng = self.rng
        staging = [v for v, s in model.stages.items() if s == "Staging"]
        is_real = model.name == REAL_MODEL
        for version in staging:
            if is_real or rng.random() < 0.5:
                yield self._to_production(model, version)
        if is_real or rng.random() < 0.25:
            yield self._transition(
                model,
                newest,
                "Staging",
                f"promote/{model.name}-v{newest}",
                f"Promote {model.name} v{newest} to Staging",
            )
            if is_real or rng.random() < 0.3:
                yield self._move_alias(model, "challenger", newest)

    def _register(self, model: Model, version: int) -> PullRequest:
        rng = self.rng
        author = self.person()
        when = self.tick()
        folder = f"models/{model.name}/{version}"
        files: dict[str, bytes] = {}
        if version == 1:
            files[f"models/{model.name}/model.yaml"] = self._model_yaml(model)
        is_real = model.name == REAL_MODEL
        if is_real:
            md5, size = self.real.md5, self.real.size
        else:
            md5 = hashlib.md5(f"{model.name}-{version}-{self.seed}".encode()).hexdigest()
            size = rng.randint(50_000, 80_000_000)
        parent = None
        if version >= 2 and rng.random() < 0.3:
            candidate = rng.choice(self.models)
            if candidate is not model and 1 in candidate.stages:
                parent = f"models:/{candidate.name}/1"
        # The draws below happen in this order whatever the template's order.
        auc = round(rng.uniform(0.70, 0.97), 4)
        change = rng.choice(["new features", "more data", "tuned depth", "fixed leakage"])
        description = (
            f"Retrained on {rng.randint(1, 52)} weeks of data; AUC {auc}.\n\n"
            f"Changes since v{version - 1}: {change}."
            if version > 1
            else "First version, trained on the launch data set."
        )
        draws = _Draws(
            run_id=f"{rng.getrandbits(64):016x}",
            run=rng.randint(10_000, 999_999),
            commit=f"{rng.getrandbits(160):040x}",
            md5=f"{rng.getrandbits(128):032x}",
            n_estimators=rng.choice([100, 200, 400]),
            max_depth=rng.randint(3, 12),
            learning_rate=rng.choice([0.01, 0.05, 0.1]),
            auc=auc,
            accuracy=round(rng.uniform(0.7, 0.99), 4),
            f1=round(rng.uniform(0.5, 0.95), 4),
            log_loss=round(rng.uniform(0.05, 0.6), 4),
            trainer=rng.choice(["xgboost", "sklearn", "lightgbm"]),
        )
        args = (model, version, description, _timestamp(when), author, draws, parent)
        text = (
            dump_yaml(_record_data(*args, self.real.trusted_types))
            if is_real
            else _record_text(*args)
        )
        model.records[version] = text
        model.stages[version] = "None"
        files[f"{folder}/version.yaml"] = text.encode()
        files[f"{folder}/{ARTIFACT}.dvc"] = (
            f"outs:\n- md5: {md5}\n  size: {size}\n  hash: md5\n  path: {ARTIFACT}\n"
        ).encode()
        files[f"{folder}/.gitignore"] = f"/{ARTIFACT}\n".encode()
        return PullRequest(
            f"Register {model.name} v{version}",
            f"register/{model.name}-v{version}",
            author,
            files,
            model,
            when,
        )

    def _model_yaml(self, model: Model) -> bytes:
        if not model.aliases:
            return model.head.encode()
        aliases = "".join(
            f"  {alias}: {number}\n" for alias, number in sorted(model.aliases.items())
        )
        return f"{model.head}aliases:\n{aliases}".encode()

    def _set_stage(self, model: Model, version: int, stage: str) -> tuple[str, bytes]:
        old = model.stages[version]
        text = model.records[version]
        # version.yaml is written with `stage` as its second top-level key.
        new = text.replace(f"\nstage: {old}\n", f"\nstage: {stage}\n", 1)
        assert new != text or old == stage
        model.records[version] = new
        model.stages[version] = stage
        return f"models/{model.name}/{version}/version.yaml", new.encode()

    def _transition(
        self, model: Model, version: int, stage: str, branch: str, title: str
    ) -> PullRequest:
        path, content = self._set_stage(model, version, stage)
        return PullRequest(title, branch, self.person(), {path: content}, model, self.tick())

    def _to_production(self, model: Model, version: int) -> PullRequest:
        files = dict([self._set_stage(model, version, "Production")])
        archived = [v for v, s in model.stages.items() if s == "Production" and v != version]
        for old in archived:
            path, content = self._set_stage(model, old, "Archived")
            files[path] = content
            del model.records[old]  # an Archived version never changes again
        for alias, target in list(model.aliases.items()):
            if target in archived:
                model.aliases[alias] = version
        model.aliases["champion"] = version
        files[f"models/{model.name}/model.yaml"] = self._model_yaml(model)
        title = f"Promote {model.name} v{version} to Production"
        if archived:
            title += f", archive v{', v'.join(map(str, archived))}"
        return PullRequest(
            title,
            f"promote/{model.name}-v{version}-production",
            self.person(),
            files,
            model,
            self.tick(),
        )

    def _move_alias(self, model: Model, alias: str, version: int) -> PullRequest:
        model.aliases[alias] = version
        return PullRequest(
            f"Point {model.name}@{alias} at v{version}",
            f"alias/{model.name}-{alias}-v{version}",
            self.person(),
            {f"models/{model.name}/model.yaml": self._model_yaml(model)},
            model,
            self.tick(),
        )


def _forget_settled(model: Model) -> None:
    """Drop the text of versions no pull request will touch again (None after their round)."""
    for version in [v for v in model.records if model.stages[v] not in ("Staging", "Production")]:
        del model.records[version]


@dataclass(frozen=True)
class _Draws:
    """The random values of one version record."""

    run_id: str
    run: int
    commit: str
    md5: str
    n_estimators: int
    max_depth: int
    learning_rate: float
    auc: float
    accuracy: float
    f1: float
    log_loss: float
    trainer: str


def _record_data(
    model: Model,
    version: int,
    description: str,
    created_at: str,
    author: str,
    d: _Draws,
    parent: str | None,
    trusted: list[str],
) -> dict[str, Any]:
    """A version record as plain data (what the template writes)."""
    return {
        "version": version,
        "stage": "None",
        "description": description,
        "created_at": created_at,
        "created_by": author,
        "artifact": {
            "path": ARTIFACT,
            "format": "skops",
            **({"trusted_types": trusted} if trusted else {}),
        },
        "lineage": {
            "run_id": d.run_id,
            "run_url": f"https://ci.example.com/runs/{d.run}",
            "code": {"repo": f"https://git.example.com/{ORG}/{model.name}", "commit": d.commit},
            "datasets": [
                {
                    "name": f"{model.domain}-events",
                    "path": f"data/{model.domain}/events.parquet",
                    "md5": d.md5,
                }
            ],
            **({"parents": [parent]} if parent else {}),
        },
        "params": {
            "n_estimators": d.n_estimators,
            "max_depth": d.max_depth,
            "learning_rate": d.learning_rate,
        },
        "metrics": {"auc": d.auc, "accuracy": d.accuracy, "f1": d.f1, "log_loss": d.log_loss},
        "signature": {
            "inputs": [{"name": f"f{i}", "type": "double"} for i in range(8)],
            "outputs": [{"name": "score", "type": "double", "shape": [-1]}],
        },
        "tags": {"trainer": d.trainer},
    }


def _record_text(
    model: Model,
    version: int,
    description: str,
    created_at: str,
    author: str,
    d: _Draws,
    parent: str | None,
) -> str:
    """``dump_yaml(_record_data(...))`` without PyYAML, for records without trusted types."""
    if "\n" in description:
        described = "|-\n" + "".join(
            f"  {line}\n" if line else "\n" for line in description.split("\n")
        )
    else:
        described = _scalar(description) + "\n"
    parents = f"  parents:\n  - {parent}\n" if parent else ""
    return (
        f"version: {version}\nstage: None\ndescription: {described}"
        f"created_at: '{created_at}'\ncreated_by: {_scalar(author)}\n"
        f"artifact:\n  path: {ARTIFACT}\n  format: skops\n"
        f"lineage:\n  run_id: {_hex(d.run_id)}\n  run_url: https://ci.example.com/runs/{d.run}\n"
        f"  code:\n    repo: https://git.example.com/{ORG}/{model.name}\n"
        f"    commit: {_hex(d.commit)}\n"
        f"  datasets:\n  - name: {model.domain}-events\n"
        f"    path: data/{model.domain}/events.parquet\n    md5: {_hex(d.md5)}\n{parents}"
        f"params:\n  n_estimators: {d.n_estimators}\n  max_depth: {d.max_depth}\n"
        f"  learning_rate: {d.learning_rate!r}\n"
        f"metrics:\n  auc: {d.auc!r}\n  accuracy: {d.accuracy!r}\n  f1: {d.f1!r}\n"
        f"  log_loss: {d.log_loss!r}\n"
        f"signature:\n  inputs:\n{_SIGNATURE}  outputs:\n  - name: score\n    type: double\n"
        f"    shape:\n    - -1\n"
        f"tags:\n  trainer: {d.trainer}\n"
    )


# A hex string that reads as a number (all digits, or digits e digits) is quoted by dump_yaml.
_NUMERIC_HEX = re.compile(r"[0-9]+(?:e[0-9]+)?")


def _hex(value: str) -> str:
    return f"'{value}'" if _NUMERIC_HEX.fullmatch(value) else value


@lru_cache(maxsize=1024)
def _scalar(value: str) -> str:
    """A one-line string as dump_yaml writes it as a mapping value (few distinct values)."""
    rendered = dump_yaml({"k": value})
    assert rendered.startswith("k: ") and rendered.count("\n") == 1, rendered
    return rendered[3:-1]


def _timestamp(when: int) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
