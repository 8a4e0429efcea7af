"""Issue 12.5: the loader's predict takes what MLflow's pyfunc takes (DataFrames, arrays, rows,
records, dicts of columns), checked against the recorded signature by the one rule the server
uses too (registry_gen._inputs); on real skops/scikit-learn models in an init'd registry."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest

from builders import commit, git
from registry_gen import load_model
from registry_gen._inputs import InputSpec, conform, input_specs, model_input, to_table
from registry_gen.client import log_model
from registry_gen.errors import SignatureMismatch
from registry_gen.scaffold import init_registry

pytestmark = pytest.mark.usefixtures("cache_dir")

COLUMNS = ["tenure", "spend", "tickets"]
FRAME = pd.DataFrame(
    {"tenure": [1.0, 24.0, 6.0, 48.0], "spend": [20.5, 80.0, 35.0, 99.9], "tickets": [3, 0, 2, 1]}
)
LABELS = np.array([1, 0, 1, 0])


# ---------------------------------------------------------------------------
# The rule, pure

SPECS = [InputSpec("a", "double"), InputSpec("b", "long")]


def test_every_shape_of_input_becomes_the_same_checked_batch() -> None:
    expected = [[1.0, 2.0], [3.0, 4.0]]
    for data in [
        {"a": [1.0, 3.0], "b": [2, 4]},
        {"b": [2, 4], "a": [1, 3], "extra": ["x", "y"]},  # order and extra columns don't matter
        [{"a": 1.0, "b": 2}, {"a": 3.0, "b": 4}],
        [[1.0, 2], [3.0, 4]],
        np.array([[1.0, 2.0], [3.0, 4.0]]),
        pd.DataFrame({"b": [2, 4], "a": [1.0, 3.0], "c": [0, 0]}),
    ]:
        assert conform(to_table(data), SPECS).tolist() == expected, data
    assert conform(to_table({"a": 1.0, "b": 2}), SPECS).tolist() == [[1.0, 2.0]]  # one row


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"a": [1.0]}, r"Missing columns \['b'\]; the signature expects \['a', 'b'\]"),
        (pd.DataFrame({"a": [1.0], "c": [2]}), r"Missing columns \['b'\]"),
        ({"a": ["x"], "b": [1]}, r"column a holds <U1 values; the signature expects float64"),
        ({"a": [1.0], "b": [1.5]}, r"column b holds float64 values; the signature expects int64"),
        ([[1.0, 2, 3]], r"Expected 2 columns \['a', 'b'\], got 3"),
        ([1.0, 2.0], r"Expected rows of 2 columns, got an array of shape \[2\]"),
        ({"a": [1.0, 2.0], "b": [1]}, r"The columns have different lengths"),
    ],
)
def test_a_mismatch_is_one_line_naming_the_column(data: Any, message: str) -> None:
    with pytest.raises(SignatureMismatch, match=message) as caught:
        conform(to_table(data), SPECS)
    assert "\n" not in str(caught.value)


def test_a_tensor_signature_checks_the_shape() -> None:
    spec = [InputSpec(None, "float64", (-1, 3))]
    assert conform(to_table([[1, 2, 3]]), spec).dtype == np.float64
    with pytest.raises(SignatureMismatch, match=r"shape \[-1, 3\] \(-1: any\), got \[1, 2\]"):
        conform(to_table([[1.0, 2.0]]), spec)


def test_specs_from_records_and_json_and_nothing_on_doubt() -> None:
    assert input_specs([{"name": "a", "type": "double", "shape": [-1]}]) == (
        InputSpec("a", "double", (-1,)),
    )
    for bad in [None, [], [{"type": 3}], [{"type": "x", "shape": ["1"]}], "inputs"]:
        assert input_specs(bad) is None, bad


def test_without_a_signature_data_goes_as_given_but_dicts_become_rows() -> None:
    rows = [[1, 2]]
    assert model_input(rows, None, object()) is rows
    assert model_input({"a": [1], "b": [2]}, None, object()).tolist() == [[1, 2]]


# ---------------------------------------------------------------------------
# The loader, on real models registered by log_model in an init'd registry


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    root = init_registry(tmp_path_factory.mktemp("inputs") / "reg")
    by_name = RandomForestClassifier(n_estimators=5, random_state=0).fit(FRAME, LABELS)
    log_model(by_name, "framed", registry=root, input_example=FRAME.head(2))
    by_position = LogisticRegression().fit(FRAME.to_numpy(), LABELS)
    log_model(by_position, "arrayed", registry=root, input_example=FRAME.to_numpy()[:2])
    commit(root, "Register two models")
    git(root, "status", "--porcelain")
    return root


@pytest.mark.slow
def test_a_model_fitted_on_a_dataframe_takes_every_input_shape(registry: Path) -> None:
    model = load_model("models:/framed/1", registry=registry)
    assert model.resolved.inputs is not None
    assert [s.name for s in model.resolved.inputs] == COLUMNS
    expected = model.unwrap().predict(FRAME)
    shuffled = FRAME[["tickets", "tenure", "spend"]].assign(note="extra column")
    for data in [
        FRAME,
        shuffled,
        {c: FRAME[c].tolist() for c in reversed(COLUMNS)},
        FRAME.to_dict(orient="records"),
        FRAME.to_numpy().tolist(),
        FRAME.to_numpy(),
    ]:
        np.testing.assert_array_equal(model.predict(data), expected)

    with pytest.raises(SignatureMismatch, match=r"models:/framed/1: .*Missing columns \['spend'\]"):
        model.predict(FRAME.drop(columns=["spend"]))
    with pytest.raises(SignatureMismatch, match="column tickets holds float64 values"):
        model.predict(FRAME.assign(tickets=[0.5, 1.5, 2.5, 3.5]))
    with pytest.raises(SignatureMismatch, match=r"Expected 3 columns .*, got 2"):
        model.predict([[1.0, 2.0]])

    again = load_model("models:/framed/latest", registry=registry)  # the saved resolution
    assert again.resolved.inputs == model.resolved.inputs
    with pytest.raises(SignatureMismatch, match="Missing columns"):
        again.predict({"tenure": [1.0]})


@pytest.mark.slow
def test_a_model_fitted_on_an_array_checks_its_tensor_signature(registry: Path) -> None:
    model = load_model("models:/arrayed/1", registry=registry)
    expected = model.unwrap().predict(FRAME.to_numpy())
    for data in [FRAME.to_numpy(), FRAME.to_numpy().tolist(), FRAME]:
        np.testing.assert_array_equal(model.predict(data), expected)
    with pytest.raises(SignatureMismatch, match=r"shape \[-1, 3\] \(-1: any\), got \[4, 2\]"):
        model.predict(FRAME.to_numpy()[:, :2])


def test_pandas_stays_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model fitted on a DataFrame gets the checked rows when pandas cannot be imported."""

    class Fitted:
        feature_names_in_ = np.array(["a", "b"])

    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now raises ImportError
    batch = model_input({"b": [2], "a": [1.0]}, SPECS, Fitted())
    assert isinstance(batch, np.ndarray) and batch.tolist() == [[1.0, 2.0]]
    monkeypatch.undo()
    frame = model_input({"b": [2], "a": [1.0]}, SPECS, Fitted())
    assert list(frame.columns) == ["a", "b"] and frame["b"].dtype == np.int64


@pytest.mark.slow
def test_a_model_loaded_from_the_published_site_checks_its_signature(
    registry: Path, tmp_path: Path
) -> None:
    """The site's JSON API publishes each version's signature with its artifact."""
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from site_builders import write_api

    site = tmp_path / "site"
    write_api(registry, site)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        model = load_model("models:/framed/1", registry=url)
        assert [s.name for s in model.resolved.inputs or ()] == COLUMNS
        expected = model.unwrap().predict(FRAME)
        np.testing.assert_array_equal(model.predict(FRAME.to_dict(orient="list")), expected)
        with pytest.raises(SignatureMismatch, match=r"Missing columns \['tickets'\]"):
            model.predict(FRAME.drop(columns="tickets"))
    finally:
        server.shutdown()
        server.server_close()


def test_a_dataframe_model_gets_its_columns_in_the_order_it_was_fitted_in() -> None:
    class Fitted:
        feature_names_in_ = np.array(["b", "a"])

    frame = model_input([[1.0, 2]], SPECS, Fitted())  # rows in the signature's order
    assert list(frame.columns) == ["b", "a"] and frame.to_numpy().tolist() == [[2, 1.0]]
    assert model_input({}, None, object()).shape == (0, 0)
