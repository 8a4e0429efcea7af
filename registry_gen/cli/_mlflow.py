"""``registry-gen import-mlflow``: a thin layer over ``registry_gen._mlflow_import``."""

from __future__ import annotations

import click

from ._app import Context, handle_errors, main, open_client, pass_context
from ._write import _branch_arg, _branch_option


@main.command("import-mlflow")
@click.option(
    "--tracking-uri",
    required=True,
    metavar="URI",
    help="The MLflow tracking/registry URI to import from (sqlite:///mlflow.db, http://host:5000).",
)
@click.option("--model", "model", metavar="NAME", help="Import only this registered model.")
@click.option("--no-push", is_flag=True, help="Track the artifacts but do not dvc push them.")
@_branch_option
@pass_context
@handle_errors
def import_mlflow_command(
    ctx: Context, tracking_uri: str, model: str | None, no_push: bool, branch: str | None
) -> None:
    """Import registered models and their versions from an MLflow registry.

    Stages, aliases, tags, descriptions and run lineage come along; each version's
    artifact is downloaded from MLflow's artifact store, tracked by DVC and pushed.
    With --branch: one branch, one commit per model, ready for a pull request.
    Names and stages the registry's rules refuse are mapped (docs/mlflow.md) and listed.

    Python: registry_gen._mlflow_import.import_mlflow(RegistryClient(root), tracking_uri).

    \b
    Examples:
      registry-gen import-mlflow --tracking-uri sqlite:///mlflow.db --branch
      registry-gen import-mlflow --tracking-uri http://mlflow:5000 --model churn
    """
    from registry_gen._mlflow_import import import_mlflow

    report = import_mlflow(
        open_client(ctx), tracking_uri, model=model, branch=_branch_arg(branch), push=not no_push
    )
    for name, mapped in report.models.items():
        numbers = report.versions.get(name, {})
        click.echo(f"Imported {name} → {mapped} ({len(numbers)} version(s))")
    for note in report.notes:
        click.echo(f"  note: {note}")
    if report.commits:
        from registry_gen.gitops import current_branch

        here = current_branch(ctx.root)
        click.echo(
            f"Committed {len(report.commits)} commit(s) on branch {here}; "
            f"open a pull request: git push -u origin {here}"
        )
