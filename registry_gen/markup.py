"""User text on the website: Markdown rendered, then sanitised; plain text escaped.

Descriptions in ``model.yaml`` and ``version.yaml`` are Markdown written by
people we do not fully trust. They reach a page only through
:func:`render_markdown` (Python-Markdown, then the nh3 allowlist below); every
other piece of user text (names of tags, metric keys, git author names, commit
messages) goes through :func:`escape_text` and is shown literally.

Both outputs are also inert for the Markdown stage that follows in MkDocs:
``{``/``}`` are written as character references so Jinja macros never see
``{{``, and ``<`` never appears next to ``8`` outside a tag, so a
``--8<--`` snippet include cannot be formed from user text.

:func:`find_unsafe_markup` tells authors (through the validator) what the
sanitiser would strip, before the page silently loses it.

Example:
    >>> find_unsafe_markup('Hi <img src=x onerror="alert(1)"> [x](javascript:alert(1))')
    ['event handler onerror= on <img>', 'javascript: link in href of <a>']
    >>> render_markdown("**bold** <script>alert(1)</script>")
    '<p><strong>bold</strong> </p>'
"""

from __future__ import annotations

import html
import re
import threading
from html.parser import HTMLParser
from urllib.parse import urlsplit

import markdown  # type: ignore[import-untyped]
import nh3

from ._constants import MAX_DESCRIPTION_CHARS as MAX_DESCRIPTION_CHARS  # one bound, the schema's

# Tags a description may use. Headings are shifted down two levels (h1 → h3) so
# a description never competes with the page's own title.
ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "kbd",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan"},
    "ol": {"start"},
}
URL_ATTRIBUTES = frozenset({"href", "src"})
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
# Removed together with their content (nh3's default set plus a few more).
CONTENT_TAGS = frozenset(
    {
        "script",
        "style",
        "template",
        "noscript",
        "iframe",
        "object",
        "embed",
        "svg",
        "math",
        "textarea",
        "select",
        "title",
    }
)
# Render limits (see markdown_limit), measured on Python-Markdown 3. Its link, reference,
# raw-HTML and autolink patterns scan from every '[', '(' or '<' to its closer, or to the
# end of the block when there is none: about 0.7 us a character scanned, so 20 KB of '['
# took over a minute. Abbreviations are matched as one alternation (definitions x text);
# definition lists nest by recursion (RecursionError after a few hundred ':' lines).
# Everything else measured stays linear, about 0.1 s for 10 KB.
MAX_MARKDOWN_CHARS = 20_000
MAX_SCAN_COST = 200_000
MAX_DEFINITION_LINES = 50
MAX_ABBREVIATIONS = 50

_MARKDOWN_EXTENSIONS = ["tables", "fenced_code", "sane_lists", "def_list", "abbr"]
_BLOCK_MARKER = re.compile(r"^(?:#{1,6}\s+|(?:>\s*)+|[-*+]\s+|\d+[.)]\s+)")
_HEADING = re.compile(r"<(/?)h([1-6])\b")
# ASCII characters left as they are by escape_text; every other ASCII character becomes a
# numeric reference (non-ASCII text is kept: it means nothing to Markdown or HTML).
_KEEP = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ,.;:'\"=?@$%+-")
_ESCAPES = {code: f"&#{code};" for code in range(128) if chr(code) not in _KEEP}
_ESCAPES.update({0x2028: " ", 0x2029: " "})


# Control characters and spaces: a URL holding one is not linked.
_URL_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_local = threading.local()
# One line of words and punctuation that means nothing to Markdown: rendered directly,
# which keeps 10,000 one-line version descriptions cheap.
_PLAIN_PARAGRAPH = re.compile(r"[A-Za-z][A-Za-z0-9 ,;:.'\"?!%/=+-]*")
# What Markdown needs to produce HTML the sanitiser would change. Raw HTML, autolinks,
# comments and entities need '<', '>' or '&'; fenced code (class=, id=) needs '`' or '~';
# tables (style=) need '|'; reference and abbreviation definitions need ']:'; Markdown's
# own placeholders are control characters. Everything else Python-Markdown emits with
# the extensions above is an allowed tag with allowed attributes, except a link or image
# whose target after '](' has an unsafe scheme: so a target must start with http://,
# https:// or mailto: for the text to be skipped. Text this cannot match is never
# converted by find_unsafe_markup (tests/test_markup.py compares both ways on random
# text from a hostile alphabet).
_MAY_BE_UNSAFE = re.compile(
    r"[<>&`~|\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\]\s*:|\]\s*\((?!https?://|mailto:)"
)


_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_DEFINITION_LINE = re.compile(r"^[ ]{0,3}:[ \t]", re.MULTILINE)
_ABBREVIATION = re.compile(r"^[ ]{0,3}\*\[", re.MULTILINE)
_BRACKETS = re.compile(r"[\[\]()<>]")
_OPENER = {"]": "[", ")": "(", ">": "<"}
# Raw-HTML patterns cost about four times as much a character as link patterns.
_SCAN_WEIGHT = {"[": 1, "(": 1, "<": 4}


def _scan_cost(block: str) -> int:
    """What Markdown scans in one block: each '[', '(' or '<' the distance to its closer,
    or to the end of the block when it has none ('<' weighs more: see _SCAN_WEIGHT)."""
    open_at: dict[str, list[int]] = {"[": [], "(": [], "<": []}
    cost = 0
    for match in _BRACKETS.finditer(block):
        char, at = match[0], match.start()
        if char in open_at:
            open_at[char].append(at)
        elif opened := open_at[_OPENER[char]]:
            cost += (at - opened.pop()) * _SCAN_WEIGHT[_OPENER[char]]
    for char, stack in open_at.items():
        cost += sum(len(block) - at for at in stack) * _SCAN_WEIGHT[char]
    return cost


def markdown_limit(text: str) -> str | None:
    """Why ``text`` is beyond what the site renders as Markdown, or None when it is not.

    Linear in the text. A description beyond the limits is shown on the site as
    plain text (escaped, paragraphs kept), so no description can make a page
    build slow; the validator reports the reason so the author can fix it.

    >>> markdown_limit("See [docs](https://example.com).") is None
    True
    >>> markdown_limit("[" * 200 + "a" * 1800)  # doctest: +ELLIPSIS
    "'[', '(' or '<' far from their closers make Markdown scan over 380100 characters..."
    """
    text = text.strip()  # as it is rendered
    if len(text) > MAX_MARKDOWN_CHARS:
        return f"{len(text)} characters, more than the {MAX_MARKDOWN_CHARS} rendered as Markdown"
    if len(_ABBREVIATION.findall(text)) > MAX_ABBREVIATIONS:
        return f"more than {MAX_ABBREVIATIONS} abbreviation definitions ('*[...]:')"
    # Markdown splits the text into blocks at blank lines; line endings as it reads them.
    total = 0
    for block in _BLANK_LINE.split(text.replace("\r\n", "\n").replace("\r", "\n")):
        if len(_DEFINITION_LINE.findall(block)) > MAX_DEFINITION_LINES:
            return (
                f"more than {MAX_DEFINITION_LINES} definition-list lines (starting "
                "with ':') in one block; separate them with blank lines"
            )
        total += _scan_cost(block)
        if total > MAX_SCAN_COST:
            return (
                f"'[', '(' or '<' far from their closers make Markdown scan over {total} "
                f"characters (at most {MAX_SCAN_COST}); close them, split long "
                "paragraphs or use fewer"
            )
    return None


def _plain_html(text: str) -> str:
    """``text`` as escaped paragraphs: what the site shows for text beyond the limits."""
    blocks = _BLANK_LINE.split(text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(f"<p>{html.escape(b.strip(), quote=False)}</p>" for b in blocks if b.strip())


def _markdown_to_html(text: str) -> str:
    text = text[:MAX_DESCRIPTION_CHARS].strip()
    if _PLAIN_PARAGRAPH.fullmatch(text) and "--" not in text:
        return f"<p>{html.escape(text, quote=False)}</p>"
    if markdown_limit(text) is not None:
        return _plain_html(text)
    # Building a converter costs more than using one: keep one per thread, reset per use.
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = markdown.Markdown(extensions=_MARKDOWN_EXTENSIONS, output_format="html")
        _local.converter = converter
    try:
        rendered = converter.reset().convert(text)
    except RecursionError:  # nesting the limits above did not foresee: still shown, as text
        _local.converter = None
        return _plain_html(text)
    return _HEADING.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + 2, 6)}", rendered)


def _url_scheme(value: str) -> str | None:
    """The scheme of a URL attribute ("" if it has none); None if the URL is malformed."""
    # Browsers drop control characters and whitespace inside a scheme ("java\tscript:").
    compact = re.sub(r"[\x00-\x20\x7f]", "", html.unescape(value))
    if ":" not in compact.split("/")[0]:
        return ""
    try:
        return urlsplit(compact).scheme.lower()
    except ValueError:  # "http://[x]": a host no browser accepts; never a link on the page
        return None


def _url_is_safe(value: str) -> bool:
    scheme = _url_scheme(value)
    return scheme is not None and (not scheme or scheme in SAFE_SCHEMES)


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if "<" in value or ">" in value:
        return None
    if attribute in URL_ATTRIBUTES and not _url_is_safe(value):
        return None
    return value


def _inert(fragment: str) -> str:
    """Make sanitised HTML inert for Jinja macros and snippet includes in later stages."""
    return fragment.replace("{", "&#123;").replace("}", "&#125;")


def render_markdown(text: str) -> str:
    """Render a user's Markdown description to sanitised HTML (may be empty).

    >>> render_markdown("# Churn\\n\\nSee [docs](https://example.com).")
    '<h3>Churn</h3>\\n<p>See <a href="https://example.com" rel="noopener noreferrer">docs</a>.</p>'
    """
    if not text.strip():
        return ""
    cleaned = nh3.clean(
        _markdown_to_html(text),
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(CONTENT_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes=set(SAFE_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return _inert(cleaned)


def first_line(text: str, limit: int = 160) -> str:
    """The first paragraph of a description as one line of plain text (for tables and feeds).

    Hard-wrapped lines are joined; a long paragraph is cut at a word and ends in "…".

    >>> first_line("# Churn\\n\\nPredicts which subscribers\\nwill cancel.\\n\\nMore.")
    'Churn'
    >>> first_line("Predicts which subscribers\\nwill cancel.\\n\\nMore.")
    'Predicts which subscribers will cancel.'
    """
    paragraph: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            if paragraph:
                break
            continue
        if paragraph and _BLOCK_MARKER.match(stripped):
            break
        paragraph.append(_BLOCK_MARKER.sub("", stripped).strip())
        if stripped.startswith("#"):
            break
    if not paragraph:
        return ""
    plain = nh3.clean(
        _markdown_to_html(" ".join(paragraph)), tags=set(), clean_content_tags=set(CONTENT_TAGS)
    )
    plain = " ".join(html.unescape(plain).split())
    if len(plain) <= limit:
        return plain
    cut = plain[: limit - 1].rsplit(" ", 1)[0] if " " in plain[: limit - 1] else plain[: limit - 1]
    return cut.rstrip(" ,;:.") + "…"


def plain_text(text: str) -> str:
    """A user's Markdown description as plain text for a terminal: the words the site shows,
    paragraphs apart, list items as ``- ``, a link's address after its label; no
    Markdown syntax, no HTML, no control characters.

    >>> plain_text("# Churn\\n\\nSee **[the card](https://x.io/c)**.\\n\\n- a\\n- b")
    'Churn\\n\\nSee the card (https://x.io/c).\\n\\n- a\\n- b'
    """
    from ._plain_text import html_to_text  # only the CLI needs it

    return html_to_text(render_markdown(text))


def escape_text(text: object, *, single_line: bool = True) -> str:
    """Escape plain user text for a generated Markdown page: shown literally, never markup.

    Every character that means something to HTML, Markdown (tables included),
    Jinja or snippet includes becomes a numeric character reference.

    >>> escape_text("<b>a|b</b> {{x}}")
    '&#60;b&#62;a&#124;b&#60;&#47;b&#62; &#123;&#123;x&#125;&#125;'
    """
    value = str(text)
    if single_line:
        value = " ".join(value.split())
    return value.translate(_ESCAPES)


def escape_attribute(value: str) -> str:
    """Escape a value for a double-quoted HTML attribute inside generated Markdown."""
    return _inert(html.escape(value, quote=True))


def safe_external_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL a page may link to, else None."""
    if not url or _URL_CONTROL.search(url):
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return url


def external_link(url: str | None, label: str | None = None) -> str:
    """An inline ``<a>`` for a user-supplied URL, or the escaped text when it is not safe."""
    safe = safe_external_url(url)
    text = escape_text(label if label is not None else (url or ""))
    if safe is None:
        return text
    return f'<a href="{escape_attribute(safe)}" rel="noopener noreferrer">{text}</a>'


class _Inspector(HTMLParser):
    """Walks rendered (unsanitised) HTML and records what the allowlist would remove."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def _note(self, message: str) -> None:
        if message not in self.found:
            self.found.append(message)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            removed = " (removed with its content)" if tag in CONTENT_TAGS else ""
            self._note(f"raw HTML tag <{tag}>{removed}")
        for name, raw in attrs:
            value = raw or ""
            if name.startswith("on"):
                self._note(f"event handler {name}= on <{tag}>")
            elif name in URL_ATTRIBUTES and not _url_is_safe(value):
                if _url_scheme(value) is None:
                    self._note(f"malformed URL in {name} of <{tag}>")
                    continue
                compact = re.sub(r"[\x00-\x20\x7f]", "", value)
                scheme = compact.split(":", 1)[0].lower()
                self._note(f"{scheme}: link in {name} of <{tag}>")
            elif tag in ALLOWED_TAGS and name not in ALLOWED_ATTRIBUTES.get(tag, set()):
                self._note(f"attribute {name}= on <{tag}>")
            elif "<" in value or ">" in value:
                self._note(f"attribute {name}= on <{tag}> containing '<' or '>'")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data: str) -> None:
        self._note("HTML comment")


def find_unsafe_markup(text: str) -> list[str]:
    """Describe, one line each, what the website's sanitiser would strip from ``text``.

    ``text`` is a Markdown description; Markdown code spans and blocks are
    shown literally and so are never reported. An empty list means the text
    reaches the page unchanged.

    >>> find_unsafe_markup("`<script>` in code is fine")
    []
    >>> find_unsafe_markup("<script>alert(1)</script>")
    ['raw HTML tag <script> (removed with its content)']
    """
    if not text.strip():
        return []
    limit = markdown_limit(text)
    if limit is not None:
        return [f"Markdown beyond the site's render limits, shown as plain text: {limit}"]
    if not _MAY_BE_UNSAFE.search(text):
        return []  # see _MAY_BE_UNSAFE: rendering Markdown costs ~0.3 ms a text
    return _inspect(text)


def _inspect(text: str) -> list[str]:
    """What the sanitiser would strip, always by rendering (the reference for the fast path)."""
    inspector = _Inspector()
    inspector.feed(_markdown_to_html(text))
    inspector.close()
    return inspector.found
