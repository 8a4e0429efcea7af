"""Reading a DVC remote's objects without DVC: the reader's side of the remote.

DVC writes a remote in a content-addressed layout (DVC 3: ``REMOTE/files/md5/ab/cdef…``,
a folder's ``.dir`` manifest a JSON list of ``{"md5", "relpath"}`` stored the same way;
DVC 2: ``REMOTE/ab/cdef…``). Reading it needs no DVC, only the remote's filesystem:

=====================  =================================================================
``/path``, ``file://``  the local disk (:class:`LocalFs`)
``http(s)://``          :class:`registry_gen._http_remote.HttpRemoteFs` (credentials only
                        for the remote's own host, never a redirect off it)
``s3://``               s3fs (extra ``s3``), with DVC's options: ``endpointurl``,
                        ``region``, ``profile``, ``access_key_id``/``secret_access_key``
``gs://``               gcsfs (extra ``gcs``): ``projectname``, ``credentialpath``
``azure://``            adlfs (extra ``azure``): ``account_name``, ``account_key``, …
a folder in git         a relative local remote of a git URL's revision, read from the git
                        objects (:class:`GitTreeFs`; ``registry-gen init``'s ``dvc-remote/``)
=====================  =================================================================

Every filesystem offers the same two calls (:class:`ObjectFs`): ``join`` and
``open_at`` (a stream from a byte offset, for resuming; it says where it really
starts when the filesystem cannot seek). DVC is never imported here:
the reader install has none. Which remote (and with which options) comes from the
registry's base configuration (:func:`registry_gen._dvc.base_remote`) or, for the
published site, from its JSON API (:class:`registry_gen._dvc.DvcSource`'s ``url``).

Example:
    >>> remote = open_remote(DvcSource(url="/srv/dvc-store"))  # doctest: +SKIP
    >>> remote.candidates("d41d8cd98f00b204e9800998ecf8427e", legacy=False)  # doctest: +SKIP
    ['/srv/dvc-store/files/md5/d4/1d8cd98f00b204e9800998ecf8427e', '/srv/dvc-store/d4/1d…']
"""

from __future__ import annotations

import io
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ._dvc import DVC_DIR, BaseRemote, DvcSource, base_remote, check_same_remote
from ._manifest import object_paths
from .errors import ArtifactError, MissingExtra

__all__ = ["GitTreeFs", "LocalFs", "ObjectFs", "RemoteFs", "Stream", "open_remote"]


class Stream(Protocol):
    """A readable, closable byte stream (a file, an HTTP response, a pipe)."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes; ``b""`` at the end."""
        ...

    def close(self) -> None:
        """Release the stream."""
        ...


class ObjectFs(Protocol):
    """What the fetcher needs of a remote's filesystem."""

    def join(self, *parts: str) -> str:
        """``parts`` joined with the filesystem's separator."""
        ...

    def open_at(self, path: str, offset: int) -> tuple[Stream, int]:
        """A stream of ``path`` from ``offset`` (or from the returned offset, 0 if it cannot seek).

        Raises:
            FileNotFoundError: no such object. OSError: any other failure.
        """
        ...


@dataclass(frozen=True)
class RemoteFs:
    """An opened remote: its filesystem, the remote's root in it, and a label for messages."""

    fs: ObjectFs
    path: str
    label: str
    modern_only: bool = False  # a registry's own config: DVC 3 layout unless the pointer is old

    def candidates(self, md5: str, *, legacy: bool) -> list[str]:
        """Where DVC keeps ``md5``: ``files/md5/ab/cd…`` (DVC 3), else ``ab/cd…`` (DVC 2)."""
        modern, old = (self.fs.join(self.path, *p.split("/")) for p in object_paths(md5))
        if legacy:
            return [old]
        return [modern] if self.modern_only else [modern, old]


class LocalFs:
    """A remote that is a folder on this machine."""

    def join(self, *parts: str) -> str:
        """``parts`` joined as a local path."""
        return str(Path(*parts))

    def open_at(self, path: str, offset: int) -> tuple[Stream, int]:
        """The file, positioned at ``offset``."""
        handle = Path(path).open("rb")  # noqa: SIM115 - the caller closes the stream
        handle.seek(offset)
        return handle, offset


class GitTreeFs:
    """A remote folder committed into the registry, read from git objects at ``rev``.

    ``registry-gen init``'s trial default keeps the DVC remote in the repository
    (``dvc-remote/``): a git URL's clone has no checkout, so its objects are blobs.
    """

    def __init__(self, repo: Path, rev: str) -> None:
        self.repo = repo
        self.rev = rev

    def join(self, *parts: str) -> str:
        """``parts`` joined as a path in the git tree."""
        return posixpath.join(*parts)

    def open_at(self, path: str, offset: int) -> tuple[Stream, int]:
        """The blob's bytes from ``offset``.

        Read whole through the one git edge (``cat-file blob``): a folder committed
        into the repository holds only small artifacts (``register`` refuses big ones).
        """
        from . import _git

        data = _git.run_bytes(
            self.repo, "cat-file", "blob", f"{self.rev}:{path}", check=False, top_level=True
        )
        if data is None:
            raise FileNotFoundError(path)
        stream = io.BytesIO(data)
        stream.seek(offset)
        return stream, offset


class FsspecFs:
    """An fsspec filesystem (s3fs, gcsfs, adlfs); a seek is a ranged read there."""

    def __init__(self, fs: Any) -> None:
        self.fs = fs

    def join(self, *parts: str) -> str:
        """``parts`` joined with ``/``."""
        return posixpath.join(*parts)

    def open_at(self, path: str, offset: int) -> tuple[Stream, int]:
        """The object from ``offset`` (fsspec fetches blocks with ranged GETs)."""
        handle: Any = self.fs.open(path, mode="rb", block_size=8 * 1024 * 1024)
        if offset:
            handle.seek(offset)
        return handle, offset


# ---------------------------------------------------------------------------
# Opening the remote a source names


def open_remote(source: DvcSource) -> RemoteFs:
    """The remote ``source`` names, opened for reading objects.

    A repository's remote is its base configuration's default remote (with
    ``config.local``'s options for a working checkout); a site's is the URL and
    non-secret options its JSON API publishes.

    Raises:
        ArtifactError: no default remote, a revision that configures another remote,
            or a kind of remote the reader cannot read.
        MissingExtra: the remote's filesystem library (extra ``s3``/``gcs``/``azure``) is
            not installed.
    """
    if source.url is not None:
        options = dict(source.options)
        return RemoteFs(_url_fs(source.url, options, site=True), _root(source.url), source.url)
    assert source.repo_root is not None
    base = base_remote(source.repo_root, source.rev)
    url = base.remote.url
    label = f"{base.remote.name!r} ({url})"
    if not _is_http(url):
        check_same_remote(source.repo_root, source.rev, base)
    if "://" not in url:
        return _local_remote(source.repo_root, source.rev, base, label)
    return RemoteFs(_url_fs(url, base.options, site=False), _root(url), label, modern_only=True)


def _local_remote(root: Path, rev: str | None, base: BaseRemote, label: str) -> RemoteFs:
    folder = base.remote.local_folder(root)
    assert folder is not None
    if rev is not None:
        # A relative remote inside the repository lives in the git tree at that revision.
        in_repo = posixpath.normpath(posixpath.join(DVC_DIR, base.remote.url))
        if not Path(base.remote.url).expanduser().is_absolute() and not in_repo.startswith(".."):
            fs = GitTreeFs(root, rev)
            return RemoteFs(fs, in_repo, f"{label} in git at {rev[:10]}", modern_only=True)
    return RemoteFs(LocalFs(), str(folder), label, modern_only=True)


def _is_http(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def _root(url: str) -> str:
    """The remote's root as its filesystem names it (``s3://b/p`` → ``b/p``)."""
    lowered = url.lower()
    if _is_http(url):
        return url
    if "://" not in url:
        return str(Path(url).expanduser())
    if lowered.startswith("file://"):
        return url[len("file://") :]
    return url.split("://", 1)[1].rstrip("/")


def _url_fs(url: str, options: Mapping[str, str], *, site: bool) -> ObjectFs:
    from ._http_remote import HttpRemoteFs, auth_header

    scheme = url.split("://", 1)[0].lower() if "://" in url else "file"
    if scheme in ("http", "https"):
        # A site's remote never gets credentials: none were published, none are guessed.
        return HttpRemoteFs(url, None if site else auth_header(options))
    if scheme == "file":
        return LocalFs()
    if site and scheme == "s3":
        return FsspecFs(_s3(options, site=True))
    opener = _FSSPEC.get(scheme)
    if opener is None:
        raise ArtifactError(
            f"registry-gen reads DVC remotes on a local disk, HTTP(S), S3, GCS and Azure; "
            f"{url} is a {scheme}:// remote: fetch it with `dvc pull` (pip install "
            "'registry-gen[write]' and DVC's plugin for it), or publish the registry's site"
        )
    return FsspecFs(opener(options))


def _require(module: str, extra: str, scheme: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(
            f"reading a {scheme}:// DVC remote needs the {extra} extra: "
            f"pip install 'registry-gen[{extra}]'"
        ) from None


def _s3(options: Mapping[str, str], *, site: bool = False) -> Any:
    s3fs = _require("s3fs", "s3", "s3")
    if site and options.get("endpointurl") and not _own_endpoint(options["endpointurl"]):
        # A site chose this endpoint: botocore would sign for it with the environment's
        # keys (sending the session token in clear). Read it anonymously unless the
        # reader names the same endpoint itself (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL).
        return s3fs.S3FileSystem(
            anon=True,
            client_kwargs={"endpoint_url": options["endpointurl"]},
            skip_instance_cache=True,
        )
    client: dict[str, Any] = {}
    if options.get("endpointurl"):
        client["endpoint_url"] = options["endpointurl"]
    if options.get("region"):
        client["region_name"] = options["region"]
    if options.get("ssl_verify", "").lower() == "false":
        client["verify"] = False
    kwargs: dict[str, Any] = {"client_kwargs": client, "skip_instance_cache": True}
    for dvc_name, s3fs_name in (
        ("access_key_id", "key"),
        ("secret_access_key", "secret"),
        ("session_token", "token"),
        ("profile", "profile"),
    ):
        if options.get(dvc_name):
            kwargs[s3fs_name] = options[dvc_name]
    return s3fs.S3FileSystem(**kwargs)


def _own_endpoint(endpoint: str) -> bool:
    """Whether the reader's own environment names ``endpoint`` as its S3 endpoint."""
    import os

    own = {os.environ.get(k, "").rstrip("/") for k in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")}
    return endpoint.rstrip("/") in own - {""}


def _gcs(options: Mapping[str, str]) -> Any:
    gcsfs = _require("gcsfs", "gcs", "gs")
    kwargs: dict[str, Any] = {"skip_instance_cache": True}
    if options.get("projectname"):
        kwargs["project"] = options["projectname"]
    if options.get("credentialpath"):
        kwargs["token"] = options["credentialpath"]
    return gcsfs.GCSFileSystem(**kwargs)


def _azure(options: Mapping[str, str]) -> Any:
    adlfs = _require("adlfs", "azure", "azure")
    names = (
        "account_name",
        "account_key",
        "connection_string",
        "sas_token",
        "tenant_id",
        "client_id",
        "client_secret",
    )
    kwargs: dict[str, Any] = {n: options[n] for n in names if options.get(n)}
    return adlfs.AzureBlobFileSystem(skip_instance_cache=True, **kwargs)


_FSSPEC = {"s3": _s3, "gs": _gcs, "gcs": _gcs, "azure": _azure, "az": _azure}
