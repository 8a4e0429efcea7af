"""The served model: what the server loaded, its recorded signature, and the atomic swap.

A request reads :attr:`ModelSlot.current` once and uses that :class:`Served`
to the end, so a swap (one attribute assignment) never changes the model under
a request: in-flight requests finish on the old version, new ones get the new.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from registry_gen.errors import RegistryError
from registry_gen.loader import LoadedModel, load_model
from registry_gen.paths import safe_join
from registry_gen.schema import Signature, VersionRecord, parse_record
from registry_gen.uri import ModelUri

from ._errors import SmokeTestFailed
from ._inputs import numpy_dtype

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeConfig:
    """How to serve: the URI, where the registry is, how to load, and the limits."""

    uri: str
    registry: str | None = None  # a checkout, git URL or site URL (see registry_gen.locate)
    interval: float = 30.0  # seconds between re-resolutions of a stage or alias URI
    timeout: float = 60.0  # seconds a prediction may take (504 after)
    max_body: int = 16 * 1024 * 1024  # bytes (413 above)
    trust_pickle: bool = False
    offline: bool | None = None
    cache_dir: str | None = None
    prediction_threads: int = 4

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> ServeConfig:
        return cls(**json.loads(text))

    @property
    def follows(self) -> bool:
        """Whether the URI can move (a stage, an alias or ``latest``), so it is watched."""
        return ModelUri.parse(self.uri).version is None


@dataclass(frozen=True)
class Served:
    """One loaded version as the server uses it."""

    model: LoadedModel
    signature: Signature | None
    loaded_at: float = field(default_factory=time.time)

    @property
    def version(self) -> int:
        return self.model.version

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.model.name,
            "version": self.model.version,
            "uri": str(self.model.uri),
            "md5": self.model.md5,
            "format": self.model.format,
            "loaded_at": self.loaded_at,
        }


class ModelSlot:
    """The version being served; swapped whole, never modified."""

    def __init__(self, served: Served | None = None) -> None:
        self.current: Served | None = served
        self.sample: Any = None  # the first row of the last batch that predicted

    def swap(self, new: Served) -> Served | None:
        old, self.current = self.current, new
        return old


def load_served(config: ServeConfig, uri: str | ModelUri) -> Served:
    """Load ``uri`` through the loader (verified cache, trust rules) with its signature.

    Raises:
        RegistryError: the URI does not resolve, the artifact fails verification, or
            its format is not trusted (see :func:`registry_gen.load_model`).
    """
    model = load_model(
        uri,
        registry=config.registry,
        trust_pickle=config.trust_pickle,
        offline=config.offline,
        cache_dir=config.cache_dir,
    )
    return Served(model, recorded_signature(config.registry, model))


def recorded_signature(registry: str | None, model: LoadedModel) -> Signature | None:
    """The signature in the version's ``version.yaml``, when the registry is a checkout.

    Registries reached by URL give none (inputs then go to the model unchecked).
    """
    import os

    where = registry or os.environ.get("REGISTRY_GEN_URI")
    root = Path(where) if where else Path.cwd()
    try:
        if not root.is_dir():
            return None
        file = safe_join(root, "models", model.name, str(model.version), "version.yaml")
        if not file.is_file():
            return None
        record = parse_record(file.read_bytes(), str(file), VersionRecord)
    except (OSError, RegistryError) as error:
        log.warning(
            "%s: signature not read (%s); inputs go to the model unchecked", model.uri, error
        )
        return None
    return record.signature


def smoke_sample(served: Served, last: Any) -> Any:
    """One row to try a new version with: from its signature, else the last request's."""
    inputs = served.signature.inputs if served.signature is not None else []
    if inputs and len(inputs) == 1 and inputs[0].shape is not None:
        shape = [1 if d == -1 else d for d in inputs[0].shape]
        return _zeros(shape, numpy_dtype(inputs[0].type))
    if inputs:
        dtypes = [numpy_dtype(spec.type) for spec in inputs]
        if any(d is object for d in dtypes):
            return np.array([["" if d is object else d(0) for d in dtypes]], dtype=object)
        return np.array([[d(0) for d in dtypes]])
    return last


def _zeros(shape: list[int], dtype: Any) -> Any:
    if dtype is object:
        return np.full(shape, "", dtype=object)
    return np.zeros(shape, dtype=dtype)


def smoke_test(served: Served, sample: Any) -> None:
    """Predict ``sample`` with the new version; raise :class:`SmokeTestFailed` if it cannot.

    Raises:
        SmokeTestFailed: the prediction raised, or returned nothing for the row.
    """
    if sample is None:
        log.info("%s: no signature and no request yet, so no smoke prediction", served.model.uri)
        return
    try:
        result = served.model.predict(sample)
    except Exception as error:  # any failure of foreign model code means "do not swap"
        raise SmokeTestFailed(
            f"{served.model.uri} failed its smoke prediction: {type(error).__name__}: {error}"
        ) from None
    if result is None or (hasattr(result, "__len__") and len(result) != len(sample)):
        raise SmokeTestFailed(f"{served.model.uri} returned no prediction for its smoke row")
