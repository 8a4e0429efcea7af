"""Commands that check a registry: ``validate`` (the pull-request validator), ``codeowners``."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from registry_gen.errors import GitError, RegistryError, UsageError

from ._app import Context, handle_errors, main, pass_context
from ._output import use_colour

if TYPE_CHECKING:
    from registry_gen.validate import Report


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
    default=None,
    metavar="FILE",
    help="Append a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY; empty: none).",
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
    summary_file: str | None,
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
    from registry_gen.report import format_summary
    from registry_gen.validate import validate_change, validate_tree

    if head is not None and base is None:
        raise UsageError("--head needs --base (the revision to compare it with)")
    head_rev = "HEAD" if head is None else head
    if base is not None:
        _check_revision(ctx.root, "--base", base)
        _check_revision(ctx.root, "--head", head_rev)
    summary = _open_summary(summary_file)  # before the checks: a bad path fails at once
    try:
        if base is not None:
            report = validate_change(ctx.root, base, head_rev, check_remote=check_remote)
        else:
            report = validate_tree(ctx.root, check_remote=check_remote)
        _print_report(report, output, strict)
        if summary is not None:
            _write_summary(summary, format_summary(report, strict=strict))
    finally:
        if summary is not None:
            with contextlib.suppress(OSError):  # a failed write has already said so
                summary.close()
    sys.exit(1 if report.failed(strict) else 0)


def _check_revision(root: Path, option: str, rev: str) -> None:
    """A usage error (exit 2) naming ``option`` if ``rev`` is not a commit of the repository.

    Raises:
        UsageError: ``rev`` is not a revision git accepts, or names no commit.
    """
    from registry_gen.store import GitRevision

    try:
        GitRevision(root, rev)
    except GitError as error:
        raise UsageError(f"{option}: {error}") from None


def _open_summary(path: str | None) -> TextIO | None:
    """The ``--summary`` file opened for appending; None for no option or an empty one.

    GitHub Actions always sets ``$GITHUB_STEP_SUMMARY``: an empty value means the
    command runs elsewhere with ``--summary "$GITHUB_STEP_SUMMARY"``, not an error.

    Raises:
        UsageError: the file cannot be opened for writing.
    """
    if path is None:
        return None
    if not path:
        click.echo(
            "warning: --summary is empty (GITHUB_STEP_SUMMARY is set only on GitHub "
            "Actions); no summary is written",
            err=True,
        )
        return None
    try:
        return Path(path).open("a", encoding="utf-8")  # closed by the caller
    except OSError as error:
        raise UsageError(
            f"--summary {path!r}: cannot write to it ({error.strerror or error}); give a file path"
        ) from None


def _write_summary(handle: TextIO, text: str) -> None:
    """Append the summary, one clear error if the disk refuses it.

    Raises:
        RegistryError: writing failed (a full disk, a closed pipe).
    """
    try:
        handle.write(text)
        handle.flush()
    except OSError as error:
        raise RegistryError(
            f"--summary {handle.name!r}: writing failed ({error.strerror or error})"
        ) from None


def _print_report(report: Report, output: str, strict: bool) -> None:
    """The report in the ``--format`` asked for, on stdout (and stderr for github)."""
    from registry_gen.report import (
        format_github,
        format_human,
        format_json,
        runner_safe,
    )

    if output == "json":
        click.echo(format_json(report, strict=strict))
    elif output == "github":
        text = format_github(report)
        if text:
            click.echo(text)
        # The runner reads workflow commands on stderr too: only the annotations above
        # may be commands.
        click.echo(runner_safe(format_human(report, strict=strict)), err=True)
    else:
        click.echo(format_human(report, colour=use_colour(), strict=strict))


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
