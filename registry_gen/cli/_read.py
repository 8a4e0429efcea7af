"""Commands that read the registry: list, show, search, download, and the artifact cache."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from registry_gen.errors import UsageError

from ._app import Context, handle_errors, main, open_client, pass_context
from ._output import (
    description_text,
    echo_json,
    echo_table,
    first_line,
    human_size,
    model_json,
    parse_size,
    version_json,
    version_rows,
)

if TYPE_CHECKING:
    from registry_gen.schema import Policy


def _listed_stages(policy: Policy) -> list[str]:
    """The stages ``list`` summarises: all but the default (unreviewed) and the archive."""
    hidden = {policy.default_stage, policy.archive_stage}
    return [stage for stage in policy.stages if stage not in hidden]


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_context
@handle_errors
def list_command(ctx: Context, as_json: bool) -> None:
    """List the registered models with their stages and aliases.

    Python: RegistryClient.search_registered_models.

    \b
    Examples:
      registry-gen list
      registry-gen list --json
    """
    client = open_client(ctx)
    models = client.search_registered_models()
    if as_json:
        echo_json([model_json(m) for m in models])
        return
    if not models:
        click.echo("No registered models yet. Add one: registry-gen register NAME PATH")
        return
    shown = _listed_stages(client.policy)
    rows = []
    for m in models:
        stages = ", ".join(
            f"{s}: " + " ".join(f"v{v.version}" for v in m.in_stage(s))
            for s in shown
            if m.in_stage(s)
        )
        aliases = " ".join(f"@{a}=v{n}" for a, n in sorted(m.aliases.items()))
        rows.append(
            [
                m.name,
                str(len(m.versions)),
                f"v{m.latest.version}" if m.latest else "-",
                stages,
                aliases,
                first_line(m.record.description, 40),
            ]
        )
    echo_table(["NAME", "VERSIONS", "LATEST", "STAGES", "ALIASES", "DESCRIPTION"], rows)
    for error in client.index.errors[:5]:
        click.echo(f"warning: {error}", err=True)


@main.command("show")
@click.argument("target", metavar="URI|NAME")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option(
    "--at",
    metavar="DATE|REV",
    help="As the registry stood then: a date (the end of that day, UTC) or a git revision.",
)
@pass_context
@handle_errors
def show_command(ctx: Context, target: str, as_json: bool, at: str | None) -> None:
    """Show a version (models:/NAME/VERSION|STAGE|latest, models:/NAME@ALIAS) or a model.

    Python: RegistryClient.resolve / get_registered_model; with --at,
    registry_gen.history.index_at(root, DATE|REV).

    \b
    Examples:
      registry-gen show churn
      registry-gen show models:/churn/Production
      registry-gen show models:/churn@champion --json
      registry-gen show models:/churn/Production --at 2026-01-31
    """
    if at is None:
        client = open_client(ctx)
    else:
        from ._history import client_at

        client = client_at(ctx, at)
    if target.startswith("models:"):
        version = client.resolve(target)
        model = client.get_registered_model(version.name)
        if as_json:
            echo_json(version_json(version, model))
            return
        _show_version(version, model)
        return
    model = client.get_registered_model(target)
    if as_json:
        echo_json(model_json(model))
        return
    count = len(model.versions)
    click.echo(f"{model.name}  ({count} version{'' if count == 1 else 's'})")
    if model.record.owners:
        click.echo(f"owners: {', '.join(model.record.owners)}")
    if model.record.tags:
        click.echo("tags: " + ", ".join(f"{k}={v}" for k, v in model.record.tags.items()))
    if model.aliases:
        click.echo("aliases: " + ", ".join(f"@{a} → v{n}" for a, n in model.aliases.items()))
    if model.record.description.strip():
        click.echo("")
        click.echo(description_text(model.record.description))
    click.echo("")
    newest_first = list(reversed(model.versions))
    echo_table(
        ["VERSION", "STAGE", "CREATED", "BY", "ALIASES", "DESCRIPTION"],
        version_rows(newest_first, {model.name: model}, with_name=False),
    )


def _show_version(version: Any, model: Any) -> None:
    record = version.record
    aliases = " ".join(f"@{a}" for a in model.aliases_of(version.version))
    click.echo(f"{version.uri}  {version.stage}  {aliases}".rstrip())
    click.echo(f"created {record.created_at.isoformat()} by {record.created_by}")
    md5 = f", md5 {version.artifact_md5}" if version.artifact_md5 else ""
    click.echo(f"artifact {version.artifact_path} ({record.artifact.format}{md5})")
    lineage = record.lineage
    if lineage.run_id or lineage.run_url:
        click.echo(f"run {lineage.run_id or ''} {lineage.run_url or ''}".rstrip())
    if lineage.code:
        click.echo(f"code {lineage.code.repo}@{lineage.code.commit}")
    for dataset in lineage.datasets:
        where = dataset.url or dataset.path or ""
        md5 = f" (md5 {dataset.md5})" if dataset.md5 else ""
        click.echo(f"dataset {dataset.name}: {where}{md5}")
    for parent in lineage.parents:
        click.echo(f"parent {parent}")
    if record.metrics:
        click.echo("metrics: " + ", ".join(f"{k}={v:g}" for k, v in record.metrics.items()))
    if record.params:
        click.echo("params: " + ", ".join(f"{k}={v}" for k, v in record.params.items()))
    if record.tags:
        click.echo("tags: " + ", ".join(f"{k}={v}" for k, v in record.tags.items()))
    if record.description.strip():
        click.echo("")
        click.echo(description_text(record.description))


@main.command("search")
@click.argument("filter_string", metavar="FILTER", required=False, default="")
@click.option(
    "--order-by",
    "order_by",
    multiple=True,
    metavar="KEY [ASC|DESC]",
    help="e.g. 'version_number DESC' or 'metrics.auc DESC' (repeatable).",
)
@click.option(
    "--models", "models_only", is_flag=True, help="Search registered models instead of versions."
)
@click.option("--max-results", type=click.IntRange(min=1), help="Stop after this many.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_context
@handle_errors
def search_command(
    ctx: Context,
    filter_string: str,
    order_by: tuple[str, ...],
    models_only: bool,
    max_results: int | None,
    as_json: bool,
) -> None:
    """Search versions with MLflow's filter syntax.

    \b
    Examples:
      registry-gen search "name = 'churn' AND current_stage = 'Production'"
      registry-gen search "name LIKE 'ch%'" --order-by "version_number DESC"
      registry-gen search "tags.team = 'risk'" --models
    Python: RegistryClient.search_model_versions / search_registered_models.
    """
    client = open_client(ctx)
    if models_only:
        models = client.search_registered_models(filter_string, max_results, list(order_by))
        if as_json:
            echo_json([model_json(m) for m in models])
            return
        echo_table(
            ["NAME", "VERSIONS", "DESCRIPTION"],
            [[m.name, str(len(m.versions)), first_line(m.record.description)] for m in models],
        )
        return
    versions = client.search_model_versions(filter_string, max_results, list(order_by))
    if as_json:
        echo_json([version_json(v, client.index.models[v.name]) for v in versions])
        return
    if not versions:
        click.echo("No versions match.")
        return
    echo_table(
        ["NAME", "VERSION", "STAGE", "CREATED", "BY", "ALIASES", "DESCRIPTION"],
        version_rows(versions, client.index.models, with_name=True),
    )


def _registry_arg(ctx: Context, registry: str | None) -> str | None:
    """--from wins; else -C / REGISTRY_GEN_REGISTRY; else REGISTRY_GEN_URI; else the
    registry around the current folder (found upwards, or "not a registry")."""
    from registry_gen.locate import REGISTRY_ENV

    if registry:
        return registry
    if ctx.given is None and os.environ.get(REGISTRY_ENV):
        return None
    return str(ctx.root)


@main.command("download")
@click.argument("uri")
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Copy the artifact into this folder (default: print its path in the cache).",
)
@click.option(
    "--from",
    "registry",
    default=None,
    metavar="REGISTRY",
    help="A checkout, git URL (URL@REV or URL#REV) or the published site's URL; "
    "default: REGISTRY_GEN_URI, else -C / the current repository.",
)
@click.option("--offline", is_flag=True, default=None, help="Use only the cache.")
@pass_context
@handle_errors
def download_command(
    ctx: Context, uri: str, output: Path | None, registry: str | None, offline: bool | None
) -> None:
    """Fetch the artifact of URI (verified) and print where it is.

    Python: registry_gen.download_artifacts(uri, dst).

    \b
    Examples:
      registry-gen download models:/churn/Production -o ./model
      registry-gen download models:/churn@champion --from https://acme.github.io/reg/
    """
    from registry_gen.loader import download_artifacts
    from registry_gen.progress import listening

    from ._output import ProgressLine

    line = ProgressLine(ctx.quiet)  # "churn v3: downloading 40% (…)" on a terminal
    with listening(line):
        try:
            path = download_artifacts(
                uri, output, registry=_registry_arg(ctx, registry), offline=offline or None
            )
        finally:
            line.done()
    click.echo(str(path))


@main.group("cache")
def cache_group() -> None:
    """The local artifact cache (REGISTRY_GEN_CACHE, else the user cache folder)."""


@cache_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def cache_list_command(as_json: bool) -> None:
    """List cached artifacts, most recently used first (sizes include their object cache).

    Python: registry_gen.cache.ArtifactCache().list_entries().

    \b
    Examples:
      registry-gen cache list
      registry-gen cache list --json
    """
    from datetime import UTC, datetime

    from registry_gen.cache import ArtifactCache

    cache = ArtifactCache()
    entries = cache.list_entries()
    rows = [
        {
            "md5": e.md5,
            "size": e.size,
            "last_used": datetime.fromtimestamp(e.last_used, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "uri": e.info.get("uri"),
            "path": str(e.path),
            "objects": e.objects,
        }
        for e in entries
    ]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo(f"The cache {cache.root} is empty.")
        return
    echo_table(
        ["MD5", "SIZE", "LAST USED", "URI"],
        [
            [e.md5[:12], human_size(e.size), str(r["last_used"]), str(r["uri"] or "-")]
            for e, r in zip(entries, rows, strict=True)
        ],
    )
    total = human_size(sum(e.size for e in entries))
    click.echo(f"{len(rows)} artifact(s), {total} in {cache.root}")


@cache_group.command("prune")
@click.option(
    "--older-than",
    "older_than",
    type=click.FloatRange(min=0),
    default=None,
    metavar="DAYS",
    help="Delete artifacts not used for DAYS days.",
)
@click.option(
    "--keep-size",
    "keep_size",
    default=None,
    metavar="SIZE",
    help="Then delete the least recently used until at most SIZE remain (e.g. 5G).",
)
@click.option("--dry-run", is_flag=True, help="Only show what would be deleted.")
@handle_errors
def cache_prune_command(older_than: float | None, keep_size: str | None, dry_run: bool) -> None:
    """Delete cached artifacts by age and/or total size (at least one option is needed).

    Python: registry_gen.cache.ArtifactCache().prune(older_than_days=..., keep_bytes=...).

    \b
    Examples:
      registry-gen cache prune --older-than 30
      registry-gen cache prune --keep-size 5G --dry-run
    """
    from registry_gen.cache import ArtifactCache

    if older_than is None and keep_size is None:
        raise UsageError("give --older-than DAYS and/or --keep-size SIZE")
    doomed = ArtifactCache().prune(
        older_than_days=older_than,
        keep_bytes=parse_size(keep_size) if keep_size else None,
        dry_run=dry_run,
    )
    verb = "Would delete" if dry_run else "Deleted"
    for entry in doomed:
        where = entry.info.get("uri") or "-"
        click.echo(f"{verb} {entry.md5} ({human_size(entry.size)}, {where})")
    click.echo(f"{verb} {len(doomed)} artifact(s), {human_size(sum(e.size for e in doomed))}.")
