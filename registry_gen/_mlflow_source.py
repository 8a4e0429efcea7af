"""Versions whose artifact lives in MLflow: ``runs:/RUN/PATH`` and ``models:/MODEL_ID`` sources.

Needs the ``[mlflow]`` extra. The artifact is downloaded from MLflow's artifact
store (through the tracking URI MLflow resolves: ``tracking_uri=``, else
``MLFLOW_TRACKING_URI``), then registered like a local file: copied into the
registry and tracked by DVC. The run (given, named by the ``runs:/`` URI, or the
logged model's source run) is recorded as lineage with its params, metrics and
link. Used by :meth:`RegistryClient.create_model_version` for such sources, by
the MLflow store plugin, and by ``registry-gen import-mlflow``.

Example:
    >>> is_mlflow_source("runs:/0a1b/model"), is_mlflow_source("models:/m-0a1b")
    (True, True)
    >>> is_mlflow_source("models:/churn/3"), is_mlflow_source("model.skops")
    (False, False)
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .errors import UsageError

__all__ = [
    "MODEL_ID_TAG",
    "MlflowSource",
    "fetch_source",
    "is_mlflow_source",
    "local_artifact",
    "register_from_mlflow",
    "run_lineage",
]

MODEL_ID_TAG = "mlflow.model_id"  # the tag a version keeps its MLflow 3 logged model id in
# runs:/RUN_ID/PATH, and MLflow 3's logged models models:/m-… (no /VERSION, no @ALIAS).
_RUNS = re.compile(r"^runs:/(?P<run>[^/]+)(?:/(?P<path>.*))?\Z")
_LOGGED_MODEL = re.compile(r"^models:/(?P<id>m-[0-9a-f]+)/?\Z")

T = TypeVar("T")


def is_mlflow_source(source: object) -> bool:
    """Whether ``source`` names an artifact in MLflow (a run's or a logged model's)."""
    text = str(source)
    return bool(_RUNS.match(text) or _LOGGED_MODEL.match(text))


@dataclass
class MlflowSource:
    """A downloaded MLflow artifact and the run it came from."""

    path: Path
    run_id: str | None = None
    run_link: str | None = None
    model_id: str | None = None
    params: dict[str, Any] | None = None
    metrics: dict[str, float] | None = None
    tags: dict[str, str] = field(default_factory=dict)


def fetch_source(
    source: str, dest: Path, *, run_id: str | None = None, tracking_uri: str | None = None
) -> MlflowSource:
    """Download ``source`` into ``dest`` and look up its run's lineage.

    Raises:
        UsageError: the mlflow extra is missing, or MLflow cannot download ``source``.
    """
    runs = _RUNS.match(source)
    logged = _LOGGED_MODEL.match(source)
    run_id = run_id or (runs["run"] if runs else None)
    model_id = logged["id"] if logged else None
    lineage = run_lineage(tracking_uri, run_id, model_id)
    where = _logged_model_location(model_id, tracking_uri) if model_id else source
    path = local_artifact(where, None, dest, tracking_uri=tracking_uri)
    found = MlflowSource(
        path,
        run_id=lineage.get("run_id"),
        model_id=model_id,
        params=lineage.get("params"),
        metrics=lineage.get("metrics"),
        run_link=lineage.get("run_link"),
    )
    if model_id:
        found.tags[MODEL_ID_TAG] = model_id
    return found


def register_from_mlflow(
    create: Callable[..., T],
    name: str,
    source: str,
    mlflow_args: tuple[str | None, Mapping[str, str] | None, str | None, str | None],
    options: dict[str, Any],
) -> T:
    """Download ``source`` and call ``create`` (``create_model_version``) with the local copy.

    ``mlflow_args`` are MLflow's ``run_id, tags, run_link, description``; what the
    caller gave wins over what the run says. ``tracking_uri`` may be in ``options``.

    Raises:
        UsageError: see :func:`fetch_source`.
    """
    run_id, tags, run_link, description = mlflow_args
    tracking_uri = options.pop("tracking_uri", None)
    with tempfile.TemporaryDirectory(prefix="registry-gen-mlflow-") as tmp:
        found = fetch_source(source, Path(tmp), run_id=run_id, tracking_uri=tracking_uri)
        for key in ("params", "metrics"):
            if not options.get(key):  # what the caller gave wins, the run's fills in
                options[key] = getattr(found, key)
        return create(
            name,
            found.path,
            found.run_id,
            {**found.tags, **(tags or {})},
            run_link or found.run_link,
            description,
            **options,
        )


def run_lineage(
    tracking_uri: str | None, run_id: str | None, model_id: str | None
) -> dict[str, Any]:
    """``run_id``, ``params``, ``metrics`` and ``run_link`` of the run that made a model.

    The run is ``run_id``, else the source run of MLflow 3's logged model
    ``model_id``. A tracking store that cannot answer leaves only what was given:
    lineage is a record, not a condition of registering.
    """
    found: dict[str, Any] = {"run_id": run_id}
    if not run_id and not model_id:
        return found
    tracking = _mlflow_client(tracking_uri)
    from mlflow.exceptions import MlflowException

    try:
        if not run_id and model_id:
            found["run_id"] = run_id = tracking.get_logged_model(model_id).source_run_id
        if run_id:
            data = tracking.get_run(run_id).data
            found["params"] = dict(data.params) or None
            found["metrics"] = {k: float(v) for k, v in data.metrics.items()} or None
    except MlflowException:
        pass  # no such run or model in this tracking store: register without lineage
    return found


def local_artifact(
    source: str, local_model_path: str | None, tmp: Path, *, tracking_uri: str | None = None
) -> Path:
    """A local copy of the model at ``source``, named ``model`` when it is a folder.

    Raises:
        UsageError: MLflow cannot download ``source``.
    """
    if local_model_path:
        found = Path(local_model_path)
    else:
        _mlflow_client(tracking_uri)  # the extra's check, with its one-line error
        from mlflow.artifacts import download_artifacts

        _check_no_local_files(source, tracking_uri)

        try:
            found = Path(
                download_artifacts(
                    artifact_uri=source, dst_path=str(tmp / "dl"), tracking_uri=tracking_uri
                )
            )
        except Exception as error:  # MLflow raises many kinds for an unreachable source
            raise UsageError(
                f"cannot download the model version source {source!r}: {error}"
            ) from error
    if not found.is_dir():
        return found
    target = tmp / "model"  # the version's artifact path: models/NAME/N/model
    shutil.copytree(found, target)
    return target


_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):")


def _check_no_local_files(source: str, tracking_uri: str | None) -> None:
    """A remote tracking server says where a version's files are: never on this machine.

    A hostile server (``import-mlflow --tracking-uri https://…``) answering
    ``file:///home/me/.aws`` as a version's download URI or a run's artifact root
    would have this machine's files copied into the registry and pushed.

    Raises:
        UsageError: the tracking store is remote and ``source`` resolves to local files.
    """
    import mlflow

    tracking = tracking_uri or mlflow.get_tracking_uri()
    if not tracking.lower().startswith(("http://", "https://", "databricks")):
        return  # a local store (sqlite, a folder) names this machine's files by design
    where = source
    if runs := _RUNS.match(source):
        from mlflow.tracking.artifact_utils import get_artifact_uri

        try:
            where = str(
                get_artifact_uri(  # type: ignore[no-untyped-call]
                    runs["run"], runs["path"] or None, tracking_uri=tracking
                )
            )
        except Exception:  # no such run: the download says so
            return
    scheme = match["scheme"].lower() if (match := _SCHEME.match(where)) else "file"
    if scheme == "file" or len(scheme) == 1:  # a path, file://, or a Windows drive letter
        raise UsageError(
            f"the tracking server {tracking} names files on this machine ({where!r}) as a "
            "model's artifacts; refused (serve artifacts through the server, "
            "`mlflow server --serve-artifacts`, or import from a local tracking store)"
        )


def _logged_model_location(model_id: str, tracking_uri: str | None) -> str:
    """Where MLflow 3 stored a logged model's files (asked of this tracking store).

    ``download_artifacts("models:/m-…")`` would ask the process's global
    registry instead, which may be this very registry (the plugin).

    Raises:
        UsageError: the tracking store has no such logged model.
    """
    from mlflow.exceptions import MlflowException

    try:
        return str(_mlflow_client(tracking_uri).get_logged_model(model_id).artifact_location)
    except MlflowException as error:
        raise UsageError(f"cannot find the logged model {model_id!r}: {error.message}") from None


def _mlflow_client(tracking_uri: str | None) -> Any:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise UsageError(
            "MLflow sources (runs:/, models:/m-…) need the mlflow extra: "
            'pip install "registry-gen[mlflow]"'
        ) from None
    return MlflowClient(tracking_uri=tracking_uri)
