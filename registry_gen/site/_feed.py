"""The Atom feed of stage transitions and registrations (``models/feed.xml``)."""

from __future__ import annotations

from datetime import UTC, datetime

from registry_gen.history import Event, History

from ._html import GIT_IDENTITY_NOTE
from ._html import xml as _xml

FEED_ENTRIES = 50


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
        f"    <author><name>{_xml(event.commit.author)} ({GIT_IDENTITY_NOTE})</name></author>\n",
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
        f"  <id>{_xml(base)}models/feed.xml</id>\n"
        if base
        else "  <id>urn:registry-gen:stage-feed</id>\n",
        f"  <updated>{stamp.astimezone(UTC).isoformat()}</updated>\n",
    ]
    if base:
        parts.append(f'  <link rel="alternate" href="{_xml(base)}models/activity/"/>\n')
    for event in entries:
        parts += _entry(event, base)
    parts.append("</feed>\n")
    return "".join(parts)
