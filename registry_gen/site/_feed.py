"""The Atom feed of stage transitions and registrations (``models/feed.xml``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.sax.saxutils import escape as _xml_escape

from registry_gen.history import Event, History

FEED_ENTRIES = 50
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    """Escape text for XML, dropping the characters XML 1.0 cannot hold.

    >>> _xml('a<b & "c"\\x00')
    'a&lt;b &amp; &quot;c&quot;'
    """
    return _xml_escape(_XML_INVALID.sub("", text), {'"': "&quot;"})


def _entry(event: Event, base: str) -> list[str]:
    if event.kind == "stage":
        title = f"{event.model} v{event.version}: {event.old} → {event.new}"
    else:
        title = f"{event.model} v{event.version} registered in {event.new}"
    entry_id = f"urn:registry-gen:{event.commit.sha}:{event.model}:{event.version}:{event.kind}"
    parts = [
        "  <entry>\n",
        f"    <title>{_xml(title)}</title>\n",
        f"    <id>{_xml(entry_id)}</id>\n",
        f"    <updated>{event.commit.date.astimezone(UTC).isoformat()}</updated>\n",
        f"    <author><name>{_xml(event.commit.author)}</name></author>\n",
    ]
    if base:
        parts.append(f'    <link href="{_xml(f"{base}models/{event.model}/{event.version}/")}"/>\n')
    summary = event.commit.subject + (f" (#{event.commit.pr})" if event.commit.pr else "")
    parts.append(f"    <summary>{_xml(summary)}</summary>\n")
    parts.append("  </entry>\n")
    return parts


def feed(history: History, site_url: str | None, updated: datetime | None) -> str:
    """The feed's XML text: the newest :data:`FEED_ENTRIES` stage changes and registrations.

    ``site_url`` makes ids and links absolute; ``updated`` dates a feed without entries.
    """
    base = site_url.rstrip("/") + "/" if site_url else ""
    entries = [e for e in reversed(history.events) if e.kind in {"stage", "registered"}]
    entries = entries[:FEED_ENTRIES]
    stamp = entries[0].commit.date if entries else updated or datetime(1970, 1, 1, tzinfo=UTC)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n',
        "  <title>Model registry: stage changes</title>\n",
        f"  <id>{_xml(base)}models/feed.xml</id>\n" if base
        else "  <id>urn:registry-gen:stage-feed</id>\n",
        f"  <updated>{stamp.astimezone(UTC).isoformat()}</updated>\n",
    ]
    if base:
        parts.append(f'  <link rel="alternate" href="{_xml(base)}models/activity/"/>\n')
    for event in entries:
        parts += _entry(event, base)
    parts.append("</feed>\n")
    return "".join(parts)
