"""The click group every command hangs on, what commands share, and error handling.

Errors are one line on stderr (``error: ...``) and an exit code: 0 ok, 1 a rule or
user error (``RegistryError``), 2 usage (bad arguments). ``--traceback`` adds the
Python traceback above that line, for bug reports. A command run with ``--json``
prints its error as JSON on stdout instead (``{"error": {"type", "message", "exit_code"}}``),
so a script that parses stdout always gets JSON.

The registry is found as git finds its repository: ``-C DIR``, else
``REGISTRY_GEN_REGISTRY``, else the current folder, then up to the first folder
holding ``registry.yaml`` (:func:`registry_gen.discover.find_registry`).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from registry_gen.discover import REGISTRY_ROOT_ENV, find_registry
from registry_gen.errors import RegistryError, UsageError

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """What every command shares: where the registry is, and how to report errors.

    ``given`` is the folder named by ``-C`` or ``REGISTRY_GEN_REGISTRY`` (None when
    neither was); ``root`` walks up from it (or the current folder) on first use, so
    commands that need no registry (``init``, ``cache``) work anywhere.
    """

    def __init__(
        self, given: Path | None = None, show_traceback: bool = False, quiet: bool = False
    ) -> None:
        self.given = given
        self.show_traceback = show_traceback
        self.quiet = quiet
        self._root: Path | None = None

    @property
    def root(self) -> Path:
        """The registry's root folder.

        Raises:
            NotARegistry: no ``registry.yaml`` at or above the starting folder.
        """
        if self._root is None:
            self._root = find_registry(self.given if self.given is not None else Path.cwd())
        return self._root


pass_context = click.make_pass_decorator(Context)


def open_client(ctx: Context) -> Any:
    """The Python API the commands call, imported late so ``--help`` stays fast."""
    from registry_gen.client import RegistryClient

    return RegistryClient(ctx.root)


def _wants_json(current: click.Context | None) -> bool:
    """Whether the running command was asked for JSON (``--json`` or ``--format json``)."""
    if current is None:
        return False
    params = current.params
    return bool(params.get("as_json")) or params.get("output") == "json"


def fail(message: str, code: int = 1, kind: str = "RegistryError") -> NoReturn:
    """Print ``error: MESSAGE`` on stderr (after the traceback with ``--traceback``), exit.

    Under ``--json`` the error is a JSON object on stdout, for the script reading it.
    """
    current = click.get_current_context(silent=True)
    shared = current.find_object(Context) if current is not None else None
    if shared is not None and shared.show_traceback and sys.exc_info()[0] is not None:
        click.echo(traceback.format_exc().rstrip(), err=True)
    if _wants_json(current):
        error = {"type": kind, "message": message, "exit_code": code}
        click.echo(json.dumps({"error": error}, indent=2))
    else:
        click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn registry errors into one readable line on stderr and the right exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UsageError as error:
            fail(str(error), 2, type(error).__name__)
        except RegistryError as error:
            fail(str(error), 1, type(error).__name__)
        except OSError as error:  # the machine refused (a full disk, a permission): one line
            where = f" ({error.filename})" if error.filename else ""
            fail(
                f"{error.strerror or error}{where}; check free space and permissions",
                1,
                type(error).__name__,
            )

    return wrapper  # type: ignore[return-value]


class _ClickHandler(logging.Handler):
    """Send the library's log records to stderr, which the CLI owns."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "--registry",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run as if started in this folder (like git -C); the registry is found "
    "from there upwards. Default: REGISTRY_GEN_REGISTRY, else the current folder.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what the registry does.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display on stderr.")
@click.option(
    "--traceback",
    "show_traceback",
    is_flag=True,
    help="On an error, show the full Python traceback (for bug reports).",
)
@click.version_option(package_name="registry-gen")
@click.pass_context
def main(
    ctx: click.Context, root: Path | None, verbose: bool, quiet: bool, show_traceback: bool
) -> None:
    """A model registry that lives in a git repository.

    Records are YAML in models/NAME/VERSION/, artifacts are tracked by DVC,
    changes are reviewed as pull requests and the website is built by MkDocs.
    Run it anywhere inside a registry (it looks upwards for registry.yaml).

    \b
    Examples:
      registry-gen init my-registry --remote s3://bucket/models
      registry-gen -C my-registry list
      REGISTRY_GEN_REGISTRY=~/my-registry registry-gen show churn
    """
    if root is None and os.environ.get(REGISTRY_ROOT_ENV):
        root = Path(os.environ[REGISTRY_ROOT_ENV])
    handler = _ClickHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("registry_gen")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    ctx.obj = Context(root, show_traceback, quiet)
