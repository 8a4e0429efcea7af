"""Saving a trained model to a file for :func:`registry_gen.client.log_model`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import UsageError
from .schema import Signature, TensorSpec

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
            return [TensorSpec(name=str(c), type=str(t)) for c, t in zip(columns, dtypes,
                                                                         strict=True)]
        array = np.asarray(data)
        return [TensorSpec(type=str(array.dtype), shape=[-1, *array.shape[1:]])]

    outputs: list[TensorSpec] = []
    predict = getattr(model, "predict", None)
    if callable(predict):
        outputs = spec(predict(input_example))
    return Signature(inputs=spec(input_example), outputs=outputs)


def save_model(model: Any, format: str, folder: Path) -> tuple[Path, list[str]]:
    """Write ``model`` into ``folder`` as ``format``; its path and the types skops must trust.

    Raises:
        UsageError: ``format`` is not skops, joblib or pickle.
    """
    if format not in SAVE_FORMATS:
        raise UsageError(f"log_model writes skops, joblib or pickle, not {format!r}; "
                         "use register_model for other formats")
    path = folder / f"model.{SAVE_FORMATS[format]}"
    trusted: list[str] = []
    if format == "skops":
        import skops.io

        data = skops.io.dumps(model)
        trusted = sorted(skops.io.get_untrusted_types(data=data))
        path.write_bytes(data)
    elif format == "joblib":
        import joblib

        joblib.dump(model, path)
    else:
        import pickle

        with path.open("wb") as handle:
            pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path, trusted
