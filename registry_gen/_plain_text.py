"""Sanitised HTML (from :func:`registry_gen.markup.render_markdown`) as plain text for a
terminal: what :func:`registry_gen.markup.plain_text` prints for a description.

Example:
    >>> html_to_text("<p>See <a href='https://x.io'>the card</a>.</p><ul><li>a</li></ul>")
    'See the card (https://x.io).\\n\\n- a'
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

# Tags that end a paragraph (a blank line) or a line in plain text.
_PARAGRAPH_TAGS = frozenset(
    {
        "p",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "table",
        "dl",
        "hr",
        "div",
        "details",
    }
)
_LINE_TAGS = frozenset({"li", "tr", "dt", "dd", "br", "summary"})
# What a terminal must not be sent: control characters (escape sequences) but newline and tab.
_TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class _PlainText(HTMLParser):
    """Sanitised HTML (from render_markdown) back to readable text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._links: list[str | None] = []
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _PARAGRAPH_TAGS:
            self.parts.append("\n\n")
        elif tag in _LINE_TAGS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")
        elif tag in {"td", "th"} and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append(" | ")
        elif tag == "pre":
            self._pre += 1
        elif tag == "a":
            self._links.append(dict(attrs).get("href"))
            self.parts.append("\x00")  # where the label starts (see handle_endtag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
        elif tag == "a" and self._links:
            href = self._links.pop()
            start = len(self.parts) - 1 - self.parts[::-1].index("\x00")
            label = "".join(self.parts[start + 1 :])
            self.parts[start] = ""
            if href and href != label.strip() and not href.startswith("#"):
                self.parts.append(f" ({href})")
        if tag in _PARAGRAPH_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._pre:
            self.parts.append(data)
            return
        if not data.strip():
            return
        words = " ".join(data.split())
        last = next((part for part in reversed(self.parts) if part != "\x00"), "\n")
        if data[0].isspace() and not last.endswith(("\n", " ")):
            words = " " + words
        self.parts.append(words + (" " if data[-1].isspace() else ""))


def html_to_text(fragment: str) -> str:
    """``fragment`` (sanitised HTML) as text: paragraphs apart, list items as ``- ``, a
    link's address after its label, no control characters but newlines and tabs."""
    parser = _PlainText()
    parser.feed(fragment)
    parser.close()
    lines = [line.rstrip(" ") for line in "".join(parser.parts).replace("\x00", "").split("\n")]
    joined = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return _TERMINAL_CONTROL.sub("", joined)
