"""Turn a verified artifact on disk into a model object, safely, by its recorded format.

=============  ==============================================================  ==========
format         loaded with                                                     extra
=============  ==============================================================  ==========
skops          ``skops.io.load`` trusting only ``artifact.trusted_types``      (core)
pickle/joblib  ``pickle``/``joblib``, and only with ``trust_pickle=True``      (core)
onnx           ``onnxruntime.InferenceSession``; external data must stay in    ``onnx``
               the artifact folder
pytorch        ``torch.load(weights_only=True)`` (a state dict: tensors only)  ``torch``
safetensors    ``safetensors.numpy.load_file`` (a dict of numpy arrays)        ``torch``
mlflow         ``mlflow.pyfunc.load_model`` on a folder with ``MLmodel``       ``mlflow``
path           nothing: the object is the path                                 (core)
=============  ==============================================================  ==========

Unpickling runs code stored in the file, so pickle and joblib artifacts are
refused with :class:`~registry_gen.errors.UntrustedFormat` before the file is
even opened unless the caller trusts them. A missing optional library raises
:class:`~registry_gen.errors.MissingExtra` naming the extra to install.

Example:
    >>> native, predict = load_artifact(Path("model.skops"), "skops",  # doctest: +SKIP
    ...                                 trusted_types=["sklearn.tree._tree.Tree"])
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

from ._constants import UNSAFE_FORMATS
from .errors import ArtifactError, MissingExtra, UntrustedFormat

log = logging.getLogger(__name__)

# Formats whose loaded object the loader may keep in the verified object cache.
OBJECT_CACHE_FORMATS = frozenset({"skops"})

Predict = Callable[[Any], Any]

# The pip extra that brings the library each format needs.
EXTRAS = {"onnxruntime": "onnx", "onnx": "onnx", "torch": "torch", "safetensors": "torch",
          "mlflow": "mlflow"}


def require(module: str) -> ModuleType:
    """Import an optional library, or raise :class:`MissingExtra` naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        top = module.split(".")[0]
        extra = EXTRAS.get(top, top)
        raise MissingExtra(
            f"loading this format needs {top!r}, which is not installed: "
            f"pip install 'registry-gen[{extra}]' ({error})"
        ) from None


def load_artifact(
    path: Path, fmt: str, *, trusted_types: Sequence[str] = (), trust_pickle: bool = False,
) -> tuple[Any, Predict]:
    """The native model object of the artifact at ``path`` and a ``predict(data)`` for it."""
    check_trusted(fmt, trust_pickle)
    loader = _LOADERS.get(fmt)
    if loader is None:
        raise ArtifactError(f"unknown artifact format {fmt!r}")
    return loader(path, trusted_types)


def check_trusted(fmt: str, trust_pickle: bool) -> None:
    """Raise :class:`UntrustedFormat` if loading ``fmt`` would run code nobody trusted."""
    if fmt in UNSAFE_FORMATS and not trust_pickle:
        raise UntrustedFormat(
            f"the artifact is a {fmt} file, and unpickling runs code stored in it; it was not "
            "loaded. Load it only if you trust everyone who can register models: "
            "load_model(..., trust_pickle=True). Better: re-register it as skops."
        )


def object_cache_key(fmt: str, trusted_types: Sequence[str]) -> str | None:
    """The object-cache key of an artifact loaded as ``fmt`` here, or None if not cacheable.

    The key changes with everything that decides what the pickle means: the
    trusted types the load enforced, and the Python, scikit-learn and skops
    versions (``skops.__version__`` is read without importing ``skops.io``; the
    scikit-learn import is paid anyway by unpickling an estimator). So an
    upgrade simply misses and loads through skops again.

    >>> object_cache_key("onnx", []) is None
    True
    """
    if fmt not in OBJECT_CACHE_FORMATS:
        return None
    try:
        import sklearn
        import skops
    except ImportError:
        return None  # skops' own path raises MissingExtra
    parts = [fmt, sys.implementation.cache_tag or sys.implementation.name,
             ".".join(map(str, sys.version_info[:3])), f"sklearn={sklearn.__version__}",
             f"skops={skops.__version__}", *sorted(set(trusted_types))]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def predict_method(model: Any) -> Predict:
    """``predict(data)`` for an object with a ``predict`` method (a clear error otherwise)."""
    return _predict_method(model)


def _single(path: Path, suffix: str, what: str) -> Path:
    """The artifact file itself, or the one ``*suffix`` file of an artifact folder."""
    if path.is_file():
        return path
    found = sorted(p for p in path.rglob(f"*{suffix}") if p.is_file())
    if len(found) != 1:
        raise ArtifactError(
            f"the {what} artifact folder must hold exactly one *{suffix} file, found {len(found)}"
        )
    return found[0]


def _predict_method(model: Any) -> Predict:
    def predict(data: Any) -> Any:
        if not hasattr(model, "predict"):
            raise ArtifactError(f"the loaded {type(model).__name__} has no predict(); use unwrap()")
        return model.predict(data)

    return predict


def _load_skops(path: Path, trusted_types: Sequence[str]) -> tuple[Any, Predict]:
    sio = require("skops.io")
    file = _single(path, ".skops", "skops")
    try:
        untrusted = [t for t in sio.get_untrusted_types(file=file) if t not in set(trusted_types)]
    except Exception as error:  # skops raises plain exceptions for a broken zip
        raise ArtifactError(f"the skops artifact cannot be read: {error}") from error
    if untrusted:
        raise UntrustedFormat(
            "the skops artifact contains types that were not trusted at registration: "
            f"{', '.join(sorted(untrusted))}; it was not loaded. Trusted types are recorded in "
            "version.yaml (artifact.trusted_types) and reviewed in the pull request."
        )
    model = sio.load(file, trusted=list(trusted_types))
    return model, _predict_method(model)


def _load_pickle(path: Path, _trusted: Sequence[str]) -> tuple[Any, Predict]:
    import pickle

    with _single(path, ".pkl", "pickle").open("rb") as handle:
        model = pickle.load(handle)  # noqa: S301 - the caller passed trust_pickle=True
    return model, _predict_method(model)


def _load_joblib(path: Path, _trusted: Sequence[str]) -> tuple[Any, Predict]:
    joblib = require("joblib")
    model = joblib.load(_single(path, ".joblib", "joblib"))
    return model, _predict_method(model)


def _load_onnx(path: Path, _trusted: Sequence[str]) -> tuple[Any, Predict]:
    ort = require("onnxruntime")
    file = _single(path, ".onnx", "onnx")
    _check_onnx_external_data(file, folder=path if path.is_dir() else None)
    session = ort.InferenceSession(str(file), providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()

    def predict(data: Any) -> Any:
        import numpy as np

        if isinstance(data, dict):
            feeds = data
        else:
            if len(inputs) != 1:
                names = ", ".join(i.name for i in inputs)
                raise ArtifactError(f"this ONNX model has inputs {names}: pass a dict of them")
            feeds = {inputs[0].name: np.asarray(data, dtype=_onnx_dtype(inputs[0].type))}
        return session.run(None, feeds)[0]

    return session, predict


def _onnx_dtype(onnx_type: str) -> Any:
    import numpy as np

    return {
        "tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
        "tensor(int32)": np.int32, "tensor(bool)": np.bool_, "tensor(string)": np.object_,
        "tensor(float16)": np.float16,
    }.get(onnx_type)


def _check_onnx_external_data(file: Path, folder: Path | None) -> None:
    """Refuse external-data references that would read outside the artifact folder."""
    onnx = require("onnx")
    model = onnx.load(str(file), load_external_data=False)
    base = file.parent.resolve()
    root = folder.resolve() if folder is not None else None
    tensors = list(onnx.external_data_helper._get_all_tensors(model))
    for tensor in tensors:
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        parts = PurePosixPath(location.replace("\\", "/")).parts
        if root is None:
            raise ArtifactError(
                f"the ONNX model keeps tensor {tensor.name!r} in external data {location!r}; "
                "register the model's folder (model.onnx and its data) as the artifact"
            )
        target = (base / location).resolve()
        if (not location or location.startswith(("/", "\\")) or ".." in parts
                or not target.is_relative_to(root) or not target.is_file()):
            raise ArtifactError(
                f"the ONNX model's external data {location!r} is not a file inside "
                "its artifact folder"
            )


def _load_pytorch(path: Path, _trusted: Sequence[str]) -> tuple[Any, Predict]:
    torch = require("torch")
    state = torch.load(str(_single(path, ".pt", "pytorch")), map_location="cpu", weights_only=True)
    return state, _weights_only("PyTorch state dict")


def _load_safetensors(path: Path, _trusted: Sequence[str]) -> tuple[Any, Predict]:
    st_numpy = require("safetensors.numpy")
    state = st_numpy.load_file(str(_single(path, ".safetensors", "safetensors")))
    return state, _weights_only("safetensors file")


def _weights_only(what: str) -> Predict:
    def predict(_data: Any) -> Any:
        raise ArtifactError(
            f"a {what} holds weights, not a model: build your module and load "
            "model.unwrap() into it (module.load_state_dict(...))"
        )

    return predict


def _load_mlflow(path: Path, _trusted: Sequence[str]) -> tuple[Any, Predict]:
    if not (path / "MLmodel").is_file():
        raise ArtifactError("an mlflow artifact is a folder with an MLmodel file at its top")
    pyfunc = require("mlflow.pyfunc")
    model = pyfunc.load_model(str(path))
    return model, _predict_method(model)


def _load_path(path: Path, _trusted: Sequence[str]) -> tuple[Any, Predict]:
    def predict(_data: Any) -> Any:
        raise ArtifactError("a 'path' artifact has no predict(); open model.path yourself")

    return path, predict


_LOADERS: dict[str, Callable[[Path, Sequence[str]], tuple[Any, Predict]]] = {
    "skops": _load_skops, "pickle": _load_pickle, "joblib": _load_joblib, "onnx": _load_onnx,
    "pytorch": _load_pytorch, "safetensors": _load_safetensors, "mlflow": _load_mlflow,
    "path": _load_path,
}

# The formats this loader can load: what version.yaml (and the site's JSON) may name.
KNOWN_FORMATS = frozenset(_LOADERS)
