"""``RegistryGenStore``: MLflow's ``AbstractStore`` over :class:`RegistryClient`.

Each call is the client's method of the same name with MLflow's arguments
(tags as MLflow's tag objects, a ``source`` URI) translated, and the answer
translated back to MLflow's entities. Registry errors become
``MlflowException`` with MLflow's error code and the registry's message.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from mlflow.entities.model_registry import ModelVersion as MlflowModelVersion
from mlflow.entities.model_registry import RegisteredModel as MlflowRegisteredModel
from mlflow.store.entities.paged_list import PagedList
from mlflow.store.model_registry.abstract_store import AbstractStore

from registry_gen._mlflow_source import MODEL_ID_TAG, local_artifact, run_lineage
from registry_gen.client import RegistryClient
from registry_gen.errors import RuleViolation, UsageError

from ._entities import to_mlflow_model, to_mlflow_version
from ._errors import as_mlflow_errors
from ._remote import PREFIX, read_only_message, remote_client

SCHEME = "registry-gen"


def parse_store_uri(uri: str) -> tuple[Path, bool]:
    """The registry folder and the branch flag of a ``registry-gen:`` URI.

    >>> parse_store_uri("registry-gen:///srv/registry?branch=1")
    (PosixPath('/srv/registry'), True)

    Raises:
        UsageError: not a ``registry-gen:`` URI of a local folder.
    """
    parsed = urlparse(uri)
    if parsed.scheme != SCHEME or parsed.netloc not in {"", "localhost"} or not parsed.path:
        raise UsageError(
            f"invalid registry URI {uri!r}: use {SCHEME}:///path/to/registry "
            "(add ?branch=1 for a branch and commit per change)"
        )
    flags = parse_qs(parsed.query)
    branch = flags.get("branch", ["0"])[-1].lower() in {"1", "true", "yes"}
    return Path(unquote(parsed.path)), branch


# What MlflowClient adds to every search to leave prompts out. MLflow's SQL store
# reads it as "not a prompt", a model without the tag included; the registry has no
# prompts, so the plugin drops the clause rather than bend the filter semantics.
_NOT_A_PROMPT = "tag.`mlflow.prompt.is_prompt` != 'true'"


def without_prompt_filter(filter_string: str | None) -> str | None:
    """``filter_string`` without the clause MLflow's client adds to leave prompts out.

    >>> without_prompt_filter("name = 'a' AND tag.`mlflow.prompt.is_prompt` != 'true'")
    "name = 'a'"
    """
    if not filter_string or _NOT_A_PROMPT not in filter_string:
        return filter_string
    kept = filter_string.replace(f" AND {_NOT_A_PROMPT}", "").replace(_NOT_A_PROMPT, "")
    return kept.strip() or None


def _tag_dict(tags: Iterable[Any] | None) -> dict[str, str]:
    """MLflow's tag objects (``.key``, ``.value``) as a dict."""
    return {tag.key: tag.value for tag in tags or ()}


class RegistryGenStore(AbstractStore):  # type: ignore[misc,unused-ignore]
    """MLflow's registry store for ``registry-gen:///path`` (and read-only ``registry-gen+URL``).

    >>> import mlflow  # doctest: +SKIP
    >>> mlflow.set_registry_uri("registry-gen:///srv/registry")  # doctest: +SKIP
    >>> mlflow.MlflowClient().get_registered_model("churn").aliases  # doctest: +SKIP
    {'champion': 3}

    Raises:
        MlflowException: any call the registry refuses, with MLflow's error code.
    """

    def __init__(self, store_uri: str | None = None, tracking_uri: str | None = None) -> None:
        super().__init__(store_uri=store_uri, tracking_uri=tracking_uri)
        self.tracking_uri = tracking_uri
        self.read_only: str | None = None  # why writes are refused (a git URL, the site)
        with as_mlflow_errors():
            if (store_uri or "").startswith(PREFIX):
                remote = remote_client(store_uri or "")
                self.read_only = read_only_message(remote.location)
                self.client: RegistryClient = remote
                branch = False
            else:
                root, branch = parse_store_uri(store_uri or "")
                self.client = RegistryClient(root)
        self.branch: bool = branch

    def _writable(self) -> None:
        """Refuse a change to a read-only location, before anything is downloaded."""
        if self.read_only is not None:
            with as_mlflow_errors():
                raise RuleViolation(self.read_only)

    # -- registered models -------------------------------------------------------

    def create_registered_model(
        self,
        name: str,
        tags: Sequence[Any] | None = None,
        description: str | None = None,
        deployment_job_id: str | None = None,
    ) -> MlflowRegisteredModel:
        """Create the registered model ``name`` (``models/NAME/model.yaml``)."""
        self._writable()
        with as_mlflow_errors():
            return to_mlflow_model(
                self.client.create_registered_model(
                    name, _tag_dict(tags), description, branch=self.branch
                )
            )

    def update_registered_model(
        self, name: str, description: str | None, deployment_job_id: str | None = None
    ) -> MlflowRegisteredModel:
        """Change the model's description."""
        self._writable()
        with as_mlflow_errors():
            return to_mlflow_model(
                self.client.update_registered_model(name, description, branch=self.branch)
            )

    def rename_registered_model(self, name: str, new_name: str) -> MlflowRegisteredModel:
        """Move ``models/NAME/`` to ``models/NEW_NAME/``, leaving a redirect the loader follows."""
        self._writable()
        with as_mlflow_errors():
            return to_mlflow_model(
                self.client.rename_registered_model(name, new_name, branch=self.branch)
            )

    def delete_registered_model(self, name: str) -> None:
        """Refused: the registry keeps every model; archive its versions instead."""
        with as_mlflow_errors():
            raise RuleViolation(
                f"cannot delete {name!r}: the registry keeps every model and "
                "version; move its versions to the archive stage instead"
            )

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Any]:
        """Registered models matching an MLflow filter, one page of them."""
        with as_mlflow_errors():
            self.client.refresh()
            page = self.client.search_registered_models(
                without_prompt_filter(filter_string), max_results, order_by, page_token
            )
            return PagedList([to_mlflow_model(m) for m in page], page.token)

    def get_registered_model(self, name: str) -> MlflowRegisteredModel:
        """The registered model ``name``."""
        with as_mlflow_errors():
            self.client.refresh()
            return to_mlflow_model(self.client.get_registered_model(name))

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[MlflowModelVersion]:
        """The highest version in each of ``stages`` (each stage when None)."""
        with as_mlflow_errors():
            self.client.refresh()
            return [to_mlflow_version(v) for v in self.client.get_latest_versions(name, stages)]

    def set_registered_model_tag(self, name: str, tag: Any) -> None:
        """Set one tag of the registered model."""
        self._writable()
        with as_mlflow_errors():
            self.client.set_registered_model_tag(name, tag.key, tag.value, branch=self.branch)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove one tag of the registered model."""
        self._writable()
        with as_mlflow_errors():
            self.client.delete_registered_model_tag(name, key, branch=self.branch)

    # -- model versions ------------------------------------------------------------

    def create_model_version(  # noqa: PLR0917 (MLflow's signature)
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Sequence[Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        local_model_path: str | None = None,
        model_id: str | None = None,
    ) -> MlflowModelVersion:
        """Register ``source`` (any URI MLflow can download) as the next version of ``name``.

        The artifact is copied into the registry and tracked by DVC; MLflow's
        ``local_model_path`` is used when given, so nothing is downloaded twice.
        The run (given, or the logged model's source run) is recorded as
        lineage with its params and metrics when the tracking store answers.
        """
        self._writable()
        tag_dict = _tag_dict(tags)
        if model_id:
            tag_dict.setdefault(MODEL_ID_TAG, model_id)
        lineage = run_lineage(self.tracking_uri, run_id, model_id)
        with tempfile.TemporaryDirectory(prefix="registry-gen-mlflow-") as tmp, as_mlflow_errors():
            artifact = local_artifact(source, local_model_path, Path(tmp))
            version = self.client.create_model_version(
                name,
                artifact,
                lineage.pop("run_id"),
                tag_dict,
                run_link,
                description,
                branch=self.branch,
                **lineage,
            )
            return to_mlflow_version(version)

    def update_model_version(
        self, name: str, version: int | str, description: str | None
    ) -> MlflowModelVersion:
        """Change a version's description."""
        self._writable()
        with as_mlflow_errors():
            return to_mlflow_version(
                self.client.update_model_version(name, version, description, branch=self.branch)
            )

    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str, archive_existing_versions: bool
    ) -> MlflowModelVersion:
        """Move a version to ``stage``, under the registry's stage rules."""
        self._writable()
        with as_mlflow_errors():
            return to_mlflow_version(
                self.client.transition_model_version_stage(
                    name, version, stage, archive_existing_versions, branch=self.branch
                )
            )

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Refused: the registry keeps every version; archive it instead."""
        with as_mlflow_errors():
            raise RuleViolation(
                f"cannot delete {name} v{version}: the registry keeps every "
                "version; move it to the archive stage instead"
            )

    def get_model_version(self, name: str, version: int | str) -> MlflowModelVersion:
        """Version ``version`` of ``name``."""
        with as_mlflow_errors():
            self.client.refresh()
            return to_mlflow_version(self.client.get_model_version(name, version))

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """A local path holding the version's artifact (fetched from DVC and verified)."""
        with as_mlflow_errors():
            self.client.refresh()
            return self.client.get_model_version_download_uri(name, version)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Any]:
        """Versions matching an MLflow filter, one page of them."""
        with as_mlflow_errors():
            self.client.refresh()
            page = self.client.search_model_versions(
                without_prompt_filter(filter_string), max_results, order_by, page_token
            )
            return PagedList([to_mlflow_version(v) for v in page], page.token)

    def set_model_version_tag(self, name: str, version: int | str, tag: Any) -> None:
        """Set one tag of a version."""
        self._writable()
        with as_mlflow_errors():
            self.client.set_model_version_tag(name, version, tag.key, tag.value, branch=self.branch)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        """Remove one tag of a version."""
        self._writable()
        with as_mlflow_errors():
            self.client.delete_model_version_tag(name, version, key, branch=self.branch)

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``name@alias`` at ``version``."""
        self._writable()
        with as_mlflow_errors():
            self.client.set_registered_model_alias(name, alias, version, branch=self.branch)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove ``name@alias``."""
        self._writable()
        with as_mlflow_errors():
            self.client.delete_registered_model_alias(name, alias, branch=self.branch)

    def get_model_version_by_alias(self, name: str, alias: str) -> MlflowModelVersion:
        """The version ``name@alias`` points to."""
        with as_mlflow_errors():
            self.client.refresh()
            return to_mlflow_version(self.client.get_model_version_by_alias(name, alias))
