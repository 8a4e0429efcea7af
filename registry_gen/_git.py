"""The one git edge: every git command registry-gen runs goes through :func:`run`.

One environment (no prompts, no pager, no user-configured diff or colour
programs, C locale for parseable messages), one error mapping to
:class:`~registry_gen.errors.GitError`, every command logged at debug level.
It runs the ``git`` binary directly, like pypa/build's ``_ctx.py``: the reader
install (loading from a git URL) needs no Python git library, and one process
per query is also what the registry's hot paths want (``ls-tree`` once,
``cat-file --batch`` once).

Revisions that come from users or records go through :func:`check_rev` before
they reach a command line, and paths always follow ``--``, so no value can be
read as an option.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shlex
import subprocess
import tempfile
import time
from collections.abc import Generator, Iterable, Mapping, Sequence
from pathlib import Path

from .errors import GitError

__all__ = [
    "Spool",
    "check_rev",
    "is_repository",
    "is_top_level",
    "read_blobs",
    "read_objects",
    "run",
    "run_bytes",
    "stream",
]

log = logging.getLogger(__name__)

# Revision syntax we accept from users: branch and tag names, SHAs, ``HEAD~2``,
# ``origin/main``, ``main@{1.day.ago}``. No leading ``-`` (an option), no spaces,
# no control characters, nothing a shell or git would read as something else.
_REV = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/@{}^~+:-]{0,199}\Z")

# Settings that make git's behaviour independent of the user's configuration
# where that matters for parsing, and that never wait for a human.
_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "true",
    "SSH_ASKPASS": "true",
    "GIT_PAGER": "cat",
    "GIT_OPTIONAL_LOCKS": "0",
    "LC_ALL": "C",
    "LANGUAGE": "C",
}


def check_rev(rev: str, what: str = "revision") -> str:
    """Return ``rev`` if it is safe to put on a git command line as a revision.

    >>> check_rev("origin/main")
    'origin/main'
    >>> check_rev("--upload-pack=x")
    Traceback (most recent call last):
    ...
    registry_gen.errors.GitError: invalid revision '--upload-pack=x': ...

    Raises:
        GitError: ``rev`` could be read as an option or holds characters no
            revision has.
    """
    if not isinstance(rev, str) or not _REV.match(rev) or ".." in rev:
        raise GitError(
            f"invalid {what} {rev!r}: use a branch, tag or commit such as 'main', "
            "'origin/main' or 'HEAD~1'"
        )
    return rev


def run_bytes(
    root: Path | str,
    *args: str,
    input: bytes | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    top_level: bool = False,
) -> bytes | None:
    """Run ``git ARGS`` in ``root`` and return its standard output as bytes.

    With ``check=False`` a failing command returns None instead of raising.
    With ``top_level=True`` git does not look for a repository in the folders
    above ``root``: ``root`` must be a repository's top folder (or a bare
    repository), so a registry in a subfolder of another project is never
    read as that project.

    Raises:
        GitError: git is not installed, or the command failed (the message
            carries git's own first line of explanation).
    """
    command = ["git", *args]
    log.debug("git: %s (in %s)", shlex.join(command), root)
    try:
        result = subprocess.run(
            command,
            cwd=root,
            input=input,
            capture_output=True,
            check=False,
            env=_environment(root, env, top_level),
        )
    except (FileNotFoundError, NotADirectoryError):
        raise _not_started(root) from None
    if result.returncode != 0:
        if not check:
            return None
        raise GitError(f"git {_verb(args)} failed in {root}: {_first_line(result.stderr)}")
    return result.stdout


def stream(
    root: Path | str,
    *args: str,
    top_level: bool = False,
    chunk_size: int = 1 << 20,
    env: Mapping[str, str] | None = None,
) -> Generator[bytes, None, None]:
    """Run ``git ARGS`` in ``root`` and yield its standard output in pieces as git writes it.

    For output too large to hold (``git log`` over 230,000 commits): the caller
    parses each piece and keeps only what it needs. Closing the generator early
    stops git. ``top_level`` and ``env`` are :func:`run_bytes`'s.

    >>> b"".join(stream(".", "--version")).startswith(b"git version")  # doctest: +SKIP
    True

    Raises:
        GitError: git is not installed, or the command failed (raised once its
            output is read to the end).
    """
    command = ["git", *args]
    log.debug("git (streamed): %s (in %s)", shlex.join(command), root)
    # stderr goes to a file: a pipe left unread could fill and stall git.
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(
                command,
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=_environment(root, env, top_level),
            )
        except (FileNotFoundError, NotADirectoryError):
            raise _not_started(root) from None
        stdout = process.stdout
        assert isinstance(stdout, io.BufferedReader)
        try:
            while piece := stdout.read1(chunk_size):
                yield piece
            code = process.wait()
        finally:
            if process.poll() is None:  # the caller stopped reading: stop git too
                process.kill()
                process.wait()
            stdout.close()
        if code != 0:
            errors.seek(0)
            raise GitError(f"git {_verb(args)} failed in {root}: {_first_line(errors.read())}")


class Spool:
    """``git ARGS`` started now, its output written to an unnamed temporary file (on
    disk, not in memory) until :meth:`read` streams it back.

    For output wanted later, while git works on it in parallel: several ``git log``
    processes over parts of one history run at once, and each is read in turn.
    Use it as a context manager: leaving it stops git and drops the file.

    >>> with Spool(".", "--version") as out:  # doctest: +SKIP
    ...     b"".join(out.read()).startswith(b"git version")
    True

    Raises:
        GitError: git is not installed, or the command failed (raised by :meth:`read`).
    """

    def __init__(
        self,
        root: Path | str,
        *args: str,
        top_level: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> None:
        command = ["git", *args]
        log.debug("git (spooled): %s (in %s)", shlex.join(command), root)
        self._root, self._args = root, args
        # Both files live as long as the spool: close() shuts them.
        self._out = tempfile.TemporaryFile()  # noqa: SIM115
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self._process = subprocess.Popen(
                command,
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=self._out,
                stderr=self._errors,
                env=_environment(root, env, top_level),
            )
        except (FileNotFoundError, NotADirectoryError):
            self.close()
            raise _not_started(root) from None

    def read(self, chunk_size: int = 1 << 20, start: int = 0) -> Generator[bytes, None, None]:
        """Wait for git to finish, then yield its output (from byte ``start``) in pieces."""
        if self._process.wait() != 0:
            self._errors.seek(0)
            raise GitError(
                f"git {_verb(self._args)} failed in {self._root}: "
                f"{_first_line(self._errors.read())}"
            )
        self._out.seek(start)
        while piece := self._out.read(chunk_size):
            yield piece

    def follow(self, chunk_size: int = 1 << 20) -> Generator[bytes, None, None]:
        """Yield git's output as git writes it, then check that git succeeded.

        Read at explicit offsets (``os.pread``), so git's own position in the file,
        which it shares, never moves. Where there is no ``pread``: :meth:`read`.
        """
        if not hasattr(os, "pread"):
            yield from self.read(chunk_size)
            return
        fd, offset = self._out.fileno(), 0
        while True:
            finished = self._process.poll() is not None  # before reading: then all is written
            piece = os.pread(fd, chunk_size, offset)
            if piece:
                offset += len(piece)
                yield piece
            elif finished:
                break
            else:
                time.sleep(0.01)
        yield from self.read(chunk_size, start=offset)

    def close(self) -> None:
        """Stop git if it still runs, and drop its output."""
        process = getattr(self, "_process", None)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        self._out.close()
        self._errors.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def rev_parse_commit(root: Path | str, rev: str, *flags: str) -> list[str] | None:
    """The output lines of ``git rev-parse FLAGS --verify REV^{commit}``, or None.

    None when ``rev`` names no commit or ``root`` is no repository's top level;
    the last line is the commit id, earlier ones answer ``flags`` (such as
    ``--is-shallow-repository``, asked in the same process). ``rev`` must have
    passed :func:`check_rev`.

    >>> rev_parse_commit(".", "HEAD")  # doctest: +SKIP
    ['3f2a9c1...']
    """
    found = run(
        root,
        "rev-parse",
        *flags,
        "--verify",
        "--quiet",
        "--end-of-options",
        f"{rev}^{{commit}}",
        check=False,
        top_level=True,
    )
    return None if found is None else found.split()


def run(
    root: Path | str,
    *args: str,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    top_level: bool = False,
) -> str | None:
    """:func:`run_bytes`, decoded as UTF-8 (undecodable bytes replaced).

    >>> run(".", "--version").startswith("git version")  # doctest: +SKIP
    True

    Raises:
        GitError: as :func:`run_bytes`.
    """
    out = run_bytes(root, *args, check=check, env=env, top_level=top_level)
    return None if out is None else out.decode("utf-8", errors="replace")


def is_repository(root: Path | str) -> bool:
    """True if ``root`` is inside a git work tree or is a bare repository."""
    out = run(root, "rev-parse", "--is-inside-work-tree", "--is-bare-repository", check=False)
    return out is not None and "true" in out.split()


def is_top_level(root: Path | str) -> bool:
    """True if ``root`` is the top folder of a git work tree, or a bare repository."""
    if not Path(root).is_dir():
        return False
    return run(root, "rev-parse", "--git-dir", check=False, top_level=True) is not None


_GLOBS = {"GIT_LITERAL_PATHSPECS": "0", "GIT_NOGLOB_PATHSPECS": "0", "GIT_GLOB_PATHSPECS": "0"}


def grep_files(root: Path | str, commit: str, needles: Sequence[str], *paths: str) -> list[str]:
    """The files at ``commit`` matching the pathspecs ``paths`` whose bytes hold one of
    ``needles`` (fixed strings, case-sensitive, binary files too), by one ``git grep``.

    A ``*`` in ``paths`` matches across folders too, whatever the environment says
    (``GIT_LITERAL_PATHSPECS`` would make it match nothing, silently).

    >>> grep_files(".", "HEAD", ["models:/churn/"], "models/*/*/version.yaml")  # doctest: +SKIP
    ['models/fraud/2/version.yaml']

    Raises:
        GitError: git failed (finding nothing is not a failure).
    """
    patterns = [arg for needle in needles for arg in ("-e", needle)]
    args = ["grep", "-l", "-z", "-a", "-F", "--no-textconv", "--full-name", *patterns]
    command = ["git", *args, check_rev(commit), "--", *paths]
    log.debug("git: %s (in %s)", shlex.join(command), root)
    try:
        env = _environment(root, _GLOBS, False)
        result = subprocess.run(command, cwd=root, capture_output=True, check=False, env=env)
    except (FileNotFoundError, NotADirectoryError):
        raise _not_started(root) from None
    # Exit status 1 with nothing said is git grep's "found nothing".
    if result.returncode == 1 and not result.stderr and not result.stdout:
        return []
    if result.returncode != 0:
        raise GitError(f"git grep failed in {root}: {_first_line(result.stderr)}")
    prefix = f"{commit}:"
    found = result.stdout.decode("utf-8", "surrogateescape").split("\0")
    return [path.removeprefix(prefix) for path in found if path]


def read_blobs(root: Path | str, oids: Iterable[str]) -> dict[str, bytes]:
    """The contents of the blobs ``oids``, read by one ``git cat-file --batch`` process.

    Missing objects and non-blobs are left out of the result.

    Raises:
        GitError: git failed.
    """
    return {oid: data for oid, (kind, data) in read_objects(root, oids).items() if kind == "blob"}


def read_objects(root: Path | str, oids: Iterable[str]) -> dict[str, tuple[str, bytes]]:
    """``{oid: (type, contents)}`` of the objects ``oids`` (blobs, commits, trees, tags),
    read by one ``git cat-file --batch`` process. Missing objects are left out.

    >>> read_objects(".", ["HEAD"])["HEAD"][0]  # doctest: +SKIP
    'commit'

    Raises:
        GitError: git failed.
    """
    wanted: Sequence[str] = sorted(set(oids))
    if not wanted:
        return {}
    data = run_bytes(root, "cat-file", "--batch", input="".join(f"{o}\n" for o in wanted).encode())
    assert data is not None  # check=True
    out: dict[str, tuple[str, bytes]] = {}
    pos = 0
    for oid in wanted:
        header_end = data.index(b"\n", pos)
        header = data[pos:header_end].split()
        if len(header) == 2 and header[1] == b"missing":
            pos = header_end + 1
            continue
        _oid, kind, size = header
        start = header_end + 1
        out[oid] = (kind.decode("ascii"), data[start : start + int(size)])
        pos = start + int(size) + 1
    return out


def _environment(
    root: Path | str, env: Mapping[str, str] | None, top_level: bool
) -> dict[str, str]:
    extra = dict(env or {})
    if top_level:
        extra["GIT_CEILING_DIRECTORIES"] = os.fspath(Path(root).resolve().parent)
    return {**os.environ, **_ENV, **extra}


def _not_started(root: Path | str) -> GitError:
    if not Path(root).is_dir():  # the folder to run in, not git, is what is missing
        return GitError(f"{root} is not a folder")
    return GitError("git is not installed or not on PATH")


def _verb(args: Sequence[str]) -> str:
    return " ".join(a for a in args[:2] if not a.startswith("-")) or "command"


def _first_line(stderr: bytes) -> str:
    text = stderr.decode("utf-8", errors="replace").strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    # git prefixes its explanation with "fatal:" or "error:"; the message says it failed.
    first = lines[0] if lines else "no explanation from git"
    return re.sub(r"^(fatal|error):\s*", "", first)
