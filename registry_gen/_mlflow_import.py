"""``registry-gen import-mlflow``: an MLflow model registry copied into this registry.

Every registered model (or one, with ``model=``), with its versions, stages,
aliases, tags, descriptions and run lineage; each version's artifact is
downloaded from MLflow's artifact store, tracked by DVC and pushed. Written to
the working tree, or with ``branch`` as one branch holding one commit per model,
ready for review. What the registry's rules refuse is mapped and listed in the
:class:`ImportReport`, never silently changed:

* **Names**: lowercased; every run of characters outside ``[a-z0-9._-]`` becomes
  ``-``; leading and trailing ``-._`` are dropped; cut at 64 characters; a name
  the website reserves gets ``-model``; a name already taken gets ``-2``, ``-3``…
  (``Churn Model`` → ``churn-model``).
* **Version numbers**: versions are numbered 1..N in MLflow's order (MLflow keeps
  gaps where versions were deleted); the MLflow number is kept as the tag
  ``mlflow.version``, and aliases follow their version.
* **Stages**: a stage the registry does not have, a second holder of a
  single-holder stage (only the highest keeps Production), or a stage whose
  requirements a version does not meet (Production needs a description and
  metrics) starts in the default stage instead.
* **Aliases** the registry refuses (into Archived, or reading as a stage) are left out.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import gitops
from ._mlflow_source import local_artifact, run_lineage
from ._registration import dvc_remote, in_repo_remote
from .errors import RegistryError, UsageError
from .paths import MODELS_DIR
from .uri import check_model_name, fold_name, is_reserved_name

if TYPE_CHECKING:
    from .client import RegistryClient

__all__ = ["ImportReport", "import_mlflow", "map_name"]

VERSION_TAG = "mlflow.version"  # the version's number in the MLflow registry it came from
_MAX_NAME = 64
_PAGE = 1000


@dataclass
class ImportReport:
    """What was imported, and every place a rule made the import differ from MLflow."""

    models: dict[str, str] = field(default_factory=dict)  # MLflow name -> registry name
    versions: dict[str, dict[int, int]] = field(default_factory=dict)  # name -> MLflow v -> ours
    notes: list[str] = field(default_factory=list)  # one line per difference
    commits: list[str] = field(default_factory=list)  # with a branch: one per model


def map_name(name: str, taken: set[str]) -> str:
    """The registry name for the MLflow name ``name``, not colliding with ``taken`` (folded).

    >>> map_name("Churn Model", set()), map_name("churn", {"churn"}), map_name("index", set())
    ('churn-model', 'churn-2', 'index-model')
    """
    base = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._")[:_MAX_NAME].strip("-._")
    base = base or "model"
    if is_reserved_name(base):
        base = f"{base[: _MAX_NAME - 6]}-model"
    folded = {fold_name(t) for t in taken}
    candidate, n = base, 1
    while fold_name(candidate) in folded:
        n += 1
        candidate = f"{base[: _MAX_NAME - len(str(n)) - 1]}-{n}"
    return check_model_name(candidate)


def import_mlflow(
    client: RegistryClient,
    tracking_uri: str,
    *,
    model: str | None = None,
    branch: bool | str | None = None,
    push: bool = True,
) -> ImportReport:
    """Import the MLflow registry at ``tracking_uri`` (or its model ``model``).

    >>> import_mlflow(RegistryClient("."), "sqlite:///mlflow.db", branch=True)  # doctest: +SKIP

    Raises:
        UsageError: the mlflow extra is missing, MLflow cannot be read, or ``model`` is unknown.
        GitError: with ``branch``, the branch exists or models/ has uncommitted edits.
        ArtifactError: DVC is not set up, or an artifact cannot be pushed.
    """
    source = _mlflow(tracking_uri)
    names = [model] if model else _all_models(source)
    report = ImportReport()
    taken = set(client.refresh().models) | set(client.index.moved)
    remote = dvc_remote(client.root, push)
    extra = in_repo_remote(client.root, remote)
    branch_name = _branch_name(client.root, branch)
    importer = _Importer(client, source, tracking_uri, report, push)
    for i, name in enumerate(names):
        mapped = map_name(name, taken)
        taken.add(mapped)
        report.models[name] = mapped
        if mapped != name:
            report.notes.append(f"model {name!r} is imported as {mapped!r} (name rules)")
        paths = [f"{MODELS_DIR}/{mapped}"]
        message = f"Import {mapped} from MLflow ({name})"

        def write(name: str = name, mapped: str = mapped) -> None:
            importer.model(name, mapped)

        if branch_name and i == 0:
            with gitops.change_on_branch(client.root, branch_name, paths, message, extra):
                write()
            report.commits.append(message)
        else:
            write()
            if branch_name:
                gitops.commit_paths(client.root, [*paths, *extra], message)
                report.commits.append(message)
    client.refresh()
    return report


def _branch_name(root: Path, branch: bool | str | None) -> str | None:
    if not branch:
        return None
    return gitops.branch_name("import-mlflow") if branch is True else str(branch)


def _mlflow(tracking_uri: str) -> Any:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise UsageError(
            'import-mlflow needs the mlflow extra: pip install "registry-gen[mlflow]"'
        ) from None
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def _all_models(source: Any) -> list[str]:
    names: list[str] = []
    token = None
    while True:
        page = source.search_registered_models(max_results=_PAGE, page_token=token)
        names += [m.name for m in page]
        token = page.token
        if not token:
            return sorted(names)


def _versions(source: Any, name: str) -> list[Any]:
    found: list[Any] = []
    token = None
    escaped = name.replace("'", "\\'")
    while True:
        page = source.search_model_versions(
            f"name = '{escaped}'", max_results=_PAGE, page_token=token
        )
        found += list(page)
        token = page.token
        if not token:
            return sorted(found, key=lambda v: int(v.version))


@dataclass
class _Importer:
    """One import's parts: the two registries and the report being written."""

    client: RegistryClient
    source: Any  # MLflow's MlflowClient
    tracking_uri: str
    report: ImportReport
    push: bool

    def model(self, name: str, mapped: str) -> None:
        from mlflow.exceptions import MlflowException

        try:
            registered = self.source.get_registered_model(name)
            versions = _versions(self.source, name)
        except MlflowException as error:
            raise UsageError(f"cannot read model {name!r} from MLflow: {error.message}") from None
        self.client.create_registered_model(
            mapped, dict(registered.tags or {}), registered.description or None
        )
        numbers: dict[int, int] = {}
        stages = self._kept_stages(mapped, versions)
        for ours, version in enumerate(versions, start=1):
            numbers[int(version.version)] = ours
            self._version(mapped, version, stages.get(str(version.version)))
            if int(version.version) != ours:
                self.report.notes.append(f"{name} v{version.version} is {mapped} v{ours} (no gaps)")
        self.report.versions[name] = numbers
        for alias, number in sorted((registered.aliases or {}).items()):
            try:
                self.client.set_registered_model_alias(mapped, alias, numbers[int(number)])
            except (RegistryError, KeyError) as error:
                self.report.notes.append(f"alias {name}@{alias} is left out: {error}")

    def _kept_stages(self, mapped: str, versions: list[Any]) -> dict[str, str]:
        """MLflow version -> the stage it keeps; the others start in the default stage."""
        policy = self.client.policy
        kept: dict[str, str] = {}
        holders: set[str] = set()
        for version in reversed(versions):  # the highest holder of a single-holder stage wins
            stage = policy.canonical_stage(version.current_stage or policy.default_stage)
            if stage is None:
                self.report.notes.append(
                    f"{mapped}: MLflow v{version.version}'s stage {version.current_stage!r} "
                    f"is not a stage here; it starts in {policy.default_stage}"
                )
                continue
            if stage in policy.single_holder and stage in holders:
                self.report.notes.append(
                    f"{mapped}: MLflow v{version.version} was also in {stage}, which holds "
                    f"one version; it starts in {policy.default_stage}"
                )
                continue
            holders.add(stage)
            kept[str(version.version)] = stage
        return kept

    def _version(self, mapped: str, version: Any, stage: str | None) -> None:
        lineage = run_lineage(self.tracking_uri, version.run_id or None, None)
        uri = self.source.get_model_version_download_uri(version.name, version.version)
        tags = {**(version.tags or {}), VERSION_TAG: str(version.version)}
        with tempfile.TemporaryDirectory(prefix="registry-gen-import-") as tmp:
            artifact = local_artifact(uri, None, Path(tmp), tracking_uri=self.tracking_uri)
            args = (mapped, artifact, lineage.get("run_id"), tags, version.run_link or None)
            common: dict[str, Any] = {
                "params": lineage.get("params"),
                "metrics": lineage.get("metrics"),
                "push": self.push,
                "created_at": datetime.fromtimestamp(version.creation_timestamp / 1000, UTC),
            }
            description = version.description or None
            try:
                self.client.create_model_version(*args, description, stage=stage, **common)
            except RegistryError as error:
                if stage is None or stage == self.client.policy.default_stage:
                    raise
                self.report.notes.append(
                    f"{mapped}: MLflow v{version.version} starts in "
                    f"{self.client.policy.default_stage}, not {stage}: {error}"
                )
                self.client.create_model_version(*args, description, **common)
