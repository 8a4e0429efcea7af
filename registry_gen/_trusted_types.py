"""Which types a skops artifact may trust: the one rule registration and the validator ask.

A skops file names the Python objects it rebuilds; the ones skops does not
trust by default are recorded in ``artifact.trusted_types`` at registration and
reviewed in the pull request. Whatever a record trusts, skops calls when the
model loads, so a trusted type must be a plain dotted name
(``sklearn.tree._tree.Tree``), must not reach the operating system, the
interpreter or the network (``builtins.eval``, ``os.system``, ``posix.system``,
``subprocess.*``, ``importlib.*``, ``operator.methodcaller``...), and must name
an object that exists where its library is installed (a typo trusts nothing).

:func:`trusted_type_problem` is that rule. Registration asks it with
``require_installed=True`` (the registrant's environment must be able to load
what it registers); the validator asks it without, since CI need not install
the model's libraries (a type of an installed library must still resolve).

Example:
    >>> trusted_type_problem("sklearn.tree._tree.Tree") is None
    True
    >>> trusted_type_problem("posix.system")
    "'posix.system' reaches the operating system or the interpreter; a model never needs it"
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Iterable
from functools import lru_cache

from .errors import UsageError

# Modules whose objects reach the operating system, the interpreter, files or the
# network: trusting any of their names lets a file run what it wants.
DENIED_MODULES = frozenset(
    {
        "_io", "_posixsubprocess", "_thread", "asyncio", "code", "codeop", "ctypes",
        "dill", "ftplib", "gc", "http", "importlib", "inspect", "io", "joblib", "marshal",
        "multiprocessing", "nt", "os", "pathlib", "pdb", "pickle", "_pickle", "pkgutil",
        "posix", "pty", "pydoc", "requests", "runpy", "shutil", "signal", "smtplib",
        "socket", "subprocess", "sys", "tempfile", "threading", "urllib", "webbrowser",
        "zipimport",
        # Importing these does something (prints, opens a browser): never imported to check.
        "antigravity", "this", "__hello__", "__phello__", "turtle", "tkinter", "idlelib",
        "test",
        # C twins and code runners of the above: they run a string, unpickle, open or load
        # libraries under another name (found by the red team, tests/test_redteam_session.py).
        "_socket", "_ctypes", "_ssl", "ssl", "_multiprocessing", "_posixshmem", "_signal",
        "mmap", "fcntl", "resource", "_winapi", "msvcrt", "winreg", "timeit", "cProfile",
        "profile", "_lsprof", "trace", "bdb", "cmd", "doctest", "shelve", "dbm", "sqlite3",
        "_sqlite3", "tarfile", "zipfile", "fileinput", "glob", "linecache", "xmlrpc",
        "logging", "distutils", "setuptools", "pip", "_pytest", "pytest", "numpy.testing",
        "numpy.f2py", "numpy.distutils", "fsspec", "urllib3", "httpx",
        # Loaders of other formats (a trusted skops.io.load is a pickle with extra steps) and
        # registry-gen itself (paths.atomic_write writes any file, _git.run runs git).
        "registry_gen", "skops.io", "cloudpickle", "torch.serialization", "pandas.io.pickle",
        "mlflow", "dvc",
    }
)  # fmt: skip
# Single objects of otherwise harmless modules that evaluate, import, open or reach
# attributes by name (the ways out of a restricted unpickler).
DENIED_NAMES = frozenset(
    {
        "builtins.__import__", "builtins.breakpoint", "builtins.compile", "builtins.delattr",
        "builtins.eval", "builtins.exec", "builtins.exit", "builtins.getattr",
        "builtins.globals", "builtins.help", "builtins.input", "builtins.locals",
        "builtins.open", "builtins.quit", "builtins.setattr", "builtins.vars",
        "codecs.open", "functools.reduce", "_functools.reduce", "_operator.attrgetter",
        "_operator.methodcaller", "numpy.load", "numpy.fromfile", "numpy.memmap", "torch.load",
        "pandas.read_pickle",
        "operator.attrgetter", "operator.methodcaller", "types.CodeType",
        "types.FunctionType", "types.LambdaType", "types.ModuleType",
    }
)  # fmt: skip

_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_LENGTH = 200


def trusted_type_problem(name: str, *, require_installed: bool = False) -> str | None:
    """Why ``name`` may not be a trusted type, in one sentence; None when it may.

    With ``require_installed``, a type whose library is not installed here is a
    problem too; without it only an installed library's types are looked up.

    >>> trusted_type_problem("sklearn.tree._tree.Tre")
    "'sklearn.tree._tree.Tre' is not importable: sklearn.tree._tree has no attribute 'Tre'"
    """
    parts = name.split(".")
    if len(name) > _MAX_LENGTH or len(parts) < 2 or not all(_PART.fullmatch(p) for p in parts):
        return f"{name!r} is not a dotted type name such as sklearn.tree._tree.Tree"
    if parts[0] == "__main__":
        return (
            f"{name!r} is defined in a script (__main__), so it loads nowhere else; "
            "move it to an importable module and save the model again"
        )
    if any(p.startswith("__") for p in parts):
        return f"{name!r} names a dunder attribute; a model never needs it"
    if _denied(parts):
        return f"{name!r} reaches the operating system or the interpreter; a model never needs it"
    return _import_problem(name, require_installed)


def check_trusted_types(names: Iterable[str], *, require_installed: bool = True) -> list[str]:
    """``names`` sorted and deduplicated, each allowed by :func:`trusted_type_problem`.

    >>> check_trusted_types(["sklearn.tree._tree.Tree", "sklearn.tree._tree.Tree"])
    ['sklearn.tree._tree.Tree']

    Raises:
        UsageError: a name is refused (the first one, with why and what to do).
    """
    chosen = sorted(set(names))
    for name in chosen:
        problem = trusted_type_problem(name, require_installed=require_installed)
        if problem is not None:
            raise UsageError(f"trusted type refused: {problem}")
    return chosen


def _denied(parts: list[str]) -> bool:
    prefixes = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return bool(prefixes & DENIED_MODULES or prefixes & DENIED_NAMES)


def _home(target: object) -> str | None:
    """Where ``target`` is defined: a module's own name, a function's or class's module and name."""
    if isinstance(target, type(importlib)):
        return target.__name__
    module, qualname = getattr(target, "__module__", None), getattr(target, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}.{qualname}"
    return None


@lru_cache(maxsize=1024)
def _import_problem(name: str, require_installed: bool) -> str | None:
    """Whether ``name`` resolves to an object (its longest importable module, then attributes)."""
    parts = name.split(".")
    try:
        installed = importlib.util.find_spec(parts[0]) is not None  # imports nothing
    except (ImportError, ValueError):
        installed = False
    if not installed:
        if not require_installed:
            return None  # this environment cannot judge it; the registrant's did
        return (
            f"{name!r} is not importable here: no module named {parts[0]!r} "
            "(install the library the model needs, or fix the name)"
        )
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            target: object = importlib.import_module(module_name)
        except ImportError:
            continue
        except (Exception, SystemExit) as error:  # a broken library: say so, never a traceback
            # SystemExit too: a module that exits on import would end the check with its code.
            return f"{name!r} is not importable: importing {module_name} failed ({error!r})"
        return _attribute_problem(name, target, parts, cut)
    return f"{name!r} is not importable: no module {parts[0]!r} here"


def _attribute_problem(name: str, target: object, parts: list[str], cut: int) -> str | None:
    """Whether the attributes ``parts[cut:]`` of the module ``target`` exist and are allowed."""
    for i in range(cut, len(parts)):
        if not hasattr(target, parts[i]):
            owner = ".".join(parts[:i])
            return f"{name!r} is not importable: {owner} has no attribute {parts[i]!r}"
        target = getattr(target, parts[i])
    home = _home(target)
    if home is not None and _denied(home.split(".")):
        # A denied object under another name (numpy.lib._format_impl.os.system is posix.system).
        return f"{name!r} is {home}, which reaches the operating system or the interpreter"
    return None
