"""The ``registry-gen`` command line: a thin layer over the Python API.

The library never prints; this module owns all output. Every command has a
Python function that does the same thing (named in its help text). Exit codes:
0 ok, 1 a rule or user error (``RegistryError``), 2 usage (bad arguments).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from .errors import RegistryError, UsageError

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """What every command shares: where the registry is."""

    def __init__(self, root: Path) -> None:
        self.root = root


pass_context = click.make_pass_decorator(Context)


def handle_errors(func: F) -> F:
    """Turn registry errors into one readable line on stderr and the right exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UsageError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)
        except RegistryError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON for scripts."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


class _ClickHandler(logging.Handler):
    """Send the library's log records to stderr, which the CLI owns."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C", "--registry", "root", type=click.Path(file_okay=False, path_type=Path), default=".",
    show_default=True, help="Run as if started in this registry folder (like git -C).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what the registry does.")
@click.version_option(package_name="registry-gen")
@click.pass_context
def main(ctx: click.Context, root: Path, verbose: bool) -> None:
    """A model registry that lives in a git repository.

    Records are YAML in models/NAME/VERSION/, artifacts are tracked by DVC,
    changes are reviewed as pull requests and the website is built by MkDocs.
    """
    handler = _ClickHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("registry_gen")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    ctx.obj = Context(root)


# ---------------------------------------------------------------------------
# validate, codeowners (issue 3: the pull-request validator)


@main.command("validate")
@click.option("--base", default=None, metavar="REF",
              help="Also check the change from REF (read from git objects, no checkout).")
@click.option("--head", default=None, metavar="REF",
              help="The revision to check with --base (default HEAD).")
@click.option("--format", "output", type=click.Choice(["human", "json", "github"]),
              default="human", show_default=True, help="Output for people, scripts or GitHub.")
@click.option("--summary", "summary_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Append a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY).")
@click.option("--strict", is_flag=True, help="Warnings fail too.")
@click.option("--check-remote", is_flag=True,
              help="Check that each new artifact exists in the DVC remote (no download).")
@pass_context
@handle_errors
def validate_command(ctx: Context, base: str | None, head: str | None, output: str,
                     summary_file: Path | None, strict: bool, check_remote: bool) -> None:
    """Check the registry against its rules; exit 1 on any error.

    Without --base: the whole working tree (as pre-commit runs it). With
    --base: the tree at --head and the change from --base, both read from git
    objects, so CI can run the base branch's validator on a pull request's data.
    Python: registry_gen.validate.validate_tree / validate_change.
    """
    from .report import format_github, format_human, format_json, format_summary
    from .validate import validate_change, validate_tree

    if head is not None and base is None:
        raise UsageError("--head needs --base (the revision to compare it with)")
    if base is not None:
        report = validate_change(ctx.root, base, head or "HEAD", check_remote=check_remote)
    else:
        report = validate_tree(ctx.root, check_remote=check_remote)
    if output == "json":
        click.echo(format_json(report, strict=strict))
    elif output == "github":
        text = format_github(report)
        if text:
            click.echo(text)
        click.echo(format_human(report, strict=strict), err=True)
    else:
        click.echo(format_human(report, colour=sys.stdout.isatty(), strict=strict))
    if summary_file is not None:
        with summary_file.open("a", encoding="utf-8") as handle:
            handle.write(format_summary(report, strict=strict))
    sys.exit(1 if report.failed(strict) else 0)


@main.command("codeowners")
@click.option("--check", is_flag=True,
              help="Only check that CODEOWNERS is current (exit 1 if not).")
@pass_context
@handle_errors
def codeowners_command(ctx: Context, check: bool) -> None:
    """Write .github/CODEOWNERS from model owners and registry.yaml approvers.

    Python: registry_gen.codeowners.render_codeowners / write_codeowners.
    """
    from .codeowners import render_codeowners, write_codeowners
    from .store import load_index

    index = load_index(ctx.root)
    if check:
        path = ctx.root / ".github" / "CODEOWNERS"
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != render_codeowners(index):
            click.echo(f"{path} is out of date; run `registry-gen codeowners`", err=True)
            sys.exit(1)
        click.echo(f"{path} is current")
        return
    path, changed = write_codeowners(ctx.root, index)
    click.echo(f"{'wrote' if changed else 'unchanged:'} {path}")


# ---------------------------------------------------------------------------
# Registry core: init, register, promote, alias, describe, tag, list, show, search
# (Python: registry_gen.client.RegistryClient and registry_gen.scaffold.init_registry)

_BRANCH_HELP = ("Make a branch (default name shown after the change) from HEAD and commit "
                "exactly this change there, ready for a pull request. Give NAME to choose it.")


def _branch_option(func: F) -> F:
    # `--branch` alone → the default name; `--branch NAME` → that name.
    return click.option("--branch", "branch", is_flag=False, flag_value="", default=None,
                        metavar="[NAME]", help=_BRANCH_HELP)(func)


def _branch_arg(value: str | None) -> bool | str:
    if value is None:
        return False
    return value or True


def _client(ctx: Context) -> Any:
    from .client import RegistryClient

    return RegistryClient(ctx.root)


def _pairs(items: tuple[str, ...], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{what} {item!r} must look like KEY=VALUE")
        out[key.strip()] = value
    return out


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"{what} must be a number, got {text!r}") from None


def _param(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text


def _dataset(item: str) -> dict[str, str]:
    import hashlib

    name, sep, where = item.partition("=")
    if not sep or not name.strip() or not where:
        raise UsageError(f"--dataset {item!r} must look like NAME=PATH or NAME=URL")
    data = {"name": name.strip()}
    if "://" in where:
        data["url"] = where
        return data
    data["path"] = where
    path = Path(where)
    if path.is_file():
        digest = hashlib.md5()  # noqa: S324 - the content address DVC uses, not security
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        data["md5"] = digest.hexdigest()
    return data


def _version_json(version: Any, model: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": version.name,
        "uri": str(version.uri),
        "aliases": model.aliases_of(version.version),
    }
    data.update(version.record.model_dump(mode="json"))
    if version.pointer is not None:
        data["artifact"]["md5"] = version.pointer.md5
        data["artifact"]["size"] = version.pointer.size
    return data


def _model_json(model: Any) -> dict[str, Any]:
    data: dict[str, Any] = model.record.model_dump(mode="json")
    data["latest_version"] = model.latest.version if model.latest else None
    data["versions"] = [
        {"version": v.version, "stage": v.stage, "created_at": v.record.created_at.isoformat(),
         "created_by": v.record.created_by, "aliases": model.aliases_of(v.version),
         "uri": str(v.uri)}
        for v in model.versions
    ]
    return data


def _first_line(text: str, width: int = 50) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def _table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _version_rows(versions: list[Any], models: Any, with_name: bool) -> list[list[str]]:
    rows = []
    for v in versions:
        model = models[v.name]
        aliases = " ".join(f"@{a}" for a in model.aliases_of(v.version))
        row = [str(v.version), v.stage, v.record.created_at.strftime("%Y-%m-%d"),
               v.record.created_by, aliases, _first_line(v.record.description)]
        rows.append([v.name, *row] if with_name else row)
    return rows


def _echo_change(what: str, branch: bool | str, ctx: Context) -> None:
    from .gitops import current_branch

    click.echo(what)
    if branch:
        name = current_branch(ctx.root)
        click.echo(f"Committed on branch {name}; open a pull request: git push -u origin {name}")


@main.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--remote", metavar="URL",
              help="DVC remote for artifacts (s3://..., a shared folder). Default: dvc-remote/ "
                   "inside the repository, committed to git so clones load models offline.")
@handle_errors
def init_command(directory: Path, remote: str | None) -> None:
    """Create a registry repository in DIRECTORY (git, DVC, registry.yaml, mkdocs.yml).

    Python: registry_gen.scaffold.init_registry.
    """
    from .scaffold import init_registry

    root = init_registry(directory, remote=remote)
    click.echo(f"Initialised a model registry in {root}")
    click.echo(f"Next: cd {directory} && registry-gen register NAME PATH --description TEXT "
               "--branch")


@main.command("register")
@click.argument("name")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--description", "-d", default="", help="Markdown description of this version.")
@click.option("--format", "fmt", help="Artifact format (default: from the file name: .pkl → "
              "pickle, .skops, .joblib, .onnx, .pt, .safetensors, MLmodel folder → mlflow).")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="A version tag.")
@click.option("--run-id", help="The training run's id (MLflow, W&B, ...).")
@click.option("--run-url", help="Link to the training run.")
@click.option("--code", metavar="REPO@COMMIT", help="Code that trained it, e.g. "
              "https://github.com/acme/churn@3f2a9c1.")
@click.option("--dataset", "datasets", multiple=True, metavar="NAME=PATH|URL",
              help="An input dataset (a local file's md5 is recorded).")
@click.option("--parent", "parents", multiple=True, metavar="URI",
              help="A model this one derives from, e.g. models:/base/2.")
@click.option("--metric", "metrics", multiple=True, metavar="KEY=NUMBER", help="A metric.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="A parameter.")
@click.option("--base", metavar="REF", help="Take the next version number from REF too "
              "(default: the branch's upstream, else HEAD).")
@click.option("--no-push", is_flag=True, help="Track the artifact but do not dvc push it.")
@_branch_option
@pass_context
@handle_errors
def register_command(ctx: Context, name: str, path: Path, description: str, fmt: str | None,
                     tags: tuple[str, ...], run_id: str | None, run_url: str | None,
                     code: str | None, datasets: tuple[str, ...], parents: tuple[str, ...],
                     metrics: tuple[str, ...], params: tuple[str, ...], base: str | None,
                     no_push: bool, branch: str | None) -> None:
    """Register the file or folder PATH as the next version of NAME.

    Copies it to models/NAME/N/, dvc-adds and pushes it, writes version.yaml
    (and model.yaml for a new model). Python: registry_gen.register_model.
    """
    from .client import register_model

    code_ref = None
    if code:
        repo, sep, commit = code.rpartition("@")
        if not sep or not repo:
            raise UsageError(f"--code {code!r} must look like REPO@COMMIT")
        code_ref = {"repo": repo, "commit": commit}
    version = register_model(
        path.resolve(), name, registry=ctx.root, description=description, format=fmt,
        tags=_pairs(tags, "--tag"), run_id=run_id, run_url=run_url, code=code_ref,
        datasets=[_dataset(d) for d in datasets], parents=list(parents),
        metrics={k: _number(v, f"--metric {k}") for k, v in _pairs(metrics, "--metric").items()},
        params={k: _param(v) for k, v in _pairs(params, "--param").items()},
        push=not no_push, base=base, branch=_branch_arg(branch),
    )
    pushed = "" if no_push else ", pushed to the DVC remote"
    _echo_change(f"Registered {version.uri} ({version.record.artifact.format}, "
                 f"md5 {version.artifact_md5}{pushed})", _branch_arg(branch), ctx)


@main.command("promote")
@click.argument("name")
@click.argument("version")
@click.argument("stage")
@click.option("--archive-existing", is_flag=True,
              help="Move the versions now in STAGE to Archived in the same change.")
@_branch_option
@pass_context
@handle_errors
def promote_command(ctx: Context, name: str, version: str, stage: str, archive_existing: bool,
                    branch: str | None) -> None:
    """Move VERSION of NAME to STAGE (a one-line change to its version.yaml).

    Python: RegistryClient.transition_model_version_stage.
    """
    client = _client(ctx)
    before = client.get_model_version(name, version).stage
    moved = client.transition_model_version_stage(
        name, version, stage, archive_existing_versions=archive_existing,
        branch=_branch_arg(branch))
    _echo_change(f"{name} v{moved.version}: {before} → {moved.stage}", _branch_arg(branch), ctx)


@main.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", required=False)
@click.option("--delete", is_flag=True, help="Remove the alias instead.")
@_branch_option
@pass_context
@handle_errors
def alias_command(ctx: Context, name: str, alias: str, version: str | None, delete: bool,
                  branch: str | None) -> None:
    """Point NAME@ALIAS at VERSION (or remove it with --delete).

    Python: RegistryClient.set_registered_model_alias / delete_registered_model_alias.
    """
    client = _client(ctx)
    if delete:
        if version is not None:
            raise UsageError("--delete takes no VERSION")
        client.delete_registered_model_alias(name, alias, branch=_branch_arg(branch))
        _echo_change(f"Removed {name}@{alias}", _branch_arg(branch), ctx)
        return
    if version is None:
        raise UsageError("give the VERSION the alias points to, or --delete")
    target = client.set_registered_model_alias(name, alias, version, branch=_branch_arg(branch))
    _echo_change(f"models:/{name}@{alias} → v{target.version}", _branch_arg(branch), ctx)


@main.command("describe")
@click.argument("args", nargs=-1, required=True, metavar="NAME [VERSION] [TEXT]")
@click.option("--file", "file", type=click.File("r", encoding="utf-8"),
              help="Read the Markdown description from this file ('-' for stdin).")
@_branch_option
@pass_context
@handle_errors
def describe_command(ctx: Context, args: tuple[str, ...], file: Any, branch: str | None) -> None:
    """Set the Markdown description of model NAME, or of its VERSION.

    Python: RegistryClient.update_registered_model / update_model_version.
    """
    parts = list(args)
    if file is not None:
        text = file.read()
    elif len(parts) >= 2:
        text = parts.pop()
    else:
        raise UsageError("give the description TEXT or --file FILE")
    if len(parts) not in (1, 2):
        raise UsageError("usage: describe NAME [VERSION] TEXT|--file FILE")
    client = _client(ctx)
    if len(parts) == 2:
        v = client.update_model_version(parts[0], parts[1], text, branch=_branch_arg(branch))
        _echo_change(f"Described {v.uri}", _branch_arg(branch), ctx)
    else:
        client.update_registered_model(parts[0], text, branch=_branch_arg(branch))
        _echo_change(f"Described {parts[0]}", _branch_arg(branch), ctx)


@main.command("tag")
@click.argument("args", nargs=-1, required=True, metavar="NAME [VERSION] [KEY=VALUE]...")
@click.option("--delete", "deletes", multiple=True, metavar="KEY", help="Remove this tag.")
@_branch_option
@pass_context
@handle_errors
def tag_command(ctx: Context, args: tuple[str, ...], deletes: tuple[str, ...],
                branch: str | None) -> None:
    """Set (KEY=VALUE) or remove (--delete KEY) tags of model NAME or of its VERSION.

    Python: RegistryClient.set_registered_model_tag / set_model_version_tag (and delete_*).
    """
    name, *rest = args
    version = rest.pop(0) if rest and "=" not in rest[0] else None
    pairs = _pairs(tuple(rest), "tag")
    if not pairs and not deletes:
        raise UsageError("give KEY=VALUE tags to set or --delete KEY")
    if _branch_arg(branch) and len(pairs) + len(deletes) > 1:
        raise UsageError("--branch makes one commit per change: set one tag at a time")
    client = _client(ctx)
    where = name if version is None else f"{name} v{version}"
    for key, value in pairs.items():
        if version is None:
            client.set_registered_model_tag(name, key, value, branch=_branch_arg(branch))
        else:
            client.set_model_version_tag(name, version, key, value, branch=_branch_arg(branch))
        _echo_change(f"Tagged {where}: {key}={value}", _branch_arg(branch), ctx)
    for key in deletes:
        if version is None:
            client.delete_registered_model_tag(name, key, branch=_branch_arg(branch))
        else:
            client.delete_model_version_tag(name, version, key, branch=_branch_arg(branch))
        _echo_change(f"Removed tag {key} from {where}", _branch_arg(branch), ctx)


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_context
@handle_errors
def list_command(ctx: Context, as_json: bool) -> None:
    """List the registered models with their stages and aliases.

    Python: RegistryClient.search_registered_models.
    """
    client = _client(ctx)
    models = client.search_registered_models()
    if as_json:
        echo_json([_model_json(m) for m in models])
        return
    if not models:
        click.echo("No registered models yet. Add one: registry-gen register NAME PATH")
        return
    rows = []
    for m in models:
        stages = ", ".join(
            f"{s}: " + " ".join(f"v{v.version}" for v in m.in_stage(s))
            for s in client.policy.stages if m.in_stage(s) and s != client.policy.default_stage
            and s != client.policy.archive_stage)
        aliases = " ".join(f"@{a}=v{n}" for a, n in sorted(m.aliases.items()))
        rows.append([m.name, str(len(m.versions)), f"v{m.latest.version}" if m.latest else "-",
                     stages, aliases, _first_line(m.record.description, 40)])
    _table(["NAME", "VERSIONS", "LATEST", "STAGES", "ALIASES", "DESCRIPTION"], rows)
    for error in client.index.errors[:5]:
        click.echo(f"warning: {error}", err=True)


@main.command("show")
@click.argument("target", metavar="URI|NAME")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_context
@handle_errors
def show_command(ctx: Context, target: str, as_json: bool) -> None:
    """Show a version (models:/NAME/VERSION|STAGE|latest, models:/NAME@ALIAS) or a model.

    Python: RegistryClient.resolve / get_registered_model.
    """
    client = _client(ctx)
    if target.startswith("models:"):
        version = client.resolve(target)
        model = client.get_registered_model(version.name)
        if as_json:
            echo_json(_version_json(version, model))
            return
        _show_version(version, model)
        return
    model = client.get_registered_model(target)
    if as_json:
        echo_json(_model_json(model))
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
        click.echo(model.record.description.rstrip())
    click.echo("")
    _table(["VERSION", "STAGE", "CREATED", "BY", "ALIASES", "DESCRIPTION"],
           _version_rows(list(reversed(model.versions)), {model.name: model}, with_name=False))


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
        click.echo(record.description.rstrip())


@main.command("search")
@click.argument("filter_string", metavar="FILTER", required=False, default="")
@click.option("--order-by", "order_by", multiple=True, metavar="KEY [ASC|DESC]",
              help="e.g. 'version_number DESC' or 'metrics.auc DESC' (repeatable).")
@click.option("--models", "models_only", is_flag=True,
              help="Search registered models instead of versions.")
@click.option("--max-results", type=click.IntRange(min=1), help="Stop after this many.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_context
@handle_errors
def search_command(ctx: Context, filter_string: str, order_by: tuple[str, ...],
                   models_only: bool, max_results: int | None, as_json: bool) -> None:
    """Search versions with MLflow's filter syntax.

    \b
    Examples:
      registry-gen search "name = 'churn' AND current_stage = 'Production'"
      registry-gen search "name LIKE 'ch%'" --order-by "version_number DESC"
      registry-gen search "tags.team = 'risk'" --models
    Python: RegistryClient.search_model_versions / search_registered_models.
    """
    client = _client(ctx)
    if models_only:
        models = client.search_registered_models(filter_string, max_results, list(order_by))
        if as_json:
            echo_json([_model_json(m) for m in models])
            return
        _table(["NAME", "VERSIONS", "DESCRIPTION"],
               [[m.name, str(len(m.versions)), _first_line(m.record.description)]
                for m in models])
        return
    versions = client.search_model_versions(filter_string, max_results, list(order_by))
    if as_json:
        echo_json([_version_json(v, client.index.models[v.name]) for v in versions])
        return
    if not versions:
        click.echo("No versions match.")
        return
    _table(["NAME", "VERSION", "STAGE", "CREATED", "BY", "ALIASES", "DESCRIPTION"],
           _version_rows(versions, client.index.models, with_name=True))


# ---------------------------------------------------------------------------
# Loading: download, cache (issue 5; Python API in registry_gen.loader / registry_gen.cache)

_SIZE_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "M": 1024**2, "MB": 1024**2,
               "G": 1024**3, "GB": 1024**3, "T": 1024**4, "TB": 1024**4}


def _registry_arg(ctx: Context, registry: str | None) -> str | None:
    """--from wins; else an explicit -C folder; else REGISTRY_GEN_URI / the enclosing repo."""
    if registry:
        return registry
    return None if ctx.root == Path() else str(ctx.root)


def _bytes(text: str) -> int:
    import re

    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).upper() if match else ""
    if not match or unit not in _SIZE_UNITS:
        raise UsageError(f"{text!r} is not a size (e.g. 500M, 2G, 1048576)")
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


@main.command("download")
@click.argument("uri")
@click.option("-o", "--output", "output", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Copy the artifact into this folder (default: print its "
              "path in the cache).")
@click.option("--from", "registry", default=None, metavar="REGISTRY",
              help="A checkout, git URL (URL@REV or URL#REV) or the published site's URL; "
              "default: REGISTRY_GEN_URI, else -C / the current repository.")
@click.option("--offline", is_flag=True, default=None, help="Use only the cache.")
@pass_context
@handle_errors
def download_command(ctx: Context, uri: str, output: Path | None, registry: str | None,
                     offline: bool | None) -> None:
    """Fetch the artifact of URI (verified) and print where it is.

    Python: registry_gen.download_artifacts(uri, dst).
    """
    from .loader import download_artifacts

    path = download_artifacts(uri, output, registry=_registry_arg(ctx, registry),
                              offline=offline or None)
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
    """
    from datetime import UTC, datetime

    from .cache import ArtifactCache

    cache = ArtifactCache()
    entries = cache.list_entries()
    rows = [{"md5": e.md5, "size": e.size, "last_used": datetime.fromtimestamp(
        e.last_used, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "uri": e.info.get("uri"),
        "path": str(e.path), "objects": e.objects} for e in entries]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo(f"The cache {cache.root} is empty.")
        return
    _table(["MD5", "SIZE", "LAST USED", "URI"],
           [[e.md5[:12], _human(e.size), str(r["last_used"]), str(e.info.get("uri") or "-")]
            for e, r in zip(entries, rows, strict=True)])
    click.echo(f"{len(rows)} artifact(s), {_human(sum(e.size for e in entries))} in {cache.root}")


@cache_group.command("prune")
@click.option("--older-than", "older_than", type=click.FloatRange(min=0), default=None,
              metavar="DAYS", help="Delete artifacts not used for DAYS days.")
@click.option("--keep-size", "keep_size", default=None, metavar="SIZE",
              help="Then delete the least recently used until at most SIZE remain (e.g. 5G).")
@click.option("--dry-run", is_flag=True, help="Only show what would be deleted.")
@handle_errors
def cache_prune_command(older_than: float | None, keep_size: str | None, dry_run: bool) -> None:
    """Delete cached artifacts by age and/or total size (at least one option is needed).

    Python: registry_gen.cache.ArtifactCache().prune(older_than_days=..., keep_bytes=...).
    """
    from .cache import ArtifactCache

    if older_than is None and keep_size is None:
        raise UsageError("give --older-than DAYS and/or --keep-size SIZE")
    doomed = ArtifactCache().prune(
        older_than_days=older_than, keep_bytes=_bytes(keep_size) if keep_size else None,
        dry_run=dry_run,
    )
    verb = "Would delete" if dry_run else "Deleted"
    for entry in doomed:
        click.echo(f"{verb} {entry.md5} ({_human(entry.size)}, {entry.info.get('uri') or '-'})")
    click.echo(f"{verb} {len(doomed)} artifact(s), {_human(sum(e.size for e in doomed))}.")


# ---------------------------------------------------------------------------
# Website (issue 4): registry-gen docs build / serve


@main.group("docs")
def docs_group() -> None:
    """Build or preview the registry's website (MkDocs + Material, from mkdocs.yml)."""


@docs_group.command("build")
@click.option("--strict", is_flag=True, help="Fail on any warning (broken links, bad records).")
@click.option("-d", "--site-dir", "site_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Where to write the site (default: site_dir of mkdocs.yml).")
@pass_context
@handle_errors
def docs_build_command(ctx: Context, strict: bool, site_dir: Path | None) -> None:
    """Build the static website: model and version pages, activity, lineage, JSON API.

    Python: registry_gen.site.build_site(root, strict=..., site_dir=...).
    """
    from mkdocs.exceptions import MkDocsException

    from .site import build_site

    try:
        built = build_site(ctx.root, strict=strict, site_dir=site_dir)
    except MkDocsException as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    click.echo(f"Site written to {built}")


@docs_group.command("serve")
@click.option("-a", "--dev-addr", "dev_addr", default=None, metavar="IP:PORT",
              help="Address to serve on (default 127.0.0.1:8000).")
@click.option("--open", "open_in_browser", is_flag=True, help="Open the site in a browser.")
@pass_context
@handle_errors
def docs_serve_command(ctx: Context, dev_addr: str | None, open_in_browser: bool) -> None:
    """Serve the website with live reload: edit a record under models/ and the page updates.

    Python: registry_gen.site.serve_site(root, dev_addr=...).
    """
    from .site import serve_site

    serve_site(ctx.root, dev_addr=dev_addr, open_in_browser=open_in_browser)
