"""The optional parts of registry-gen and the one-line error when one is missing.

``pip install registry-gen`` is the reader (load, list/show/search, download,
validate); each extra adds a part: ``write`` (DVC: register, push, ``init``),
``site`` (MkDocs), ``sklearn``/``onnx``/``torch``/``mlflow`` (model formats),
``s3``/``gcs``/``azure`` (reading object storage), ``serve``.

Example:
    >>> require_extra("json", "write", "registering")  # present: nothing happens
    >>> require_extra("no_such_module_x", "write", "registering")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    registry_gen.errors.MissingExtra: registering needs the write extra: pip install ...
"""

from __future__ import annotations

import importlib.util

from .errors import MissingExtra

__all__ = ["require_extra"]


def require_extra(module: str, extra: str, what: str) -> None:
    """Raise :class:`MissingExtra` naming ``extra`` unless ``module`` is installed.

    Only looks the module up (no import), so a present extra costs nothing.

    Raises:
        MissingExtra: ``module`` is not installed.
    """
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise MissingExtra(f"{what} needs the {extra} extra: pip install 'registry-gen[{extra}]'")
