"""The compare page (``models/compare.md``): any versions of a model side by side.

One static page for every model: ``registry.js`` reads the model and the
versions from the address (``?model=churn&v=2&v=3``), fetches the model's
document of the JSON API (``api/models/NAME.json``, see
:mod:`registry_gen.site.api`, which carries params, metrics, signature, lineage
and stage history for this page) and draws the table with ``textContent`` only,
so no value from the JSON ever becomes markup. Nothing here grows with the
registry: the page is the same size at 10 or 100,000 versions.
"""

from __future__ import annotations

from registry_gen._api import INDEX

from . import _html
from ._context import Site
from ._html import attr
from ._pages import NO_SEARCH
from ._urls import COMPARE, MODELS

# Stand-ins the script replaces to link a version's page (see ``registry.js``).
NAME_SLOT = "__rg_name__"
VERSION_SLOT = "__rg_version__"


def compare_page(site: Site) -> dict[str, str]:
    """The compare page, keyed by its docs path."""
    links = site.linker.at(COMPARE)
    # The site's root as a folder URL (MkDocs' home is ``index.html`` without directory URLs).
    root = links.href(INDEX).removesuffix(INDEX)
    version_url = links.href(f"models/{NAME_SLOT}/{VERSION_SLOT}/index.md")
    model_url = links.href(f"models/{NAME_SLOT}/index.md")
    body = (
        f'<div id="rg-compare" data-root="{attr(root)}" '
        f'data-version-url="{attr(version_url)}" data-model-url="{attr(model_url)}">\n'
        + _html.muted(
            "Pick versions to compare from a version's page (“Compare with…”). "
            "This page needs JavaScript: it reads the site's JSON API."
        )
        + "</div>"
    )
    intro = (
        "Versions of one model side by side: parameters, metrics with their change "
        "against the first column, signature, lineage and stage history. Rows that "
        f"differ are marked. {_html.anchor(links.href(MODELS), 'All models →')}"
    )
    return {
        COMPARE: f"{NO_SEARCH}# Compare versions\n\n{_html.block(f'<p>{intro}</p>')}\n"
        f"{_html.block(body)}"
    }
