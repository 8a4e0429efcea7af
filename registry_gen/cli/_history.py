"""``registry-gen history``: what changed, when it landed, whose pull request, who merged it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from registry_gen.errors import UsageError

from ._app import Context, handle_errors, main, pass_context
from ._output import echo_json, echo_table

if TYPE_CHECKING:
    from registry_gen.store import ModelVersion, RegisteredModel, RegistryIndex


class PastRegistry:
    """What ``show --at`` reads: the registry's index at a past commit, with the two
    questions ``show`` asks of a client."""

    def __init__(self, index: RegistryIndex) -> None:
        self.index = index

    def resolve(self, uri: str) -> ModelVersion:
        """The version ``uri`` named then (the one resolver, on the index at that commit)."""
        return self.index.resolve(uri)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model as it was then."""
        return self.index.model(name)


def client_at(ctx: Context, at: str) -> PastRegistry:
    """The registry as it stood at ``at`` (a date or a revision); says which commit that is."""
    from registry_gen.history import index_at

    index, past = index_at(ctx.root, at)
    when = f", landed {past.date:%Y-%m-%d %H:%M} UTC" if past.date else ""
    click.echo(f"as of commit {past.short}{when}", err=True)
    return PastRegistry(index)


def _target(target: str | None) -> tuple[str | None, int | None]:
    """``NAME`` or ``NAME/VERSION`` (also ``models:/NAME/VERSION``) as (name, version)."""
    if not target:
        return None, None
    from registry_gen.uri import check_model_name, check_version

    text = target.removeprefix("models:/")
    name, _, number = text.partition("/")
    try:
        return check_model_name(name), check_version(number) if number else None
    except Exception as error:
        raise UsageError(f"{target!r} is not NAME or NAME/VERSION: {error}") from None


@main.command("history")
@click.argument("target", metavar="[NAME[/VERSION]]", required=False)
@click.option("--since", metavar="DATE", help="Changes that landed on or after DATE (UTC).")
@click.option("--until", metavar="DATE", help="Changes that landed on or before DATE (UTC).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_context
@handle_errors
def history_command(
    ctx: Context, target: str | None, since: str | None, until: str | None, as_json: bool
) -> None:
    """Every change that landed, oldest first: when, PR, its author, who merged it, what moved.

    Authors and mergers are git identities (unverified). A date alone is a whole
    day in UTC: --until 2026-01-31 includes the 31st.

    Python: registry_gen.history.changes(read_history(root), NAME, VERSION, since=, until=).

    \b
    Examples:
      registry-gen history
      registry-gen history churn --since 2026-01-01
      registry-gen history churn/3 --json
    """
    from registry_gen.history import changes, describe, event_json, parse_when, read_history

    name, version = _target(target)
    history = read_history(ctx.root)
    if history.warning:
        click.echo(f"warning: {history.warning}", err=True)
    events = changes(
        history,
        name,
        version,
        since=parse_when(since) if since else None,
        until=parse_when(until, end_of_day=True) if until else None,
    )
    if as_json:
        echo_json([event_json(e) for e in events])
        return
    if not events:
        click.echo("No changes." if history.complete else "No git history for this registry.")
        return
    rows = [
        [
            e.commit.date.strftime("%Y-%m-%d %H:%M"),
            f"#{e.commit.pr}" if e.commit.pr else "-",
            e.commit.author,
            e.commit.merged_by or "-",
            describe(e),
        ]
        for e in events
    ]
    # Git identities anyone can set: the heads say so, as the site does.
    echo_table(
        ["MERGED (UTC)", "PR", "AUTHOR (UNVERIFIED)", "MERGED BY (UNVERIFIED)", "CHANGE"], rows
    )
