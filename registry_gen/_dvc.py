"""The one DVC edge: every use of DVC by registry-gen goes through this module.

DVC is reached two ways, each for what it does well, both from here:

* **Writes** (``dvc init``, ``dvc remote add``, ``dvc add``, ``dvc push``) run
  DVC's command line, :func:`run` (``python -m dvc`` of this same interpreter,
  so the venv's DVC is used whatever is on ``PATH``). The command line is DVC's
  documented, stable interface for them, while ``dvc.repo.Repo``'s methods print
  to stdout through a global console, keep process-wide state and change between
  minor versions. A subprocess keeps all of that out of the caller's process and
  its errors come back as text we can quote. It costs about a second per call,
  small next to hashing and uploading a model.
* **Existence checks** (:func:`missing_objects`, for the validator) use DVC's
  object database, which knows every remote kind DVC does.
* **Which remote** artifacts are read from is the registry's base configuration's
  (:func:`base_remote`: the default branch's committed ``.dvc/config``), never a
  pull request's nor a pointer's ``remote:``. Reading objects needs no DVC at all:
  :mod:`registry_gen._remote_fs` reads the remote's content-addressed layout
  directly (the reader install has no DVC); it uses this module only for the
  configuration, which is plain text.

``.dvc/config`` (and ``config.local``) is read by :func:`read_config` alone,
with configobj, the parser DVC itself uses, so checking the default remote
costs no process. DVC itself is imported only inside the functions that need
it: importing this module is free, and a warm load never pays for DVC.

Example:
    >>> default_remote(Path("/srv/registry"))  # doctest: +SKIP
    Remote(name='storage', url='../dvc-remote')
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from .errors import ArtifactError

__all__ = [
    "DVC_DIR",
    "BaseRemote",
    "DvcSource",
    "MissingObjects",
    "Remote",
    "base_remote",
    "check_same_remote",
    "default_remote",
    "missing_objects",
    "read_config",
    "run",
]

log = logging.getLogger(__name__)

DVC_DIR = ".dvc"
# What a DVC command is for, to name it when DVC (the write extra) is missing.
_DVC_PURPOSE = {
    "add": "registering",
    "push": "pushing",
    "init": "init",
    "remote": "adding a remote",
}


def run(root: Path, *args: str) -> str:
    """Run ``dvc ARGS`` in ``root`` and return its standard output.

    >>> run(Path("/srv/registry"), "add", "models/churn/4/model.skops")  # doctest: +SKIP

    Raises:
        ArtifactError: DVC failed; the message carries DVC's own explanation.
        MissingExtra: DVC is not installed (the ``write`` extra).
    """
    from ._extras import require_extra

    require_extra("dvc", "write", _DVC_PURPOSE.get(args[0], f"`dvc {args[0]}`"))
    command = [sys.executable, "-m", "dvc", *args]
    log.info("running dvc %s", " ".join(args))
    env = {**os.environ, "DVC_NO_ANALYTICS": os.environ.get("DVC_NO_ANALYTICS", "1")}
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        detail = " ".join(line.strip() for line in message if line.strip())[-2000:]
        raise ArtifactError(f"dvc {args[0]} failed in {root}: {detail or 'no message'}")
    return result.stdout


# ---------------------------------------------------------------------------
# .dvc/config


@dataclass(frozen=True)
class Remote:
    """A DVC remote: its name and URL as written in the config (relative to ``.dvc/``)."""

    name: str
    url: str

    def local_folder(self, root: Path) -> Path | None:
        """The folder this remote stores bytes in, if it is a local path."""
        if "://" in self.url:
            return None
        path = Path(self.url).expanduser()
        return path if path.is_absolute() else (root / DVC_DIR / path).resolve()


def read_config(root: Path, *, local: bool = True) -> dict[str, dict[str, str]]:
    """The sections of ``.dvc/config``, overlaid with ``config.local`` if ``local``.

    Section names are normalised to DVC's spelling (``remote "NAME"``), however
    they are quoted in the file.

    >>> read_config(Path("/srv/registry"))["core"]["remote"]  # doctest: +SKIP
    'storage'

    Raises:
        ArtifactError: a config file exists but cannot be parsed.
    """
    sections: dict[str, dict[str, str]] = {}
    for name in ("config", "config.local") if local else ("config",):
        for section, values in _read_config_file(root / DVC_DIR / name).items():
            sections.setdefault(section, {}).update(values)
    return sections


def _read_config_file(path: Path) -> dict[str, dict[str, str]]:
    from configobj import ConfigObj, ConfigObjError  # type: ignore[import-untyped]

    if not path.is_file():
        return {}
    try:
        config = ConfigObj(str(path), encoding="utf-8", interpolation=False)
    except (ConfigObjError, OSError, UnicodeDecodeError) as error:
        raise ArtifactError(f"cannot read {path}: {error}") from None
    return {
        _section_name(str(k)): {str(n): str(v) for n, v in dict(values).items()}
        for k, values in config.items()
        if isinstance(values, dict)
    }


def _section_name(raw: str) -> str:
    words = raw.replace('"', " ").replace("'", " ").split()
    if len(words) == 2:  # 'remote "NAME"', however it is quoted
        return f'{words[0]} "{words[1]}"'
    return " ".join(words)


def default_remote(root: Path, *, local: bool = True) -> Remote | None:
    """The remote ``dvc push`` uses by default, or None when none is configured.

    With ``local=False`` only the shared ``.dvc/config`` is read (``config.local``
    may hold credentials; the site never publishes from it).

    >>> default_remote(Path("/srv/registry"))  # doctest: +SKIP
    Remote(name='storage', url='../dvc-remote')

    Raises:
        ArtifactError: the config cannot be parsed, or the default remote has no url.
    """
    return configured_default(read_config(root, local=local), str(root / DVC_DIR / "config"))


def configured_default(sections: Mapping[str, Mapping[str, str]], where: str) -> Remote | None:
    """The default remote that config ``sections`` (read from ``where``) name, or None.

    >>> configured_default({"core": {"remote": "s"}, 'remote "s"': {"url": "../r"}}, "c")
    Remote(name='s', url='../r')

    Raises:
        ArtifactError: the default remote has no url.
    """
    remote_name = sections.get("core", {}).get("remote")
    if not remote_name:
        return None
    url = sections.get(f'remote "{remote_name}"', {}).get("url")
    if not url:
        raise ArtifactError(f"the default DVC remote {remote_name!r} has no url in {where}")
    return Remote(remote_name, url)


# ---------------------------------------------------------------------------
# Reading objects from a remote


@dataclass(frozen=True)
class DvcSource:
    """Where the artifact's DVC remote is configured.

    Either ``repo_root`` (a DVC repository, optionally read at git revision
    ``rev``) or ``url`` (a remote URL, as published in the site's JSON API). A
    repository's remote is always its base configuration's default remote
    (:func:`base_remote`): a ``.dvc`` pointer's own ``remote:`` is never used.
    """

    repo_root: Path | None = None
    rev: str | None = None
    url: str | None = None
    legacy: bool = False  # DVC 2.x layout (pointer without ``hash: md5``)
    options: tuple[tuple[str, str], ...] = ()  # a site's published options (``endpointurl``)

    def __post_init__(self) -> None:
        if (self.repo_root is None) == (self.url is None):
            raise ValueError("a DvcSource has exactly one of repo_root and url")


@dataclass(frozen=True)
class BaseRemote:
    """The remote artifacts are read from, as the registry's base configuration names it."""

    remote: Remote  # its name, and its URL (config.local's url if the user set one)
    committed_url: str  # the URL in the base .dvc/config
    options: dict[str, str]  # its committed options overlaid with config.local's (credentials)
    where: str  # which configuration named it, for messages


def base_remote(root: Path, rev: str | None = None) -> BaseRemote:
    """The default remote of the registry's base configuration (see ``docs/security.md``).

    The base configuration is the ``.dvc/config`` committed on the default branch
    (``origin/HEAD``, else ``origin/main``, ``origin/master``, ``main``, ``master``),
    read from git; a checkout that
    is on that branch (or not in git) uses its own working tree's file. So a pull
    request checked out, or a git URL at a pull request's revision, cannot choose
    where artifacts (and the user's credentials) go. ``config.local`` (credentials,
    or a url of the user's own) is read only for a working checkout (``rev`` None).

    >>> base_remote(Path("/srv/registry")).remote  # doctest: +SKIP
    Remote(name='storage', url='https://dvc.example.org/store')

    Raises:
        ArtifactError: the base configuration names no default remote, or it has no url.
    """
    sections, where = _base_config(root, from_git=rev is not None)
    name = sections.get("core", {}).get("remote")
    if not name:
        raise ArtifactError(
            f"no default DVC remote in {where}: run `dvc remote add -d NAME URL` and commit it"
        )
    section = sections.get(f'remote "{name}"', {})
    committed = section.get("url", "")
    local = {} if rev is not None else _read_config_file(root / DVC_DIR / "config.local")
    options = {**section, **local.get(f'remote "{name}"', {})}
    url = options.pop("url", "") or committed
    if not url:
        raise ArtifactError(f"the default DVC remote {name!r} has no url in {where}")
    return BaseRemote(Remote(name, url), committed, options, where)


def _base_config(root: Path, *, from_git: bool) -> tuple[dict[str, dict[str, str]], str]:
    from . import _git

    working = root / DVC_DIR / "config"
    if not _git.is_repository(root):
        return read_config(root, local=False), str(working)
    commit, branch = _base_commit(root)
    if commit is None or (
        not from_git
        and branch is not None
        and _git.run(root, "symbolic-ref", "-q", "HEAD", check=False, top_level=True)
        == f"{branch}\n"
    ):
        return read_config(root, local=False), str(working)
    text = _git.run_bytes(root, "show", f"{commit}:{DVC_DIR}/config", check=False, top_level=True)
    where = f"{DVC_DIR}/config of the default branch ({commit[:10]})"
    return parse_config(text or b"", where), where


def _base_commit(root: Path) -> tuple[str | None, str | None]:
    """The default branch's commit and its local branch ref (``refs/heads/main``)."""
    from . import _git

    for ref in (
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/main",
        "refs/remotes/origin/master",
        "refs/heads/main",
        "refs/heads/master",
    ):
        commit = _git.run(
            root,
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            f"{ref}^{{commit}}",
            check=False,
            top_level=True,
        )
        if commit:
            target = ref
            if ref == "refs/remotes/origin/HEAD":
                target = (
                    _git.run(root, "symbolic-ref", "-q", ref, check=False, top_level=True) or ""
                ).strip()
            name = target.removeprefix("refs/remotes/origin/").removeprefix("refs/heads/")
            return commit.strip(), f"refs/heads/{name}"
    return None, None


def parse_config(data: bytes, where: str) -> dict[str, dict[str, str]]:
    from configobj import ConfigObj, ConfigObjError

    try:
        config = ConfigObj(data.decode("utf-8").splitlines(), interpolation=False)
    except (ConfigObjError, UnicodeDecodeError) as error:
        raise ArtifactError(f"cannot read {where}: {error}") from None
    return {
        _section_name(str(k)): {str(n): str(v) for n, v in dict(values).items()}
        for k, values in config.items()
        if isinstance(values, dict)
    }


def check_same_remote(root: Path, rev: str | None, base: BaseRemote) -> None:
    """Refuse a revision whose committed configuration names another remote than the base."""
    from . import _git

    if rev is None:
        sections = read_config(root, local=False)
    else:
        text = _git.run_bytes(root, "show", f"{rev}:{DVC_DIR}/config", check=False, top_level=True)
        sections = parse_config(text or b"", f"{DVC_DIR}/config at {rev[:10]}")
    name = sections.get("core", {}).get("remote")
    url = sections.get(f'remote "{name}"', {}).get("url") if name else None
    if (name, url) != (base.remote.name, base.committed_url):
        raise ArtifactError(
            f"the DVC remote this revision configures ({name!r}: {url}) is not the base "
            f"configuration's ({base.remote.name!r}: {base.committed_url}, from {base.where}); "
            "artifacts are read only from the base remote: change .dvc/config through its "
            "own reviewed pull request"
        )


@contextmanager
def _repo_remote(
    root: Path,
    rev: str | None,
    name: str | None,
    command: str,
) -> Iterator[tuple[Any, Any]]:
    from dvc.repo import Repo

    with Repo(str(root), rev=rev) as repo:
        yield repo, repo.cloud.get_remote(name=name, command=command)


class MissingObjects(NamedTuple):
    """What :func:`missing_objects` found: the remote checked and the md5s it lacks."""

    remote: str  # e.g. "DVC remote 'storage'", for messages
    missing: frozenset[str]


def missing_objects(
    root: Path,
    md5s: Iterable[str],
    *,
    remote: str | None = None,
) -> MissingObjects:
    """Which of ``md5s`` the DVC remote of the registry at ``root`` lacks (no download).

    ``remote`` is a remote name (default: the default remote). A local-folder
    remote is checked in DVC 3's layout (``REMOTE/files/md5/ab/cdef...``) with
    plain ``stat`` calls; any other remote through DVC's object database.

    >>> missing_objects(Path("/srv/registry"), [md5])  # doctest: +SKIP
    MissingObjects(remote="DVC remote 'storage'", missing=frozenset())

    Raises:
        ArtifactError: the remote cannot be opened or asked (config, network, credentials).
    """
    from ._extras import require_extra

    require_extra("dvc", "write", "checking the DVC remote")
    wanted = sorted(set(md5s))
    try:
        with _repo_remote(root, None, remote, "status") as (_repo, opened):
            if opened.fs.protocol in ("local", "file"):
                base = Path(opened.path) / "files" / "md5"
                present = {md5 for md5 in wanted if (base / md5[:2] / md5[2:]).is_file()}
            else:
                present = set(opened.odb.oids_exist(wanted)) if wanted else set()
            label = f"DVC remote {opened.name!r}"
    except Exception as error:  # DVC raises many unrelated types for config/network problems
        raise ArtifactError(f"cannot check the DVC remote of {root}: {error}") from error
    return MissingObjects(label, frozenset(set(wanted) - present))
