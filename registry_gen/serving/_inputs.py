"""Request bodies to model input: MLflow's JSON and CSV, checked against the recorded signature.

Pure functions over bytes and NumPy (no pandas: the server must not need it).
A body becomes a :class:`Table` (rows, and column names when the request named
them); :func:`conform` then checks it against the version's
:class:`~registry_gen.schema.Signature` and returns the array the model gets.

Example:
    >>> table, params = parse_mlflow_json(
    ...     b'{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2]]}}'
    ... )
    >>> table.columns, conform(table, None).tolist()
    (('a', 'b'), [[1, 2]])
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from registry_gen.schema import Signature, TensorSpec

from ._errors import BadRequest, InvalidInput

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
REQUIRED = (
    f"The input must be a JSON dictionary with exactly one of the input fields "
    f"{', '.join(FORMATS)} (and optionally params)"
)

# Signature type names (NumPy's, as infer_signature writes them, and MLflow's) -> NumPy dtype.
_DTYPES: dict[str, Any] = {
    "double": np.float64,
    "float": np.float32,
    "long": np.int64,
    "integer": np.int32,
    "int": np.int64,
    "boolean": np.bool_,
    "bool": np.bool_,
    "string": object,
    "str": object,
    "object": object,
    "binary": object,
    "bytes": object,
}


@dataclass(frozen=True)
class Table:
    """A batch: row-major values and, when the request named them, the column names."""

    rows: Any  # a list of rows, or an array
    columns: tuple[str, ...] | None = None


def decode_json(body: bytes) -> Any:
    """The JSON document in ``body``, or :class:`InvalidInput` saying why not."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(
            f"Invalid input. Ensure that input is a valid JSON formatted string. Error: {error}"
        ) from None


def parse_mlflow_json(body: bytes) -> tuple[Table, dict[str, Any] | None]:
    """A ``/invocations`` JSON body as a :class:`Table` and its ``params``.

    Raises:
        InvalidInput: the body is not JSON.
        BadRequest: not exactly one of :data:`FORMATS`, or a field of the wrong shape.
    """
    document = decode_json(body)
    if not isinstance(document, dict):
        kind = "a list" if isinstance(document, list) else f"a {type(document).__name__}"
        raise BadRequest(f"{REQUIRED}. Received {kind}.")
    keys = [key for key in FORMATS if key in document]
    if len(keys) != 1:
        raise BadRequest(f"{REQUIRED}. Received dictionary with input fields: {list(document)}")
    params = document.get("params")
    if params is not None and not isinstance(params, dict):
        raise BadRequest("params must be a JSON object of parameter names to values")
    value = document[keys[0]]
    if keys[0] == "dataframe_split":
        return _split(value), params
    if keys[0] == "dataframe_records":
        return _records(value), params
    return _tensor_input(value, keys[0]), params


def _split(value: Any) -> Table:
    if not isinstance(value, dict) or not isinstance(value.get("data"), list):
        raise BadRequest(
            'dataframe_split must be an object with "data" (a list of rows) '
            'and optionally "columns" and "index"'
        )
    columns = value.get("columns")
    if columns is not None and not (
        isinstance(columns, list) and all(isinstance(c, str | int) for c in columns)
    ):
        raise BadRequest('dataframe_split "columns" must be a list of column names')
    return Table(value["data"], tuple(str(c) for c in columns) if columns is not None else None)


def _records(value: Any) -> Table:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise BadRequest("dataframe_records must be a list of objects, one per row")
    columns: dict[str, None] = {}  # the union of the keys, in order of appearance (as pandas)
    for record in value:
        columns.update(dict.fromkeys(record))
    names = tuple(columns)
    return Table([[record.get(name) for name in names] for record in value], names)


def _tensor_input(value: Any, key: str) -> Table:
    """``instances``/``inputs`` (TF serving): a list of rows, a list of records, or columns."""
    if isinstance(value, dict):
        names = tuple(value)
        columns = [value[name] for name in names]
        if all(not isinstance(c, list) for c in columns):
            return Table([columns], names)  # one row given as scalars
        if not all(isinstance(c, list) and len(c) == len(columns[0]) for c in columns):
            raise BadRequest(f"{key}: named inputs must be lists of the same length")
        return Table([list(row) for row in zip(*columns, strict=True)], names)
    if isinstance(value, list):
        if value and all(isinstance(row, dict) for row in value):
            return _records(value)
        return Table(value)
    raise BadRequest(f"{key} must be a list of rows or an object of named inputs")


def parse_csv(body: bytes) -> Table:
    """A CSV body with a header row (as ``DataFrame.to_csv(index=False)`` writes it).

    Raises:
        BadRequest: not UTF-8, no header, or rows of different lengths.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"Failed to parse input as CSV: {error}") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise BadRequest("Failed to parse input as CSV: it has no header row")
    rows = [[_csv_value(cell) for cell in row] for row in reader if row]
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise BadRequest(
                f"Failed to parse input as CSV: line {number} has {len(row)} "
                f"fields, the header {len(header)}"
            )
    return Table(rows, tuple(header))


def _csv_value(cell: str) -> Any:
    for kind in (int, float):
        try:
            return kind(cell)
        except ValueError:
            pass
    return None if cell == "" else cell


# ---------------------------------------------------------------------------
# Checking against the signature


def numpy_dtype(type_name: str) -> Any:
    """The NumPy dtype of a signature type name (``float64``, ``double``, ``string``...)."""
    if type_name in _DTYPES:
        return _DTYPES[type_name]
    try:
        return np.dtype(type_name).type
    except TypeError:
        return object


def conform(table: Table, signature: Signature | None) -> Any:
    """The array the model gets: columns in the signature's order, values of its types.

    Without a signature the rows go as they came (as a NumPy array).

    Raises:
        InvalidInput: a missing column, a wrong column count or shape, or a value
            that does not fit its column's type.
    """
    inputs = signature.inputs if signature is not None else []
    if not inputs:
        return _array(table.rows, None, "the input")
    if len(inputs) == 1 and inputs[0].shape is not None:
        return _tensor(table, inputs[0])
    return _columns(table, inputs)


def _array(rows: Any, dtype: Any, what: str) -> Any:
    try:
        array = np.asarray(rows)
    except ValueError as error:  # ragged rows
        raise InvalidInput(f"Invalid input. {what} is not rectangular: {error}") from None
    if array.dtype == object and array.ndim == 1 and any(isinstance(r, list) for r in rows):
        raise InvalidInput(f"Invalid input. {what}: rows have different lengths")
    if dtype is None or dtype is object:
        return array
    target = np.dtype(dtype)
    if array.dtype == object and target.kind == "f":  # None (a missing value) -> NaN
        try:
            return array.astype(target)
        except (TypeError, ValueError):
            pass
    if array.size and not np.can_cast(array.dtype, target, casting="same_kind"):
        raise InvalidInput(
            f"Invalid input. {what} holds {array.dtype} values; the signature expects {target}"
        )
    return array.astype(target, copy=False)


def _tensor(table: Table, spec: TensorSpec) -> Any:
    array = _array(table.rows, numpy_dtype(spec.type), "the input tensor")
    shape = spec.shape or []
    ok = array.ndim == len(shape) and all(
        want == -1 or want == got for want, got in zip(shape, array.shape, strict=True)
    )
    if not ok:
        raise InvalidInput(
            f"Invalid input. The signature expects a tensor of shape {shape} "
            f"(-1: any), got {list(array.shape)}"
        )
    return array


def _columns(table: Table, specs: Sequence[TensorSpec]) -> Any:
    _array(table.rows, None, "the input")  # rectangular?
    rows = np.array(table.rows, dtype=object)  # each value as sent, until its column's type
    if rows.ndim != 2:
        raise InvalidInput(
            f"Invalid input. Expected rows of {len(specs)} columns, got an "
            f"array of shape {list(rows.shape)}"
        )
    names = [spec.name for spec in specs]
    if table.columns is not None and all(names):
        missing = [n for n in names if n not in table.columns]
        if missing:
            raise InvalidInput(
                f"Invalid input. Missing columns {missing}; the signature expects {names}"
            )
        rows = rows[:, [table.columns.index(n) for n in names if n is not None]]
    elif rows.shape[1] != len(specs):
        raise InvalidInput(
            f"Invalid input. Expected {len(specs)} columns {names}, got {rows.shape[1]}"
        )
    columns = [
        _array(rows[:, i].tolist(), numpy_dtype(spec.type), f"column {spec.name or i}")
        for i, spec in enumerate(specs)
    ]
    if any(c.dtype == object for c in columns):
        out = np.empty((rows.shape[0], len(columns)), dtype=object)
        for i, column in enumerate(columns):
            out[:, i] = column
        return out
    return np.column_stack(columns) if columns else rows


def jsonable(value: Any) -> Any:
    """Predictions as JSON values: arrays as lists, NumPy scalars as numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    to_dict = getattr(value, "to_dict", None)  # a pandas DataFrame or Series
    if callable(to_dict):
        return jsonable(value.to_numpy()) if hasattr(value, "to_numpy") else to_dict()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
