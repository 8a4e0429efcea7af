"""Run the app on uvicorn: ``serve(uri, host=, port=, workers=)``.

The parent process loads the model once before any worker starts, so a URI
that does not resolve, an artifact that fails verification or an untrusted
format is one error line and no server; the workers then load from the warm,
verified cache they share (its entries are written once, under file locks).
"""

from __future__ import annotations

import copy
import logging
import os
from typing import Any

from registry_gen.errors import MissingExtra

from ._model import ServeConfig, load_served

log = logging.getLogger(__name__)


def require_server() -> None:
    """Raise :class:`MissingExtra` unless the ``serve`` extra's libraries are installed."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as error:
        raise MissingExtra(
            f"serving needs starlette and uvicorn: pip install 'registry-gen[serve]' ({error})"
        ) from None


def log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's logging config plus the ``registry_gen`` loggers (swaps, access lines)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["plain"] = {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}
    config["handlers"]["registry_gen"] = {
        "class": "logging.StreamHandler",
        "formatter": "plain",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["registry_gen"] = {
        "handlers": ["registry_gen"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


def serve(
    uri: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    log_level: str = "info",
    graceful_timeout: float = 30.0,
    **options: Any,
) -> None:
    """Serve ``uri`` over HTTP until SIGINT/SIGTERM (then finish in-flight requests).

    Options are :class:`ServeConfig` fields: ``registry``, ``interval`` (seconds between
    re-resolutions of a stage or alias URI), ``timeout`` (seconds per prediction),
    ``max_body`` (bytes), ``trust_pickle``, ``offline``, ``cache_dir``.

    >>> serve("models:/churn@champion", registry="/srv/registry", port=8080)  # doctest: +SKIP

    Raises:
        RegistryError: the model cannot be loaded (nothing is served).
    """
    require_server()
    import uvicorn

    from .app import CONFIG_ENV, create_app

    config = ServeConfig(uri, **options)
    served = load_served(config, uri)  # fail here, once, with the loader's one-line error
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": log_config(log_level),
        "access_log": False,
        "timeout_graceful_shutdown": graceful_timeout,
        "proxy_headers": False,
        "server_header": False,
    }
    if workers <= 1:
        uvicorn.run(create_app(config, served=served), **common)
        return
    os.environ[CONFIG_ENV] = config.to_json()  # read by each worker's app_from_env()
    uvicorn.run("registry_gen.serving.app:app_from_env", factory=True, workers=workers, **common)
