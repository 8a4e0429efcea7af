"""The Open Inference Protocol (KServe V2) as pure functions: typed tensors in and out.

An inference request names its input tensors with a ``datatype``, a ``shape``
and ``data`` (flat in row-major order, or nested). One tensor of shape
``[N, F]`` is the model's batch; several tensors of shape ``[N]`` or ``[N, 1]``
are its columns, by name (as MLServer's pandas codec reads them).

Example:
    >>> table = parse_infer(
    ...     b'{"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 2], "data": [0.5, 1.5]}]}'
    ... )[1]
    >>> table.rows.tolist(), output_tensor("predict", [1]).get("datatype")
    ([[0.5, 1.5]], 'INT64')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from registry_gen.schema import Signature

from ._errors import BadRequest
from ._inputs import Table, decode_json, numpy_dtype

DATATYPES: dict[str, Any] = {
    "BOOL": np.bool_,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
    "BYTES": object,
}


def datatype_of(dtype: Any) -> str:
    """The V2 datatype name of a NumPy dtype (``BYTES`` for strings and objects)."""
    kind = np.dtype(dtype)
    for name, numpy_type in DATATYPES.items():
        if numpy_type is not object and kind == np.dtype(numpy_type):
            return name
    return "BYTES"


def parse_infer(body: bytes) -> tuple[str | None, Table]:
    """The request ``id`` and the model's batch from an ``/infer`` body.

    Raises:
        BadRequest: not JSON, no ``inputs``, an unknown datatype, or data that does
            not fill its shape.
    """
    document = decode_json(body)
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("inputs"), list)
        or not document["inputs"]
    ):
        raise BadRequest(
            'an inference request is a JSON object with "inputs": a non-empty '
            "list of tensors (name, shape, datatype, data)"
        )
    request_id = document.get("id")
    tensors = [_tensor(spec, i) for i, spec in enumerate(document["inputs"])]
    if len(tensors) == 1:
        name, array = tensors[0]
        return _id(request_id), Table(array.reshape(-1, 1) if array.ndim == 1 else array)
    columns = []
    for name, array in tensors:
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim != 1 or len(array) != len(tensors[0][1]):
            raise BadRequest(
                f"input {name!r}: several inputs are the columns of one batch, "
                f"each of shape [N] or [N, 1] with the same N"
            )
        columns.append(array)
    rows = np.empty((len(columns[0]), len(columns)), dtype=object)
    for i, column in enumerate(columns):
        rows[:, i] = column.tolist()
    return _id(request_id), Table(rows, tuple(name for name, _ in tensors))


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


def _tensor(spec: Any, index: int) -> tuple[str, Any]:
    if not isinstance(spec, dict):
        raise BadRequest(f"inputs[{index}] must be an object (name, shape, datatype, data)")
    name = spec.get("name")
    where = f"input {name!r}" if isinstance(name, str) else f"inputs[{index}]"
    shape, datatype, data = spec.get("shape"), spec.get("datatype"), spec.get("data")
    if not isinstance(name, str) or not isinstance(shape, list) or data is None:
        raise BadRequest(f"{where} needs a name, a shape (list of integers) and data")
    if not all(isinstance(d, int) and d >= 0 for d in shape):
        raise BadRequest(f"{where}: shape {shape} must be non-negative integers")
    if datatype not in DATATYPES:
        raise BadRequest(f"{where}: datatype {datatype!r} is not one of {', '.join(DATATYPES)}")
    try:
        array = np.asarray(data, dtype=DATATYPES[datatype])
    except (TypeError, ValueError) as error:
        raise BadRequest(f"{where}: data is not {datatype}: {error}") from None
    if array.size != int(np.prod(shape)):
        raise BadRequest(f"{where}: {array.size} values do not fill shape {shape}")
    return name, array.reshape(shape)


def output_tensor(name: str, predictions: Any) -> dict[str, Any]:
    """One V2 output tensor (flat data, row-major) from a model's predictions."""
    array = np.asarray(predictions)
    data = array.ravel().tolist()
    return {
        "name": name,
        "datatype": datatype_of(array.dtype),
        "shape": list(array.shape),
        "data": data,
    }


def tensor_metadata(signature: Signature | None, side: str) -> list[dict[str, Any]]:
    """The ``inputs`` or ``outputs`` of the model metadata, from the recorded signature."""
    specs = getattr(signature, side) if signature is not None else []
    out = []
    for i, spec in enumerate(specs):
        shape = spec.shape if spec.shape is not None else [-1]
        out.append(
            {
                "name": spec.name or f"{side[:-1]}-{i}",
                "datatype": datatype_of(_dtype_or_object(spec.type)),
                "shape": shape,
            }
        )
    return out


def _dtype_or_object(type_name: str) -> Any:
    dtype = numpy_dtype(type_name)
    return np.dtype(object) if dtype is object else np.dtype(dtype)
