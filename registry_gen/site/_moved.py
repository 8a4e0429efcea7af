"""Pages left at a renamed model's old address (``models/OLD/`` and its versions).

A rename leaves ``models/OLD/moved.yaml`` (see :mod:`registry_gen._rename`), which
every ``models:/`` route follows; these pages do the same for links and bookmarks
to the website: each says where the model went and links there. They carry no
automatic redirect (a reader sees that the name changed) and stay out of search.
"""

from __future__ import annotations

from registry_gen.store import RegisteredModel

from . import _html
from ._context import Site
from ._html import anchor
from ._pages import NO_SEARCH
from ._urls import model_page, version_page

__all__ = ["moved_pages"]


def moved_pages(site: Site) -> dict[str, str]:
    """Each redirect's pages, keyed by docs path; empty when no model was renamed.

    >>> moved_pages(site)["models/churn/index.md"][:40]  # doctest: +SKIP
    '---\\nsearch:\\n  exclude: true\\nhide:\\n  - to'
    """
    pages: dict[str, str] = {}
    for old, new in sorted(site.index.moved.items()):
        target = site.index.models.get(new)
        if target is None or old in site.index.models:
            continue  # a broken or shadowed redirect is the validator's (RG209), not a page
        pages[model_page(old)] = _page(site, model_page(old), old, target, None)
        for version in target.versions:
            path = version_page(old, version.version)
            pages[path] = _page(site, path, old, target, version.version)
    return pages


def _page(site: Site, path: str, old: str, target: RegisteredModel, number: int | None) -> str:
    links = site.linker.at(path)
    where = model_page(target.name) if number is None else version_page(target.name, number)
    label = target.name if number is None else f"{target.name} v{number}"
    title = old if number is None else f"{old} v{number}"
    body = (
        f"<p>The registered model <code>{_html.text(old)}</code> was renamed to "
        f"{anchor(links.href(where), _html.text(label))}. "
        f"URIs such as <code>{_html.text(f'models:/{old}/...')}</code> still load its versions.</p>"
    )
    return f"{NO_SEARCH}# {_html.text(title)} (renamed)\n\n{_html.block(body)}\n"
