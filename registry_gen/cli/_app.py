"""The click group every command hangs on, what commands share, and error handling.

Errors are one line on stderr (``error: ...``) and an exit code: 0 ok, 1 a rule or
user error (``RegistryError``), 2 usage (bad arguments). ``--traceback`` adds the
Python traceback above that line, for bug reports.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from registry_gen.errors import RegistryError, UsageError

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """What every command shares: where the registry is, and how to report errors."""

    def __init__(self, root: Path, show_traceback: bool = False) -> None:
        self.root = root
        self.show_traceback = show_traceback


pass_context = click.make_pass_decorator(Context)


def open_client(ctx: Context) -> Any:
    """The Python API the commands call, imported late so ``--help`` stays fast."""
    from registry_gen.client import RegistryClient

    return RegistryClient(ctx.root)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: MESSAGE`` on stderr (after the traceback with ``--traceback``), exit."""
    current = click.get_current_context(silent=True)
    shared = current.find_object(Context) if current is not None else None
    if shared is not None and shared.show_traceback and sys.exc_info()[0] is not None:
        click.echo(traceback.format_exc().rstrip(), err=True)
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn registry errors into one readable line on stderr and the right exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UsageError as error:
            fail(str(error), 2)
        except RegistryError as error:
            fail(str(error), 1)
        except OSError as error:  # the machine refused (a full disk, a permission): one line
            where = f" ({error.filename})" if error.filename else ""
            fail(f"{error.strerror or error}{where}; check free space and permissions", 1)

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
    default=".",
    show_default=True,
    help="Run as if started in this registry folder (like git -C).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what the registry does.")
@click.option(
    "--traceback",
    "show_traceback",
    is_flag=True,
    help="On an error, show the full Python traceback (for bug reports).",
)
@click.version_option(package_name="registry-gen")
@click.pass_context
def main(ctx: click.Context, root: Path, verbose: bool, show_traceback: bool) -> None:
    """A model registry that lives in a git repository.

    Records are YAML in models/NAME/VERSION/, artifacts are tracked by DVC,
    changes are reviewed as pull requests and the website is built by MkDocs.
    """
    handler = _ClickHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("registry_gen")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    ctx.obj = Context(root, show_traceback)
