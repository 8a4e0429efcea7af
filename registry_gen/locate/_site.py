"""A registry read from its published website's static JSON API (``api/*.json``).

The documents follow the contract in :mod:`registry_gen._api` and are checked
there as the untrusted input they are. Responses are cached with their
``ETag``/``Last-Modified`` and revalidated with ``If-None-Match``/
``If-Modified-Since``; offline mode answers from that cache alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from registry_gen._api import INDEX, check_artifact, model_api_path, parse_index, parse_model
from registry_gen._dvc import DvcSource
from registry_gen._inputs import input_specs
from registry_gen.cache import ArtifactCache
from registry_gen.errors import ArtifactError, ModelNotFound, OfflineMiss
from registry_gen.locate._resolved import ResolvedArtifact
from registry_gen.paths import atomic_write
from registry_gen.resolve import follow_rename, resolve
from registry_gen.uri import ModelUri

__all__ = ["HTTP_TIMEOUT_S", "SiteRegistry", "remote_url"]

log = logging.getLogger("registry_gen.locate")

HTTP_TIMEOUT_S = 30.0


class SiteRegistry:
    """A registry read from its published website's static JSON API (``api/*.json``).

    >>> SiteRegistry("https://org.github.io/registry/", cache=ArtifactCache())  # doctest: +SKIP
    """

    def __init__(self, base_url: str, *, cache: ArtifactCache, offline: bool = False) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.cache = cache
        self.offline = offline
        self.label = self.base_url
        self.revalidated: list[str] = []  # URLs answered 304 Not Modified (for tests/logs)

    def resolve(self, uri: ModelUri) -> ResolvedArtifact:
        """What ``uri`` names on the site.

        Raises:
            ModelNotFound: the site lists no such model (or its document is missing).
            VersionNotFound: no such version, alias or stage holder.
            ArtifactError: a document breaks the contract, or the site is unreachable.
            OfflineMiss: offline, and a document is not in the cache.
        """
        index = parse_index(self._get_json(INDEX), self.base_url + INDEX)
        name = follow_rename(uri.name, index.models, index.moved)
        if name not in index.models:
            raise ModelNotFound(f"no registered model named {uri.name!r} on {self.label}")
        if index.remote_url is None:
            raise ArtifactError(f"{self.base_url}{INDEX} names no DVC remote to fetch from")
        document = model_api_path(name)
        where = self.base_url + document
        model = parse_model(self._get_json(document), name, where)
        chosen = resolve(uri, model.versions, model.aliases, index.stages)
        artifact = check_artifact(model.artifacts[chosen], name, chosen, where)
        signature = model.artifacts[chosen].get("signature")  # checked by input_specs
        return ResolvedArtifact(
            uri=uri,
            name=name,
            version=chosen,
            stage=model.versions[chosen],
            md5=artifact.md5,
            path=artifact.path,
            format=artifact.format,
            trusted_types=artifact.trusted_types,
            size=artifact.size,
            source=DvcSource(
                url=remote_url(self.base_url, index.remote_url), options=index.remote_options
            ),
            registry=self.label,
            sha256=artifact.sha256,
            inputs=input_specs(signature.get("inputs") if isinstance(signature, dict) else None),
        )

    def _get_json(self, relative: str) -> Any:
        url = self.base_url + relative
        body = self._get(url)
        try:
            return json.loads(body)
        except ValueError as error:
            raise ArtifactError(f"{url} is not JSON: {error}") from None

    def _get(self, url: str) -> bytes:
        """GET ``url`` through the response cache, revalidating with the saved validators."""
        import urllib.error  # not at the top: a warm load from a checkout never needs HTTP
        import urllib.request

        saved_file = self.cache.root / "http" / (hashlib.sha256(url.encode()).hexdigest() + ".json")
        saved = (
            _read_saved(saved_file)
            if self.cache.check_private(saved_file, "saved HTTP response")
            else None
        )
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
        record = {
            "url": url,
            "etag": headers.get("ETag"),
            "last_modified": headers.get("Last-Modified"),
            "body": body.decode("utf-8", errors="strict"),
        }
        self.cache.ensure()
        saved_file.parent.mkdir(mode=0o700, exist_ok=True)
        atomic_write(saved_file, json.dumps(record))
        return body


def remote_url(base_url: str, url: str) -> str:
    """The remote ``api/index.json`` names, as an absolute URL or path.

    A relative reference (``objects/``: the objects the site publishes itself) is
    resolved against the index's own URL, as a browser resolves a link.

    >>> remote_url("https://org.github.io/reg/", "objects/")
    'https://org.github.io/reg/api/objects/'
    >>> remote_url("https://org.github.io/reg/", "s3://bucket/store")
    's3://bucket/store'
    """
    import urllib.parse

    if "://" in url or url.startswith(("/", "~")):  # a URL, or an old site's local path
        return url
    return urllib.parse.urljoin(base_url + INDEX, url)


def _read_saved(saved_file: Path) -> dict[str, Any] | None:
    if not saved_file.is_file():
        return None
    try:
        saved = json.loads(saved_file.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return saved if isinstance(saved, dict) else None
