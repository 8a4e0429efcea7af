"""``registry-gen docs build`` / ``docs serve``: the registry's website (MkDocs + Material)."""

from __future__ import annotations

from pathlib import Path

import click

from ._app import Context, fail, handle_errors, main, pass_context


@main.group("docs")
def docs_group() -> None:
    """Build or preview the registry's website (MkDocs + Material, from mkdocs.yml)."""


@docs_group.command("build")
@click.option("--strict", is_flag=True, help="Fail on any warning (broken links, bad records).")
@click.option(
    "-d",
    "--site-dir",
    "site_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the site (default: site_dir of mkdocs.yml).",
)
@pass_context
@handle_errors
def docs_build_command(ctx: Context, strict: bool, site_dir: Path | None) -> None:
    """Build the static website: model and version pages, activity, lineage, JSON API.

    Incremental: a page whose content and build settings are those of the last build
    is copied from a cache in the user's cache folder instead of being rendered again
    (turn it off with `cache: false` under the registry plugin in mkdocs.yml).

    Refuses an mkdocs.yml that would run code during the build (hooks, !!python tags,
    plugins or Markdown extensions off the allow-list, custom templates).

    Python: registry_gen.site.build_site(root, strict=..., site_dir=...).

    \b
    Examples:
      registry-gen docs build --strict
      registry-gen docs build -d public
    """
    from registry_gen._extras import require_extra

    require_extra("mkdocs", "site", "building the site")
    from mkdocs.exceptions import MkDocsException

    from registry_gen.site import build_site

    try:
        built = build_site(ctx.root, strict=strict, site_dir=site_dir)
    except MkDocsException as error:
        fail(str(error), 1)
    click.echo(f"Site written to {built}")


@docs_group.command("serve")
@click.option(
    "-a",
    "--dev-addr",
    "dev_addr",
    default=None,
    metavar="IP:PORT",
    help="Address to serve on (default 127.0.0.1:8000).",
)
@click.option("--open", "open_in_browser", is_flag=True, help="Open the site in a browser.")
@pass_context
@handle_errors
def docs_serve_command(ctx: Context, dev_addr: str | None, open_in_browser: bool) -> None:
    """Serve the website with live reload: edit a record under models/ and the page updates.

    Each rebuild renders only the pages the edit changed (the others come from the
    incremental cache, as for `docs build`); git history is read again only after a commit.

    Refuses an mkdocs.yml that would run code, as `docs build` does.

    Python: registry_gen.site.serve_site(root, dev_addr=...).

    \b
    Examples:
      registry-gen docs serve
      registry-gen docs serve -a 127.0.0.1:8001 --open
    """
    from registry_gen._extras import require_extra

    require_extra("mkdocs", "site", "serving the site")
    from registry_gen.site import serve_site

    serve_site(ctx.root, dev_addr=dev_addr, open_in_browser=open_in_browser)
