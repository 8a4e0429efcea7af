"""Progress of long operations, reported to whoever listens (the library never prints).

The library calls :func:`step` at each stage of a long operation (copying an
artifact, hashing it, pushing it); the CLI installs a listener with
:func:`listening` and draws it on a terminal. Without a listener a step costs a
lookup and nothing else.

Example:
    >>> seen = []
    >>> with listening(lambda label, what: seen.append(f"{label}: {what}")):
    ...     step("churn v3", "copying")
    >>> seen
    ['churn v3: copying']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Listener = Callable[[str, str], None]

_listener: ContextVar[Listener | None] = ContextVar("registry_gen_progress", default=None)


def step(label: str, what: str) -> None:
    """Report that ``label`` (e.g. ``churn v3``) is now doing ``what`` (e.g. ``pushing``)."""
    listener = _listener.get()
    if listener is not None:
        listener(label, what)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send every :func:`step` inside the block to ``listener``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
