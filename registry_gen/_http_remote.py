"""Reading an HTTP(S) DVC remote: credentials stay with the host they were configured for.

A DVC HTTP remote is read here, with the standard library, rather than through
DVC's HTTP filesystem, because the loader must hold two promises that
filesystem does not make:

* **Credentials go only to the remote's own origin** (scheme, host and port of
  the URL in the registry's base ``.dvc/config``). The ``Authorization`` header
  (Basic auth from ``config.local``'s ``user``/``password``, or its
  ``custom_auth_header``/``password`` pair) is attached to requests for that
  origin only.
* **No redirect leaves that origin.** A redirect to another scheme, host or port
  is refused with :class:`CrossOriginRedirect` before anything is sent there,
  with or without credentials; a redirect within the origin is followed.

An object is read with one streamed ``GET``; to resume a broken download the
fetcher asks for the rest with ``Range: bytes=N-``, and a server that ignores
``Range`` (answers 200, not 206) simply sends the whole object again, which the
fetcher then writes from the start. The loader hashes the bytes on the way into
its cache, as for any remote.

Example:
    >>> fs = HttpRemoteFs("https://dvc.example.org/store", auth=None)
    >>> fs.join("https://dvc.example.org/store", "files", "md5", "ab", "cdef")
    'https://dvc.example.org/store/files/md5/ab/cdef'
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import IO, Any

from .errors import ArtifactError

__all__ = ["CrossOriginRedirect", "HttpRemoteFs", "auth_header", "origin"]

HTTP_TIMEOUT_S = 60.0


class CrossOriginRedirect(ArtifactError):
    """The remote redirected a request to another origin, which the loader never follows."""


class _RangeNotSatisfiable(OSError):
    """416: the resumed download's offset is at or past the object's end."""


def origin(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of ``url``, the unit credentials are bound to.

    >>> origin("https://Dvc.Example.org/store") == origin("https://dvc.example.org:443/x")
    True
    """
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def auth_header(options: Mapping[str, str]) -> tuple[str, str] | None:
    """The ``(header, value)`` DVC's HTTP remote options ask for, or None.

    >>> auth_header({"auth": "basic", "user": "u", "password": "p"})
    ('Authorization', 'Basic dTpw')

    Raises:
        ArtifactError: an ``auth`` method this loader does not implement (``digest``).
    """
    method = options.get("auth", "basic" if options.get("user") else "")
    if not method:
        return None
    if method == "basic":
        token = f"{options.get('user', '')}:{options.get('password', '')}".encode()
        return "Authorization", "Basic " + base64.b64encode(token).decode("ascii")
    if method == "custom" and options.get("custom_auth_header"):
        return options["custom_auth_header"], options.get("password", "")
    raise ArtifactError(
        f"the DVC HTTP remote asks for auth {method!r}, which registry-gen does not send; "
        "use basic or custom auth"
    )


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(  # noqa: PLR0917 - urllib's signature
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if origin(newurl) != origin(req.full_url):
            raise CrossOriginRedirect(
                f"the DVC remote redirected {req.full_url} to another host ({newurl}); "
                "registry-gen never follows a redirect off the remote's own host (nor sends "
                "it credentials): point the registry's .dvc/config at the final URL"
            )
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:  # the same origin: it may see the credentials again
            new.unredirected_hdrs.update(req.unredirected_hdrs)
        return new


class HttpRemoteFs:
    """The small filesystem interface the fetcher needs (``join``, ``open_at``, ``size``)."""

    protocol = "http"

    def __init__(self, base_url: str, auth: tuple[str, str] | None) -> None:
        self.base_url = base_url.rstrip("/")
        self._origin = origin(self.base_url)
        self._auth = auth
        self._opener = urllib.request.build_opener(_SameOriginRedirects())

    def join(self, *parts: str) -> str:
        """``parts`` joined with ``/``."""
        return "/".join(p.strip("/") if i else p.rstrip("/") for i, p in enumerate(parts))

    def _request(self, url: str, method: str, offset: int = 0) -> Any:
        if origin(url) != self._origin:  # never: paths are built from base_url
            raise CrossOriginRedirect(f"refusing to read {url} outside the remote {self.base_url}")
        request = urllib.request.Request(url, method=method)  # noqa: S310 - http(s) only
        if offset:
            request.add_header("Range", f"bytes={offset}-")
        if self._auth is not None:
            # Unredirected: only _SameOriginRedirects may copy it onto a redirect.
            request.add_unredirected_header(*self._auth)
        try:
            return self._opener.open(request, timeout=HTTP_TIMEOUT_S)
        except urllib.error.HTTPError as error:
            error.close()
            if error.code == 404:
                raise FileNotFoundError(url) from None
            if error.code == 416 and offset:
                raise _RangeNotSatisfiable(url) from None
            raise OSError(f"HTTP {error.code} {error.reason}") from None
        except urllib.error.URLError as error:
            raise OSError(str(error.reason)) from None

    def open(self, path: str, mode: str = "rb") -> IO[bytes]:
        """The response body of ``GET path``, streamed.

        Raises:
            FileNotFoundError: 404. OSError: any other failure. CrossOriginRedirect.
        """
        if mode != "rb":
            raise ValueError("an HTTP remote is read-only")
        response: IO[bytes] = self._request(path, "GET")
        return response

    def open_at(self, path: str, offset: int) -> tuple[IO[bytes], int]:
        """The body of ``GET path`` from ``offset``, and where it really starts.

        The start is ``offset`` when the server honoured ``Range`` (206), else 0.

        Raises:
            FileNotFoundError: 404. OSError: any other failure. CrossOriginRedirect.
        """
        try:
            response = self._request(path, "GET", offset)
        except _RangeNotSatisfiable:  # the partial file is already whole (or too long)
            return self._request(path, "GET"), 0
        return response, offset if offset and response.status == 206 else 0

    def size(self, path: str) -> int | None:
        """The ``Content-Length`` of ``path`` (for progress), None when the server does not say.

        Raises:
            FileNotFoundError: 404. OSError: the request failed.
        """
        with self._request(path, "HEAD") as response:
            length = response.headers.get("Content-Length")
        return int(length) if length is not None and length.isdigit() else None
