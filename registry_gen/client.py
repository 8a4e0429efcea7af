"""The Python API: MLflow's model-registry client, over a git repository instead of a server.

:class:`RegistryClient` has MLflow's method names and arguments where they fit,
so code written against ``mlflow.MlflowClient`` reads the same. Reads return the
store's immutable :class:`~registry_gen.store.RegisteredModel` and
:class:`~registry_gen.store.ModelVersion`; writes change files in the working
tree (records with the smallest diff, artifacts through DVC) and, with
``branch=True`` or ``branch="NAME"``, make a branch and one commit ready to push
as a pull request.

Three ways to add a model, all writing the same layout::

    log_model(model, "churn", registry=".", input_example=X[:5])  # from training code
    register_model("out/model.skops", "churn", registry=".")  # a file or folder
    client.create_registered_model("churn")
    client.create_model_version("churn", "model.skops")

Example:
    >>> client = RegistryClient("/path/to/registry")  # doctest: +SKIP
    >>> client.transition_model_version_stage(
    ...     "churn",
    ...     3,
    ...     "production",  # doctest: +SKIP
    ...     archive_existing_versions=True,
    ... )
    >>> client.get_model_version_by_alias("churn", "champion").version  # doctest: +SKIP
    3
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

# Re-exported: part of this module's API since before the split.
from ._client_models import RegisteredModelOps
from ._edits import (
    Branch,
    check_tag,
    fresh,
    put,
    remove,
    setter,
)
from ._log_model import infer_signature, log_model, register_model
from ._mlflow_source import is_mlflow_source, register_from_mlflow
from ._promotion import plan_stage_change, stage_change_commit, write_stages
from ._registration import (
    NewVersion,
    checked_source,
    dvc_remote,
    in_repo_remote,
    infer_format,
    model_is_new,
    registrant,
    version_record,
)
from ._search import (
    PagedList,
    model_fields,
    search_models,
    search_versions,
    version_fields,
)
from ._storage import check_in_repo_size
from .errors import (
    RuleViolation,
    VersionNotFound,
)
from .policy import (
    enforce,
    initial_stage,
    missing_requirements,
)
from .schema import Signature
from .store import (
    ModelVersion,
    RegisteredModel,
)
from .uri import ModelUri, check_model_name, check_version

__all__ = [
    "Branch",
    "RegistryClient",
    "infer_format",
    "infer_signature",
    "log_model",
    "model_fields",
    "register_model",
    "version_fields",
]


class RegistryClient(RegisteredModelOps):
    """Read and change the registry in the git repository at ``path``.

    Reads use the working tree as last read (call :meth:`refresh` to see edits
    made meanwhile by others); every change re-reads it first, so its checks
    never act on stale records. A question about one model (get, resolve,
    change) reads only ``registry.yaml`` and ``models/NAME/`` until something
    needs the whole registry (search, :attr:`index`), so it costs the same in a
    registry of 10 versions or 10,000.

    >>> client = RegistryClient(".")  # doctest: +SKIP
    >>> [m.name for m in client.search_registered_models("name LIKE 'ch%'")]  # doctest: +SKIP
    ['churn']
    """

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The highest version in each of ``stages`` (every stage when None), as MLflow does."""
        model = self.get_registered_model(name)
        policy = self._policy_for(model.name)
        wanted = [self._stage(s, policy) for s in stages] if stages else list(policy.stages)
        return [holders[0] for holders in map(model.in_stage, wanted) if holders]

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """Registered models matching an MLflow filter, e.g. ``"name LIKE 'ch%'"``.

        Keys: ``name``, ``description``, ``tags.KEY``; ordered by ``name`` unless
        ``order_by`` says otherwise (``["last_updated_timestamp DESC"]``; ``timestamp``
        is the last update, as in MLflow). ``max_results`` None or -1 returns every
        match; else pass the result's ``token`` as ``page_token`` for the next page.

        Raises:
            UsageError: the filter, an order_by item, max_results or page_token is invalid.
        """
        return search_models(
            self.index.models.values(), filter_string, max_results, order_by, page_token
        )

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """Versions matching an MLflow filter, e.g. ``"name = 'churn' AND tags.team = 'risk'"``.

        Keys: ``name``, ``version_number``, ``current_stage``, ``run_id``,
        ``creation_timestamp``, ``tags.KEY``, ``metrics.KEY``, ``params.KEY``.
        Ordered by name, then newest version first, unless ``order_by`` is given.
        Paged as :meth:`search_registered_models`.

        Raises:
            UsageError: the filter, an order_by item, max_results or page_token is invalid.
        """
        return search_versions(
            self.index.versions(), filter_string, max_results, order_by, page_token
        )

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """A local path holding the version's artifact, fetched and verified as the loader does.

        The path is the artifact cache's entry: read it, never modify it.

        >>> client.get_model_version_download_uri("churn", 3)  # doctest: +SKIP
        '/home/me/.cache/registry-gen/artifacts/ab/cdef.../model.skops'

        Raises:
            NotFound: no such model or version.
            ArtifactError: the artifact cannot be fetched from its DVC remote.
        """
        from .loader import download_artifacts  # the loader pulls in the artifact edges

        target = self.get_model_version(name, version)
        return str(download_artifacts(target.uri, registry=self.root))

    # -- model versions ------------------------------------------------------------

    def create_model_version(  # noqa: PLR0913, PLR0917 (MLflow's signature, then ours)
        self,
        name: str,
        source: Path | str,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int | None = None,
        *,
        run_url: str | None = None,
        code: Mapping[str, str] | None = None,
        datasets: Sequence[Mapping[str, Any]] = (),
        parents: Sequence[str] = (),
        params: Mapping[str, Any] | None = None,
        metrics: Mapping[str, float] | None = None,
        signature: Signature | Mapping[str, Any] | None = None,
        format: str | None = None,
        trusted_types: Sequence[str] = (),
        stage: str | None = None,
        push: bool = True,
        base: str | None = None,
        branch: Branch = None,
        create_model: bool = False,
        created_at: datetime | None = None,
        created_by: str | None = None,
    ) -> ModelVersion:
        """Add the next version of ``name`` from the file or folder ``source``.

        The first six arguments are MLflow's, in MLflow's order (``source`` is a
        path or a ``file:`` URI; ``run_link`` is recorded as ``lineage.run_url``,
        which ``run_url=`` also sets); ``await_creation_for`` is accepted and
        ignored: a version is ready when this returns.

        The artifact is copied to ``models/NAME/N/``, tracked with ``dvc add``
        and pushed to the default DVC remote (``push=False`` skips the upload);
        then ``version.yaml`` is written. On any failure the half-made version
        folder is removed. The model must exist unless ``create_model`` is true
        (as :func:`register_model` does). ``created_at`` defaults to now and
        ``created_by`` to the registering user's git identity (``user.name`` of
        the registry's repository); give them when importing history from another
        registry.

        A skops artifact's types that skops does not trust by default are read
        from the file and recorded in ``artifact.trusted_types`` with the types in
        ``trusted_types`` (reviewed in the pull request like any field), so the
        version loads; a type that reaches the system or the interpreter, or that
        is not importable here, is refused.

        >>> client.create_model_version(
        ...     "churn",
        ...     "model.skops",
        ...     "a1b2",
        ...     description="Retrained on May data",
        ...     metrics={"auc": 0.91},
        ... )  # doctest: +SKIP

        Raises:
            UsageError: ``source`` is missing, an argument does not fit the schema, or
                a trusted type is refused.
            ModelNotFound: the model does not exist and ``create_model`` is false.
            RuleViolation: ``stage`` cannot be started in, or its requirements are not met.
            ArtifactError: DVC is not set up, has no default remote, or failed.
        """
        check_model_name(name)
        if is_mlflow_source(source):  # runs:/…, models:/m-…: downloaded from MLflow first
            return register_from_mlflow(
                self.create_model_version,
                name,
                str(source),
                (run_id, tags, run_link, description),
                dict(
                    run_url=run_url,
                    code=code,
                    datasets=datasets,
                    parents=parents,
                    params=params,
                    metrics=metrics,
                    signature=signature,
                    format=format,
                    trusted_types=trusted_types,
                    stage=stage,
                    push=push,
                    base=base,
                    branch=branch,
                    create_model=create_model,
                    created_at=created_at,
                ),
            )
        source_path, fmt = checked_source(source, format)
        new_model = model_is_new(self.refresh(), self.root, name, create_model)
        policy = self.policy
        number = self.next_version(name, base)
        fields = {
            "description": description or "",
            "tags": tags,
            "run_id": run_id,
            "run_url": run_link or run_url,
            "code": code,
            "datasets": datasets,
            "parents": parents,
            "params": params,
            "metrics": metrics,
            "signature": signature,
            "trusted_types": trusted_types,
        }
        record = version_record(
            number,
            self._stage(stage) if stage else policy.default_stage,
            source_path,
            fmt,
            created_by=registrant(self.root, created_by),
            fields={**fields, "created_at": created_at},
        )
        if record.stage != policy.default_stage:
            enforce(
                initial_stage(policy, name, number, record.stage),
                missing_requirements(policy, name, record, record.stage),
            )
        remote = dvc_remote(self.root, push)
        new = NewVersion(self.root, name, record, new_model)
        in_repo = in_repo_remote(self.root, remote)
        if in_repo:  # the bytes would land in git history: refused over the policy's limit
            check_in_repo_size(policy, source_path, name, number)
        self._apply(
            branch,
            f"register/{name}-v{number}",
            f"Register {name} v{number}",
            new.paths(),
            lambda: new.write(source_path, remote),
            extra_paths=in_repo,
        )
        return self.get_model_version(name, number)

    def copy_model_version(
        self,
        src_model_uri: str | ModelUri,
        dst_name: str,
        *,
        push: bool = True,
        branch: Branch = None,
    ) -> ModelVersion:
        """Register the version ``src_model_uri`` names as the next version of ``dst_name``.

        The new version has the same artifact (the same MD5: DVC stores it once),
        description, tags, run and metrics, and the source version as its lineage
        parent; ``dst_name`` is created when it is new, as MLflow does.

        >>> client.copy_model_version("models:/churn@champion", "churn-eu")  # doctest: +SKIP

        Raises:
            NotFound: the source version does not exist.
            ArtifactError: its artifact cannot be fetched, or DVC failed.
        """
        src = self.resolve(src_model_uri)
        local = self.root / src.artifact_path
        artifact = (
            local
            if local.exists()
            else Path(self.get_model_version_download_uri(src.name, src.version))
        )
        record = src.record
        return self.create_model_version(
            dst_name,
            artifact,
            record.lineage.run_id,
            record.tags,
            record.lineage.run_url,
            record.description,
            params=record.params,
            metrics=record.metrics,
            signature=record.signature,
            format=record.artifact.format,
            trusted_types=record.artifact.trusted_types,
            parents=[str(src.uri)],
            push=push,
            branch=branch,
            create_model=True,
        )

    @fresh
    def update_model_version(
        self,
        name: str,
        version: int | str,
        description: str | None = None,
        *,
        branch: Branch = None,
    ) -> ModelVersion:
        """Change a version's Markdown description."""
        target = self.get_model_version(name, version)
        if description is None:
            return target
        return self._edit(
            target,
            setter("description", description),
            branch,
            f"describe/{name}-v{target.version}",
            f"Describe {name} v{target.version}",
        )

    @fresh
    def set_model_version_tag(
        self, name: str, version: int | str, key: str, value: str, *, branch: Branch = None
    ) -> ModelVersion:
        """Set the tag ``key`` of one version."""
        target = self.get_model_version(name, version)
        check_tag(key, value)
        return self._edit(
            target,
            put("tags", key, value),
            branch,
            f"tag/{name}-v{target.version}-{key}",
            f"Tag {name} v{target.version}: {key}={value}",
        )

    @fresh
    def delete_model_version_tag(
        self, name: str, version: int | str, key: str, *, branch: Branch = None
    ) -> ModelVersion:
        """Remove the tag ``key`` of one version."""
        target = self.get_model_version(name, version)
        if key not in target.record.tags:
            raise VersionNotFound(f"{name} v{target.version} has no tag {key!r}")
        return self._edit(
            target,
            remove("tags", key),
            branch,
            f"tag/{name}-v{target.version}-{key}-delete",
            f"Remove tag {key} from {name} v{target.version}",
        )

    @fresh
    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        archive_existing_versions: bool = False,
        *,
        branch: Branch = None,
    ) -> ModelVersion:
        """Move a version to ``stage``, matched case-insensitively, spelled as the policy does.

        Checks registry.yaml before writing anything: the transition must be
        allowed, the version must meet the stage's requirements, and a
        single-holder stage (Production) already held by another version needs
        ``archive_existing_versions=True``, which moves the other holders to
        Archived in the same change. The diff is one line per version moved.

        >>> client.transition_model_version_stage("churn", 3, "production")  # doctest: +SKIP

        Raises:
            UsageError: ``stage`` is not a stage of the registry.
            NotFound: no such model or version.
            RuleViolation: the move breaks registry.yaml (see :mod:`registry_gen.policy`),
                or (with ``branch``) the version is already in ``stage``.
        """
        policy = self._policy_for(check_model_name(name))
        model = self.get_registered_model(name)
        target = model.version(check_version(version))
        stage_name = self._stage(stage, policy)
        if stage_name == target.stage:
            if branch:
                raise RuleViolation(f"{name} v{target.version} is already in {stage_name}")
            return target
        changes = plan_stage_change(policy, model, target, stage_name, archive_existing_versions)
        moved = [version for version, _ in changes[:-1]]
        written: dict[str, Any] = {}
        branch_name, message = stage_change_commit(policy, target, stage_name, moved)
        self._apply(
            branch,
            branch_name,
            message,
            [target.record_file, *[v.record_file for v in moved]],
            lambda: written.update(write_stages(self.root, changes)),
        )
        # edit_record validated what it wrote: no need to read the folder again.
        return replace(target, record=written[target.record_file])
