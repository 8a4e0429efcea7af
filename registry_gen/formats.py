"""Turn a verified artifact on disk into a model object, safely, by its recorded format.

=============  ==============================================================  ==========
format         loaded with                                                     extra
=============  ==============================================================  ==========
skops          ``skops.io.load`` trusting only ``artifact.trusted_types``      (core)
pickle/joblib  ``pickle``/``joblib``, by reviewed sha256 or ``trust_pickle``  (core)
onnx           ``onnxruntime.InferenceSession``; external data must stay in    ``onnx``
               the artifact folder
pytorch        ``torch.load(weights_only=True)`` (a state dict: tensors only)  ``torch``
safetensors    ``safetensors.numpy.load_file`` (a dict of numpy arrays)        ``torch``
mlflow         ``mlflow.pyfunc.load_model`` on a folder with ``MLmodel``;      ``mlflow``
               gated like pickle
path           nothing: the object is the path                                 (core)
=============  ==============================================================  ==========

Unpickling runs code stored in the file, and so does loading an MLflow folder
(its ``python_function`` flavour unpickles and imports what the folder names):
these formats (:data:`GATED_FORMATS`) load only when the artifact's sha256 is
the one recorded in ``version.yaml`` (``artifact.sha256``, written at
registration and approved in the pull request; see :func:`artifact_sha256`), or
when the caller passes ``trust_pickle=True`` for that one call. Otherwise they
are refused with :class:`~registry_gen.errors.UntrustedFormat` before anything is
opened. Every file is sniffed first (:func:`check_content`): a record's format
must match its bytes, so a pickle recorded as ``skops`` or ``onnx`` is refused.
A missing optional library raises :class:`~registry_gen.errors.MissingExtra`
naming the extra to install.

Example:
    >>> native, predict = load_artifact(
    ...     Path("model.skops"),
    ...     "skops",  # doctest: +SKIP
    ...     trusted_types=["sklearn.tree._tree.Tree"],
    ... )
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
from ._sniff import ACCEPTED, HEAD_BYTES, content_kind
from .errors import ArtifactError, MissingExtra, UntrustedFormat

log = logging.getLogger(__name__)

# Formats whose loading runs code the artifact carries: loaded only by reviewed sha256
# or an explicit per-call trust_pickle=True.
GATED_FORMATS = UNSAFE_FORMATS | frozenset({"mlflow"})

# Formats whose loaded object the loader may keep in the verified object cache.
OBJECT_CACHE_FORMATS = frozenset({"skops"})

Predict = Callable[[Any], Any]

# The pip extra that brings the library each format needs.
EXTRAS = {
    "skops": "sklearn",
    "sklearn": "sklearn",
    "joblib": "sklearn",
    "onnxruntime": "onnx",
    "onnx": "onnx",
    "torch": "torch",
    "safetensors": "torch",
    "mlflow": "mlflow",
}


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
    path: Path,
    fmt: str,
    *,
    trusted_types: Sequence[str] = (),
    trust_pickle: bool = False,
    sha256: str | None = None,
) -> tuple[Any, Predict]:
    """The native model object of the artifact at ``path`` and a ``predict(data)`` for it.

    ``sha256`` is the record's reviewed ``artifact.sha256`` (see :func:`check_reviewed`).

    >>> load_artifact(Path("model.pkl"), "pickle")  # doctest: +SKIP
    Traceback (most recent call last):
    UntrustedFormat: the artifact is a pickle file, ...

    Raises:
        UntrustedFormat: a gated format without trust, or bytes of another format.
        ArtifactError: an unknown format, or an artifact its library cannot read.
    """
    loader = _LOADERS.get(fmt)
    if loader is None:
        raise ArtifactError(f"unknown artifact format {fmt!r}")
    check_reviewed(path, fmt, trust_pickle, sha256)
    check_content(path, fmt)
    return loader(path, trusted_types)


def check_trusted(fmt: str, trust_pickle: bool, sha256: str | None = None) -> None:
    """Raise :class:`UntrustedFormat` if loading ``fmt`` could run code nobody trusted.

    A gated format needs a reviewed ``sha256`` in its record (checked against the
    bytes by :func:`check_reviewed`) or ``trust_pickle=True``.

    >>> check_trusted("skops", False)
    >>> check_trusted("pickle", False, "0" * 64)

    Raises:
        UntrustedFormat: ``fmt`` is gated and neither is given.
    """
    if fmt in GATED_FORMATS and not trust_pickle and sha256 is None:
        raise UntrustedFormat(
            f"the artifact is a {fmt} {'folder' if fmt == 'mlflow' else 'file'}, and loading "
            "it runs code stored in it; it was not loaded. Its version.yaml records no "
            "reviewed artifact.sha256 (written at registration, approved in the pull request); "
            "to load it anyway, for this call only: load_model(..., trust_pickle=True). "
            "Better: re-register it as skops."
        )


def check_reviewed(path: Path, fmt: str, trust_pickle: bool, sha256: str | None) -> None:
    """Refuse a gated artifact whose bytes are not the ones whose sha256 was reviewed.

    Raises:
        UntrustedFormat: as :func:`check_trusted`, or the sha256 differs from the record's.
    """
    check_trusted(fmt, trust_pickle, sha256)
    if fmt not in GATED_FORMATS or trust_pickle:
        return
    actual = artifact_sha256(path)
    if actual != sha256:
        raise UntrustedFormat(
            f"the {fmt} artifact has sha256 {actual}, not the reviewed {sha256} recorded in "
            "version.yaml (artifact.sha256); it was not loaded"
        )


def artifact_sha256(path: Path) -> str:
    """The sha256 a reviewer approves: of a file's bytes, or of a folder's files.

    A folder's is the sha256 of its sorted ``relpath NUL sha256 LF`` lines (regular
    files only; symlinks are refused), so it does not depend on the order files are
    listed or on timestamps.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     (Path(d) / "m.pkl").write_bytes(b"x")
    ...     artifact_sha256(Path(d) / "m.pkl")[:12]
    1
    '2d711642b726'

    Raises:
        ArtifactError: the folder holds a symlink.
    """
    if not path.is_dir():
        return _sha256_file(path)
    lines = []
    for file in sorted(path.rglob("*")):
        if file.is_symlink():
            raise ArtifactError(f"the artifact folder {path} holds a symlink {file.name!r}")
        if file.is_file():
            lines.append(f"{file.relative_to(path).as_posix()}\0{_sha256_file(file)}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def check_content(path: Path, fmt: str) -> None:
    """Refuse an artifact whose bytes are not of the kind its recorded ``fmt`` reads.

    Raises:
        UntrustedFormat: the bytes are of another kind (a pickle recorded as skops...).
        ArtifactError: a folder artifact without exactly one file of the format.
    """
    accepted = ACCEPTED.get(fmt)
    if accepted is None:  # mlflow (a folder, gated), path (never deserialised)
        return
    file = _single(path, _SUFFIXES[fmt], fmt)
    with file.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    kind = content_kind(head, file.stat().st_size)
    # Bytes of no known kind go to the format's library, which reports them as unreadable;
    # bytes of another known kind (a pickle recorded as skops) never reach it.
    if kind != "unknown" and kind not in accepted:
        raise UntrustedFormat(
            f"version.yaml says the artifact is {fmt}, but {file.name} holds {kind} content "
            f"(a {fmt} artifact holds {' or '.join(sorted(accepted))}); it was not loaded: "
            "the record's format must match the artifact's bytes"
        )


def reviewed_sha256(path: Path, fmt: str) -> str | None:
    """What registration records as ``artifact.sha256``: the sha256 of a gated format only.

    >>> reviewed_sha256(Path("model.skops"), "skops") is None
    True
    """
    return artifact_sha256(path) if fmt in GATED_FORMATS else None


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


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
    parts = [
        fmt,
        sys.implementation.cache_tag or sys.implementation.name,
        ".".join(map(str, sys.version_info[:3])),
        f"sklearn={sklearn.__version__}",
        f"skops={skops.__version__}",
        *sorted(set(trusted_types)),
    ]
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


def skops_untrusted_types(path: Path) -> list[str]:
    """The types of the skops artifact at ``path`` (a file, or a folder holding one) that
    skops does not trust by default, sorted: what registration records and loading checks.

    Raises:
        MissingExtra: skops is not installed.
        ArtifactError: the file is not a readable skops file, or a folder without exactly one.
    """
    sio = require("skops.io")
    file = _single(path, ".skops", "skops")
    try:
        return sorted(sio.get_untrusted_types(file=file))
    except Exception as error:  # skops raises plain exceptions for a broken zip
        raise ArtifactError(f"the skops artifact {file.name} cannot be read: {error}") from error


def _load_skops(path: Path, trusted_types: Sequence[str]) -> tuple[Any, Predict]:
    from ._trusted_types import trusted_type_problem

    # A record from before the rule, or from a site: refused types are never passed to skops.
    problems = [p for t in trusted_types if (p := trusted_type_problem(t)) is not None]
    if problems:
        raise UntrustedFormat(f"the record trusts a type it may not: {problems[0]}; not loaded")
    untrusted = [t for t in skops_untrusted_types(path) if t not in set(trusted_types)]
    if untrusted:
        raise UntrustedFormat(
            "the skops artifact contains types that were not trusted at registration: "
            f"{', '.join(untrusted)}; it was not loaded. Trusted types are recorded in "
            "version.yaml (artifact.trusted_types) and reviewed in the pull request."
        )
    sio = require("skops.io")
    model = sio.load(_single(path, ".skops", "skops"), trusted=list(trusted_types))
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
        "tensor(float)": np.float32,
        "tensor(double)": np.float64,
        "tensor(int64)": np.int64,
        "tensor(int32)": np.int32,
        "tensor(bool)": np.bool_,
        "tensor(string)": np.object_,
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
        if (
            not location
            or location.startswith(("/", "\\"))
            or ".." in parts
            or not target.is_relative_to(root)
            or not target.is_file()
        ):
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
    "skops": _load_skops,
    "pickle": _load_pickle,
    "joblib": _load_joblib,
    "onnx": _load_onnx,
    "pytorch": _load_pytorch,
    "safetensors": _load_safetensors,
    "mlflow": _load_mlflow,
    "path": _load_path,
}

# The file each format's loader reads in an artifact folder.
_SUFFIXES = {
    "skops": ".skops",
    "pickle": ".pkl",
    "joblib": ".joblib",
    "onnx": ".onnx",
    "pytorch": ".pt",
    "safetensors": ".safetensors",
}

# The formats this loader can load: what version.yaml (and the site's JSON) may name.
KNOWN_FORMATS = frozenset(_LOADERS)
