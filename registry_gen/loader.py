"""Load a registered model from a ``models:/`` URI: resolve once, fetch, verify, deserialise.

This is what every service and notebook calls, so the warm path is kept lean.
A warm load from a checkout whose files did not change stats the files of
``registry.yaml`` and ``models/NAME/`` and reuses the saved resolution (no
pydantic, no YAML: :class:`~registry_gen.locate.SavedResolution`), hashes the
cached artifact, and unpickles the object it cached after the first skops load
(no skops: see "The object cache" in :mod:`registry_gen.cache`). It imports
neither DVC nor git tooling nor the network stack; a cold load reads the DVC
remote directly (:mod:`registry_gen.fetch`), never through DVC.

Steps, for ``load_model("models:/churn/Production")``:

1. resolve the URI, once, to (name, version, md5) and log it
   (``models:/churn/Production → churn v3 (md5 ab12cd34…)``); everything after
   uses that md5, so a stage or alias moving meanwhile cannot mix versions;
2. use the cache entry for the md5 if it is there and verifies;
3. else, unless offline (``REGISTRY_GEN_OFFLINE=1`` → :class:`OfflineMiss`),
   fetch exactly that md5 from the DVC remote and verify it on the way in;
4. load it with the format recorded in ``version.yaml`` (see :mod:`registry_gen.formats`);
   for skops, from the verified object cache when it has the object.

Example:
    >>> import registry_gen
    >>> model = registry_gen.load_model("models:/churn/Production")  # doctest: +SKIP
    >>> model.predict([[0.1, 0.2, 0.3]])  # doctest: +SKIP
    array([1])
    >>> model.version, model.unwrap()  # doctest: +SKIP
    (3, RandomForestClassifier(...))
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache import ArtifactCache, object_cache_enabled
from .errors import OfflineMiss, SignatureMismatch
from .formats import Predict, check_trusted, load_artifact, object_cache_key, predict_method
from .locate import ResolvedArtifact, locate, offline_mode
from .paths import safe_join
from .uri import ModelUri

log = logging.getLogger(__name__)

# Formats whose model takes a 2-D batch: their input is converted and checked (_inputs).
_BATCH_FORMATS = frozenset({"skops", "pickle", "joblib"})


@dataclass(frozen=True)
class LoadedModel:
    """A loaded model version: ``predict(data)`` for every format, ``unwrap()`` for the object."""

    uri: ModelUri  # the exact models:/NAME/VERSION
    resolved: ResolvedArtifact
    path: Path  # the verified artifact in the cache (do not modify it)
    _native: Any = field(repr=False)
    _predict: Predict = field(repr=False)

    @property
    def name(self) -> str:
        """The model's name."""
        return self.resolved.name

    @property
    def version(self) -> int:
        """The version number."""
        return self.resolved.version

    @property
    def format(self) -> str:
        """The artifact format recorded in version.yaml."""
        return self.resolved.format

    @property
    def md5(self) -> str:
        """The md5 of the artifact's bytes."""
        return self.resolved.md5

    def predict(self, data: Any) -> Any:
        """Predict with the model, whatever its format (the seed's ``model.predict(data)``).

        A scikit-learn-like model (skops, pickle, joblib) takes a pandas DataFrame, a
        NumPy array, a list of rows, a list of records or a dict of columns, as MLflow's
        pyfunc does, checked against the recorded signature (see :mod:`registry_gen._inputs`).

        Raises:
            SignatureMismatch: a column is missing, a value has the wrong type, or a
                tensor the wrong shape (the message names the column).
        """
        if self.format in _BATCH_FORMATS:
            from ._inputs import model_input

            try:
                data = model_input(data, self.resolved.inputs, self._native)
            except SignatureMismatch as error:
                raise SignatureMismatch(
                    f"{self.uri}: the input does not fit its recorded signature. {error}"
                ) from None
        return self._predict(data)

    def unwrap(self) -> Any:
        """The native object: the estimator, the ONNX session, the state dict, the path..."""
        return self._native


def resolve(
    uri: str | ModelUri,
    *,
    registry: str | Path | None = None,
    cache: ArtifactCache | None = None,
    offline: bool | None = None,
    at: str | None = None,
) -> ResolvedArtifact:
    """Resolve ``uri`` once to the exact version and artifact md5, and log what it named.

    ``at`` (a date or git revision) resolves it as the registry stood then.

    >>> resolve("models:/churn@champion", registry="/srv/registry").version  # doctest: +SKIP
    3
    """
    parsed = uri if isinstance(uri, ModelUri) else ModelUri.parse(uri)
    place = locate(registry, cache=cache, offline=offline)
    if at is not None:
        from .locate._past import at_registry

        place = at_registry(place, at)
    resolved = place.resolve(parsed)
    if resolved.moved_note is not None:
        log.warning("%s: %s", parsed, resolved.moved_note)
    if parsed.version is None:
        log.info("%s → %s v%d (md5 %s…)", parsed, resolved.name, resolved.version, resolved.md5[:8])
    return resolved


def _artifact(resolved: ResolvedArtifact, cache: ArtifactCache, offline: bool) -> Path:
    """The verified cache entry of the resolved artifact, fetching it if needed."""
    entry = cache.get(resolved.md5)  # checked before anything decides to go to the network
    if entry is not None:
        return entry
    if offline:
        raise OfflineMiss(
            f"offline mode: {resolved.exact_uri} (md5 {resolved.md5}) is not in the cache "
            f"{cache.root}; load it once without offline mode (REGISTRY_GEN_OFFLINE)"
        )
    from .fetch import fetch_artifact

    info = {"uri": str(resolved.exact_uri), "path": resolved.path, "registry": resolved.registry}
    return fetch_artifact(
        resolved.md5,
        resolved.source,
        cache,
        info=info,
        label=f"{resolved.name} v{resolved.version}",
        size=resolved.size,
    )


def load_model(
    uri: str | ModelUri,
    *,
    registry: str | Path | None = None,
    trust_pickle: bool = False,
    offline: bool | None = None,
    cache_dir: str | Path | None = None,
    object_cache: bool | None = None,
    at: str | None = None,
) -> LoadedModel:
    """Load the model version ``uri`` names, from the cache or its DVC remote.

    Args:
        uri: ``models:/NAME/VERSION``, ``models:/NAME/STAGE``, ``models:/NAME@ALIAS``
            or ``models:/NAME/latest``.
        registry: a checkout path, a git URL with ``@REV``/``#REV``, or the published
            site's URL (see :mod:`registry_gen.locate`); default ``REGISTRY_GEN_URI``,
            else the git repository around the current directory.
        trust_pickle: for this call only, load a pickle, joblib or MLflow artifact
            (whose loading runs code it carries) even without a reviewed
            ``artifact.sha256`` in its record, or with bytes that do not match it. Without
            it such an artifact loads only when its sha256 is the recorded one.
        offline: use only the cache (default: ``REGISTRY_GEN_OFFLINE``).
        cache_dir: the artifact cache (default: ``REGISTRY_GEN_CACHE`` or the user cache).
        object_cache: reuse (and keep) the verified pickle of a skops model's object
            (default: on, unless ``REGISTRY_GEN_NO_OBJECT_CACHE=1``).
        at: resolve ``uri`` as the registry stood then: a date (``"2026-01-31"``, the
            end of that day in UTC, or ``"2026-01-31T10:00Z"``) or a git revision; needs
            a checkout or a git URL (see :func:`registry_gen.history.commit_at`).

    >>> load_model("models:/churn/3", registry="/srv/registry").predict(rows)  # doctest: +SKIP
    """
    cache = ArtifactCache(cache_dir)
    offline = offline_mode() if offline is None else offline
    resolved = resolve(uri, registry=registry, cache=cache, offline=offline, at=at)
    # Refuse before downloading anything; the bytes are checked against the reviewed
    # sha256 (and sniffed) by load_artifact once they are here.
    check_trusted(resolved.format, trust_pickle, resolved.sha256)
    path = _artifact(resolved, cache, offline)  # verified against its md5, every time
    use_objects = object_cache_enabled() if object_cache is None else object_cache
    key = object_cache_key(resolved.format, resolved.trusted_types) if use_objects else None
    if key is not None:
        native = cache.get_object(resolved.md5, key)
        if native is not None:
            log.debug("%s: the object cached after its skops load", resolved.exact_uri)
            return LoadedModel(resolved.exact_uri, resolved, path, native, predict_method(native))
    native, predict = load_artifact(
        path,
        resolved.format,
        trusted_types=resolved.trusted_types,
        trust_pickle=trust_pickle,
        sha256=resolved.sha256,
    )
    if key is not None:
        # skops enforced the recorded trusted types on bytes just verified against their
        # md5: this object is what the registry recorded, so its pickle may be kept.
        cache.put_object(
            resolved.md5, key, native, {"uri": str(resolved.exact_uri), "format": resolved.format}
        )
    return LoadedModel(resolved.exact_uri, resolved, path, native, predict)


def download_artifacts(
    uri: str | ModelUri,
    dst: str | Path | None = None,
    *,
    registry: str | Path | None = None,
    offline: bool | None = None,
    cache_dir: str | Path | None = None,
) -> Path:
    """The artifact of ``uri`` on disk: its verified cache entry, or a copy in ``dst``.

    With ``dst``, the artifact is copied to ``dst/<artifact file or folder name>``
    (through a temporary name, so a failed copy leaves nothing) and that path is
    returned; without it, the cache entry's path is returned: read it, never
    modify it.

    >>> download_artifacts("models:/churn/Production", "out/")  # doctest: +SKIP
    PosixPath('out/model.skops')
    """
    cache = ArtifactCache(cache_dir)
    offline = offline_mode() if offline is None else offline
    resolved = resolve(uri, registry=registry, cache=cache, offline=offline)
    path = _artifact(resolved, cache, offline)
    if dst is None:
        return path
    folder = Path(dst)
    folder.mkdir(parents=True, exist_ok=True)
    target = safe_join(folder, resolved.filename)
    tmp = folder / f".{resolved.filename}.{resolved.md5[:8]}.tmp"
    try:
        if path.is_dir():
            shutil.copytree(path, tmp, dirs_exist_ok=False)
        else:
            shutil.copyfile(path, tmp)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        tmp.replace(target)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise
    return target
