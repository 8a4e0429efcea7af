"""Where each generated page lives, and the relative URLs between pages.

Pages are docs paths (``models/churn/3/index.md``); links between them are the
built site's URLs, which depend on MkDocs' ``use_directory_urls``. A
:class:`Linker` carries that setting and is handed to every piece of code that
writes a link, so two sites with different settings can render side by side.

``index``, ``activity``, ``lineage``, ``compare`` and ``feed`` are in
:data:`registry_gen.uri.RESERVED_NAMES`, so no model's pages can collide with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

HOME = "index.md"
MODELS = "models/index.md"
ACTIVITY = "models/activity.md"
LINEAGE = "models/lineage.md"
FEED = "models/feed.xml"
COMPARE = "models/compare.md"
# Pages listed in the navigation; every other generated page is reached by links,
# which keeps MkDocs' per-page navigation (rendered into every page) small.
NAV_PAGES = (HOME, MODELS, ACTIVITY, LINEAGE)


def model_page(name: str) -> str:
    """The docs path of a model's page.

    >>> model_page("churn")
    'models/churn/index.md'
    """
    return f"models/{name}/index.md"


def version_page(name: str, version: int) -> str:
    """The docs path of a version's page.

    >>> version_page("churn", 3)
    'models/churn/3/index.md'
    """
    return f"models/{name}/{version}/index.md"


def page_series(first: str, folder: str, count: int) -> list[str]:
    """The docs paths of a paginated page: ``first``, then ``folder/2.md`` and on.

    >>> page_series("models/lineage.md", "models/lineage", 3)
    ['models/lineage.md', 'models/lineage/2.md', 'models/lineage/3.md']
    """
    return [first] + [f"{folder}/{n}.md" for n in range(2, count + 1)]


def activity_page(number: int) -> str:
    """The docs path of the activity page ``number``, counted from the oldest changes.

    >>> activity_page(1)
    'models/activity/1.md'
    """
    return f"models/activity/{number}.md"


def _url_parts(path: str, directory_urls: bool) -> list[str]:
    """The URL of a docs file, as path parts (MkDocs' rules; pages end in "/" or ".html")."""
    parts = path.split("/")
    if not parts[-1].endswith(".md"):
        return parts
    stem = parts[-1][:-3]
    if directory_urls:
        return [*parts[:-1], ""] if stem == "index" else [*parts[:-1], stem, ""]
    return [*parts[:-1], f"{stem}.html"]


@dataclass(frozen=True)
class Linker:
    """Relative URLs between docs files, as the built site spells them.

    The pages put their links in HTML (cheap for Markdown to pass through at
    10,000 pages), so the URLs are the built site's, not ``.md`` paths.

    >>> Linker().url("models/churn/3/index.md", "models/churn/index.md")
    '../'
    >>> Linker().url("models/churn/index.md", "models/churn/3/index.md")
    '3/'
    >>> Linker(directory_urls=False).url("models/churn/index.md", "models/churn/3/index.md")
    '3/index.html'
    """

    directory_urls: bool = True

    def url(self, source: str, target: str) -> str:
        """The relative URL from page ``source`` to ``target`` (both docs paths)."""
        here = _url_parts(source, self.directory_urls)[:-1]
        there = _url_parts(target, self.directory_urls)
        common = 0
        while common < len(here) and common < len(there) - 1 and here[common] == there[common]:
            common += 1
        return "/".join([".."] * (len(here) - common) + there[common:]) or "./"

    def at(self, page: str) -> PageLinks:
        """The links written on page ``page``."""
        return PageLinks(self, page)


@dataclass(frozen=True)
class PageLinks:
    """The links of one page: every URL is relative to :attr:`page`."""

    linker: Linker
    page: str

    def href(self, target: str) -> str:
        """The URL of docs file ``target`` seen from this page."""
        return self.linker.url(self.page, target)


def compare_href(links: PageLinks, name: str, versions: Sequence[int]) -> str:
    """The URL of the compare page (see ``_compare``) with ``versions`` of ``name`` picked.

    >>> compare_href(Linker().at("models/churn/3/index.md"), "churn", [3])
    '../../compare/?model=churn&v=3'
    """
    query = urlencode([("model", name), *(("v", str(n)) for n in versions)])
    return f"{links.href(COMPARE)}?{query}"
