"""Discover stage: list the candidate URLs each configured source offers tonight.

Source kinds:

``feed``   an RSS or Atom feed (a URL, a ``file:`` URL or a path); its item links are candidates.
``urls``   a text file with one URL per line (``#`` starts a comment).
``local``  a folder of saved pages (``.html``, ``.htm``, ``.html.gz``), read recursively.

URLs are normalized and de-duplicated across sources (the first source to name a URL keeps it).
A source that cannot be read becomes a failure row; the other sources go on.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timezone
from pathlib import Path

from cleaning.config import Config, Source
from cleaning.fetch import FetchError, Fetcher, fetcher_for
from cleaning.models import Candidate, Failure
from cleaning.urls import normalize_url

PAGE_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")


class SourceError(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def _entry_time(entry) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)


def parse_feed(data: bytes, source: Source, found_in: str) -> list[Candidate]:
    """Candidates from RSS/Atom bytes, in feed order."""
    import feedparser

    if not data.strip():
        raise SourceError("empty_feed", f"{found_in} is empty")
    parsed = feedparser.parse(data)
    if parsed.get("bozo") and not parsed.entries:
        raise SourceError("bad_feed", f"{found_in}: {parsed.get('bozo_exception')}")
    candidates = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            continue
        candidates.append(
            Candidate(url=link, source=source.name, found_in=found_in, title=entry.get("title"), published_at=_entry_time(entry))
        )
    return candidates


def discover_source(source: Source, fetcher: Fetcher) -> list[Candidate]:
    if source.kind == "feed":
        try:
            response = fetcher.get(source.url, source.delay_seconds)
        except FetchError as exc:
            raise SourceError(f"feed_{exc.reason}", exc.detail) from None
        found = parse_feed(response.body, source, source.url)
    elif source.kind == "urls":
        lines = Path(source.path).read_text(encoding="utf-8").splitlines()
        found = [
            Candidate(url=line.strip(), source=source.name, found_in=source.path)
            for line in lines
            if line.strip() and not line.strip().startswith("#")
        ]
    elif source.kind == "local":
        root = Path(source.path)
        files = sorted(p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith(PAGE_SUFFIXES))
        found = [Candidate(url=str(p), source=source.name, found_in=str(root)) for p in files]
    else:  # config validation makes this unreachable
        raise SourceError("bad_kind", source.kind)
    return found[: source.max_items] if source.max_items else found


def discover(config: Config, only_sources: list[str] | None = None, fetcher: Fetcher | None = None):
    """All candidates of tonight, de-duplicated by normalized URL; returns ``(candidates, failures)``."""
    fetcher = fetcher or fetcher_for(config)
    candidates: list[Candidate] = []
    failures: list[Failure] = []
    seen: set[str] = set()
    for source in config.sources:
        if only_sources and source.name not in only_sources:
            continue
        try:
            found = discover_source(source, fetcher)
        except SourceError as exc:
            failures.append(Failure(source.url or source.path or "", source.name, "discover", exc.reason, exc.detail))
            continue
        except OSError as exc:
            failures.append(Failure(source.url or source.path or "", source.name, "discover", "unreadable", str(exc)))
            continue
        for candidate in found:
            candidate.url = normalize_url(candidate.url)
            if candidate.url in seen:
                continue
            seen.add(candidate.url)
            candidates.append(candidate)
    return candidates, failures
