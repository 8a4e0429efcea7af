"""``registry-gen rename OLD NEW``: a thin layer over ``RegistryClient.rename_registered_model``."""

from __future__ import annotations

import click

from ._app import Context, handle_errors, main, open_client, pass_context
from ._write import _branch_arg, _branch_option, _echo_change


@main.command("rename")
@click.argument("old")
@click.argument("new")
@_branch_option
@pass_context
@handle_errors
def rename_command(ctx: Context, old: str, new: str, branch: str | None) -> None:
    """Rename the registered model OLD to NEW; models:/OLD/... keeps resolving.

    Moves models/OLD/ to models/NEW/ and leaves models/OLD/moved.yaml, a redirect
    every loader route follows (with a note that the name moved).

    Python: RegistryClient.rename_registered_model.

    \b
    Examples:
      registry-gen rename churn churn-classifier --branch
    """
    client = open_client(ctx)
    client.rename_registered_model(old, new, branch=_branch_arg(branch))
    _echo_change(f"Renamed {old} → {new} (models:/{old}/... redirects)", _branch_arg(branch), ctx)
