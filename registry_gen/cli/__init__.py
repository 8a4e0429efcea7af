"""The ``registry-gen`` command line: a thin layer over the Python API.

The library never prints; this package owns all output. Every command has a
Python function that does the same thing (named in its help text). Exit codes:
0 ok, 1 a rule or user error (``RegistryError``), 2 usage (bad arguments).

Layout: ``_app`` (the click group, shared context, errors and ``--traceback``),
``_output`` (tables, JSON, sizes, colour), and one module per group of commands:
``_write`` (init, register, promote, alias, describe, tag), ``_read`` (list, show,
search, download, cache), ``_checks`` (validate, codeowners), ``_docs`` (docs).
"""

from __future__ import annotations

# Importing the command modules registers their commands on ``main``.
from registry_gen.serving._cli import build_docker_command, serve_command

from . import _checks, _docs, _history, _mlflow, _read, _rename, _write  # noqa: F401
from ._app import main

# Serving registers its own commands; starlette and uvicorn load only when they run.
main.add_command(serve_command)
main.add_command(build_docker_command)

__all__ = ["main"]
