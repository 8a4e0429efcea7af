"""The module-level helpers, as ``mlflow.register_model`` and ``mlflow.sklearn.log_model``.

:func:`log_model` saves a trained model to a file (skops by default, which
loads without running code) and registers it; :func:`register_model` registers
a file or folder. Both are re-exported by :mod:`registry_gen.client`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .schema import Signature, TensorSpec

if TYPE_CHECKING:
    from .store import ModelVersion

SAVE_FORMATS = {"skops": "skops", "joblib": "joblib", "pickle": "pkl"}  # format → suffix


def infer_signature(model: Any, input_example: Any) -> Signature:
    """Input and output schema from an example batch (a NumPy array or pandas DataFrame).

    >>> import numpy as np
    >>> infer_signature(None, np.zeros((2, 3))).inputs[0].shape
    [-1, 3]
    """
    import numpy as np

    def spec(data: Any) -> list[TensorSpec]:
        columns = getattr(data, "columns", None)
        dtypes = getattr(data, "dtypes", None)
        if columns is not None and dtypes is not None:
            return [
                TensorSpec(name=str(c), type=str(t)) for c, t in zip(columns, dtypes, strict=True)
            ]
        array = np.asarray(data)
        return [TensorSpec(type=str(array.dtype), shape=[-1, *array.shape[1:]])]

    outputs: list[TensorSpec] = []
    predict = getattr(model, "predict", None)
    if callable(predict):
        outputs = spec(predict(input_example))
    return Signature(inputs=spec(input_example), outputs=outputs)


def save_model(model: Any, format: str, folder: Path) -> Path:
    """Write ``model`` into ``folder`` as ``format``; the file's path.

    The types a skops file needs trusted are read from the file by registration,
    as for every other route (see :func:`registry_gen.formats.skops_untrusted_types`).

    Raises:
        UsageError: ``format`` is not skops, joblib or pickle.
    """
    if format not in SAVE_FORMATS:
        raise UsageError(
            f"log_model writes skops, joblib or pickle, not {format!r}; "
            "use register_model for other formats"
        )
    path = folder / f"model.{SAVE_FORMATS[format]}"
    if format == "skops":
        import skops.io

        skops.io.dump(model, path)
    elif format == "joblib":
        import joblib

        joblib.dump(model, path)
    else:
        import pickle

        with path.open("wb") as handle:
            pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def register_model(
    path: Path | str, name: str, *, registry: Path | str | None = None, **kwargs: Any
) -> ModelVersion:
    """Register the file or folder at ``path`` as the next version of ``name``.

    Creates the registered model if it is new. Keyword arguments are those of
    :meth:`registry_gen.client.RegistryClient.create_model_version` (description, tags, run_id,
    metrics, params, datasets, parents, format, push, branch, ...).

    >>> register_model(
    ...     "out/model.onnx",
    ...     "churn",
    ...     registry=".",  # doctest: +SKIP
    ...     metrics={"auc": 0.9},
    ... )
    """
    from .client import RegistryClient  # the client re-exports this function

    client = RegistryClient(registry if registry is not None else ".")
    return client.create_model_version(name, path, create_model=True, **kwargs)


def log_model(
    model: Any,
    name: str,
    *,
    registry: Path | str | None = None,
    input_example: Any = None,
    format: str = "skops",
    **kwargs: Any,
) -> ModelVersion:
    """Serialise a scikit-learn model and register it as the next version of ``name``.

    The default format is skops, which loads without running code from the
    file; the types skops does not trust by default are recorded in
    ``artifact.trusted_types`` (the registrant vouches for them), as for a
    skops file registered by any route.
    ``format="joblib"`` or ``"pickle"`` only when asked: loading those runs
    code. With ``input_example`` the signature is inferred from it.

    >>> log_model(
    ...     clf,
    ...     "churn",
    ...     registry=".",
    ...     input_example=X[:5],  # doctest: +SKIP
    ...     metrics={"auc": 0.91},
    ...     run_id="run-42",
    ... )
    """
    with tempfile.TemporaryDirectory(prefix="registry-gen-") as tmp:
        path = save_model(model, format, Path(tmp))  # refuses other formats
        if input_example is not None and "signature" not in kwargs:
            kwargs["signature"] = infer_signature(model, input_example)
        return register_model(path, name, registry=registry, format=format, **kwargs)
