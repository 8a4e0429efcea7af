"""Model input, checked against the recorded signature: the one rule the loader and server use.

A batch arrives as a pandas DataFrame, a NumPy array, a list of rows, a list of
records (dicts) or a dict of columns (what MLflow's pyfunc accepts), or as a
request body the server parsed (:mod:`registry_gen.serving._inputs`). Either
way it becomes a :class:`Table`, and :func:`conform_columns` / :func:`conform`
check it against the version's signature inputs: every column the signature
names must be there (extra ones are dropped, as MLflow does), in the
signature's order, each of a type that casts safely to the recorded one; a
tensor must have the recorded shape. Errors are one line and name the column.

Pure functions over NumPy, imported when a batch is checked: a registry read or
a resolution never needs it, and pandas is never imported here (a DataFrame is
recognised by its shape of API, and made only when the caller's model wants one).

Example:
    >>> spec = [InputSpec("a", "double"), InputSpec("b", "long")]
    >>> conform(to_table({"b": [2], "a": [1], "extra": ["x"]}), spec).tolist()
    [[1.0, 2.0]]
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import SignatureMismatch

# Signature type names (NumPy's, as infer_signature writes them, and MLflow's) -> NumPy dtype
# name; "object" keeps values as given.
_DTYPES: dict[str, str] = {
    "double": "float64",
    "float": "float32",
    "long": "int64",
    "integer": "int32",
    "int": "int64",
    "boolean": "bool",
    "bool": "bool",
    "string": "object",
    "str": "object",
    "object": "object",
    "binary": "object",
    "bytes": "object",
}


class SpecLike(Protocol):
    """One input of a signature: a record's ``TensorSpec`` or an :class:`InputSpec`."""

    @property
    def name(self) -> str | None: ...
    @property
    def type(self) -> str: ...
    @property
    def shape(self) -> Sequence[int] | None: ...


@dataclass(frozen=True)
class InputSpec:
    """One input of a version's signature, as resolution carries it (no pydantic)."""

    name: str | None
    type: str
    shape: tuple[int, ...] | None = None


def input_specs(inputs: Any) -> tuple[InputSpec, ...] | None:
    """A signature's ``inputs`` (records, or their JSON) as :class:`InputSpec`; None when
    there are none or any entry is malformed (then inputs go to the model unchecked).

    >>> input_specs([{"name": "a", "type": "double"}])
    (InputSpec(name='a', type='double', shape=None),)
    """
    if not isinstance(inputs, list | tuple) or not inputs:
        return None
    specs = []
    for spec in inputs:
        name, kind, shape = (_field(spec, key) for key in ("name", "type", "shape"))
        if not isinstance(kind, str) or not (name is None or isinstance(name, str)):
            return None
        if shape is not None and not (
            isinstance(shape, list | tuple)
            and all(isinstance(d, int) and not isinstance(d, bool) for d in shape)
        ):
            return None
        specs.append(InputSpec(name, kind, tuple(shape) if shape is not None else None))
    return tuple(specs)


def _field(spec: Any, key: str) -> Any:
    return spec.get(key) if isinstance(spec, Mapping) else getattr(spec, key, None)


@dataclass(frozen=True)
class Table:
    """A batch: row-major values and, when the caller named them, the column names.

    ``by_column`` holds the values column by column instead (a DataFrame, a dict
    of columns); ``rows`` is then None.
    """

    rows: Any  # a list of rows, or an array
    columns: tuple[str, ...] | None = None
    by_column: Mapping[str, Any] | None = None


def to_table(data: Any) -> Table:
    """What a caller passed to ``predict`` as a :class:`Table`.

    Raises:
        SignatureMismatch: a DataFrame with repeated column names, or columns of
            different lengths.
    """
    import numpy as np

    columns = getattr(data, "columns", None)
    if columns is not None and hasattr(data, "iloc"):  # a pandas DataFrame (never imported)
        names = tuple(str(c) for c in columns)
        if len(set(names)) != len(names):
            raise SignatureMismatch(f"The DataFrame repeats column names: {list(names)}")
        return Table(None, names, {str(c): data[c].to_numpy() for c in columns})
    if isinstance(data, Mapping):
        values = {str(k): v for k, v in data.items()}
        if all(np.ndim(v) == 0 for v in values.values()):  # one row given as scalars
            values = {k: [v] for k, v in values.items()}
        lengths = {k: len(v) if np.ndim(v) else 1 for k, v in values.items()}
        if len(set(lengths.values())) > 1:
            raise SignatureMismatch(f"The columns have different lengths: {lengths}")
        return Table(None, tuple(values), values)
    if isinstance(data, list) and data and all(isinstance(r, Mapping) for r in data):
        return records(data)
    return Table(data)


def records(rows: Sequence[Mapping[str, Any]]) -> Table:
    """A list of records as a :class:`Table` with the union of their keys (as pandas)."""
    names: dict[str, None] = {}
    for record in rows:
        names.update(dict.fromkeys(str(k) for k in record))
    keys = tuple(names)
    return Table([[record.get(name) for name in keys] for record in rows], keys)


def numpy_dtype(type_name: str) -> Any:
    """The NumPy dtype of a signature type name (``float64``, ``double``, ``string``...)."""
    import numpy as np

    name = _DTYPES.get(type_name, type_name)
    try:
        kind = np.dtype(name).type
    except TypeError:
        return object
    return object if kind is np.object_ else kind


def conform(table: Table, inputs: Sequence[SpecLike] | None) -> Any:
    """The array the model gets: columns in the signature's order, values of its types.

    Without a signature the rows go as they came (as a NumPy array).

    Raises:
        SignatureMismatch: a missing column, a wrong column count or shape, or a
            value that does not fit its column's type.
    """
    if not inputs:
        if table.by_column is not None:
            return _stack([_array(v, None, f"column {k}") for k, v in table.by_column.items()])
        return _array(table.rows, None, "the input")
    if len(inputs) == 1 and inputs[0].shape is not None:
        return _tensor(table, inputs[0])
    return _stack(conform_columns(table, inputs))


def conform_columns(table: Table, specs: Sequence[SpecLike]) -> list[Any]:
    """One array per input of a column signature, in its order, each of its column's type.

    Raises:
        SignatureMismatch: as :func:`conform`.
    """
    names = [spec.name for spec in specs]
    named = table.columns is not None and all(names)
    if named:
        assert table.columns is not None
        missing = [n for n in names if n not in table.columns]
        if missing:
            raise SignatureMismatch(f"Missing columns {missing}; the signature expects {names}")
    if table.by_column is not None:
        if not named:
            raise SignatureMismatch(
                f"The signature's inputs have no names; pass rows of {len(specs)} values"
            )
        raw = [table.by_column[str(n)] for n in names]
    else:
        raw = _row_columns(table, specs, named)
    return [
        _array(values, numpy_dtype(spec.type), f"column {spec.name or i}")
        for i, (spec, values) in enumerate(zip(specs, raw, strict=True))
    ]


def _row_columns(table: Table, specs: Sequence[SpecLike], named: bool) -> list[Any]:
    import numpy as np

    given = table.rows
    if isinstance(given, np.ndarray) and given.dtype != object:
        rows = given  # already typed: its columns are sliced, not boxed
    else:
        _array(given, None, "the input")  # rectangular?
        rows = np.array(given, dtype=object)  # each value as given, until its column's type
    if rows.ndim != 2:
        raise SignatureMismatch(
            f"Expected rows of {len(specs)} columns, got an array of shape {list(rows.shape)}"
        )
    if named:
        assert table.columns is not None
        return [_column(rows, table.columns.index(str(spec.name))) for spec in specs]
    if rows.shape[1] != len(specs):
        names = [spec.name for spec in specs]
        raise SignatureMismatch(f"Expected {len(specs)} columns {names}, got {rows.shape[1]}")
    return [_column(rows, i) for i in range(len(specs))]


def _column(rows: Any, i: int) -> Any:
    column = rows[:, i]
    return column.tolist() if column.dtype == object else column


def _stack(columns: list[Any]) -> Any:
    import numpy as np

    if not columns:
        return np.empty((0, 0))
    if any(c.dtype == object for c in columns):
        out = np.empty((len(columns[0]), len(columns)), dtype=object)
        for i, column in enumerate(columns):
            out[:, i] = column
        return out
    return np.column_stack(columns)


def _array(values: Any, dtype: Any, what: str) -> Any:
    import numpy as np

    try:
        array = np.asarray(values)
    except ValueError as error:  # ragged rows
        raise SignatureMismatch(f"{what} is not rectangular: {error}") from None
    if array.dtype == object and array.ndim == 1 and any(isinstance(r, list) for r in values):
        raise SignatureMismatch(f"{what}: rows have different lengths")
    if dtype is None or dtype is object:
        return array
    target = np.dtype(dtype)
    if array.dtype == object and target.kind == "f":  # None (a missing value) -> NaN
        try:
            return array.astype(target)
        except (TypeError, ValueError):
            pass
    if array.dtype.kind == "f" and target.kind in "iu" and _whole(array):
        return array.astype(target)  # 3.0 for a long column: a float array of rows, lossless
    if array.size and not np.can_cast(array.dtype, target, casting="same_kind"):
        raise SignatureMismatch(
            f"{what} holds {array.dtype} values; the signature expects {target}"
        )
    return array.astype(target, copy=False)


def _whole(array: Any) -> bool:
    import numpy as np

    return bool(np.isfinite(array).all() and (array == np.trunc(array)).all())


def _tensor(table: Table, spec: SpecLike) -> Any:
    if table.by_column is not None:
        given = table.by_column
        values = given[spec.name] if spec.name and spec.name in given else conform(table, None)
    else:
        values = table.rows
    array = _array(values, numpy_dtype(spec.type), f"the input {spec.name or 'tensor'}")
    shape = list(spec.shape or [])
    ok = array.ndim == len(shape) and all(
        want == -1 or want == got for want, got in zip(shape, array.shape, strict=True)
    )
    if not ok:
        raise SignatureMismatch(
            f"The signature expects a tensor of shape {shape} (-1: any), got {list(array.shape)}"
        )
    return array


def model_input(data: Any, inputs: Sequence[SpecLike] | None, model: Any) -> Any:
    """What the loader hands a scikit-learn-like ``model`` for ``data``, checked.

    A model fitted on a DataFrame (``feature_names_in_``) gets a DataFrame with the
    signature's columns (pandas is then installed: it was fitted with it); others
    get a NumPy array. Without a signature, data goes as given, except a dict or
    records, which become a DataFrame or rows in the model's feature order.

    Raises:
        SignatureMismatch: as :func:`conform`.
    """
    features = getattr(model, "feature_names_in_", None)
    if not inputs:
        if not isinstance(data, Mapping) and not (
            isinstance(data, list) and data and all(isinstance(r, Mapping) for r in data)
        ):
            return data
        if features is None:
            return conform(to_table(data), None)
        inputs = [InputSpec(str(name), "object") for name in features]
    table = to_table(data)
    if len(inputs) == 1 and inputs[0].shape is not None:
        return _tensor(table, inputs[0])
    columns = conform_columns(table, inputs)
    frame = _dataframe_class() if features is not None else None
    if frame is not None and features is not None:
        by_name = {str(s.name): c for s, c in zip(inputs, columns, strict=True)}
        order = [str(f) for f in features]  # the order the model was fitted in, when known
        names = order if set(order) <= set(by_name) else list(by_name)
        return frame({name: by_name[name] for name in names})
    return _stack(columns)


def _dataframe_class() -> Any:
    """pandas' DataFrame when pandas is installed (imported only for a model that wants it)."""
    module = sys.modules.get("pandas")
    if module is None:
        try:
            module = importlib.import_module("pandas")
        except ImportError:
            return None
    return module.DataFrame
