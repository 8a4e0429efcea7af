"""Where the registry is: the way git finds its repository.

The CLI and the Python API start from a folder (the current one, ``-C DIR`` or
``REGISTRY_GEN_REGISTRY``) and walk up to the first folder holding
``registry.yaml``; outside a registry every command fails the same way.

Example:
    >>> find_registry("/tmp/reg/models/churn")  # doctest: +SKIP
    PosixPath('/tmp/reg')
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import NotARegistry
from .paths import POLICY_FILE

REGISTRY_ROOT_ENV = "REGISTRY_GEN_REGISTRY"


def find_registry(start: Path | str | None = None) -> Path:
    """The registry root at or above ``start`` (default: ``REGISTRY_GEN_REGISTRY``, else cwd).

    Raises:
        NotARegistry: no folder from ``start`` up to ``/`` holds ``registry.yaml``.
    """
    if start is None:
        start = os.environ.get(REGISTRY_ROOT_ENV) or Path.cwd()
    origin = Path(start).expanduser()
    folder = origin.resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / POLICY_FILE).is_file():
            return candidate
    raise NotARegistry(f"not a registry (no {POLICY_FILE} found in {origin} or any parent)")
