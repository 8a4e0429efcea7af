"""Promotions reach the server: re-resolve a stage or alias URI, load, smoke-test, swap.

Every ``interval`` seconds the watcher resolves the served URI again (a
checkout is re-read, a git URL fetched, the site asked with its ETags: see
:mod:`registry_gen.locate`). When it names another version, that version is
loaded through the loader in a thread (downloaded and verified), tried on one
row, and only then swapped in. A version that fails either step is logged,
counted and remembered, and the old version keeps serving.
"""

from __future__ import annotations

import asyncio
import logging

from registry_gen.cache import ArtifactCache
from registry_gen.errors import RegistryError
from registry_gen.locate import locate
from registry_gen.uri import ModelUri

from ._metrics import Metrics
from ._model import ModelSlot, ServeConfig, load_served, smoke_sample, smoke_test

log = logging.getLogger(__name__)


class Watcher:
    """Follows ``config.uri`` and swaps ``slot`` to each new version that passes."""

    def __init__(self, config: ServeConfig, slot: ModelSlot, metrics: Metrics) -> None:
        self.config = config
        self.slot = slot
        self.metrics = metrics
        self._rejected: set[str] = set()  # md5s that failed: not retried every interval

    def check_once(self) -> bool:
        """Resolve now; load, try and swap in a new version. True if it swapped."""
        current = self.slot.current
        cache = ArtifactCache(self.config.cache_dir)
        try:
            place = locate(self.config.registry, cache=cache, offline=self.config.offline)
            resolved = place.resolve(ModelUri.parse(self.config.uri))
        except RegistryError as error:
            log.warning(
                "re-resolving %s failed (still serving %s): %s",
                self.config.uri,
                current.model.uri if current else "nothing",
                error,
            )
            return False
        if (
            current is not None
            and resolved.md5 == current.model.md5
            and resolved.version == current.version
        ):
            return False
        if resolved.md5 in self._rejected:
            return False
        try:
            new = load_served(self.config, resolved.exact_uri)
            smoke_test(new, smoke_sample(new, self.slot.sample))
        except Exception as error:  # a broken version must never take the server down
            self._rejected.add(resolved.md5)
            self.metrics.swap_failures += 1
            log.error("not swapping %s to %s: %s", self.config.uri, resolved.exact_uri, error)
            return False
        old = self.slot.swap(new)
        self.metrics.swaps += 1
        self.metrics.model = (new.model.name, new.version, new.model.md5)
        log.info(
            "swapped %s: %s -> %s (md5 %s)",
            self.config.uri,
            old.model.uri if old else "nothing",
            new.model.uri,
            new.model.md5[:8],
        )
        return True

    async def run(self) -> None:
        """Check every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.config.interval)
            try:
                await asyncio.to_thread(self.check_once)
            except Exception:  # keep watching whatever happened this time
                log.exception("checking %s for a new version failed", self.config.uri)
