"""Promotions reach a running server: the alias moves in the registry, the server swaps with
no failed request; versions that fail to load or to predict are not swapped in."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from loader_fixtures import ROWS, Registry, add_skops_version, dvc, train
from serving_fixtures import post_json, request, running, with_signature

from builders import commit
from registry_gen import RegistryClient
from registry_gen.serving import ServeConfig, create_app
from registry_gen.serving._metrics import Metrics
from registry_gen.serving._model import ModelSlot, load_served
from registry_gen.serving._watch import Watcher

ROW_LIST = ROWS.tolist()
PROBE = np.random.default_rng(11).random((40, 2))  # rows where churn v2 and v3 disagree


def _predictions(reg: Registry, version: int) -> list[Any]:
    result: list[Any] = reg.models[f"churn/{version}"].predict(PROBE).tolist()
    return result


def test_moving_the_alias_reaches_the_server_with_no_failed_request(
    reg: Registry, tmp_path: Path
) -> None:
    signed = with_signature(reg, tmp_path)
    assert _predictions(reg, 2) != _predictions(reg, 3)  # the swap is visible in the answers
    app = create_app("models:/churn@champion", registry=str(signed.root), interval=0.2)
    answers: list[tuple[int, str | None, Any]] = []
    stop = threading.Event()
    with running(app) as url:

        def client() -> None:
            while not stop.is_set() and len(answers) < 5000:
                reply = post_json(url + "/invocations", {"inputs": PROBE.tolist()})
                answers.append((reply.status, reply.headers.get("x-model-version"), reply.json()))

        thread = threading.Thread(target=client)
        thread.start()
        try:
            while len(answers) < 5:
                time.sleep(0.01)
            RegistryClient(signed.root).set_registered_model_alias("churn", "champion", 2)
            commit(signed.root, "Promote churn v2 to champion")
            deadline = time.monotonic() + 60  # bounded; the interval is 0.2 s
            while time.monotonic() < deadline and not any(v == "2" for _, v, _ in answers):
                time.sleep(0.05)
            seen = len(answers)
            while len(answers) < seen + 5 and thread.is_alive():
                time.sleep(0.01)
        finally:
            stop.set()
            thread.join(60)
        version = request(url + "/version").json()
        metrics = request(url + "/metrics").body.decode()
    assert all(status == 200 for status, _, _ in answers), [a for a in answers if a[0] != 200]
    versions = [v for _, v, _ in answers]
    first_new = versions.index("2")
    assert set(versions[:first_new]) == {"3"} and set(versions[first_new:]) == {"2"}
    for _, answered_by, body in answers:
        assert body == {"predictions": _predictions(reg, int(answered_by or 0))}
    assert version["version"] == 2 and version["requested"] == "models:/churn@champion"
    assert "registry_gen_model_swaps_total 1" in metrics
    assert 'registry_gen_model_version{model="churn",' in metrics and "} 2\n" in metrics


def _watcher(root: Path, uri: str = "models:/churn@champion") -> Watcher:
    config = ServeConfig(uri, registry=str(root))
    slot = ModelSlot(load_served(config, uri))
    slot.sample = np.asarray(ROW_LIST[:1])
    return Watcher(config, slot, Metrics())


def test_an_untrusted_version_is_not_swapped_in(reg: Registry, tmp_path: Path) -> None:
    signed = with_signature(reg, tmp_path)
    # churn v4 is the pickled model's record and pointer: loading it needs trust_pickle.
    models = signed.root / "models"
    source, target = models / "pickled" / "1", models / "churn" / "4"
    shutil.copytree(source, target)
    record = target / "version.yaml"
    record.write_text(record.read_text().replace("version: 1", "version: 4"))
    watcher = _watcher(signed.root)
    RegistryClient(signed.root).set_registered_model_alias("churn", "champion", 4)
    assert watcher.check_once() is False
    assert watcher.slot.current is not None and watcher.slot.current.version == 3
    assert watcher.metrics.swap_failures == 1
    assert watcher.check_once() is False and watcher.metrics.swap_failures == 1  # not retried


def test_a_version_that_cannot_predict_is_not_swapped_in(reg: Registry, tmp_path: Path) -> None:
    plain = with_signature(reg, tmp_path, None, own_remote=True)
    rng = np.random.default_rng(7)
    x = rng.random((40, 3))
    three_features = train("tree", 4).fit(x, (x.sum(axis=1) > 1.5).astype(int))
    target = add_skops_version(plain.root, "churn", 4, "Staging", three_features)
    dvc(plain.root, "add", "-q", target)
    dvc(plain.root, "push", "-q")
    commit(plain.root, "Register churn v4")
    watcher = _watcher(plain.root)
    RegistryClient(plain.root).set_registered_model_alias("churn", "champion", 4)
    assert watcher.check_once() is False
    assert watcher.slot.current is not None and watcher.slot.current.version == 3
    RegistryClient(plain.root).set_registered_model_alias("churn", "champion", 2)
    assert watcher.check_once() is True
    assert watcher.slot.current is not None and watcher.slot.current.version == 2
    assert watcher.metrics.swaps == 1 and watcher.metrics.swap_failures == 1


def test_a_pinned_version_is_not_watched(reg: Registry, tmp_path: Path) -> None:
    app = create_app("models:/churn/3", registry=str(reg.root))
    assert app.state.server.watcher is None
    assert create_app("models:/churn/Production", registry=str(reg.root)).state.server.watcher
