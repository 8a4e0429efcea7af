"""The ``registry-gen`` command line: a thin layer over the Python API.

The library never prints; this module owns all output. Every command has a
Python function that does the same thing (named in its help text). Exit codes:
0 ok, 1 a rule or user error (``RegistryError``), 2 usage (bad arguments).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from .errors import RegistryError, UsageError

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """What every command shares: where the registry is."""

    def __init__(self, root: Path) -> None:
        self.root = root


pass_context = click.make_pass_decorator(Context)


def handle_errors(func: F) -> F:
    """Turn registry errors into one readable line on stderr and the right exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UsageError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)
        except RegistryError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON for scripts."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


class _ClickHandler(logging.Handler):
    """Send the library's log records to stderr, which the CLI owns."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C", "--registry", "root", type=click.Path(file_okay=False, path_type=Path), default=".",
    show_default=True, help="Run as if started in this registry folder (like git -C).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what the registry does.")
@click.version_option(package_name="registry-gen")
@click.pass_context
def main(ctx: click.Context, root: Path, verbose: bool) -> None:
    """A model registry that lives in a git repository.

    Records are YAML in models/NAME/VERSION/, artifacts are tracked by DVC,
    changes are reviewed as pull requests and the website is built by MkDocs.
    """
    handler = _ClickHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("registry_gen")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    ctx.obj = Context(root)
