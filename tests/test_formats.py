"""Artifact formats: safe by default, a clear error for every refusal or missing extra."""

from __future__ import annotations

import importlib.util
import pickle
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from loader_fixtures import ROWS, Linear, Payload, train

from registry_gen.errors import ArtifactError, MissingExtra, UntrustedFormat
from registry_gen.formats import load_artifact, skops_untrusted_types


@pytest.fixture(scope="module")
def tree() -> object:
    return train("tree", seed=3)


def test_skops_loads_with_the_recorded_trusted_types(tmp_path: Path, tree: object) -> None:
    import skops.io as sio

    path = tmp_path / "model"  # cache entries have no extension
    data = sio.dumps(tree)
    path.write_bytes(data)
    native, predict = load_artifact(path, "skops", trusted_types=sio.get_untrusted_types(data=data))

    np.testing.assert_array_equal(predict(ROWS), tree.predict(ROWS))  # type: ignore[attr-defined]
    assert type(native) is type(tree)


def test_skops_refuses_types_not_trusted_at_registration(tmp_path: Path) -> None:
    import skops.io as sio

    path = tmp_path / "model.skops"
    path.write_bytes(sio.dumps(train("tree", seed=1)))
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted  # a decision tree needs at least one non-default type

    with pytest.raises(UntrustedFormat, match=untrusted[0].replace(".", r"\.")):
        load_artifact(path, "skops", trusted_types=[])


def test_a_broken_skops_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    path.write_bytes(b"not a zip")
    with pytest.raises(ArtifactError, match="cannot be read"):
        load_artifact(path, "skops")


def test_the_types_registration_records_are_the_ones_loading_checks(
    tmp_path: Path, tree: object
) -> None:
    """One reader (skops_untrusted_types) for a file and for a folder holding one."""
    import skops.io as sio

    folder = tmp_path / "artifact"
    folder.mkdir()
    sio.dump(tree, folder / "model.skops")
    types = skops_untrusted_types(folder)
    assert types == sorted(sio.get_untrusted_types(file=folder / "model.skops"))
    assert skops_untrusted_types(folder / "model.skops") == types
    native, _ = load_artifact(folder, "skops", trusted_types=types)
    assert type(native) is type(tree)
    (folder / "model.skops").write_bytes(b"not a zip")
    with pytest.raises(ArtifactError, match=r"model\.skops cannot be read"):
        skops_untrusted_types(folder)


@pytest.mark.parametrize("fmt", ["pickle", "joblib"])
def test_pickle_and_joblib_need_explicit_trust_and_never_run_otherwise(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    marker = tmp_path / "ran"
    monkeypatch.setenv("REGISTRY_GEN_TEST_MARKER", str(marker))
    path = tmp_path / "evil"
    if fmt == "pickle":
        path.write_bytes(pickle.dumps(Payload()))
    else:
        joblib.dump(Payload(), path)

    with pytest.raises(UntrustedFormat, match="runs code"):
        load_artifact(path, fmt)
    assert not marker.exists()

    load_artifact(path, fmt, trust_pickle=True)  # trusted: the payload runs, as documented
    assert marker.read_text() == "ran"


def test_trusted_joblib_predicts(tmp_path: Path, tree: object) -> None:
    path = tmp_path / "model.joblib"
    joblib.dump(tree, path)
    _, predict = load_artifact(path, "joblib", trust_pickle=True)
    np.testing.assert_array_equal(predict(ROWS), tree.predict(ROWS))  # type: ignore[attr-defined]


def _linear_onnx(folder: Path, *, external: str | None) -> Linear:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = Linear(np.eye(2, 3, dtype=np.float32), np.ones(3, dtype=np.float32))
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["y"]),
        ],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])],
        [numpy_helper.from_array(model.weights, "w"), numpy_helper.from_array(model.bias, "b")],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8
    folder.mkdir(parents=True, exist_ok=True)
    if external is None:
        onnx.save_model(proto, str(folder / "model.onnx"))
    else:
        onnx.save_model(
            proto,
            str(folder / "model.onnx"),
            save_as_external_data=True,
            location=external,
            size_threshold=0,
        )
    return model


def test_onnx_single_file_predicts_with_a_cast_to_the_input_type(tmp_path: Path) -> None:
    model = _linear_onnx(tmp_path, external=None)
    session, predict = load_artifact(tmp_path / "model.onnx", "onnx")

    np.testing.assert_allclose(predict(ROWS.tolist()), model.predict(ROWS), rtol=1e-6)
    assert session.get_inputs()[0].name == "x"


def test_onnx_external_data_inside_the_folder(tmp_path: Path) -> None:
    model = _linear_onnx(tmp_path / "artifact", external="weights.bin")
    _, predict = load_artifact(tmp_path / "artifact", "onnx")
    np.testing.assert_allclose(predict(ROWS), model.predict(ROWS), rtol=1e-6)


def test_onnx_external_data_outside_the_folder_is_refused(tmp_path: Path) -> None:
    import onnx

    folder = tmp_path / "artifact"
    _linear_onnx(folder, external="weights.bin")
    (folder / "weights.bin").replace(tmp_path / "outside.bin")
    proto = onnx.load(str(folder / "model.onnx"), load_external_data=False)
    for tensor in proto.graph.initializer:  # a hostile artifact points outside its folder
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "../outside.bin"
    (folder / "model.onnx").write_bytes(proto.SerializeToString())
    with pytest.raises(ArtifactError, match="not a file inside"):
        load_artifact(tmp_path / "artifact", "onnx")


def test_onnx_single_file_with_external_data_is_refused(tmp_path: Path) -> None:
    _linear_onnx(tmp_path, external="weights.bin")
    with pytest.raises(ArtifactError, match="register the model's folder"):
        load_artifact(tmp_path / "model.onnx", "onnx")


def test_safetensors_load_as_numpy_and_predict_explains(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    path = tmp_path / "weights"
    save_file({"w": np.arange(4, dtype=np.float32)}, str(path))
    state, predict = load_artifact(path, "safetensors")

    np.testing.assert_array_equal(state["w"], np.arange(4, dtype=np.float32))
    with pytest.raises(ArtifactError, match="load_state_dict"):
        predict(ROWS)


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch is installed")
def test_pytorch_without_torch_names_the_extra(tmp_path: Path) -> None:
    (tmp_path / "model.pt").write_bytes(b"\x80")
    with pytest.raises(MissingExtra, match=r"pip install 'registry-gen\[torch\]'"):
        load_artifact(tmp_path / "model.pt", "pytorch")


def test_mlflow_folder_without_mlflow_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The dev lock installs mlflow (for the plugin's tests): hide it, as a reader install has it.
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "mlflow", None)
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    # Issue 10 (10): an MLflow folder is gated like a pickle, so these pass trust_pickle.
    with pytest.raises(MissingExtra, match=r"registry-gen\[mlflow\]"):
        load_artifact(tmp_path, "mlflow", trust_pickle=True)
    with pytest.raises(ArtifactError, match="MLmodel"):
        load_artifact(tmp_path / "MLmodel", "mlflow", trust_pickle=True)


def test_path_format_returns_the_path(tmp_path: Path) -> None:
    native, predict = load_artifact(tmp_path, "path")
    assert native == tmp_path
    with pytest.raises(ArtifactError, match="no predict"):
        predict(ROWS)


def test_folder_artifacts_need_exactly_one_model_file(tmp_path: Path) -> None:
    (tmp_path / "a.onnx").write_bytes(b"")
    (tmp_path / "b.onnx").write_bytes(b"")
    with pytest.raises(ArtifactError, match="exactly one"):
        load_artifact(tmp_path, "onnx")
    with pytest.raises(ArtifactError, match="unknown artifact format"):
        load_artifact(tmp_path, "tensorflow")


def test_every_unsafe_format_needs_trust_pickle() -> None:
    from registry_gen._constants import UNSAFE_FORMATS
    from registry_gen.formats import KNOWN_FORMATS, check_trusted

    assert UNSAFE_FORMATS <= KNOWN_FORMATS
    for fmt in sorted(UNSAFE_FORMATS):
        with pytest.raises(UntrustedFormat):
            check_trusted(fmt, trust_pickle=False)
        check_trusted(fmt, trust_pickle=True)
    check_trusted("skops", trust_pickle=False)


def test_the_object_cache_key_follows_trusted_types_and_versions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import skops

    from registry_gen.formats import object_cache_key

    base = object_cache_key("skops", ["b", "a"])
    assert base is not None and len(base) == 32
    assert object_cache_key("skops", ["a", "b"]) == base
    assert object_cache_key("skops", ["a"]) != base
    assert object_cache_key("onnx", []) is None
    assert object_cache_key("pickle", []) is None  # never: its bytes are the user's trust call
    monkeypatch.setattr(skops, "__version__", "0.0.1")
    assert object_cache_key("skops", ["a", "b"]) != base
