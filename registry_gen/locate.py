"""Where the registry is, and resolving one ``models:/`` URI against it, cheaply.

The registry is the ``registry`` argument, else ``REGISTRY_GEN_URI``, else the
git repository around the current directory. It may be written as:

==========================================  ==================================================
``/srv/registry`` or ``.``                  a local checkout (its working tree, as on disk)
``git+https://host/org/registry.git@v2``    a git URL at a revision (pip's VCS syntax);
``git+file:///srv/registry.git@main``       ``@REV`` is taken after the last ``/``
``https://host/org/registry.git#main``      any git URL or repository path, ``#REV`` after it
``/srv/registry.git`` ``git@host:o/r.git``  a git URL with no revision: its default branch
``https://org.github.io/registry/``         the published website (its JSON API, api/*.json)
==========================================  ==================================================

A ``http(s)://`` address is the website unless it starts with ``git+`` or ends
in ``.git`` (before any ``#REV``). Git registries are cloned once into the
cache (``<cache>/git/``), fetched again on later loads unless the revision is
a full commit SHA already there (or offline mode is on), and read from git
objects at the resolved commit, never from a checkout. Website responses are
cached with their ``ETag``/``Last-Modified`` and revalidated with
``If-None-Match``/``If-Modified-Since``.

Only what one URI needs is read: ``registry.yaml`` and ``models/NAME/``,
parsed with the same strict YAML and schemas as the whole-registry index.

**Resolving a checkout again, without parsing it.** Parsing records means
importing pydantic, the schemas and YAML (0.2 s, more than the rest of a warm
load). So after a full, strict resolution from a local checkout, what it found
for the model (every version's stage, artifact path, format, trusted types and
md5; the aliases; the policy's stages) is saved in the cache
(``<cache>/resolved/KEY.json``, keyed by the checkout's real path and the model
name) together with the stat signature (type, size, mtime_ns, inode, ctime_ns)
of every file it read and the listing of ``models/NAME/`` and of each folder in
it. The next load in any process re-stats those files and re-lists those
folders, as git's index and Python's ``__pycache__`` do, and uses the saved
facts only if nothing changed; an edited record, a new version folder, a new
``.dvc`` file or a symlink anywhere there means a full resolution (which saves
the facts again). Files changed within a few seconds of the save are "racily
clean" (git's term: a coarse timestamp may not move on a second edit), so their
sha256 is saved too and checked. The saved JSON is our own, but it is read as
untrusted input: names, versions, stages, aliases, md5s, paths and formats are
checked with the same cheap checks as the website's JSON, and anything odd
means a full resolution. Only successful resolutions of a registry whose
``registry.yaml`` and model records all parse are saved; errors always come
from the full path, with their file and line.

Example:
    >>> registry = locate("/srv/registry")                      # doctest: +SKIP
    >>> registry.resolve(ModelUri.parse("models:/churn@champion")).version  # doctest: +SKIP
    3
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

from .cache import MD5_PATTERN, RESOLVED_DIR, ArtifactCache
from .errors import (
    ArtifactError,
    GitError,
    InvalidName,
    InvalidRegistry,
    ModelNotFound,
    OfflineMiss,
    RegistryError,
    UsageError,
    VersionNotFound,
)
from .fetch import DvcSource
from .paths import MODEL_FILE, MODELS_DIR, POLICY_FILE, VERSION_FILE, atomic_write, safe_join
from .uri import ModelUri, check_alias, check_model_name, check_stage_name, check_version

if TYPE_CHECKING:  # the store (and so pydantic and yaml) is imported only for a full resolution
    from .store import FileEntry, RegistryIndex, Source

log = logging.getLogger(__name__)

REGISTRY_ENV = "REGISTRY_GEN_URI"
OFFLINE_ENV = "REGISTRY_GEN_OFFLINE"
HTTP_TIMEOUT_S = 30.0
API_FORMAT = 1
RESOLUTION_FORMAT = 1
# A file changed within this long before its resolution was saved may change again
# without its (coarse) timestamps changing: such files are also checked by content.
RACY_NS = 3_000_000_000
KNOWN_FORMATS = frozenset(
    {"skops", "joblib", "pickle", "onnx", "pytorch", "safetensors", "mlflow", "path"}
)
_REV_PATTERN = re.compile(r"^[A-Za-z0-9._/@{}^~+-]{1,200}$")
_SHA_PATTERN = re.compile(r"^[0-9a-f]{40}$")


def offline_mode() -> bool:
    """Whether ``REGISTRY_GEN_OFFLINE`` asks for cache-only loads."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ResolvedArtifact:
    """What one URI resolved to, once: the exact version and the md5 of its bytes."""

    uri: ModelUri  # as asked for
    name: str
    version: int
    stage: str
    md5: str
    path: str  # the artifact, relative to the registry root (POSIX)
    format: str
    trusted_types: tuple[str, ...]
    size: int | None
    source: DvcSource
    registry: str  # where it was resolved, for messages

    @property
    def exact_uri(self) -> ModelUri:
        return ModelUri.for_version(self.name, self.version)

    @property
    def filename(self) -> str:
        return PurePosixPath(self.path).name


class Registry(Protocol):
    """A registry that can resolve a URI (a checkout, a git URL, a website)."""

    label: str

    def resolve(self, uri: ModelUri) -> ResolvedArtifact: ...


# ---------------------------------------------------------------------------
# Choosing where the registry is


def locate(
    registry: str | Path | None = None, *, cache: ArtifactCache | None = None,
    offline: bool | None = None,
) -> Registry:
    """The registry named by ``registry``, ``REGISTRY_GEN_URI`` or the current git repository."""
    cache = cache or ArtifactCache()
    offline = offline_mode() if offline is None else offline
    if registry is None:
        registry = os.environ.get(REGISTRY_ENV) or None
    if registry is None:
        return LocalRegistry(_enclosing_repository(Path.cwd()), cache=cache)
    if isinstance(registry, Path):
        if registry.name.endswith(".git") or _is_bare_repository(registry):
            return GitRegistry(str(registry), None, cache=cache, offline=offline)
        return LocalRegistry(registry, cache=cache)
    kind, where, rev = parse_location(registry)
    if kind == "site":
        return SiteRegistry(where, cache=cache, offline=offline)
    if kind == "git":
        return GitRegistry(where, rev, cache=cache, offline=offline)
    return LocalRegistry(Path(where), cache=cache)


def parse_location(text: str) -> tuple[str, str, str | None]:
    """Classify a registry location as ``("local", path, None)``, ``("git", url, rev)``
    or ``("site", base_url, None)`` (see the module docstring for the syntax).

    >>> parse_location("git+https://host/org/reg.git@v2")
    ('git', 'https://host/org/reg.git', 'v2')
    >>> parse_location("https://org.github.io/registry/")
    ('site', 'https://org.github.io/registry/', None)
    """
    if not isinstance(text, str) or not text.strip():
        raise UsageError("the registry location is empty")
    text = text.strip()
    rev: str | None = None
    forced_git = text.startswith("git+")
    if forced_git:
        text = text[len("git+"):]
    if "#" in text:
        text, _, rev = text.partition("#")
        forced_git = True
    elif forced_git:
        head, sep, tail = text.rpartition("/")
        if "@" in tail:
            name, _, rev = tail.rpartition("@")
            text = f"{head}{sep}{name}"
    if rev is not None:
        _check_rev(rev)
    lowered = text.lower()
    if forced_git:
        return "git", text, rev
    if lowered.startswith(("http://", "https://")):
        if lowered.rstrip("/").endswith(".git"):
            return "git", text, None
        return "site", text if text.endswith("/") else text + "/", None
    if lowered.startswith(("ssh://", "git://", "file://")) or re.match(r"^[\w.-]+@[\w.-]+:", text):
        return "git", text, None
    path = Path(text).expanduser()
    if text.rstrip("/").endswith(".git") or _is_bare_repository(path):
        return "git", str(path), None
    return "local", str(path), None


def _check_rev(rev: str) -> str:
    if not _REV_PATTERN.match(rev) or rev.startswith("-") or ".." in rev:
        raise UsageError(f"{rev!r} is not a git revision (a branch, tag or commit)")
    return rev


def _is_bare_repository(path: Path) -> bool:
    return ((path / "HEAD").is_file() and (path / "objects").is_dir()
            and not (path / ".git").exists())


def _enclosing_repository(start: Path) -> Path:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    raise UsageError(
        f"no registry given and {start} is not inside a git repository; pass registry=..., "
        f"set {REGISTRY_ENV}, or run from a registry checkout"
    )


# ---------------------------------------------------------------------------
# A local checkout


class LocalRegistry:
    """A registry checkout on disk, read as it is (uncommitted edits included).

    With a ``cache``, resolutions are saved and reused while the files they
    read are unchanged (see "Resolving a checkout again" in the module doc).
    """

    def __init__(self, root: Path, *, cache: ArtifactCache | None = None) -> None:
        self.root = root.expanduser().resolve()
        self.label = str(self.root)
        self.cache = cache
        if not (self.root / POLICY_FILE).is_file() and not (self.root / MODELS_DIR).is_dir():
            raise UsageError(
                f"{self.root} is not a registry: it has no {POLICY_FILE} "
                f"and no {MODELS_DIR}/ folder"
            )

    def resolve(self, uri: ModelUri) -> ResolvedArtifact:
        saved = SavedResolution(self.cache, self.root, uri.name) if self.cache else None
        if saved is not None:
            hit = saved.resolve(uri, self.label)
            if hit is not None:
                return hit
        scan = scan_model_folder(self.root, uri.name)  # stat before reading: see SavedResolution
        if scan is None:
            raise ModelNotFound(f"no registered model named {uri.name!r} in {self.label}")
        from .store import WorkingTree

        source = _RecordingSource(WorkingTree(self.root))
        index = _build_index(source, scan.entries(), uri)
        resolved = _resolved_from(index, uri, self.label, DvcSource(repo_root=self.root))
        if saved is not None:
            saved.save(index, scan, source.blobs)
        return resolved


def _reads(rel: str) -> bool:
    """Whether the index reads ``rel`` (the rule of :func:`registry_gen.store.build_index`)."""
    parts = rel.split("/")
    return (parts == [POLICY_FILE] or (len(parts) == 3 and parts[2] == MODEL_FILE)
            or (len(parts) == 4 and (parts[3] == VERSION_FILE or parts[3].endswith(".dvc"))))


Signature = tuple[int, int, int, int, int]  # (mode, size, mtime_ns, inode, ctime_ns)


def _signature(info: os.stat_result) -> Signature:
    return (info.st_mode, info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns)


def _listing(folder: str) -> list[str]:
    """A folder's entries, sorted, with ``/`` after folders and ``@`` after symlinks."""
    with os.scandir(folder) as entries:
        return sorted(e.name + ("@" if e.is_symlink() else "/" if e.is_dir() else "")
                      for e in entries)


@dataclass
class FolderScan:
    """``registry.yaml`` and ``models/NAME/`` as listed (and stat'ed) before being read."""

    files: list[tuple[str, os.stat_result]]  # every file, at any depth (lstat)
    listings: dict[str, list[str]]  # models/NAME and each folder in it
    symlinks: bool = False

    def entries(self) -> list[FileEntry]:
        from .store import GIT_SYMLINK_MODE, FileEntry

        found = []
        for rel, info in self.files:
            if stat.S_ISLNK(info.st_mode):
                mode = GIT_SYMLINK_MODE
            else:
                mode = 0o100755 if info.st_mode & stat.S_IXUSR else 0o100644
            found.append(FileEntry(rel, mode, info.st_size))
        return found

    def signatures(self) -> dict[str, Signature | None]:
        """The signature of every file the index reads (``registry.yaml``: None if absent)."""
        read: dict[str, Signature | None] = {POLICY_FILE: None}
        read.update({rel: _signature(info) for rel, info in self.files if _reads(rel)})
        return read


def scan_model_folder(root: Path, name: str) -> FolderScan | None:
    """List and lstat ``registry.yaml`` and ``models/NAME/``; None if there is no such folder."""
    folder = safe_join(root, MODELS_DIR, check_model_name(name))  # refuses a symlinked folder
    if not folder.is_dir():
        return None
    scan = FolderScan([], {})
    policy = root / POLICY_FILE
    if policy.exists() or policy.is_symlink():
        scan.files.append((POLICY_FILE, policy.lstat()))
    base = f"{MODELS_DIR}/{name}"
    for current, dirs, files in os.walk(folder):
        rel = Path(current).relative_to(root).as_posix()
        if rel.count("/") <= 2:  # models/NAME and models/NAME/VERSION: what the index reads
            scan.listings[rel] = _listing(current)
        for sub in dirs:  # symlinked folders are listed (never followed), as files
            if Path(current, sub).is_symlink():
                scan.files.append((f"{rel}/{sub}", Path(current, sub).lstat()))
        scan.files.extend((f"{rel}/{file}", Path(current, file).lstat()) for file in files)
    scan.symlinks = any(stat.S_ISLNK(info.st_mode) for _, info in scan.files) or any(
        n.endswith("@") for names in scan.listings.values() for n in names)
    scan.files.sort(key=lambda item: item[0])
    return scan if base in scan.listings else None  # None: the folder vanished meanwhile


class _RecordingSource:
    """A source that keeps the bytes it read, so the saved resolution can hash them."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.label = source.label
        self.blobs: dict[str, bytes] = {}

    def list_files(self) -> list[FileEntry]:
        return self.source.list_files()

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        out = self.source.read_many(paths)
        self.blobs.update(out)
        return out


@dataclass
class SavedResolution:
    """The saved resolution of one model of one checkout (see the module doc).

    >>> saved = SavedResolution(ArtifactCache(), Path("/srv/registry"), "churn")  # doctest: +SKIP
    >>> saved.resolve(ModelUri.parse("models:/churn/Production"), "/srv/registry")  # doctest: +SKIP
    """

    cache: ArtifactCache
    root: Path  # resolved (real) path
    name: str
    file: Path = field(init=False)

    def __post_init__(self) -> None:
        key = hashlib.sha256(f"{self.root}\0{self.name}".encode()).hexdigest()[:32]
        self.file = self.cache.root / RESOLVED_DIR / f"{key}.json"

    def resolve(self, uri: ModelUri, label: str) -> ResolvedArtifact | None:
        """What ``uri`` resolves to if the saved facts are still those of the files, else None."""
        try:
            data = json.loads(self.file.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            log.debug("ignoring the saved resolution %s: %s", self.file, error)
            return None
        try:
            if not self._still_valid(data):
                return None
            return _pick_saved(data, uri, self.name, self.root, label)
        except (RegistryError, ValueError, TypeError, KeyError, AttributeError, OSError) as error:
            # Anything unexpected: the full resolution decides (and reports errors properly).
            log.debug("not using the saved resolution %s: %s", self.file, error)
            return None

    def _still_valid(self, data: Any) -> bool:
        if (not isinstance(data, dict) or data.get("format") != RESOLUTION_FORMAT
                or data.get("root") != str(self.root) or data.get("name") != self.name):
            return False
        root = os.fspath(self.root)
        files, contents, listings = data["files"], data["contents"], data["listings"]
        if not isinstance(files, dict) or not isinstance(contents, dict) or not isinstance(
                listings, dict) or f"{MODELS_DIR}/{self.name}" not in listings:
            return False
        for rel, names in listings.items():
            self._check_rel(rel)
            try:
                if _listing(os.path.join(root, rel)) != names:  # noqa: PTH118
                    return False
            except OSError:
                return False
        for rel, saved in files.items():
            self._check_rel(rel)
            full = os.path.join(root, rel)  # noqa: PTH118
            try:
                info = os.lstat(full)
            except FileNotFoundError:
                if saved is None:
                    continue
                return False
            if saved is None or list(_signature(info)) != saved:
                return False
            if rel in contents:  # racily clean: compare the bytes too
                with open(full, "rb") as handle:  # noqa: PTH123
                    if hashlib.sha256(handle.read()).hexdigest() != contents[rel]:
                        return False
        return True

    def _check_rel(self, rel: Any) -> None:
        """A saved path must be registry.yaml or inside models/NAME/, with no way out."""
        if not isinstance(rel, str) or not (
                rel == POLICY_FILE or rel == f"{MODELS_DIR}/{self.name}"
                or rel.startswith(f"{MODELS_DIR}/{self.name}/")):
            raise ValueError(f"unexpected path {rel!r}")
        parts = rel.split("/")
        if ("\\" in rel or len(parts) > 4 or any(p in {"", ".", ".."} for p in parts)
                or any(ord(c) < 32 for c in rel)):
            raise ValueError(f"unsafe path {rel!r}")

    def save(self, index: RegistryIndex, scan: FolderScan, blobs: dict[str, bytes]) -> None:
        """Save what a full resolution found, if it can be reused safely."""
        model = index.models.get(self.name)
        if index.errors or model is None or scan.symlinks:
            return  # errors are reported by the full path, with their file and line
        signatures = scan.signatures()
        if any(rel not in blobs for rel, sig in signatures.items() if sig is not None):
            return  # a file vanished between listing and reading: nothing stable to save
        racy_after = time.time_ns() - RACY_NS
        contents = {rel: hashlib.sha256(blobs[rel]).hexdigest()
                    for rel, sig in signatures.items()
                    if sig is not None and max(sig[2], sig[4]) >= racy_after}
        versions = {}
        for version in model.versions:
            pointer = version.pointer
            versions[str(version.version)] = {
                "stage": version.stage, "md5": pointer.md5 if pointer else None,
                "path": version.artifact_path, "format": version.record.artifact.format,
                "trusted_types": list(version.record.artifact.trusted_types),
                "size": pointer.size if pointer else None,
                "remote": pointer.remote if pointer else None,
                "legacy": pointer.hash != "md5" if pointer else False,
            }
        data = {
            "format": RESOLUTION_FORMAT, "root": str(self.root), "name": self.name,
            "files": signatures, "contents": contents, "listings": scan.listings,
            "stages": list(index.policy.stages), "aliases": dict(model.aliases),
            "versions": versions,
        }
        try:
            self.cache.ensure()
            self.file.parent.mkdir(mode=0o700, exist_ok=True)
            atomic_write(self.file, json.dumps(data, indent=1))
        except OSError as error:  # a read-only cache: loads still work, just slower
            log.debug("could not save the resolution %s: %s", self.file, error)


def _pick_saved(
    data: dict[str, Any], uri: ModelUri, name: str, root: Path, label: str,
) -> ResolvedArtifact | None:
    """Resolve ``uri`` from saved facts, checked as untrusted input; None on any doubt."""
    stages = [check_stage_name(s) for s in _list_of(data["stages"], str, "stages")]
    raw_versions = data["versions"]
    raw_aliases = data["aliases"]
    if not isinstance(raw_versions, dict) or not isinstance(raw_aliases, dict):
        return None
    versions = {check_version(n): v for n, v in raw_versions.items()}
    if not all(isinstance(v, dict) for v in versions.values()):
        return None
    aliases = {check_alias(a): check_version(n) for a, n in raw_aliases.items()}
    try:
        chosen = pick_version(uri, {n: check_stage_name(v["stage"]) for n, v in versions.items()},
                              aliases, stages)
    except VersionNotFound:
        return None  # the full resolution raises it, with the store's exact message
    entry = versions[chosen]
    if entry.get("md5") is None:
        return None  # no .dvc pointer: the full resolution explains
    artifact = _site_artifact(entry, name, chosen, "the saved resolution")
    remote, legacy = entry.get("remote"), entry.get("legacy")
    if not (remote is None or (isinstance(remote, str) and 0 < len(remote) <= 200)):
        return None
    if not isinstance(legacy, bool):
        return None
    return ResolvedArtifact(
        uri=uri, name=name, version=chosen, stage=str(entry["stage"]), md5=artifact["md5"],
        path=artifact["path"], format=artifact["format"],
        trusted_types=tuple(artifact["trusted_types"]), size=artifact["size"],
        source=DvcSource(repo_root=root, remote=remote, legacy=legacy), registry=label,
    )


def _build_index(source: Source, files: list[FileEntry] | None, uri: ModelUri) -> RegistryIndex:
    from .store import build_index

    index = build_index(source, files)
    if uri.name not in index.broken and index.errors:
        raise InvalidRegistry(list(index.errors))
    return index


def _resolved_from(
    index: RegistryIndex, uri: ModelUri, label: str, dvc: DvcSource,
) -> ResolvedArtifact:
    version = index.resolve(uri)
    record = version.record
    if version.pointer is None:
        raise ArtifactError(
            f"{version.artifact_path}.dvc is missing in {label}: the artifact of "
            f"{version.uri} is not tracked by DVC"
        )
    pointer = version.pointer
    source_for_version = DvcSource(
        repo_root=dvc.repo_root, rev=dvc.rev, remote=pointer.remote,
        legacy=pointer.hash != "md5",
    )
    return ResolvedArtifact(
        uri=uri, name=version.name, version=version.version, stage=version.stage,
        md5=pointer.md5, path=version.artifact_path, format=record.artifact.format,
        trusted_types=tuple(record.artifact.trusted_types), size=pointer.size,
        source=source_for_version, registry=label,
    )


def _resolve_in_source(
    source: Source, uri: ModelUri, label: str, dvc: DvcSource,
    files: list[FileEntry] | None = None,
) -> ResolvedArtifact:
    return _resolved_from(_build_index(source, files, uri), uri, label, dvc)


# ---------------------------------------------------------------------------
# A git URL at a revision


class GitRegistry:
    """A registry in a git repository reached by URL, cloned into the cache and reused."""

    def __init__(
        self, url: str, rev: str | None, *, cache: ArtifactCache, offline: bool = False,
    ) -> None:
        self.url = url
        self.rev = rev
        self.cache = cache
        self.offline = offline
        self.label = f"{url}#{rev}" if rev else url

    @property
    def clone_dir(self) -> Path:
        key = hashlib.sha256(self.url.encode()).hexdigest()[:24]
        return self.cache.root / "git" / key

    def commit(self) -> str:
        """Clone or fetch as needed, and return the commit the revision names now."""
        from filelock import FileLock

        self.cache.ensure()
        clone = self.clone_dir
        with FileLock(str(self.cache.root / "locks" / f"git-{clone.name}.lock"), timeout=600):
            fresh = False
            if not (clone / ".git").is_dir():
                if self.offline:
                    raise OfflineMiss(
                        f"offline mode: {self.url} has not been cloned into the cache")
                self._clone(clone)
                fresh = True
            if self.rev is not None and _SHA_PATTERN.match(self.rev) and self._has(self.rev):
                return self.rev
            if not fresh and not self.offline:
                _git(clone, "fetch", "--quiet", "--prune", "--tags", "--force", "origin",
                     "+refs/heads/*:refs/remotes/origin/*")
            return self._rev_parse()

    def _clone(self, clone: Path) -> None:
        import shutil
        import tempfile

        clone.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=clone.parent, prefix=f".{clone.name}."))
        try:
            log.info("cloning %s into %s", self.url, clone)
            _git(tmp, "clone", "--quiet", "--no-checkout", "--", self.url, str(tmp / "repo"))
            shutil.rmtree(clone, ignore_errors=True)
            (tmp / "repo").replace(clone)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _has(self, rev: str) -> bool:
        return _git(self.clone_dir, "cat-file", "-e", f"{rev}^{{commit}}", check=False) is not None

    def _rev_parse(self) -> str:
        candidates = ["refs/remotes/origin/HEAD", "HEAD"] if self.rev is None else [
            f"refs/remotes/origin/{self.rev}", f"refs/tags/{self.rev}", self.rev]
        for candidate in candidates:
            out = _git(self.clone_dir, "rev-parse", "--verify", "--quiet", "--end-of-options",
                       f"{candidate}^{{commit}}", check=False)
            if out:
                return out.strip()
        raise GitError(f"{self.rev!r} is not a branch, tag or commit of {self.url}")

    def resolve(self, uri: ModelUri) -> ResolvedArtifact:
        from .store import GitRevision

        commit = self.commit()
        source = GitRevision(self.clone_dir, commit)
        prefix = f"{MODELS_DIR}/{uri.name}/"
        files = [e for e in source.list_files()
                 if e.path == POLICY_FILE or e.path.startswith(prefix)]
        if not any(e.path.startswith(prefix) for e in files):
            raise ModelNotFound(f"no registered model named {uri.name!r} in {self.label}")
        label = f"{self.url}@{commit[:10]}"
        dvc = DvcSource(repo_root=self.clone_dir, rev=commit)
        return _resolve_in_source(source, uri, label, dvc, files)


def _git(cwd: Path, *args: str, check: bool = True) -> str | None:
    import subprocess

    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env,
                            check=False)
    if result.returncode != 0:
        if not check:
            return None
        raise GitError(f"git {args[0]} failed: {result.stderr.strip()}")
    return result.stdout


# ---------------------------------------------------------------------------
# The published website's JSON API


class SiteRegistry:
    """A registry read from its published website's static JSON API (``api/*.json``)."""

    def __init__(self, base_url: str, *, cache: ArtifactCache, offline: bool = False) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.cache = cache
        self.offline = offline
        self.label = self.base_url
        self.revalidated: list[str] = []  # URLs answered 304 Not Modified (for tests/logs)

    def resolve(self, uri: ModelUri) -> ResolvedArtifact:
        index = self._get_json("api/index.json")
        _expect_format(index, "api/index.json")
        stages = [check_stage_name(s) for s in _list_of(index.get("stages", []), str, "stages")]
        models = index.get("models")
        if not isinstance(models, dict):
            raise ArtifactError(f"{self.label}api/index.json has no 'models' mapping")
        if uri.name not in models:
            raise ModelNotFound(f"no registered model named {uri.name!r} on {self.label}")
        remote = index.get("dvc_remote")
        if not isinstance(remote, dict) or not isinstance(remote.get("url"), str):
            raise ArtifactError(f"{self.label}api/index.json names no DVC remote to fetch from")
        document = f"api/models/{uri.name}.json"
        model = self._get_json(document)
        _expect_format(model, document)
        if model.get("name") != uri.name:
            raise ArtifactError(f"{self.label}{document} describes {model.get('name')!r}")
        versions = [_site_version(v, document)
                    for v in _list_of(model.get("versions"), dict, document)]
        aliases = model.get("aliases", {})
        if not isinstance(aliases, dict):
            raise ArtifactError(f"{self.label}{document}: 'aliases' is not a mapping")
        checked_aliases = {check_alias(a): check_version(v) for a, v in aliases.items()}
        chosen = pick_version(uri, {v["version"]: v["stage"] for v in versions},
                              checked_aliases, stages)
        version = next(v for v in versions if v["version"] == chosen)
        artifact = _site_artifact(version["artifact"], uri.name, chosen, document)
        return ResolvedArtifact(
            uri=uri, name=uri.name, version=chosen, stage=version["stage"],
            md5=artifact["md5"], path=artifact["path"], format=artifact["format"],
            trusted_types=tuple(artifact["trusted_types"]), size=artifact["size"],
            source=DvcSource(url=remote["url"]), registry=self.label,
        )

    def _get_json(self, relative: str) -> dict[str, Any]:
        url = self.base_url + relative
        body = self._get(url)
        try:
            data = json.loads(body)
        except ValueError as error:
            raise ArtifactError(f"{url} is not JSON: {error}") from None
        if not isinstance(data, dict):
            raise ArtifactError(f"{url} is not a JSON object")
        return data

    def _get(self, url: str) -> bytes:
        """GET ``url`` through the response cache, revalidating with the saved validators."""
        import urllib.error
        import urllib.request

        saved_file = self.cache.root / "http" / (hashlib.sha256(url.encode()).hexdigest() + ".json")
        saved: dict[str, Any] | None = None
        if saved_file.is_file():
            try:
                saved = json.loads(saved_file.read_text(encoding="utf-8"))
            except ValueError:
                saved = None
        if self.offline:
            if saved is None:
                raise OfflineMiss(f"offline mode: {url} is not in the cache")
            return str(saved["body"]).encode("utf-8")
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
        if saved is not None:
            if saved.get("etag"):
                request.add_header("If-None-Match", saved["etag"])
            if saved.get("last_modified"):
                request.add_header("If-Modified-Since", saved["last_modified"])
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:  # noqa: S310
                body: bytes = response.read()
                headers = response.headers
        except urllib.error.HTTPError as error:
            if error.code == 304 and saved is not None:
                log.info("%s not modified (304)", url)
                self.revalidated.append(url)
                return str(saved["body"]).encode("utf-8")
            if error.code == 404:
                raise ModelNotFound(f"{url} does not exist (404)") from None
            raise ArtifactError(f"GET {url} failed: HTTP {error.code} {error.reason}") from None
        except (urllib.error.URLError, OSError) as error:
            raise ArtifactError(f"GET {url} failed: {error}") from None
        record = {"url": url, "etag": headers.get("ETag"),
                  "last_modified": headers.get("Last-Modified"),
                  "body": body.decode("utf-8", errors="strict")}
        self.cache.ensure()
        saved_file.parent.mkdir(mode=0o700, exist_ok=True)
        atomic_write(saved_file, json.dumps(record))
        return body


def _expect_format(data: dict[str, Any], where: str) -> None:
    if data.get("format") != API_FORMAT:
        raise ArtifactError(
            f"{where} has format {data.get('format')!r}; this registry-gen reads format "
            f"{API_FORMAT}: upgrade registry-gen"
        )


def _list_of(value: Any, kind: type, where: str) -> list[Any]:
    if not isinstance(value, list) or not all(isinstance(v, kind) for v in value):
        raise ArtifactError(f"{where}: expected a list of {kind.__name__}")
    return value


def _site_version(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """One version entry of api/models/NAME.json, checked as the untrusted input it is."""
    try:
        version = check_version(raw.get("version"))  # type: ignore[arg-type]
        stage = check_stage_name(raw.get("stage"))  # type: ignore[arg-type]
    except InvalidName as error:
        raise ArtifactError(f"{where}: {error}") from None
    return {"version": version, "stage": stage, "artifact": raw.get("artifact")}


def _site_artifact(artifact: Any, name: str, version: int, where: str) -> dict[str, Any]:
    """The chosen version's artifact entry, checked: path, format, md5, size, trusted types."""
    if not isinstance(artifact, dict):
        raise ArtifactError(f"{where}: version {version} has no artifact")
    path, fmt, md5 = artifact.get("path"), artifact.get("format"), artifact.get("md5")
    folder = f"{MODELS_DIR}/{name}/{version}/"
    if not isinstance(path, str) or not path.startswith(folder) or len(path) > 600:
        raise ArtifactError(
            f"{where}: version {version}'s artifact path {path!r} is not under {folder}")
    parts = PurePosixPath(path).parts
    if "\\" in path or any(p in {"", ".", ".."} for p in parts) or any(ord(c) < 32 for c in path):
        raise ArtifactError(f"{where}: unsafe artifact path {path!r}")
    if fmt not in KNOWN_FORMATS:
        raise ArtifactError(f"{where}: version {version} has unknown artifact format {fmt!r}")
    if not isinstance(md5, str) or not MD5_PATTERN.match(md5):
        raise ArtifactError(
            f"{where}: version {version} has no valid md5 (is its artifact tracked by DVC?)")
    size = artifact.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise ArtifactError(f"{where}: version {version} has an invalid size")
    trusted = _list_of(artifact.get("trusted_types", []), str, f"{where} trusted_types")
    return {"path": path, "format": fmt, "md5": md5, "size": size, "trusted_types": trusted}


def pick_version(
    uri: ModelUri, versions: dict[int, str], aliases: dict[str, int], stages: list[str],
) -> int:
    """The version number ``uri`` names, given each version's stage and the aliases.

    >>> pick_version(ModelUri.parse("models:/m/production"), {1: "Production", 2: "None"},
    ...              {}, ["None", "Production"])
    1
    """
    if not versions:
        raise VersionNotFound(f"{uri.name} has no versions yet")
    if uri.version is not None:
        if uri.version not in versions:
            raise VersionNotFound(f"{uri.name} has no version {uri.version}")
        return uri.version
    if uri.latest:
        return max(versions)
    if uri.alias is not None:
        if uri.alias not in aliases:
            known = ", ".join(f"@{a}" for a in sorted(aliases)) or "none"
            raise VersionNotFound(f"{uri.name} has no alias {uri.alias!r}; its aliases: {known}")
        if aliases[uri.alias] not in versions:
            raise VersionNotFound(
                f"{uri.name}@{uri.alias} points to missing version {aliases[uri.alias]}")
        return aliases[uri.alias]
    assert uri.stage is not None
    folded = uri.stage.casefold()
    stage = next((s for s in stages if s.casefold() == folded), None)
    if stage is None:
        raise VersionNotFound(
            f"{uri.stage!r} is not a stage of this registry; stages: {', '.join(stages)}")
    holders = [n for n, s in versions.items() if s == stage]
    if not holders:
        raise VersionNotFound(f"{uri.name} has no version in {stage}")
    return max(holders)

