"""Building a :class:`RegistryIndex` from a source, and loading one (memoised per commit)."""

from __future__ import annotations

import atexit
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from types import MappingProxyType

from registry_gen.errors import InvalidName, Location, RecordError, UnsafePath
from registry_gen.paths import MODEL_FILE, MODELS_DIR, MOVED_FILE, POLICY_FILE, VERSION_FILE
from registry_gen.schema import (
    DvcOutput,
    DvcPointer,
    ModelRecord,
    Policy,
    VersionRecord,
    parse_record,
)
from registry_gen.uri import check_model_name, check_version
from registry_gen.yamlio import parse_yaml

from ._index import ModelVersion, RegisteredModel, RegistryIndex
from ._parse import ParseJob, collector_paused, parse_ahead, parse_record_memo, trim_records
from ._sources import FileEntry, GitRevision, Source, WorkingTree, open_source, scan_model_folder

# Indexes of git revisions, by (repository, commit): a commit never changes, so one
# process never parses it twice (the validator reads the base, the site the head).
_GIT_INDEX_MEMO: dict[tuple[str, str], RegistryIndex] = {}


def load_index(root: Path | str = ".", rev: str | None = None) -> RegistryIndex:
    """Read the registry at ``root`` (working tree) or at git revision ``rev``.

    Records that cannot be read do not stop the load; they are in ``errors``.

    >>> index = load_index("/path/to/registry", rev="main")  # doctest: +SKIP

    Raises:
        GitError: ``rev`` is given and is not a commit of the repository at ``root``.
        UnsafePath: a path on the way to a record is a symlink.
    """
    source = open_source(root, rev)
    if isinstance(source, GitRevision):
        key = (str(Path(root).resolve()), source.commit)
        if key not in _GIT_INDEX_MEMO:
            _GIT_INDEX_MEMO[key] = replace(build_index(source), revision=source.commit)
        return _GIT_INDEX_MEMO[key]
    return build_index(source)


@atexit.register
def _forget_memos() -> None:
    """Free the memoised indexes before the interpreter shuts down (see the records' own)."""
    _GIT_INDEX_MEMO.clear()


def load_model_scope(root: Path, name: str) -> RegistryIndex | None:
    """``registry.yaml`` and ``models/NAME/`` read alone, if they hold a healthy model ``name``.

    None when they do not (no such folder, a symlinked one, records that fail):
    the caller then reads the whole registry, whose errors say what exists.

    >>> load_model_scope(Path("/srv/registry"), "churn").model("churn")  # doctest: +SKIP

    Raises:
        InvalidName: ``name`` is not a model name.
    """
    try:
        scan = scan_model_folder(root, name)
    except UnsafePath:
        return None
    if scan is None:
        return None
    index = build_index(WorkingTree(root), scan.entries())
    return index if name in index.models else None


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

    def paths(self) -> Iterator[str]:
        """Every record file of the model folder."""
        if self.model_file is not None:
            yield self.model_file
        for paths in self.versions.values():
            yield from paths

    def count(self) -> int:
        return (self.model_file is not None) + sum(map(len, self.versions.values()))


def build_index(source: Source, files: list[FileEntry] | None = None) -> RegistryIndex:
    """Parse every record of ``source`` (or of ``files``, a listing of it) into an index.

    >>> build_index(WorkingTree("/srv/registry")).model("churn")  # doctest: +SKIP

    Raises:
        GitError: reading a git revision failed.
        UnsafePath: a path on the way to a record is a symlink.
    """
    with collector_paused():
        return _build_index(source, files)


# Records are read and parsed this many at a time (whole models), so the text of only
# one batch is held at once, not the whole registry's (120 MB at 100,000 versions).
_BATCH_RECORDS = 20_000


def _build_index(source: Source, files: list[FileEntry] | None) -> RegistryIndex:
    by_model, wanted, moved_files = _group(files if files is not None else source.list_files())
    errors: list[RecordError] = []
    policy = Policy()
    if POLICY_FILE in wanted:
        blob = source.read_many([POLICY_FILE]).get(POLICY_FILE)
        try:
            policy = parse_record(blob, POLICY_FILE, Policy) if blob is not None else policy
        except RecordError as error:
            errors.append(error)
    models: dict[str, RegisteredModel] = {}
    broken: dict[str, tuple[RecordError, ...]] = {}
    used = 0
    for batch in _batches(by_model):
        blobs = source.read_many(path for name in batch for path in by_model[name].paths())
        jobs = _jobs({name: by_model[name] for name in batch})
        used += len(jobs)
        parse_ahead(jobs, blobs)
        for folder_name in batch:
            model, model_errors = _build_model(folder_name, by_model[folder_name], blobs)
            if model_errors:
                broken[folder_name] = tuple(model_errors)
                errors.extend(model_errors)
            elif model is not None:
                models[model.name] = model
        del blobs  # before the next batch is read
    trim_records(used)  # only now: this load's records stay memoised while it runs
    moved = _read_moved(source, moved_files, errors, broken)
    return RegistryIndex(
        policy=policy,
        models=MappingProxyType(models),
        errors=tuple(errors),
        broken=MappingProxyType(broken),
        moved=MappingProxyType(moved),
    )


def _read_moved(
    source: Source,
    moved_files: Mapping[str, str],
    errors: list[RecordError],
    broken: dict[str, tuple[RecordError, ...]],
) -> dict[str, str]:
    """Old name → new name, from each ``models/OLD/moved.yaml`` (see ``registry_gen._redirect``)."""
    if not moved_files:
        return {}
    from registry_gen._redirect import parse_moved

    blobs = source.read_many(moved_files.values())
    moved: dict[str, str] = {}
    for folder_name, path in sorted(moved_files.items()):
        try:
            check_model_name(folder_name, what="model folder name")
            moved[folder_name] = parse_moved(blobs[path], path).to
        except InvalidName as error:
            found = RecordError(Location(path), str(error), code="model-folder-name")
            errors.append(found)
            broken.setdefault(folder_name, (found,))
        except RecordError as error:
            errors.append(error)
            broken.setdefault(folder_name, (error,))
    return moved


def _batches(by_model: dict[str, _ModelFiles]) -> Iterator[list[str]]:
    """Model folder names, sorted, in batches of about :data:`_BATCH_RECORDS` records."""
    batch: list[str] = []
    size = 0
    for name in sorted(by_model):
        batch.append(name)
        size += by_model[name].count()
        if size >= _BATCH_RECORDS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _group(
    entries: list[FileEntry],
) -> tuple[dict[str, _ModelFiles], list[str], dict[str, str]]:
    """The record files of each model folder, every file the index reads, the redirects."""
    by_model: dict[str, _ModelFiles] = defaultdict(_ModelFiles)
    wanted: list[str] = []
    moved: dict[str, str] = {}  # old name -> its models/OLD/moved.yaml
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
        elif len(parts) == 3 and parts[0] == MODELS_DIR and parts[2] == MOVED_FILE:
            moved[parts[1]] = entry.path
    return by_model, wanted, moved


def _jobs(by_model: dict[str, _ModelFiles]) -> list[ParseJob]:
    jobs: list[ParseJob] = []
    for files_of in by_model.values():
        if files_of.model_file is not None:
            jobs.append((ModelRecord, files_of.model_file))
        for paths in files_of.versions.values():
            jobs.extend(
                (VersionRecord if path.endswith(f"/{VERSION_FILE}") else DvcPointer, path)
                for path in paths
            )
    return jobs


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
        return None, [
            RecordError(
                Location(f"{folder}/{MODEL_FILE}"),
                "missing: every model folder needs a model.yaml",
                code="missing-file",
            )
        ]
    record: ModelRecord | None = None
    try:
        record = parse_record_memo(blobs[files.model_file], files.model_file, ModelRecord)
        if record.name != folder_name:
            document = parse_yaml(blobs[files.model_file], files.model_file)
            errors.append(
                RecordError(
                    Location(files.model_file, document.line_of(("name",)), "name"),
                    f"name {record.name!r} does not match its folder {folder_name!r}",
                    code="name-mismatch",
                )
            )
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
    name: str,
    version_folder: str,
    paths: list[str],
    blobs: Mapping[str, bytes],
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
        errors.append(
            RecordError(
                Location(record_path),
                "missing: a version folder needs a version.yaml",
                code="missing-file",
            )
        )
        return None
    try:
        record = parse_record_memo(blobs[record_path], record_path, VersionRecord)
    except RecordError as error:
        errors.append(error)
        return None
    if record.version != number:
        line = parse_yaml(blobs[record_path], record_path).line_of(("version",))
        errors.append(
            RecordError(
                Location(record_path, line, "version"),
                f"version {record.version} does not match its folder {version_folder!r}",
                code="version-mismatch",
            )
        )
        return None
    pointer_path = f"{folder}/{record.artifact.path}.dvc"
    pointer: DvcOutput | None = None
    if pointer_path in blobs:
        try:
            parsed = parse_record_memo(blobs[pointer_path], pointer_path, DvcPointer)
            pointer = parsed.out
        except RecordError as error:
            errors.append(error)
            return None
    return ModelVersion(name=name, record=record, pointer=pointer, folder=folder)
