"""Commands that check a registry: ``validate`` (the pull-request validator), ``codeowners``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from registry_gen.errors import UsageError

from ._app import Context, handle_errors, main, pass_context
from ._output import use_colour


@main.command("validate")
@click.option(
    "--base",
    default=None,
    metavar="REF",
    help="Also check the change from REF (read from git objects, no checkout).",
)
@click.option(
    "--head", default=None, metavar="REF", help="The revision to check with --base (default HEAD)."
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["human", "json", "github"]),
    default="human",
    show_default=True,
    help="Output for people, scripts or GitHub.",
)
@click.option(
    "--summary",
    "summary_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY).",
)
@click.option("--strict", is_flag=True, help="Warnings fail too.")
@click.option(
    "--check-remote",
    is_flag=True,
    help="Check that each new artifact exists in the DVC remote (no download).",
)
@pass_context
@handle_errors
def validate_command(
    ctx: Context,
    base: str | None,
    head: str | None,
    output: str,
    summary_file: Path | None,
    strict: bool,
    check_remote: bool,
) -> None:
    """Check the registry against its rules; exit 1 on any error.

    Without --base: the whole working tree (as pre-commit runs it). With
    --base: the tree at --head and the change from --base, both read from git
    objects, so CI can run the base branch's validator on a pull request's data.
    Python: registry_gen.validate.validate_tree / validate_change.

    \b
    Examples:
      registry-gen validate
      registry-gen validate --base main --head HEAD
      registry-gen validate --format json --strict
    """
    from registry_gen.report import format_github, format_human, format_json, format_summary
    from registry_gen.validate import validate_change, validate_tree

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
        click.echo(format_human(report, colour=use_colour(), strict=strict))
    if summary_file is not None and summary_file == Path():
        # `--summary "$GITHUB_STEP_SUMMARY"` outside GitHub: the variable is empty.
        click.echo("warning: --summary is empty (GITHUB_STEP_SUMMARY unset?); no summary written",
                   err=True)
    elif summary_file is not None:
        try:
            with summary_file.open("a", encoding="utf-8") as handle:
                handle.write(format_summary(report, strict=strict))
        except OSError as error:
            raise UsageError(f"--summary {summary_file}: {error.strerror}") from None
    sys.exit(1 if report.failed(strict) else 0)


@main.command("codeowners")
@click.option(
    "--check", is_flag=True, help="Only check that CODEOWNERS is current (exit 1 if not)."
)
@pass_context
@handle_errors
def codeowners_command(ctx: Context, check: bool) -> None:
    """Write .github/CODEOWNERS from model owners and registry.yaml approvers.

    Python: registry_gen.codeowners.render_codeowners / write_codeowners.

    \b
    Examples:
      registry-gen codeowners
      registry-gen codeowners --check
    """
    from registry_gen.codeowners import render_codeowners, write_codeowners
    from registry_gen.store import load_index

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
