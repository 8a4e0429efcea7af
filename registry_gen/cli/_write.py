"""Commands that change the registry: init, register, promote, alias, describe, tag.

Each is a thin layer over ``registry_gen.client.RegistryClient`` (or ``scaffold.init_registry``);
``--branch`` commits exactly the change on a new branch, ready for a pull request.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import click

from registry_gen.errors import UsageError

from ._app import Context, F, handle_errors, main, open_client, pass_context
from ._source import SOURCE

_BRANCH_HELP = (
    "Make a branch (default name shown after the change) from HEAD and commit "
    "exactly this change there, ready for a pull request. Give NAME to choose it."
)


def _branch_option(func: F) -> F:
    # `--branch` alone → the default name; `--branch NAME` → that name.
    return click.option(
        "--branch",
        "branch",
        is_flag=False,
        flag_value="",
        default=None,
        metavar="[NAME]",
        help=_BRANCH_HELP,
    )(func)


def _branch_arg(value: str | None) -> bool | str:
    if value is None:
        return False
    return value or True


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


def _code(text: str) -> dict[str, str]:
    repo, sep, commit = text.rpartition("@")
    if not sep or not repo:
        raise UsageError(f"--code {text!r} must look like REPO@COMMIT")
    return {"repo": repo, "commit": commit}


def _dataset(item: str) -> dict[str, str]:
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


def _echo_change(what: str, branch: bool | str, ctx: Context) -> None:
    from registry_gen.gitops import current_branch

    click.echo(what)
    if branch:
        name = current_branch(ctx.root)
        click.echo(f"Committed on branch {name}; open a pull request: git push -u origin {name}")


@main.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--remote",
    metavar="URL",
    help="DVC remote for artifacts: s3://, gs://, azure://, ssh://, a shared folder. "
    "Default: dvc-remote/ inside the repository, committed to git (a trial set-up: "
    "artifacts over registry.yaml's max_in_repo_artifact_mb are refused there).",
)
@click.option(
    "--remote-option",
    "remote_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="A setting of the remote written to .dvc/config (e.g. endpointurl=http://...). "
    "Keep credentials out of git: dvc remote modify --local.",
)
@click.option(
    "--package",
    metavar="SPEC",
    help="The pip requirement the generated workflows install registry-gen from "
    "(.github/registry-gen-requirement.txt): a version, a git URL at a commit or a wheel "
    "URL; the workflows' extras [write,site] are added. Default: this version.",
)
@handle_errors
def init_command(
    directory: Path, remote: str | None, remote_options: tuple[str, ...], package: str | None
) -> None:
    """Create a registry repository in DIRECTORY: git, DVC, registry.yaml, mkdocs.yml,
    GitHub workflows (validate, publish), CODEOWNERS, PR templates, pre-commit.

    \b
    Examples:
      registry-gen init my-registry
      registry-gen init my-registry --remote s3://acme-models/registry
      registry-gen init my-registry --remote s3://models/reg \\
          --remote-option endpointurl=https://minio.acme.internal
      registry-gen init my-registry --package "registry-gen @ git+https://github.com/acme/registry-gen@3f2a9c1"
    Python: registry_gen.scaffold.init_registry.
    """
    from registry_gen.scaffold import init_registry

    root = init_registry(
        directory,
        remote=remote,
        package=package,
        remote_options=_pairs(remote_options, "--remote-option"),
    )
    click.echo(f"Initialised a model registry in {root}")
    click.echo(
        f"Next: cd {directory} && registry-gen register NAME PATH --description TEXT --branch"
    )


@main.command("upgrade")
@click.option(
    "--package",
    metavar="SPEC",
    help="The pip requirement to pin, as for init --package (default: this version).",
)
@click.option(
    "--no-branch", is_flag=True, help="Leave the change in the working tree, uncommitted."
)
@pass_context
@handle_errors
def upgrade_command(ctx: Context, package: str | None, no_branch: bool) -> None:
    """Rewrite the files init generated (workflows, pin, templates, CODEOWNERS) for
    this registry-gen version, on a branch for a pull request. Only the regions
    between the registry-gen markers change; your own lines around them stay.

    \b
    Examples:
      registry-gen upgrade                # after pip install -U registry-gen
      registry-gen upgrade --package "registry-gen @ https://example.com/registry_gen-0.2.0-py3-none-any.whl"
    Python: registry_gen._upgrade.upgrade_registry.
    """
    from registry_gen._upgrade import upgrade_registry

    changed = upgrade_registry(ctx.root, package=package, branch=not no_branch)
    if not changed:
        click.echo("The generated files are current.")
        return
    for path in changed:
        click.echo(f"updated {path}")
    _echo_change(f"Upgraded {len(changed)} generated file(s)", not no_branch, ctx)


@main.command("register")
@click.argument("name")
@click.argument("path", type=SOURCE)  # a path, or runs:/…, models:/m-… (MLflow)
@click.option("--description", "-d", default="", help="Markdown description of this version.")
@click.option(
    "--format",
    "fmt",
    help="Artifact format (default: from the file name: .pkl → "
    "pickle, .skops, .joblib, .onnx, .pt, .safetensors, MLmodel folder → mlflow).",
)
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="A version tag.")
@click.option("--run-id", help="The training run's id (MLflow, W&B, ...).")
@click.option("--run-url", help="Link to the training run.")
@click.option(
    "--code",
    metavar="REPO@COMMIT",
    help="Code that trained it, e.g. https://github.com/acme/churn@3f2a9c1.",
)
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    metavar="NAME=PATH|URL",
    help="An input dataset (a local file's md5 is recorded).",
)
@click.option(
    "--parent",
    "parents",
    multiple=True,
    metavar="URI",
    help="A model this one derives from, e.g. models:/base/2.",
)
@click.option("--metric", "metrics", multiple=True, metavar="KEY=NUMBER", help="A metric.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="A parameter.")
@click.option(
    "--base",
    metavar="REF",
    help="Take the next version number from REF too (default: the branch's upstream, else HEAD).",
)
@click.option(
    "--trust-type",
    "trust_types",
    multiple=True,
    metavar="TYPE",
    help="A type skops may rebuild besides those the file names (recorded in "
    "artifact.trusted_types, reviewed in the pull request), e.g. sklearn.tree._tree.Tree.",
)
@click.option("--no-push", is_flag=True, help="Track the artifact but do not dvc push it.")
@_branch_option
@pass_context
@handle_errors
def register_command(
    ctx: Context,
    name: str,
    path: Path | str,
    description: str,
    fmt: str | None,
    tags: tuple[str, ...],
    run_id: str | None,
    run_url: str | None,
    code: str | None,
    datasets: tuple[str, ...],
    parents: tuple[str, ...],
    metrics: tuple[str, ...],
    params: tuple[str, ...],
    base: str | None,
    trust_types: tuple[str, ...],
    no_push: bool,
    branch: str | None,
) -> None:
    """Register the file or folder PATH as the next version of NAME.

    Copies it to models/NAME/N/, dvc-adds and pushes it, writes version.yaml
    (and model.yaml for a new model). Python: registry_gen.register_model.
    For a skops file, the types it names that skops does not trust by default
    are recorded (and printed) as artifact.trusted_types; types that reach the
    system or the interpreter, or that are not importable, are refused.

    \b
    Examples:
      registry-gen register churn model.skops -d "Gradient boosting" --branch
      registry-gen register churn model/ --metric auc=0.91 --param depth=6
      registry-gen register churn m.onnx --code https://github.com/acme/churn@3f2a9c1
      registry-gen register churn model.skops --trust-type sklearn.tree._tree.Tree
    """
    from registry_gen.client import register_model
    from registry_gen.progress import listening

    from ._output import ProgressLine

    arguments: dict[str, Any] = {
        "registry": ctx.root,
        "description": description,
        "format": fmt,
        "tags": _pairs(tags, "--tag"),
        "run_id": run_id,
        "run_url": run_url,
        "code": _code(code) if code else None,
        "datasets": [_dataset(d) for d in datasets],
        "parents": list(parents),
        "metrics": {k: _number(v, f"--metric {k}") for k, v in _pairs(metrics, "--metric").items()},
        "params": {k: _param(v) for k, v in _pairs(params, "--param").items()},
        "trusted_types": list(trust_types),
        "push": not no_push,
        "base": base,
        "branch": _branch_arg(branch),
    }
    line = ProgressLine(ctx.quiet)
    with listening(line):
        try:
            source = path.resolve() if isinstance(path, Path) else path  # or runs:/…
            version = register_model(source, name, **arguments)
        finally:
            line.done()
    pushed = "" if no_push else ", pushed to the DVC remote"
    message = (
        f"Registered {version.uri} ({version.record.artifact.format}, "
        f"md5 {version.artifact_md5}{pushed})"
    )
    trusted = version.record.artifact.trusted_types
    if trusted:
        message += f"\nTrusted types (reviewed in the pull request): {', '.join(trusted)}"
    _echo_change(message, _branch_arg(branch), ctx)


@main.command("promote")
@click.argument("name")
@click.argument("version")
@click.argument("stage")
@click.option(
    "--archive-existing",
    is_flag=True,
    help="Move the versions now in STAGE to the archive stage in the same change.",
)
@_branch_option
@pass_context
@handle_errors
def promote_command(
    ctx: Context, name: str, version: str, stage: str, archive_existing: bool, branch: str | None
) -> None:
    """Move VERSION of NAME to STAGE (a one-line change to its version.yaml).

    Python: RegistryClient.transition_model_version_stage.

    \b
    Examples:
      registry-gen promote churn 3 Staging --branch
      registry-gen promote churn 3 Production --archive-existing --branch
    """
    from registry_gen.errors import RuleViolation
    from registry_gen.resolve import canonical_stage

    client = open_client(ctx)
    before = client.get_model_version(name, version).stage
    if canonical_stage(stage, [before]) == before:
        # The API keeps MLflow's idempotent move; on the command line a no-op is a mistake.
        raise RuleViolation(f"{name} v{version} is already in {before}; nothing to promote")
    moved = client.transition_model_version_stage(
        name, version, stage, archive_existing_versions=archive_existing, branch=_branch_arg(branch)
    )
    _echo_change(f"{name} v{moved.version}: {before} → {moved.stage}", _branch_arg(branch), ctx)


@main.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", required=False)
@click.option("--delete", is_flag=True, help="Remove the alias instead.")
@_branch_option
@pass_context
@handle_errors
def alias_command(
    ctx: Context, name: str, alias: str, version: str | None, delete: bool, branch: str | None
) -> None:
    """Point NAME@ALIAS at VERSION (or remove it with --delete).

    Python: RegistryClient.set_registered_model_alias / delete_registered_model_alias.

    \b
    Examples:
      registry-gen alias churn champion 3 --branch
      registry-gen alias churn champion --delete --branch
    """
    client = open_client(ctx)
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
@click.option(
    "--file",
    "file",
    type=click.File("r", encoding="utf-8"),
    help="Read the Markdown description from this file ('-' for stdin).",
)
@_branch_option
@pass_context
@handle_errors
def describe_command(ctx: Context, args: tuple[str, ...], file: Any, branch: str | None) -> None:
    """Set the Markdown description of model NAME, or of its VERSION.

    Python: RegistryClient.update_registered_model / update_model_version.

    \b
    Examples:
      registry-gen describe churn "Predicts churn within 30 days."
      registry-gen describe churn 3 --file notes.md --branch
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
    client = open_client(ctx)
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
def tag_command(
    ctx: Context, args: tuple[str, ...], deletes: tuple[str, ...], branch: str | None
) -> None:
    """Set (KEY=VALUE) or remove (--delete KEY) tags of model NAME or of its VERSION.

    Python: RegistryClient.set_registered_model_tag / set_model_version_tag (and delete_*).

    \b
    Examples:
      registry-gen tag churn team=risk
      registry-gen tag churn 3 validated=yes --branch
      registry-gen tag churn 3 --delete validated
    """
    name, *rest = args
    version = rest.pop(0) if rest and "=" not in rest[0] else None
    pairs = _pairs(tuple(rest), "tag")
    if not pairs and not deletes:
        raise UsageError("give KEY=VALUE tags to set or --delete KEY")
    if _branch_arg(branch) and len(pairs) + len(deletes) > 1:
        raise UsageError("--branch makes one commit per change: set one tag at a time")
    client = open_client(ctx)
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
