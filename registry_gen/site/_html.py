"""The HTML the pages are built from, and the one way values get into it.

Every value that reaches a page passes through this module: :func:`text` for
text (:func:`name`, the same memoised, for identifiers), :func:`attr` for
attribute values,
:func:`code` for preformatted source, :func:`description` for a user's Markdown,
:func:`external` for a user's URL, :func:`git_identity` and :func:`commit_date`
for what git claims, and :func:`xml` for the feed. No value ever becomes a class
name or a tag: those are chosen from fixed sets (:func:`stage_badge`). All of them delegate to
:mod:`registry_gen.markup`, so what "escaped" means is written once. Numbers
and built URLs are formatted here too; the page modules only assemble pieces.

Generated HTML blocks are fenced by :data:`HTML_START`/:data:`HTML_END`. The
plugin's Markdown extension (:class:`registry_gen.site.plugin.RawBlocks`) hands
each block to Markdown's HTML stash untouched, so 10,000 pages cost MkDocs no
HTML parsing; without the extension they are ordinary raw HTML blocks. User
text cannot forge a fence: it never holds a raw ``<``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from html import escape as _html_escape

from registry_gen.markup import escape_attribute, escape_text, external_link, render_markdown

from ._urls import PageLinks

HTML_START = "<!--rg:html-->"
HTML_END = "<!--/rg:html-->"
# Marks the end of what a model page offers the search index (title, description,
# owners, tags, aliases): the plugin lets the search plugin index only the part
# before it, which keeps models findable by name, tag and description while sparing
# it the tables below (about a tenth of a 10,000-version build).
SEARCH_END = "<!--rg:search-end-->"
# Page numbers either side of the current one in a pager.
PAGER_WINDOW = 2
NONE = "—"

text = escape_text
attr = escape_attribute
# The same escaping, memoised for values that repeat across thousands of pages (names,
# stages, aliases, relative URLs): at 10,000 versions it saves a tenth of the rendering.
name = lru_cache(maxsize=1 << 14)(escape_text)
_href = lru_cache(maxsize=1 << 14)(escape_attribute)


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml(value: str) -> str:
    """Text for the Atom feed (XML): escaped, without the characters XML 1.0 cannot hold.

    >>> xml('a<b & "c"\\x00')
    'a&lt;b &amp; &quot;c&quot;'
    """
    return _html_escape(_XML_INVALID.sub("", value), quote=True).replace("&#x27;", "'")


def code(source: str) -> str:
    """Preformatted source (a Mermaid graph) for a ``<code>`` element, as superfences writes it.

    >>> code('a --> b["x"]')
    'a --&gt; b["x"]'
    """
    return _html_escape(source, quote=False)


def external(url: str | None, label: str | None = None) -> str:
    """A link to a user's URL, or the escaped label when the URL is not a safe http(s) one."""
    return external_link(url, label)


def anchor(href: str, label: str) -> str:
    """A link to a page of the site; ``label`` is HTML built by this module."""
    return f"<a href='{_href(href)}'>{label}</a>"


def muted(html: str) -> str:
    """A grey paragraph for "nothing here" notes; ``html`` is built by this module."""
    return f'<p class="rg-muted">{html}</p>\n'


def block(html: str) -> str:
    """``html`` as one fenced raw HTML block."""
    return f"{HTML_START}\n{html}\n{HTML_END}\n"


def one_block(parts: Iterable[str]) -> str:
    """HTML parts as one raw HTML block: Markdown then handles the whole page body as a
    single stashed string, instead of parsing and inline-processing each part (at
    10,000 version pages that is about a tenth of the build)."""
    body = "".join(parts).replace(f"{HTML_START}\n", "").replace(f"\n{HTML_END}\n", "\n")
    return block(body.strip("\n"))


def table(header: Sequence[str], rows: Iterable[Sequence[str]], *, filterable: bool = False) -> str:
    """A table as one raw HTML block: Markdown passes it through without parsing its cells.

    Cells are separated by a space, so text extracted from the page (the search
    index) keeps them separate words rather than gluing "edited" and "Dana".
    ``filterable`` marks the table for the filter box of ``registry.js``.

    >>> "<td>1</td> <td>2</td>" in table(["A", "B"], [["1", "2"]])
    True
    """
    head = " ".join(f"<th>{cell}</th>" for cell in header)
    body = "".join(
        "<tr>" + " ".join(f"<td>{cell}</td>" for cell in row) + "</tr>\n" for row in rows
    )
    # A data attribute, not a class: Material styles only tables without a class.
    opening = "<table data-rg-filter>" if filterable else "<table>"
    return block(f"{opening}\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>")


def facts(rows: Sequence[Sequence[str]]) -> str:
    """A definition list of (label, HTML value) rows (a space between them, as in tables)."""
    items = "".join(f"<dt>{label}</dt> <dd>{value}</dd>\n" for label, value in rows)
    return block(f'<dl class="rg-facts">\n{items}</dl>')


def search_text(parts: Iterable[str]) -> str:
    """What a page offers the search index beyond its title, as a hidden paragraph.

    ``parts`` are HTML built by this module (escaped values). The paragraph goes
    before :data:`SEARCH_END`, so the search plugin reads this one short block
    instead of the page's tables: cost per page stays constant. Hidden, because
    the page shows the same values in its tables.
    """
    # An ASCII separator: the search index escapes every other character (six bytes).
    return block(f'<p class="rg-search-text" hidden>{" | ".join(p for p in parts if p)}</p>')


@lru_cache(maxsize=64)
def heading(title: str) -> str:
    """A second-level heading in HTML, with the permalink the ``toc`` extension adds."""
    slug = attr(title.lower())
    return (
        f'<h2 id="{slug}">{text(title)}<a class="headerlink" href="#{slug}" '
        'title="Permanent link">&para;</a></h2>\n'
    )


def description(markdown_text: str) -> str:
    """A user's Markdown description, rendered and sanitised."""
    return described(markdown_text)[0]


_TAG = re.compile(r"<[^>]*>")
_CUT_REFERENCE = re.compile(r"&[#\w]*\Z")
# Characters of a description the search index gets: enough to find it by its words.
SEARCH_DESCRIPTION_CHARS = 600


def described(markdown_text: str) -> tuple[str, str]:
    """A user's Markdown description rendered and sanitised (as :func:`description`), and
    its words for :func:`search_text`: the same rendering, tags dropped, entities kept.

    >>> described("**Churn** model")[1]
    'Churn model'
    """
    rendered = render_markdown(markdown_text)
    if not rendered:
        return muted("No description yet."), ""
    words = " ".join(_TAG.sub(" ", rendered).split())[:SEARCH_DESCRIPTION_CHARS]
    # A cut must not leave half a character reference.
    words = _CUT_REFERENCE.sub("", words)
    # A raw HTML block: Markdown leaves it as it is (blank lines inside are fine).
    return block(f'<div class="rg-description" markdown="0">\n{rendered}\n</div>'), words


# The stages the stylesheet colours. A class name is chosen from this set, never built
# from the value: a stage read from history can be any text a commit wrote.
_STAGE_CLASSES = {
    stage: f"rg-stage rg-stage-{stage}" for stage in ("none", "staging", "production", "archived")
}


@lru_cache(maxsize=1 << 10)
def stage_badge(stage: str) -> str:
    """A coloured stage label; stages the stylesheet does not know get the plain badge.

    >>> stage_badge("Production")
    '<span class="rg-stage rg-stage-production">Production</span>'
    >>> stage_badge('x" onmouseover="alert(1)')
    '<span class="rg-stage">x" onmouseover="alert&#40;1&#41;</span>'
    """
    css = _STAGE_CLASSES.get(stage.lower(), "rg-stage")
    return f'<span class="{css}">{text(stage)}</span>'


GIT_IDENTITY_NOTE = "git identity, unverified"


def git_identity(author: str) -> str:
    """A commit's author as git recorded it: anyone can write any name, so it is shown
    as a claim (signatures cannot be checked offline).

    >>> git_identity("Alice <b>")
    '<span class="rg-git-identity" title="git identity, unverified">Alice &#60;b&#62;</span>'
    """
    return f'<span class="rg-git-identity" title="{GIT_IDENTITY_NOTE}">{text(author)}</span>'


_CLAIM_NOTE = (
    "the commit claims a date after the change that followed it or after this site was built"
)


def commit_date(value: datetime, claimed: datetime | None) -> str:
    """A commit's date; when the commit claimed a later one (see
    :attr:`registry_gen.history.Commit.claimed_date`), the bound shown with the claim flagged.

    >>> from datetime import datetime, UTC
    >>> commit_date(
    ...     datetime(2026, 1, 2, 10, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC)
    ... )  # doctest: +ELLIPSIS
    '≤&nbsp;<span class="rg-date">2026-01-02&nbsp;10:00</span> <span class="rg-date-claim"...'
    """
    if claimed is None:
        return date(value)
    return (
        f'≤&nbsp;{date(value)} <span class="rg-date-claim" title="{_CLAIM_NOTE}">'
        f"(claims {claimed.astimezone(UTC):%Y-%m-%d})</span>"
    )


@lru_cache(maxsize=1 << 12)
def alias_chip(alias: str) -> str:
    """An ``@alias`` label."""
    return f'<span class="rg-alias">@{text(alias)}</span>'


def tag_chips(tags: Mapping[str, str]) -> str:
    """``key: value`` labels, sorted by key; a dash when there are none."""
    return (
        " ".join(
            f'<span class="rg-tag">{text(k)}: {text(v)}</span>' for k, v in sorted(tags.items())
        )
        or NONE
    )


def uri_cell(uri: str) -> str:
    """A ``models:/`` URI with a copy button."""
    return (
        f'<code class="rg-uri">{text(uri)}</code> '
        f'<button class="rg-copy" type="button" data-copy="{attr(uri)}" '
        f'title="Copy to clipboard">Copy</button>'
    )


def date(value: datetime) -> str:
    """``2026-01-02 10:00`` (UTC), never wrapped (a hyphen is a line-break opportunity).

    >>> from datetime import datetime, UTC
    >>> date(datetime(2026, 1, 2, 10, tzinfo=UTC))
    '<span class="rg-date">2026-01-02&nbsp;10:00</span>'
    """
    return value.astimezone(UTC).strftime('<span class="rg-date">%Y-%m-%d&nbsp;%H:%M</span>')


def day(value: datetime) -> str:
    """``2026-01-02`` (UTC), never wrapped."""
    return value.astimezone(UTC).strftime('<span class="rg-date">%Y-%m-%d</span>')


def number(value: float | int | bool | str | None) -> str:
    """A metric or parameter value: floats to six significant digits."""
    if isinstance(value, bool) or value is None:
        return text(str(value))
    if isinstance(value, float):
        return text(f"{value:.6g}")
    return text(value)


def size(value: int | None) -> str:
    """A byte count in B, KB, MB, GB or TB.

    >>> size(1536)
    '1.5 KB'
    """
    if value is None:
        return NONE
    amount = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if amount < 1024 or unit == "TB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{value} B"


def delta(value: float, before: float | None) -> str:
    """The change of a metric since the previous version, coloured."""
    if before is None:
        return NONE
    change = value - before
    if change == 0:
        return '<span class="rg-delta">±0</span>'
    kind = "up" if change > 0 else "down"
    return f'<span class="rg-delta rg-{kind}">{change:+.4g}</span>'


def pager_numbers(count: int, current: int) -> list[int | None]:
    """The page numbers a pager shows: first, last, and a window around ``current``;
    None where numbers are left out.

    A pager listing every page would grow with the registry (hundreds of activity pages at
    10,000 versions is 16 KB of links on every page), so it stays a fixed size.

    >>> pager_numbers(5, 3)
    [1, 2, 3, 4, 5]
    >>> pager_numbers(100, 50)
    [1, None, 48, 49, 50, 51, 52, None, 100]
    """
    shown = {1, count, *range(current - PAGER_WINDOW, current + PAGER_WINDOW + 1)}
    numbers: list[int | None] = []
    for n in sorted(n for n in shown if 1 <= n <= count):
        if numbers and numbers[-1] is not None and n > numbers[-1] + 1:
            # A gap of one page shows the page rather than an ellipsis.
            numbers.append(n - 1 if n == numbers[-1] + 2 else None)
        numbers.append(n)
    return numbers


def pager(links: PageLinks, paths: Sequence[str], current: int) -> str:
    """Links to the pages ``paths`` of a paginated page, seen from page number ``current``
    (counted from 1); empty for a single page."""
    if len(paths) <= 1:
        return ""
    parts = []
    if current > 1:
        parts.append(anchor(links.href(paths[current - 2]), "← Previous"))
    for n in pager_numbers(len(paths), current):
        if n is None:
            parts.append("…")
        elif n == current:
            parts.append(f"<b>{n}</b>")
        else:
            parts.append(anchor(links.href(paths[n - 1]), str(n)))
    if current < len(paths):
        parts.append(anchor(links.href(paths[current]), "Next →"))
    return block('<p class="rg-pager">Pages: ' + " · ".join(parts) + "</p>") + "\n"
