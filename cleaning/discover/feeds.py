"""RSS and Atom feeds to candidates, without letting the feed do anything else.

feedparser is lenient, which we want for the web's broken feeds, and also too helpful: given
bytes that look like a path (``/etc/passwd``) it opens that file, and given a DOCTYPE it keeps
"safe" entity declarations. So the bytes go in as a stream (never a path or URL), entity
declarations are refused first (:mod:`cleaning.discover.xmlsafe`), and the charset goes in as the fetcher
resolved it. Relative item links are resolved against the feed's own URL.

An item without a ``<link>`` still names its story when its ``<guid>``/``<id>`` is an http(s) URL
(RSS says a guid is a permalink unless marked otherwise). An item with neither is returned as a
:class:`~cleaning.models.Failure`, so the night's accounting shows it instead of losing it.
"""

from __future__ import annotations

import calendar
import io
from datetime import datetime, timezone
from urllib.parse import urljoin

from cleaning.charset import effective_charset, with_charset
from cleaning.discover.xmlsafe import DocumentError, reject_entity_declarations
from cleaning.models import Candidate, Failure


def _entry_time(entry) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
    except (OverflowError, ValueError):
        return None


def _item_link(entry) -> str:
    link = (entry.get("link") or "").strip()
    if link:
        return link
    guid = (entry.get("id") or "").strip()
    permalink = entry.get("guidislink", True)
    return guid if permalink is not False and guid.lower().startswith(("http://", "https://")) else ""


def parse_feed(
    data: bytes, source_name: str, found_in: str, content_type: str | None = None
) -> tuple[list[Candidate], list[Failure]]:
    """Candidates from RSS/Atom bytes in feed order, and a failure per item that names no URL;
    raises :class:`DocumentError`."""
    import feedparser

    if not data.strip():
        raise DocumentError("empty_feed", f"{found_in} is empty")
    reject_entity_declarations(data, found_in)
    charset = effective_charset(data, content_type)
    headers = {"content-type": with_charset(content_type or "application/xml", charset, "application/xml")}
    if "://" in found_in:
        headers["content-location"] = found_in
    parsed = feedparser.parse(
        io.BytesIO(data), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    if not parsed.entries and not parsed.get("version") and not parsed.feed:
        raise DocumentError("bad_feed", f"{found_in} is not an RSS or Atom feed")
    base = found_in if "://" in found_in else None
    candidates, unlinked = [], []
    for number, entry in enumerate(parsed.entries, 1):
        link = _item_link(entry)
        if not link:
            title = " ".join((entry.get("title") or "").split())[:200]
            where = f"{found_in}#item-{number}"
            unlinked.append(
                Failure(
                    where,
                    source_name,
                    "discover",
                    "feed_item_without_link",
                    f"item {number} ({title or 'untitled'}) names no URL",
                )
            )
            continue
        if base:
            link = urljoin(base, link)
        candidates.append(
            Candidate(
                url=link,
                source=source_name,
                found_in=found_in,
                title=entry.get("title"),
                published_at=_entry_time(entry),
            )
        )
    benign = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    if not candidates and parsed.get("bozo") and not isinstance(parsed.get("bozo_exception"), benign):
        # broken, and nothing usable survived feedparser's repair
        raise DocumentError("bad_feed", f"{found_in}: {parsed.get('bozo_exception')}")
    return candidates, unlinked
