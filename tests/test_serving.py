"""The model server over real HTTP: MLflow's scoring protocol, the Open Inference Protocol
(V2), metrics and access logs, limits, against a real registry (git + DVC, skops models)."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from loader_fixtures import ROWS, Registry
from serving_fixtures import Reply, post_json, request, running, with_signature

from registry_gen.serving import ServeConfig, create_app
from registry_gen.serving._model import Served, load_served

ROW_LIST = ROWS.tolist()


@pytest.fixture(scope="module")
def signed(reg: Registry, tmp_path_factory: pytest.TempPathFactory) -> Registry:
    return with_signature(reg, tmp_path_factory.mktemp("signed"))


@pytest.fixture(scope="module")
def base(signed: Registry) -> Iterator[str]:
    """churn v3 (with a signature: columns a, b as float64), small limits."""
    app = create_app("models:/churn/3", registry=str(signed.root), max_body=4096)
    with running(app) as url:
        yield url


def expected(reg: Registry, rows: Any = ROWS, version: int = 3) -> list[Any]:
    result: list[Any] = reg.models[f"churn/{version}"].predict(np.asarray(rows)).tolist()
    return result


# ---------------------------------------------------------------------------
# MLflow's scoring protocol


def test_ping_health_and_version(base: str) -> None:
    for path in ("/ping", "/health"):
        reply = request(base + path)
        assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    version = request(base + "/version")
    assert version.status == 200
    assert version.json()["version"] == 3 and version.json()["uri"] == "models:/churn/3"
    assert version.json()["requested"] == "models:/churn/3"
    assert version.headers["x-model-version"] == "3"


# Request bodies as MLflow's documentation writes them (models.html, "Deploy MLflow models").
MLFLOW_BODIES = [
    {"dataframe_split": {"columns": ["a", "b"], "data": ROW_LIST}},
    {"dataframe_split": {"index": [0, 1, 2, 3], "columns": ["a", "b"], "data": ROW_LIST}},
    {"dataframe_records": [{"a": r[0], "b": r[1]} for r in ROW_LIST]},
    {"instances": ROW_LIST},
    {"instances": [{"a": r[0], "b": r[1]} for r in ROW_LIST]},
    {"inputs": ROW_LIST},
    {"inputs": {"a": [r[0] for r in ROW_LIST], "b": [r[1] for r in ROW_LIST]}},
    {"inputs": ROW_LIST, "params": {"ignored": 1}},
]


@pytest.mark.parametrize("body", MLFLOW_BODIES, ids=lambda b: next(iter(b)))
def test_invocations_json_gives_the_models_predictions(
    base: str, signed: Registry, body: dict[str, Any]
) -> None:
    reply = post_json(base + "/invocations", body)
    assert reply.status == 200, reply.body
    assert reply.json() == {"predictions": expected(signed)}
    assert reply.headers["x-model-version"] == "3"


def test_columns_follow_the_signature_not_the_request(base: str, signed: Registry) -> None:
    swapped = [[r[1], r[0]] for r in ROW_LIST]
    reply = post_json(
        base + "/invocations", {"dataframe_split": {"columns": ["b", "a"], "data": swapped}}
    )
    assert reply.json() == {"predictions": expected(signed)}
    records = [{"b": r[1], "a": r[0], "extra": "x"} for r in ROW_LIST]
    assert post_json(base + "/invocations", {"dataframe_records": records}).json() == {
        "predictions": expected(signed)
    }


def test_invocations_csv(base: str, signed: Registry) -> None:
    csv = "a,b\n" + "".join(f"{r[0]},{r[1]}\n" for r in ROW_LIST)
    for content_type in ("text/csv", "text/csv; charset=utf-8"):
        reply = request(base + "/invocations", csv, content_type)
        assert reply.status == 200, reply.body
        assert reply.json() == {"predictions": expected(signed)}


def _error(reply: Reply, status: int, code: str) -> str:
    assert reply.status == status, reply.body
    body = reply.json()
    assert set(body) == {"error_code", "message"} and body["error_code"] == code
    message: str = body["message"]
    return message


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ("{not json", "INVALID_PARAMETER_VALUE", "valid JSON"),
        ("[[1, 2]]", "BAD_REQUEST", "Received a list"),
        ('{"rows": [[1, 2]]}', "BAD_REQUEST", "exactly one of"),
        ('{"inputs": [[1, 2]], "instances": [[1, 2]]}', "BAD_REQUEST", "exactly one of"),
        ('{"dataframe_split": [[1, 2]]}', "BAD_REQUEST", "dataframe_split"),
        ('{"dataframe_records": [{"a": 1}]}', "INVALID_PARAMETER_VALUE", "Missing columns ['b']"),
        ('{"inputs": [[1, 2, 3]]}', "INVALID_PARAMETER_VALUE", "Expected 2 columns"),
        ('{"inputs": [["x", "y"]]}', "INVALID_PARAMETER_VALUE", "float64"),
        ('{"inputs": [[1, 2], [3]]}', "INVALID_PARAMETER_VALUE", "rectangular"),
        ('{"inputs": [[1, 2]], "params": [1]}', "BAD_REQUEST", "params"),
    ],
)
def test_invocations_bad_input_is_400(base: str, body: str, code: str, words: str) -> None:
    message = _error(request(base + "/invocations", body, "application/json"), 400, code)
    assert words in message


def test_csv_errors(base: str) -> None:
    assert "header" in _error(request(base + "/invocations", "", "text/csv"), 400, "BAD_REQUEST")
    assert "line 3" in _error(
        request(base + "/invocations", "a,b\n1,2\n3\n", "text/csv"), 400, "BAD_REQUEST"
    )


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/json; charset=latin-1",
        "application/json; format=pandas-split",
    ],
)
def test_media_types_are_415(base: str, content_type: str | None) -> None:
    reply = request(base + "/invocations", '{"inputs": [[1, 2]]}', content_type)
    _error(reply, 415, "BAD_REQUEST")


def test_bodies_over_the_limit_are_413(base: str) -> None:
    rows = [[0.5, 0.5]] * 1000
    message = _error(
        post_json(base + "/invocations", {"inputs": rows}), 413, "RESOURCE_LIMIT_EXCEEDED"
    )
    assert "4096" in message


def test_a_model_error_is_400_without_a_signature(reg: Registry, tmp_path: Path) -> None:
    plain = with_signature(reg, tmp_path, None)
    with running(create_app("models:/churn/3", registry=str(plain.root))) as url:
        good = post_json(url + "/invocations", {"inputs": ROW_LIST})
        assert good.json() == {"predictions": expected(reg)}
        reply = post_json(url + "/invocations", {"inputs": [[1.0, 2.0, 3.0]]})
        assert "evaluating the model" in _error(reply, 400, "BAD_REQUEST")
        assert request(url + "/v2/models/churn").json()["inputs"] == []


def test_a_slow_prediction_is_504(signed: Registry) -> None:
    config = ServeConfig("models:/churn/3", registry=str(signed.root), timeout=0.2)
    served = load_served(config, config.uri)
    release = threading.Event()

    def slow(data: Any) -> Any:
        release.wait(30)
        return served.model.predict(data)

    stuck = Served(dataclasses.replace(served.model, _predict=slow), served.signature)
    with running(create_app(config, served=stuck)) as url:
        try:
            reply = post_json(url + "/invocations", {"inputs": ROW_LIST})
            assert "time limit" in _error(reply, 504, "DEADLINE_EXCEEDED")
        finally:
            release.set()


# ---------------------------------------------------------------------------
# The Open Inference Protocol (KServe V2)


def test_v2_health_and_metadata(base: str) -> None:
    assert request(base + "/v2/health/live").json() == {"live": True}
    assert request(base + "/v2/health/ready").json() == {"ready": True}
    assert request(base + "/v2").json()["name"] == "registry-gen"
    meta = request(base + "/v2/models/churn")
    assert meta.status == 200
    assert meta.json() == {
        "name": "churn",
        "versions": ["3"],
        "platform": "skops",
        "inputs": [
            {"name": "a", "datatype": "FP64", "shape": [-1]},
            {"name": "b", "datatype": "FP64", "shape": [-1]},
        ],
        "outputs": [{"name": "output-0", "datatype": "INT64", "shape": [-1]}],
    }
    assert request(base + "/v2/models/churn/ready").json() == {"name": "churn", "ready": True}
    assert request(base + "/v2/models/churn/versions/3/ready").status == 200


def _infer_reply(signed: Registry, reply: Reply) -> None:
    assert reply.status == 200, reply.body
    body = reply.json()
    assert body["model_name"] == "churn" and body["model_version"] == "3"
    assert body["outputs"] == [
        {"name": "predict", "datatype": "INT64", "shape": [4], "data": expected(signed)}
    ]
    assert reply.headers["x-model-version"] == "3"


def test_v2_infer_one_tensor(base: str, signed: Registry) -> None:
    flat = [x for row in ROW_LIST for x in row]
    for path in ("/v2/models/churn/infer", "/v2/models/churn/versions/3/infer"):
        reply = post_json(
            base + path,
            {
                "id": "r1",
                "inputs": [{"name": "input-0", "shape": [4, 2], "datatype": "FP64", "data": flat}],
            },
        )
        _infer_reply(signed, reply)
        assert reply.json()["id"] == "r1"
    nested = post_json(
        base + "/v2/models/churn/infer",
        {"inputs": [{"name": "x", "shape": [4, 2], "datatype": "FP32", "data": ROW_LIST}]},
    )
    _infer_reply(signed, nested)
    assert "id" not in nested.json()


def test_v2_infer_named_columns(base: str, signed: Registry) -> None:
    reply = post_json(
        base + "/v2/models/churn/infer",
        {
            "inputs": [
                {"name": "b", "shape": [4], "datatype": "FP64", "data": [r[1] for r in ROW_LIST]},
                {
                    "name": "a",
                    "shape": [4, 1],
                    "datatype": "FP64",
                    "data": [r[0] for r in ROW_LIST],
                },
            ]
        },
    )
    _infer_reply(signed, reply)


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        ("/v2/models/other/infer", {"inputs": []}, 404, "not served here"),
        ("/v2/models/churn/versions/2/infer", {"inputs": []}, 404, "churn version 2"),
        ("/v2/models/churn/infer", {"inputs": []}, 400, "non-empty"),
        (
            "/v2/models/churn/infer",
            {"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP99", "data": [1, 2]}]},
            400,
            "FP99",
        ),
        (
            "/v2/models/churn/infer",
            {"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP64", "data": [1, 2]}]},
            400,
            "do not fill shape",
        ),
        (
            "/v2/models/churn/infer",
            {"inputs": [{"name": "x", "shape": [1, 2], "datatype": "INT64", "data": ["a", "b"]}]},
            400,
            "not INT64",
        ),
        (
            "/v2/models/churn/infer",
            {"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]},
            400,
            "Expected 2 columns",
        ),
    ],
)
def test_v2_errors(base: str, path: str, body: dict[str, Any], status: int, words: str) -> None:
    reply = post_json(base + path, body)
    assert reply.status == status, reply.body
    assert set(reply.json()) == {"error"} and words in reply.json()["error"]


def test_v2_unknown_model_metadata_is_404(base: str) -> None:
    reply = request(base + "/v2/models/other")
    assert reply.status == 404 and "not served here" in reply.json()["error"]


# ---------------------------------------------------------------------------
# Operations: metrics, access logs


def test_metrics(base: str) -> None:
    post_json(base + "/invocations", {"inputs": ROW_LIST})
    request(base + "/invocations", "{", "application/json")
    reply = request(base + "/metrics")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/plain")
    text = reply.body.decode()
    assert 'registry_gen_requests_total{endpoint="/invocations",method="POST",status="200"}' in text
    assert (
        'registry_gen_request_errors_total{endpoint="/invocations",'
        'code="INVALID_PARAMETER_VALUE"}' in text
    )
    assert 'registry_gen_request_duration_seconds_bucket{endpoint="/invocations",le="+Inf"}' in text
    assert 'registry_gen_model_version{model="churn",' in text
    assert "registry_gen_model_swaps_total 0" in text


def test_access_log_is_one_json_line_per_request(
    base: str, caplog: pytest.LogCaptureFixture
) -> None:
    def access_lines() -> list[dict[str, Any]]:
        return [
            json.loads(r.getMessage())
            for r in caplog.records
            if r.name == "registry_gen.serving.access"
        ]

    with caplog.at_level(logging.INFO, logger="registry_gen.serving.access"):
        post_json(base + "/invocations", {"inputs": ROW_LIST})
        # The line is logged after the response is sent, in the server's thread: wait
        # for it (bounded) rather than race it.
        deadline = time.monotonic() + 10
        while not any(x["path"] == "/invocations" for x in access_lines()):
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
    lines = access_lines()
    assert lines and lines[-1]["path"] == "/invocations" and lines[-1]["status"] == 200
    assert lines[-1]["model_version"] == "3" and lines[-1]["method"] == "POST"
