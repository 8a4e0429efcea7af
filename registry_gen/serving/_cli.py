"""The ``serve`` and ``build-docker`` commands (registered on the main CLI group).

Both also run on their own: ``python -m registry_gen.serving URI`` is ``serve``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from registry_gen.errors import RegistryError, UsageError

F = TypeVar("F", bound=Callable[..., Any])

_FROM_HELP = (
    "A checkout, git URL (URL@REV or URL#REV) or the published site's URL; "
    "default: REGISTRY_GEN_URI, else -C / the current repository."
)


def _one_line_errors(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RegistryError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2 if isinstance(error, UsageError) else 1)

    return wrapper  # type: ignore[return-value]


def _registry(registry: str | None) -> str | None:
    """--from wins; else the main group's -C folder when one was given."""
    if registry:
        return registry
    obj = click.get_current_context().find_root().obj
    return None if getattr(obj, "given", None) is None else str(obj.root)


@click.command("serve")
@click.argument("uri")
@click.option("--from", "registry", default=None, metavar="REGISTRY", help=_FROM_HELP)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("-p", "--port", default=8080, show_default=True, type=int)
@click.option("-w", "--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--interval",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between re-resolutions of a stage or alias URI.",
)
@click.option(
    "--timeout",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Seconds a prediction may take (then 504).",
)
@click.option(
    "--max-body",
    default=16 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(min=1),
    help="Largest request body in bytes (then 413).",
)
@click.option("--trust-pickle", is_flag=True, help="Allow pickle/joblib (runs their code).")
@click.option("--offline", is_flag=True, default=None, help="Use only the cache.")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@_one_line_errors
def serve_command(
    uri: str,
    registry: str | None,
    host: str,
    port: int,
    workers: int,
    interval: float,
    timeout: float,
    max_body: int,
    trust_pickle: bool,
    offline: bool | None,
    log_level: str,
) -> None:
    """Serve URI over HTTP: MLflow's /invocations and the Open Inference Protocol (V2).

    A stage or alias URI (models:/churn@champion) follows promotions: it is
    re-resolved every --interval seconds and the new version swapped in once it
    loads and passes a smoke prediction. Python: registry_gen.serving.serve(uri, ...).
    """
    from .server import serve

    logging.getLogger("registry_gen").setLevel(log_level.upper())
    serve(
        uri,
        registry=_registry(registry),
        host=host,
        port=port,
        workers=workers,
        interval=interval,
        timeout=timeout,
        max_body=max_body,
        trust_pickle=trust_pickle,
        offline=offline or None,
        log_level=log_level,
    )


@click.command("build-docker")
@click.argument("uri")
@click.option(
    "-t",
    "--tag",
    "image",
    required=True,
    metavar="IMAGE",
    help="The image name the printed `docker build` command uses.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The build context folder (default: docker-IMAGE/).",
)
@click.option("--from", "registry", default=None, metavar="REGISTRY", help=_FROM_HELP)
@click.option(
    "--no-bake",
    is_flag=True,
    help="Fetch the model when the container starts (follows stages and aliases).",
)
@click.option(
    "--package",
    default=None,
    help="What pip installs in the image: a requirement "
    "or a wheel file (default: registry-gen[serve,sklearn] of this version).",
)
@click.option("--base-image", default="python:3.11-slim", show_default=True)
@click.option("-p", "--port", default=8080, show_default=True, type=int)
@click.option("-w", "--workers", default=1, show_default=True, type=click.IntRange(min=1))
@_one_line_errors
def build_docker_command(
    uri: str,
    image: str,
    output: Path | None,
    registry: str | None,
    no_bake: bool,
    package: str | None,
    base_image: str,
    port: int,
    workers: int,
) -> None:
    """Write a Docker build context serving URI, and print the command that builds it.

    Python: registry_gen.serving.write_docker_context(uri, dest, ...).
    """
    from .docker import write_docker_context

    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in image)
    dest = output or Path(f"docker-{safe}")
    write_docker_context(
        uri,
        dest,
        registry=_registry(registry),
        bake=not no_bake,
        package=package,
        base_image=base_image,
        port=port,
        workers=workers,
    )
    click.echo(f"wrote {dest}/Dockerfile; build it with: docker build -t {image} {dest}")
