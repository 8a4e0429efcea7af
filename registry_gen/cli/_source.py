"""The ``register`` source: a local path, or an MLflow URI (``runs:/…``, ``models:/m-…``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


class SourceParam(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    """A local file or folder that exists, or an MLflow source (``runs:/…``, ``models:/m-…``)."""

    name = "path"
    _path = click.Path(exists=True, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from registry_gen._mlflow_source import is_mlflow_source

        if isinstance(value, str) and is_mlflow_source(value):
            return value
        return self._path.convert(value, param, ctx)


SOURCE = SourceParam()
