"""Request bodies to model input: MLflow's JSON and CSV, checked against the recorded signature.

Pure functions over bytes and NumPy (no pandas: the server must not need it).
A body becomes a :class:`Table` (rows, and column names when the request named
them); :func:`conform` then checks it against the version's
:class:`~registry_gen.schema.Signature` with the loader's rule
(:mod:`registry_gen._inputs`) and returns the array the model gets, its
mismatches as MLflow's ``INVALID_PARAMETER_VALUE``.

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
from typing import Any

import numpy as np

from registry_gen import _inputs as _shared
from registry_gen._inputs import Table, numpy_dtype, records

__all__ = ["Table", "conform", "jsonable", "numpy_dtype", "parse_csv", "parse_mlflow_json"]
from registry_gen.errors import SignatureMismatch
from registry_gen.schema import Signature

from ._errors import BadRequest, InvalidInput

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
REQUIRED = (
    f"The input must be a JSON dictionary with exactly one of the input fields "
    f"{', '.join(FORMATS)} (and optionally params)"
)


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
    return records(value)


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
# Checking against the signature: the loader's rule (registry_gen._inputs), as MLflow's errors


def conform(table: Table, signature: Signature | None) -> Any:
    """The array the model gets: columns in the signature's order, values of its types.

    Without a signature the rows go as they came (as a NumPy array).

    Raises:
        InvalidInput: a missing column, a wrong column count or shape, or a value
            that does not fit its column's type.
    """
    try:
        return _shared.conform(table, signature.inputs if signature is not None else None)
    except SignatureMismatch as error:
        raise InvalidInput(f"Invalid input. {error}") from None


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
