"""registry-gen: a model registry that lives in a git repository.

The top-level names load lazily, so ``import registry_gen`` stays cheap for a
service that only calls :func:`load_model` on a warm cache.

Example:
    >>> import registry_gen
    >>> registry_gen.ModelUri.parse("models:/churn/3").version
    3
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "ModelUri": "registry_gen.uri",
    "RegistryError": "registry_gen.errors",
    "RegistryIndex": "registry_gen.store",
    "RegisteredModel": "registry_gen.store",
    "ModelVersion": "registry_gen.store",
    "load_index": "registry_gen.store",
    "RegistryClient": "registry_gen.client",
    "log_model": "registry_gen.client",
    "register_model": "registry_gen.client",
    "load_model": "registry_gen.loader",
    "download_artifacts": "registry_gen.loader",
}

__all__ = [
    "ModelUri",
    "ModelVersion",
    "RegisteredModel",
    "RegistryClient",
    "RegistryError",
    "RegistryIndex",
    "download_artifacts",
    "load_index",
    "load_model",
    "log_model",
    "register_model",
]

if TYPE_CHECKING:
    from .client import RegistryClient, log_model, register_model
    from .errors import RegistryError
    from .loader import download_artifacts, load_model
    from .store import ModelVersion, RegisteredModel, RegistryIndex, load_index
    from .uri import ModelUri


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'registry_gen' has no attribute {name!r}")
