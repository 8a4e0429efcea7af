"""A real registry for the loader's tests: git + real DVC (init, remote, add, push).

Building it runs DVC a few times, so it is built once per test session
(:func:`shared_registry`) and copied by tests that change it (:func:`copy_registry`).
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from builders import commit, init_repo, write_model
from registry_gen.yamlio import dump_yaml

DVC = str(Path(sys.executable).with_name("dvc"))
ROWS = np.array([[0.0, 0.0], [1.0, 1.0], [0.2, 0.9], [0.9, 0.1]])
MARKER_ENV = "REGISTRY_GEN_TEST_MARKER"


def dvc(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run the venv's DVC in ``root``; fail loudly with its output."""
    result = subprocess.run(
        [DVC, *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dvc {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def train(kind: str, seed: int) -> Any:
    """A small real scikit-learn classifier on a fixed toy dataset."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(seed)
    x = rng.random((60, 2))
    y = (x[:, 0] + x[:, 1] > 1.0).astype(int)
    model = LogisticRegression() if kind == "logreg" else DecisionTreeClassifier(max_depth=3)
    return model.fit(x, y)


class Payload:
    """Unpickling this writes a marker file: proof that a pickle's code ran."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (exec, (f"open({os.environ.get(MARKER_ENV, '/dev/null')!r}, 'w').write('ran')",))


@dataclass
class Registry:
    root: Path
    remote: Path
    models: dict[str, Any] = field(default_factory=dict)  # "churn/3" -> fitted estimator

    def md5(self, name: str, version: int) -> str:
        folder = self.root / "models" / name / str(version)
        pointer = next(folder.glob("*.dvc")).read_text()
        return pointer.split("md5: ")[1].split()[0]

    def object_path(self, md5: str) -> Path:
        return self.remote / "files" / "md5" / md5[:2] / md5[2:]


def _version(
    root: Path, name: str, number: int, artifact: str, fmt: str, stage: str, **extra: Any
) -> Path:
    folder = root / "models" / name / str(number)
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "version": number,
        "stage": stage,
        "created_at": f"2026-01-{number:02d}T10:00:00Z",
        "created_by": "alice",
        "artifact": {"path": artifact, "format": fmt, **extra},
    }
    if stage == "Production":
        record["description"] = "In production."
        record["metrics"] = {"auc": 0.9}
    (folder / "version.yaml").write_text(dump_yaml(record))
    return folder / artifact


def add_skops_version(root: Path, name: str, number: int, stage: str, model: Any) -> str:
    import skops.io as sio

    data = sio.dumps(model)
    target = _version(
        root,
        name,
        number,
        "model.skops",
        "skops",
        stage,
        trusted_types=sorted(sio.get_untrusted_types(data=data)),
    )
    target.write_bytes(data)
    return str(target.relative_to(root))


@dataclass
class Linear:
    """What the ONNX fixture computes: ``rows @ weights + bias``."""

    weights: Any
    bias: Any

    def predict(self, rows: Any) -> Any:
        return np.asarray(rows, dtype=np.float32) @ self.weights + self.bias


def _onnx_folder(root: Path, model: Linear) -> str:
    """An ONNX graph with its weights in external data: a DVC folder artifact (.dir md5)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

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
    target = _version(root, "onnxy", 1, "model", "onnx", "Production")
    target.mkdir()
    onnx.save_model(
        proto,
        str(target / "model.onnx"),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="weights.bin",
        size_threshold=0,
    )
    return str(target.relative_to(root))


def build_registry(base: Path) -> Registry:
    """churn v1-v3 (skops; v3 Production, v2 Staging, @champion → 3), onnxy v1 (ONNX folder),
    pickled v1 (a plain pickle), evil v1 (a pickle whose payload writes a marker)."""
    root = init_repo(base / "registry")
    remote = base / "remote"
    reg = Registry(root, remote)
    dvc(root, "init", "-q")
    dvc(root, "remote", "add", "-d", "storage", str(remote))
    write_model(root, "churn", description="Predicts churn.", aliases={"champion": 3})
    targets = []
    for number, (kind, stage) in enumerate(
        [("logreg", "Archived"), ("logreg", "Staging"), ("tree", "Production")], start=1
    ):
        model = train(kind, seed=number)
        reg.models[f"churn/{number}"] = model
        targets.append(add_skops_version(root, "churn", number, stage, model))
    write_model(root, "onnxy", description="ONNX with external data.")
    linear = Linear(
        np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
        np.array([0.5, -1.0, 2.0], dtype=np.float32),
    )
    reg.models["onnxy/1"] = linear
    targets.append(_onnx_folder(root, linear))
    write_model(root, "pickled")
    reg.models["pickled/1"] = reg.models["churn/1"]
    target = _version(root, "pickled", 1, "model.pkl", "pickle", "None")
    target.write_bytes(pickle.dumps(reg.models["churn/1"]))
    targets.append(str(target.relative_to(root)))
    write_model(root, "evil")
    target = _version(root, "evil", 1, "model.pkl", "pickle", "None")
    target.write_bytes(pickle.dumps(Payload()))
    targets.append(str(target.relative_to(root)))
    dvc(root, "add", "-q", *targets)
    dvc(root, "push", "-q")
    commit(root, "Register models")
    return reg


_SHARED: dict[str, Registry] = {}


def shared_registry(base: Path) -> Registry:
    """The session's registry (built on first use). Do not modify it: copy_registry()."""
    if "registry" not in _SHARED:
        _SHARED["registry"] = build_registry(base)
    return _SHARED["registry"]


def copy_registry(reg: Registry, dest: Path, *, own_remote: bool = False) -> Registry:
    """A private copy of the checkout; with ``own_remote``, of its DVC remote too."""
    shutil.copytree(reg.root, dest / "registry", symlinks=True)
    copy = Registry(dest / "registry", reg.remote, reg.models)
    if own_remote:
        shutil.copytree(reg.remote, dest / "remote")
        config = copy.root / ".dvc" / "config"
        config.write_text(config.read_text().replace(str(reg.remote), str(dest / "remote")))
        copy.remote = dest / "remote"
    return copy


def set_alias(root: Path, name: str, alias: str, version: int) -> None:
    """Point ``alias`` of ``name`` at ``version`` in the working tree (a one-line edit)."""
    from registry_gen.schema import ModelRecord
    from registry_gen.store import edit_record

    def move(data: dict[str, Any]) -> None:
        data["aliases"][alias] = version

    edit_record(root / "models" / name / "model.yaml", ModelRecord, move)
