"""Serve registered models over HTTP: MLflow's scoring protocol and the Open Inference Protocol.

``serve("models:/churn@champion")`` loads the model through the loader (verified
cache, trust rules), serves it on uvicorn, and follows promotions: a stage or
alias URI is re-resolved every ``interval`` seconds and a new version swapped in
once it loads and passes a smoke prediction. See docs/serving.md.

The names load lazily: :func:`write_docker_context` needs no server libraries;
the rest need the ``serve`` extra (``pip install 'registry-gen[serve]'``).

Example:
    >>> from registry_gen.serving import serve
    >>> serve("models:/churn@champion", registry=".", port=8080, workers=2)  # doctest: +SKIP
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ServeConfig": "registry_gen.serving._model",
    "Served": "registry_gen.serving._model",
    "create_app": "registry_gen.serving.app",
    "serve": "registry_gen.serving.server",
    "write_docker_context": "registry_gen.serving.docker",
}

__all__ = ["ServeConfig", "Served", "create_app", "serve", "write_docker_context"]

if TYPE_CHECKING:
    from ._model import ServeConfig, Served
    from .app import create_app
    from .docker import write_docker_context
    from .server import serve


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'registry_gen.serving' has no attribute {name!r}")
