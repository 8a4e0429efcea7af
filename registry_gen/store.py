"""Read a whole registry into one immutable index; write records atomically.

A registry is read from a *source*: the working tree (:class:`WorkingTree`) or
any git revision (:class:`GitRevision`, read from git objects with no
checkout, which is how the validator judges a pull request). The result is a
:class:`RegistryIndex`, built once and queried many times; indexes of a git
revision are memoised per commit, so one process never parses a revision twice
(the opposite of rebuilding state from every tag on every call, gto#156).

Example:
    >>> index = load_index("examples/registry")          # doctest: +SKIP
    >>> index.resolve("models:/churn/Production").version  # doctest: +SKIP
    3
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import stat
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import (
    GitError,
    InvalidName,
    InvalidRegistry,
    Location,
    ModelNotFound,
    RecordError,
    UnsafePath,
    VersionNotFound,
)
from .paths import MODEL_FILE, MODELS_DIR, POLICY_FILE, VERSION_FILE, atomic_write, safe_join
from .schema import (
    DvcOutput,
    DvcPointer,
    ModelRecord,
    Policy,
    VersionRecord,
    parse_record,
    record_errors,
    validate_document,
)
from .uri import ModelUri, check_model_name, check_version
from .yamlio import YamlDocument, dump_yaml, parse_yaml, replace_scalar

GIT_SYMLINK_MODE = 0o120000

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# The index


@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model: its record and its artifact pointer."""

    name: str
    record: VersionRecord
    pointer: DvcOutput | None
    folder: str  # "models/NAME/VERSION", POSIX, relative to the registry root

    @property
    def version(self) -> int:
        return self.record.version

    @property
    def stage(self) -> str:
        return self.record.stage

    @property
    def uri(self) -> ModelUri:
        """The exact ``models:/NAME/VERSION`` URI of this version."""
        return ModelUri(name=self.name, version=self.record.version)

    @property
    def artifact_path(self) -> str:
        """Path of the artifact relative to the registry root."""
        return f"{self.folder}/{self.record.artifact.path}"

    @property
    def artifact_md5(self) -> str | None:
        return self.pointer.md5 if self.pointer else None

    @property
    def record_file(self) -> str:
        return f"{self.folder}/{VERSION_FILE}"


@dataclass(frozen=True)
class RegisteredModel:
    """A registered model: its ``model.yaml`` and its versions, oldest first."""

    record: ModelRecord
    versions: tuple[ModelVersion, ...]

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def aliases(self) -> Mapping[str, int]:
        return self.record.aliases

    @property
    def record_file(self) -> str:
        return f"{MODELS_DIR}/{self.name}/{MODEL_FILE}"

    @cached_property
    def _by_number(self) -> dict[int, ModelVersion]:
        return {v.version: v for v in self.versions}

    def version(self, number: int) -> ModelVersion:
        """The version numbered ``number``; :class:`VersionNotFound` says which exist."""
        try:
            return self._by_number[number]
        except KeyError:
            raise VersionNotFound(
                f"{self.name} has no version {number}; it has {self.describe_versions()}"
            ) from None

    @property
    def latest(self) -> ModelVersion | None:
        """The highest version, in any stage (``models:/NAME/latest``)."""
        return self.versions[-1] if self.versions else None

    def in_stage(self, stage: str) -> list[ModelVersion]:
        """Versions in ``stage`` (exact spelling), highest first."""
        return [v for v in reversed(self.versions) if v.stage == stage]

    def aliases_of(self, number: int) -> list[str]:
        """Aliases pointing at version ``number``, sorted."""
        return sorted(a for a, v in self.record.aliases.items() if v == number)

    def describe_versions(self) -> str:
        numbers = [v.version for v in self.versions]
        if not numbers:
            return "no versions"
        if numbers == list(range(numbers[0], numbers[-1] + 1)) and len(numbers) > 1:
            return f"versions {numbers[0]}-{numbers[-1]}"
        return "version " + ", ".join(map(str, numbers)) if len(numbers) == 1 else (
            "versions " + ", ".join(map(str, numbers)))


@dataclass(frozen=True)
class RegistryIndex:
    """Every registered model of one registry at one revision. Immutable; query freely.

    ``errors`` holds the records that could not be read; a model with broken
    records is left out of ``models`` and asking for it raises
    :class:`InvalidRegistry` with the reasons.
    """

    policy: Policy
    models: Mapping[str, RegisteredModel]
    errors: tuple[RecordError, ...] = ()
    broken: Mapping[str, tuple[RecordError, ...]] = field(default_factory=dict)
    revision: str | None = None  # commit SHA, or None for a working tree

    def model(self, name: str) -> RegisteredModel:
        """The registered model called ``name``."""
        if name in self.models:
            return self.models[name]
        if name in self.broken:
            raise InvalidRegistry(list(self.broken[name]))
        known = ", ".join(sorted(self.models)[:10]) or "none yet"
        raise ModelNotFound(f"no registered model named {name!r}; registered models: {known}")

    def resolve(self, uri: str | ModelUri) -> ModelVersion:
        """The version a ``models:/`` URI points to, as MLflow resolves it.

        >>> index.resolve("models:/churn@champion")  # doctest: +SKIP
        """
        parsed = uri if isinstance(uri, ModelUri) else ModelUri.parse(uri)
        model = self.model(parsed.name)
        if parsed.version is not None:
            return model.version(parsed.version)
        if parsed.latest:
            if model.latest is None:
                raise VersionNotFound(f"{model.name} has no versions yet")
            return model.latest
        if parsed.alias is not None:
            if parsed.alias not in model.aliases:
                known = ", ".join(f"@{a}" for a in sorted(model.aliases)) or "none"
                raise VersionNotFound(
                    f"{model.name} has no alias {parsed.alias!r}; its aliases: {known}"
                )
            return model.version(model.aliases[parsed.alias])
        assert parsed.stage is not None
        stage = self.policy.canonical_stage(parsed.stage)
        if stage is None:
            raise VersionNotFound(
                f"{parsed.stage!r} in {parsed} is not a stage of this registry; "
                f"stages: {', '.join(self.policy.stages)}"
            )
        holders = model.in_stage(stage)
        if not holders:
            raise VersionNotFound(
                f"{model.name} has {model.describe_versions()}; none in {stage}"
            )
        return holders[0]

    def versions(self) -> Iterator[ModelVersion]:
        """Every version of every model, by model name then version."""
        for name in sorted(self.models):
            yield from self.models[name].versions

    def require_valid(self) -> RegistryIndex:
        """Raise :class:`InvalidRegistry` if any record could not be read."""
        if self.errors:
            raise InvalidRegistry(list(self.errors))
        return self


# ---------------------------------------------------------------------------
# Sources: where the files come from


@dataclass(frozen=True)
class FileEntry:
    """A file of the registry: path relative to the root (POSIX), git-style mode, size."""

    path: str
    mode: int
    size: int

    @property
    def is_symlink(self) -> bool:
        return self.mode == GIT_SYMLINK_MODE


class Source(Protocol):
    """Where a registry's files are read from."""

    label: str

    def list_files(self) -> list[FileEntry]:
        """``registry.yaml`` and every file under ``models/``."""
        ...

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        """The bytes of each path (paths that are missing are left out)."""
        ...


class WorkingTree:
    """The registry as it is on disk, including uncommitted edits."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.label = "working tree"

    def list_files(self) -> list[FileEntry]:
        found: list[FileEntry] = []
        policy = self.root / POLICY_FILE
        if policy.is_file() or policy.is_symlink():
            found.append(self._entry(policy))
        models = self.root / MODELS_DIR
        if models.is_symlink():
            found.append(self._entry(models))
            return found
        # os.scandir with string paths: at 30,000 files, pathlib's objects cost seconds.
        pending = [(os.fspath(models), MODELS_DIR)]
        while pending:
            folder, rel = pending.pop()
            try:
                with os.scandir(folder) as listing:
                    children = list(listing)
            except OSError:
                continue  # as os.walk: an unreadable or vanished folder lists nothing
            for child in children:
                child_rel = f"{rel}/{child.name}"
                if child.is_symlink():
                    found.append(self._stat_entry(child_rel, child.stat(follow_symlinks=False)))
                elif child.is_dir(follow_symlinks=False):
                    pending.append((child.path, child_rel))
                else:
                    found.append(self._stat_entry(child_rel, child.stat(follow_symlinks=False)))
        found.sort(key=lambda e: e.path)
        return found

    def _entry(self, path: Path) -> FileEntry:
        return self._stat_entry(path.relative_to(self.root).as_posix(), path.lstat())

    @staticmethod
    def _stat_entry(rel: str, info: os.stat_result) -> FileEntry:
        if stat.S_ISLNK(info.st_mode):
            mode = GIT_SYMLINK_MODE
        else:
            mode = 0o100755 if info.st_mode & stat.S_IXUSR else 0o100644
        return FileEntry(rel, mode, info.st_size)

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        root = os.fspath(self.root)
        # What safe_join checks (no "..", no absolute part, no symlink on the way), with
        # each folder checked once per call: at 30,000 records, a stat per component
        # per file and pathlib objects cost seconds.
        checked: set[str] = set()  # folders known to be real folders (or plain files)
        for rel in paths:
            folder = rel.rpartition("/")[0]
            pieces = rel.split("/")
            if "\\" in rel or rel.startswith("/") or any(p in {"", ".", ".."} for p in pieces):
                path = safe_join(self.root, rel)  # raises its UnsafePath error
                if path.is_file():
                    out[rel] = path.read_bytes()
                continue
            if folder and folder not in checked and not self._check_folder(root, pieces[:-1],
                                                                             checked):
                continue  # a folder on the way is missing: so is the file
            full = os.path.join(root, rel)  # noqa: PTH118 - strings: see above
            try:
                info = os.lstat(full)
            except (FileNotFoundError, NotADirectoryError):
                continue
            if stat.S_ISLNK(info.st_mode):
                raise UnsafePath(f"refusing to follow the symlink {full}")
            if stat.S_ISREG(info.st_mode):
                with open(full, "rb") as handle:  # noqa: PTH123
                    out[rel] = handle.read()
        return out

    @staticmethod
    def _check_folder(root: str, pieces: list[str], checked: set[str]) -> bool:
        """Check each component of a folder once; False if one does not exist."""
        prefix = ""
        for piece in pieces:
            prefix = f"{prefix}/{piece}" if prefix else piece
            if prefix in checked:
                continue
            full = os.path.join(root, prefix)  # noqa: PTH118
            try:
                info = os.lstat(full)
            except (FileNotFoundError, NotADirectoryError):
                return False
            if stat.S_ISLNK(info.st_mode):
                raise UnsafePath(f"refusing to follow the symlink {full}")
            checked.add(prefix)
        return True


class GitRevision:
    """The registry at a git revision, read from git objects (no checkout)."""

    def __init__(self, root: Path | str, rev: str = "HEAD") -> None:
        import git  # gitpython is only needed when reading history

        self.root = Path(root)
        try:
            self.repo = git.Repo(self.root, search_parent_directories=False)
            self.commit = self.repo.commit(rev).hexsha
        except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError):
            raise GitError(f"{self.root} is not a git repository") from None
        except (git.exc.BadName, ValueError):
            raise GitError(f"{rev!r} is not a commit in {self.root}") from None
        self.label = f"{rev} ({self.commit[:10]})"
        self._oids: dict[str, str] = {}

    def list_files(self) -> list[FileEntry]:
        out = self.repo.git.ls_tree(
            "-r", "-l", "-z", "--full-tree", self.commit, "--", POLICY_FILE, MODELS_DIR
        )
        entries = []
        for item in out.split("\0"):
            if not item:
                continue
            meta, _, path = item.partition("\t")
            mode, kind, oid, size = meta.split()
            if kind != "blob":
                continue
            self._oids[path] = oid
            entries.append(FileEntry(path, int(mode, 8), int(size) if size != "-" else 0))
        return entries

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        wanted = [p for p in paths if p in self._oids] if self._oids else list(paths)
        if not self._oids:
            self.list_files()
            wanted = [p for p in wanted if p in self._oids]
        if not wanted:
            return {}
        # One `git cat-file --batch` process for every blob: fast at 10,000s of records.
        request = "".join(f"{self._oids[p]}\n" for p in wanted).encode()
        result = subprocess.run(
            ["git", "cat-file", "--batch"], cwd=self.root, input=request,
            capture_output=True, check=False,
        )
        if result.returncode != 0:
            raise GitError(f"git cat-file failed: {result.stderr.decode(errors='replace')}")
        data = result.stdout
        out: dict[str, bytes] = {}
        pos = 0
        for path in wanted:
            header_end = data.index(b"\n", pos)
            _oid, _kind, size = data[pos:header_end].split()
            start = header_end + 1
            out[path] = data[start : start + int(size)]
            pos = start + int(size) + 1
        return out


def open_source(root: Path | str = ".", rev: str | None = None) -> Source:
    """The working tree at ``root``, or the git revision ``rev`` of the repository there."""
    return WorkingTree(root) if rev is None else GitRevision(root, rev)


# ---------------------------------------------------------------------------
# Building the index

_GIT_INDEX_MEMO: dict[tuple[str, str], RegistryIndex] = {}


def load_index(root: Path | str = ".", rev: str | None = None) -> RegistryIndex:
    """Read the registry at ``root`` (working tree) or at git revision ``rev``.

    Records that cannot be read do not stop the load; they are in ``errors``.

    >>> index = load_index("/path/to/registry", rev="main")  # doctest: +SKIP
    """
    source = open_source(root, rev)
    if isinstance(source, GitRevision):
        key = (str(Path(root).resolve()), source.commit)
        if key not in _GIT_INDEX_MEMO:
            index = build_index(source)
            _GIT_INDEX_MEMO[key] = RegistryIndex(
                index.policy, index.models, index.errors, index.broken, source.commit
            )
        return _GIT_INDEX_MEMO[key]
    return build_index(source)


# Records already parsed in this process, by (schema, file, bytes). The base and the
# head of a pull request share nearly every record file, and `mkdocs serve` reloads the
# registry on every edit, so each distinct file is parsed and validated once. Records
# are immutable, like the indexes that share them (see _GIT_INDEX_MEMO); errors are not
# memoised. Bounded so a long-lived process does not grow without end.
_RECORD_MEMO: dict[tuple[type[BaseModel], str, bytes], BaseModel] = {}
_RECORD_MEMO_LIMIT = 100_000

RecordT = TypeVar("RecordT", bound=BaseModel)


def _parse_record(blob: bytes, file: str, schema: type[RecordT]) -> RecordT:
    key = (schema, file, blob)
    record = _RECORD_MEMO.get(key)
    if record is None:
        record = parse_record(blob, file, schema)
        _remember(key, record)
    return record  # type: ignore[return-value]  # stored under its own schema


def _remember(key: tuple[type[BaseModel], str, bytes], record: BaseModel) -> None:
    if len(_RECORD_MEMO) >= _RECORD_MEMO_LIMIT:
        _RECORD_MEMO.clear()
    _RECORD_MEMO[key] = record


@atexit.register
def _forget_memos() -> None:
    """Free the memoised records before the interpreter shuts down.

    Shutdown runs the cyclic collector several times over everything still
    alive: with the 21,000 records of a 10,000-version registry memoised, that
    is about two seconds after a command has finished; freeing them here by
    reference counting takes a tenth of one.
    """
    _RECORD_MEMO.clear()
    _GIT_INDEX_MEMO.clear()


# ---------------------------------------------------------------------------
# Parsing on two cores

# Parsing is most of loading a large registry, and every record parses on its own: from
# this many records on, build_index has a forked worker process parse part of them on
# another core while this process parses the rest (loading 21,000 records took 20 %
# less wall time, 4.3 → 3.5 s, on 2 cores with the other one partly busy; about 15 %
# more CPU in all). Below it, starting the worker costs more than it saves.
PARALLEL_MIN_RECORDS = 2_000
# This process parses this share: it also validates and unpickles the worker's share.
_OWN_SHARE = 0.45

ParseJob = tuple[type[BaseModel], str]  # (schema, file) of one record to parse


def _fork_is_safe() -> bool:
    """Whether a worker may be forked: Linux (fork is the safe default there), a
    single-threaded process (a fork copies locks other threads may hold) and a second
    CPU to run it on."""
    if sys.platform != "linux":
        return False
    import threading

    return threading.active_count() == 1 and len(os.sched_getaffinity(0)) > 1


def _parse_ahead(jobs: Iterable[ParseJob], blobs: Mapping[str, bytes]) -> int:
    """Parse records into the memo ahead of the build, part of them in a forked worker.

    Only a speed-up: the build then takes each record from the memo or parses it
    itself, so its records, errors and their order are the same with or without
    the worker. Records that fail are left to the build (errors are never
    memoised), which reports them with file and line. The worker sends back the
    parsed YAML as plain data, validated here: pickling pydantic records costs
    about three times as much. Returns how many records the worker parsed.
    """
    todo = [(schema, file) for schema, file in jobs
            if file in blobs and (schema, file, blobs[file]) not in _RECORD_MEMO]
    if len(todo) < PARALLEL_MIN_RECORDS or not _fork_is_safe():
        return 0
    import multiprocessing

    split = int(len(todo) * _OWN_SHARE)
    mine, theirs = todo[:split], todo[split:]
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_parse_yaml_worker, daemon=True,
                             args=(sender, [(file, blobs[file]) for _, file in theirs]))
    try:
        worker.start()
    except (OSError, AssertionError):  # no fork left, or this is a daemonic worker itself
        receiver.close()
        sender.close()
        return 0
    sender.close()
    parsed: dict[int, Any] = {}
    finished = False
    try:
        for schema, file in mine:
            try:
                _parse_record(blobs[file], file, schema)
            except RecordError:
                continue  # the build reports it
        try:
            parsed = receiver.recv()
        except (EOFError, OSError):
            log.debug("the parsing worker stopped early; parsing its records here")
        finished = True
    finally:
        receiver.close()
        if not finished:  # interrupted (Ctrl-C) or failed here: do not wait for the worker
            worker.terminate()
        worker.join()
    for position, data in parsed.items():
        schema, file = theirs[position]
        try:
            record = validate_document(YamlDocument(data, {}, file), schema)
        except RecordError:
            continue  # the build parses it again and reports it with its line
        _remember((schema, file, blobs[file]), record)
    return len(parsed)


def _parse_yaml_worker(sender: Any, files: list[tuple[str, bytes]]) -> None:
    """In the forked worker: the parsed YAML of each file that parses, by position."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    parsed: dict[int, Any] = {}
    for position, (file, blob) in enumerate(files):
        try:
            parsed[position] = parse_yaml(blob, file, lines=False).data
        except RecordError:
            continue
    try:
        sender.send(parsed)
    except OSError:
        pass  # the parent stopped listening (interrupted): it has nothing to wait for
    finally:
        sender.close()


def path_parts(path: str) -> tuple[str, ...]:
    """``PurePosixPath(path).parts``, without a path object for a plain ``a/b/c`` path.

    >>> path_parts("models/churn/3/version.yaml"), path_parts("models//churn/./x")
    (('models', 'churn', '3', 'version.yaml'), ('models', 'churn', 'x'))
    """
    parts = path.split("/")
    if "" in parts or "." in parts:
        return PurePosixPath(path).parts  # "/", "//", "./": let pathlib normalise them
    return tuple(parts)


@dataclass
class _ModelFiles:
    model_file: str | None = None
    versions: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while records are parsed.

    Parsing 10,000 records allocates about a million objects that all stay
    alive, and every few thousand allocations the collector walks them all
    again: a quarter of the load, freeing nothing (records hold no reference
    cycles). Reference counting frees memory as usual meanwhile. Callers that
    keep a whole index only for a while (the validator) pause it for that while.
    """
    if not gc.isenabled():
        yield  # already paused by the caller: leave it as it is
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def build_index(source: Source, files: list[FileEntry] | None = None) -> RegistryIndex:
    """Parse every record of ``source`` into a :class:`RegistryIndex`."""
    with collector_paused():
        return _build_index(source, files)


def _build_index(source: Source, files: list[FileEntry] | None) -> RegistryIndex:
    entries = files if files is not None else source.list_files()
    errors: list[RecordError] = []
    by_model: dict[str, _ModelFiles] = defaultdict(_ModelFiles)
    wanted: list[str] = []
    for entry in entries:
        parts = path_parts(entry.path)
        if entry.is_symlink:
            continue  # never followed; the validator reports them
        if parts == (POLICY_FILE,):
            wanted.append(entry.path)
        elif len(parts) == 3 and parts[2] == MODEL_FILE:
            by_model[parts[1]].model_file = entry.path
            wanted.append(entry.path)
        elif len(parts) == 4 and (parts[3] == VERSION_FILE or parts[3].endswith(".dvc")):
            by_model[parts[1]].versions[parts[2]].append(entry.path)
            wanted.append(entry.path)
    blobs = source.read_many(wanted)
    jobs: list[ParseJob] = []
    for files_of in by_model.values():
        if files_of.model_file is not None:
            jobs.append((ModelRecord, files_of.model_file))
        for paths in files_of.versions.values():
            jobs.extend((VersionRecord if path.endswith(f"/{VERSION_FILE}") else DvcPointer, path)
                        for path in paths)
    _parse_ahead(jobs, blobs)

    policy = Policy()
    if POLICY_FILE in blobs:
        try:
            policy = parse_record(blobs[POLICY_FILE], POLICY_FILE, Policy)
        except RecordError as error:
            errors.append(error)

    models: dict[str, RegisteredModel] = {}
    broken: dict[str, tuple[RecordError, ...]] = {}
    for folder_name in sorted(by_model):
        model, model_errors = _build_model(folder_name, by_model[folder_name], blobs)
        if model_errors:
            broken[folder_name] = tuple(model_errors)
            errors.extend(model_errors)
        elif model is not None:
            models[model.name] = model
    return RegistryIndex(
        policy=policy,
        models=MappingProxyType(models),
        errors=tuple(errors),
        broken=MappingProxyType(broken),
    )


def _build_model(
    folder_name: str, files: _ModelFiles, blobs: Mapping[str, bytes]
) -> tuple[RegisteredModel | None, list[RecordError]]:
    errors: list[RecordError] = []
    folder = f"{MODELS_DIR}/{folder_name}"
    try:
        check_model_name(folder_name, what="model folder name")
    except InvalidName as error:
        return None, [RecordError(Location(folder), str(error), code="model-folder-name")]
    if files.model_file is None:
        return None, [RecordError(Location(f"{folder}/{MODEL_FILE}"),
                                  "missing: every model folder needs a model.yaml",
                                  code="missing-file")]
    record: ModelRecord | None = None
    try:
        record = _parse_record(blobs[files.model_file], files.model_file, ModelRecord)
        if record.name != folder_name:
            document = parse_yaml(blobs[files.model_file], files.model_file)
            errors.append(RecordError(
                Location(files.model_file, document.line_of(("name",)), "name"),
                f"name {record.name!r} does not match its folder {folder_name!r}",
                code="name-mismatch",
            ))
    except RecordError as error:
        errors.append(error)

    versions: list[ModelVersion] = []
    for version_folder, paths in files.versions.items():
        version = _build_version(folder_name, version_folder, paths, blobs, errors)
        if version is not None:
            versions.append(version)
    if errors or record is None:
        return None, errors
    versions.sort(key=lambda v: v.version)
    return RegisteredModel(record=record, versions=tuple(versions)), []


def _build_version(
    name: str, version_folder: str, paths: list[str], blobs: Mapping[str, bytes],
    errors: list[RecordError],
) -> ModelVersion | None:
    folder = f"{MODELS_DIR}/{name}/{version_folder}"
    try:
        number = check_version(version_folder, what="version folder name")
    except InvalidName as error:
        errors.append(RecordError(Location(folder), str(error), code="version-folder-name"))
        return None
    record_path = f"{folder}/{VERSION_FILE}"
    if record_path not in paths:
        errors.append(RecordError(
            Location(record_path), "missing: a version folder needs a version.yaml",
            code="missing-file"))
        return None
    try:
        record = _parse_record(blobs[record_path], record_path, VersionRecord)
    except RecordError as error:
        errors.append(error)
        return None
    if record.version != number:
        line = parse_yaml(blobs[record_path], record_path).line_of(("version",))
        errors.append(RecordError(
            Location(record_path, line, "version"),
            f"version {record.version} does not match its folder {version_folder!r}",
            code="version-mismatch",
        ))
        return None
    pointer_path = f"{folder}/{record.artifact.path}.dvc"
    pointer: DvcOutput | None = None
    if pointer_path in blobs:
        try:
            parsed = _parse_record(blobs[pointer_path], pointer_path, DvcPointer)
            pointer = parsed.out
        except RecordError as error:
            errors.append(error)
            return None
    return ModelVersion(name=name, record=record, pointer=pointer, folder=folder)


# ---------------------------------------------------------------------------
# Writing records


class _SupportsDump(Protocol):
    def model_dump(self, **kwargs: Any) -> dict[str, Any]: ...


def record_to_yaml(record: BaseModel) -> str:
    """A record as YAML text, leaving out fields that are at their defaults."""
    data = record.model_dump(mode="json", exclude_defaults=True)
    if isinstance(record, VersionRecord):
        # Keep the fields a reviewer looks for first even when they hold defaults.
        data = {"version": record.version, "stage": record.stage, **data}
    return dump_yaml(data)


def write_record(path: Path, record: BaseModel) -> None:
    """Write a new record file atomically."""
    atomic_write(path, record_to_yaml(record))


def edit_record(
    path: Path, schema: type[BaseModel], mutate: Callable[[dict[str, Any]], None]
) -> BaseModel:
    """Apply ``mutate`` to the record at ``path`` and write it back with the smallest diff.

    Changes to existing one-line values are spliced into the text, leaving every
    other byte as it was; structural changes (a new key, a removed alias) go
    through ruamel.yaml's round-trip editor, which keeps comments and key order.
    The result is validated against ``schema`` before anything is written.
    """
    text = path.read_text(encoding="utf-8")
    rel = path.as_posix()
    document = parse_yaml(text, rel)
    before = document.data if isinstance(document.data, dict) else {}
    after = _deep_copy(before)
    mutate(after)
    new_text = _splice_changes(text, before, after)
    if new_text is None:
        new_text = _round_trip(text, mutate)
    try:
        record = schema.model_validate(parse_yaml(new_text, rel).data)
    except ValidationError as error:
        raise record_errors(parse_yaml(new_text, rel), error)[0] from None
    if new_text != text:
        atomic_write(path, new_text)
    return record


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _leaf_changes(
    before: Any, after: Any, path: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]] | None:
    """Paths of changed scalars, or None if the change is structural."""
    if isinstance(before, dict) and isinstance(after, dict):
        if list(before) != list(after):
            return None
        changes: list[tuple[Any, ...]] = []
        for key in before:
            sub = _leaf_changes(before[key], after[key], (*path, key))
            if sub is None:
                return None
            changes.extend(sub)
        return changes
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            return None
        changes = []
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            sub = _leaf_changes(b, a, (*path, i))
            if sub is None:
                return None
            changes.extend(sub)
        return changes
    if isinstance(before, dict | list) or isinstance(after, dict | list):
        return None
    if before == after and type(before) is type(after):
        return []
    return [path]


def _splice_changes(text: str, before: Any, after: Any) -> str | None:
    changes = _leaf_changes(before, after)
    if changes is None:
        return None
    for change in changes:
        value: Any = after
        for part in change:
            value = value[part]
        spliced = replace_scalar(text, change, value)
        if spliced is None:
            return None
        text = spliced
    return text


def _round_trip(text: str, mutate: Callable[[dict[str, Any]], None]) -> str:
    import io

    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip mode: comments, key order and quoting survive
    yaml.preserve_quotes = True
    yaml.width = 4096
    data = yaml.load(text)
    if data is None:
        from ruamel.yaml.comments import CommentedMap

        data = CommentedMap()
    mutate(data)
    _quote_ambiguous(data)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def _quote_ambiguous(node: Any) -> None:
    """Quote new plain strings that would not read back as strings (``yes``, ``1.10``).

    ruamel.yaml writes YAML 1.2, which leaves ``yes`` unquoted; the strict reader
    refuses such values, so an edit must never produce them.
    """
    from ruamel.yaml.scalarstring import SingleQuotedScalarString

    if isinstance(node, dict) and any(
            type(k) is str and not _reads_back_as(k) for k in node):
        # Keys too: ruamel reads a quoted key ('n': 5) as a plain str and writes it bare.
        if hasattr(node, "insert"):  # a CommentedMap: keep comments, replace in place
            for position, key in enumerate(list(node)):
                if type(key) is str and not _reads_back_as(key):
                    node.insert(position, SingleQuotedScalarString(key), node.pop(key))
        else:
            pairs = list(node.items())
            node.clear()
            for key, value in pairs:
                quoted = type(key) is str and not _reads_back_as(key)
                node[SingleQuotedScalarString(key) if quoted else key] = value
    items: Any = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(
        node, list) else ()
    for key, value in list(items):
        if type(value) is str and not _reads_back_as(value):
            node[key] = SingleQuotedScalarString(value)
        elif isinstance(value, dict | list):
            _quote_ambiguous(value)


def _reads_back_as(value: str) -> bool:
    if "\n" in value:
        return True  # written as a block scalar, read back verbatim
    try:
        return bool(parse_yaml(f"v: {value}\n", "<edit>").data == {"v": value})
    except RecordError:
        return False


def load_model_scope(root: Path, name: str) -> RegistryIndex | None:
    """``registry.yaml`` and ``models/NAME/`` read alone, if they hold a healthy model ``name``.

    None when they do not (no such folder, a symlinked one, records that fail):
    the caller then reads the whole registry, whose errors say what exists.
    """
    from .locate import scan_model_folder

    try:
        scan = scan_model_folder(root, name)
    except UnsafePath:
        return None
    if scan is None:
        return None
    index = build_index(WorkingTree(root), scan.entries())
    return index if name in index.models else None
