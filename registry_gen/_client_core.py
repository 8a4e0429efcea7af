"""The registry client's core: its state, one-model reads, and how every change is applied.

:class:`~registry_gen.client.RegistryClient` is built on this class; the
registered-model operations live in :mod:`registry_gen._client_models`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from ._edits import (
    Branch,
    Mutation,
    apply_change,
    branch_for,
    stage_named,
)
from ._registration import (
    next_version,
)
from .errors import (
    InvalidRegistry,
    UsageError,
)
from .paths import POLICY_FILE
from .schema import ModelRecord, Policy, VersionRecord
from .store import (
    ModelVersion,
    RegisteredModel,
    RegistryIndex,
    edit_record,
    load_index,
    load_model_scope,
)
from .uri import ModelUri, check_alias, check_model_name, check_version

# Re-exported: part of this module's API since before the split.

log = logging.getLogger("registry_gen.client")

EditedT = TypeVar("EditedT", RegisteredModel, ModelVersion)


class ClientCore:
    """The registry in the git repository at ``path``: state, reads and writes' plumbing."""

    def __init__(self, path: Path | str = ".") -> None:
        self.root = Path(path).resolve()
        if not self.root.is_dir():
            raise UsageError(f"no registry folder at {path}")
        self._index: RegistryIndex | None = None
        self._scopes: dict[str, RegistryIndex] = {}  # model name → its model-scoped index

    # -- reading ----------------------------------------------------------------

    @property
    def index(self) -> RegistryIndex:
        """The registry as last read from the working tree."""
        if self._index is None:
            self._index = load_index(self.root)
        return self._index

    def refresh(self) -> RegistryIndex:
        """Re-read the working tree."""
        self._forget()
        return self.index

    def _forget(self) -> None:
        self._index = None
        self._scopes.clear()

    def _index_for(self, name: str) -> RegistryIndex:
        """An index that answers every question about the model ``name``.

        The whole registry when it has been read; else ``registry.yaml`` and
        ``models/NAME/`` alone (what :func:`registry_gen.locate.scan_model_folder`
        lists), which hold everything that decides ``name``'s records, versions,
        stages and aliases. When that narrow read does not find a healthy model
        (no such folder, a symlink on the way, a broken record), the whole
        registry is read instead, so errors and messages are exactly the whole
        index's ("registered models: ...").
        """
        if self._index is not None:
            return self._index
        scoped = self._scopes.get(name)
        if scoped is None:
            scoped = load_model_scope(self.root, name)
            if scoped is None:
                return self.index
            self._scopes[name] = scoped
        return scoped

    @property
    def policy(self) -> Policy:
        """``registry.yaml``; :class:`InvalidRegistry` if it cannot be read."""
        return _policy_of(self.index)

    def _policy_for(self, name: str) -> Policy:
        """``registry.yaml`` as read with the model ``name`` (see :meth:`_index_for`)."""
        return _policy_of(self._index_for(name))

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The registered model ``name`` with its versions."""
        checked = check_model_name(name)
        return self._index_for(checked).model(checked)

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """Version ``version`` of ``name``."""
        return self.get_registered_model(name).version(check_version(version))

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``name@alias`` points to."""
        uri = ModelUri(name=check_model_name(name), alias=check_alias(alias))
        return self._index_for(uri.name).resolve(uri)

    def resolve(self, uri: str | ModelUri) -> ModelVersion:
        """The version a ``models:/`` URI names (``models:/churn/Production``, ``...@champion``)."""
        parsed = uri if isinstance(uri, ModelUri) else ModelUri.parse(uri)
        return self._index_for(parsed.name).resolve(parsed)

    def next_version(self, name: str, base: str | None = None) -> int:
        """1 + the highest version of ``name`` in the working tree or on ``base``.

        ``base`` defaults to the current branch's upstream, else HEAD, so two
        people registering from the same base get the same number and the
        second pull request conflicts visibly instead of silently.
        """
        return next_version(self.root, name, base)

    # -- internals -------------------------------------------------------------------

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _stage(self, stage: str, policy: Policy | None = None) -> str:
        return stage_named(policy if policy is not None else self.policy, stage)

    def _edit(
        self, item: EditedT, mutate: Mutation, branch: Branch, branch_name: str, message: str
    ) -> EditedT:
        record_type = ModelRecord if isinstance(item, RegisteredModel) else VersionRecord
        path = self.root / item.record_file
        written: list[Any] = []
        self._apply(
            branch,
            branch_name,
            message,
            [item.record_file],
            lambda: written.append(edit_record(path, record_type, mutate)),
        )
        return replace(item, record=written[0])  # validated as written: no re-read

    def _apply(
        self,
        branch: Branch,
        default_branch: str,
        message: str,
        paths: list[str],
        write: Callable[[], None],
        *,
        extra_paths: Iterable[str] = (),
    ) -> None:
        try:
            apply_change(
                self.root,
                branch_for(branch, default_branch),
                message,
                paths,
                write,
                extra_paths=extra_paths,
            )
        finally:
            self._forget()
        log.info("%s", message)


def _policy_of(index: RegistryIndex) -> Policy:
    broken = [e for e in index.errors if e.location.file == POLICY_FILE]
    if broken:
        raise InvalidRegistry(broken)
    return index.policy
