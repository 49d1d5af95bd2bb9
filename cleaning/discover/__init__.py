"""Discover stage: list the candidate URLs each configured source offers tonight.

Source kinds:

``feed``     an RSS or Atom feed (a URL, a ``file:`` URL or a path); its item links are candidates.
``sitemap``  a sitemap, news sitemap or sitemap index (a URL or a path); an index is followed to
             at most ``[fetch] max_sitemaps`` child sitemaps.
``urls``     a text file with one URL per line (``#`` starts a comment).
``local``    a folder of saved pages (``.html``, ``.htm``, ``.html.gz``), read recursively.
``warc``     a WARC file or a folder of them; each HTML response record with status 200.

URLs are requested as the source published them (see :mod:`cleaning.urls`) and de-duplicated
across sources by their identity key (the first source in the config to name a URL keeps it).
A URL an earlier night already fetched over the network is skipped (see
:mod:`cleaning.fetch.state`); then a source's ``max_items`` caps what it adds tonight, so the cap
counts new stories only. Feeds and sitemaps are fetched with conditional requests when the HTTP cache
holds validators for them. Sources are read side by side (the fetcher keeps per-host politeness)
and merged in config order, so the result does not depend on timing.

A source that cannot be read becomes a failure row; the other sources go on. A child sitemap that
cannot be read becomes its own failure row; its siblings go on.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from cleaning.config import Config, Source
from cleaning.discover.feeds import parse_feed
from cleaning.discover.sitemaps import parse_sitemap
from cleaning.discover.xmlsafe import DocumentError
from cleaning.fetch import Fetcher, FetchError, fetcher_for, source_is_local
from cleaning.fetch.state import HttpCache
from cleaning.fetch.warc import iter_pages
from cleaning.models import Candidate, Failure
from cleaning.urls import request_url, url_key

PAGE_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
MAX_SITEMAP_DEPTH = 3  # the protocol forbids nested indexes; some sites nest one level anyway
SOURCE_THREADS = 8


def _xml_types(media_type: str) -> bool:
    """Feeds and sitemaps come as many types; refuse only what is surely not a document."""
    return not media_type.startswith(("image/", "audio/", "video/", "font/")) and media_type not in (
        "application/pdf",
        "application/zip",
        "application/javascript",
    )


@dataclass
class _SourceResult:
    found: list[Candidate] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    not_modified: int = 0  # documents answered 304 and read from the cache


@dataclass
class Discovery:
    candidates: list[Candidate] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    already_seen: int = 0  # fetched over the network by an earlier night
    too_old: int = 0  # published before the seen window: it may have been fetched and forgotten
    over_limit: int = 0  # beyond a source's max_items tonight
    not_modified: int = 0


class _Reader:
    """Reads one source's documents through the shared fetcher and the HTTP cache."""

    def __init__(self, source: Source, fetcher: Fetcher, cache: HttpCache, result: _SourceResult):
        self.source, self.fetcher, self.cache, self.result = source, fetcher, cache, result

    def document(self, url: str, what: str) -> tuple[bytes, str | None, str]:
        """``(body, content_type, final_url)``; raises :class:`DocumentError` with a ``what_`` reason."""
        entry = self.cache.get(url) if self.fetcher.is_network(url) else None
        headers = entry.conditional_headers() if entry else {}
        try:
            response = self.fetcher.get(url, self.source.delay_seconds, accept=_xml_types, headers=headers)
        except FetchError as exc:
            raise DocumentError(f"{what}_{exc.reason}", exc.detail) from None
        if response.status == 304:
            if entry is None:
                raise DocumentError(f"{what}_http_304", "304 Not Modified to an unconditional request")
            entry = self.cache.confirmed(url, response)
            self.result.not_modified += 1
            return entry.body, entry.content_type, entry.final_url
        if response.from_network:
            self.cache.stored(url, response)
        return response.body, response.content_type or None, response.url

    def feed(self) -> list[Candidate]:
        body, content_type, final_url = self.document(self.source.url, "feed")
        found, unlinked = parse_feed(
            body, self.source.name, final_url if "://" in final_url else self.source.url, content_type
        )
        self.result.failures.extend(unlinked)
        return found

    def sitemap(self, max_sitemaps: int, max_bytes: int) -> list[Candidate]:
        remote = not source_is_local(self.source)
        found: list[Candidate] = []
        queue = [(self.source.url, 0)]
        visited = {self.source.url}
        children_read = 0
        while queue:
            url, depth = queue.pop(0)
            try:
                body, _, final_url = self.document(url, "sitemap")
                sitemap = parse_sitemap(body, url, max_bytes)
            except DocumentError as exc:
                if depth == 0:
                    raise
                self.result.failures.append(Failure(url, self.source.name, "discover", exc.reason, exc.detail))
                continue
            base = final_url if "://" in final_url else None
            for entry in sitemap.entries:
                loc = urljoin(base, entry.loc) if base else entry.loc
                if sitemap.is_index:
                    if remote and urlsplit(loc).scheme not in ("http", "https"):
                        self.result.failures.append(
                            Failure(
                                loc[:500],
                                self.source.name,
                                "discover",
                                "sitemap_bad_url",
                                "a remote index may only name http(s) sitemaps",
                            )
                        )
                    elif loc in visited:
                        continue
                    elif depth + 1 >= MAX_SITEMAP_DEPTH or children_read >= max_sitemaps:
                        self.result.failures.append(
                            Failure(
                                loc,
                                self.source.name,
                                "discover",
                                "sitemap_skipped",
                                f"over max_sitemaps={max_sitemaps} or nested too deep",
                            )
                        )
                    else:
                        visited.add(loc)
                        children_read += 1
                        queue.append((loc, depth + 1))
                else:
                    found.append(
                        Candidate(
                            url=loc,
                            source=self.source.name,
                            found_in=url,
                            title=entry.title,
                            published_at=entry.published_at,
                        )
                    )
        return found


def discover_source(
    source: Source, fetcher: Fetcher, config: Config | None = None, cache: HttpCache | None = None
) -> _SourceResult:
    """Everything one source offers tonight, before de-duplication, seen-filtering and ``max_items``."""
    settings = config.fetch if config else fetcher.settings
    result = _SourceResult()
    reader = _Reader(source, fetcher, cache or HttpCache(), result)
    try:
        if source.kind == "feed":
            result.found = reader.feed()
        elif source.kind == "sitemap":
            result.found = reader.sitemap(settings.max_sitemaps, settings.max_decompressed_bytes or settings.max_bytes)
        elif source.kind == "urls":
            lines = Path(source.path).read_text(encoding="utf-8").splitlines()
            result.found = [
                Candidate(url=line.strip(), source=source.name, found_in=source.path)
                for line in lines
                if line.strip() and not line.strip().startswith("#")
            ]
        elif source.kind == "local":
            root = Path(source.path)
            files = sorted(p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith(PAGE_SUFFIXES))
            result.found = [Candidate(url=str(p), source=source.name, found_in=str(root)) for p in files]
        elif source.kind == "warc":
            result.found = [
                Candidate(url=page.url, source=source.name, found_in=page.file) for page in iter_pages(source.path)
            ]
        else:  # config validation makes this unreachable
            raise DocumentError("bad_kind", source.kind)
    except DocumentError as exc:
        result.failures.insert(
            0, Failure(source.url or source.path or "", source.name, "discover", exc.reason, exc.detail)
        )
        result.found = []
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        result.failures.insert(
            0,
            Failure(
                source.url or source.path or "", source.name, "discover", "unreadable", f"{type(exc).__name__}: {exc}"
            ),
        )
        result.found = []
    return result


def discover_night(
    config: Config,
    only_sources: list[str] | None = None,
    fetcher: Fetcher | None = None,
    seen: set[str] | frozenset[str] = frozenset(),
    cache: HttpCache | None = None,
    published_before: datetime | None = None,
) -> Discovery:
    """Tonight's candidates: de-duplicated by URL key, minus ``seen`` keys of network URLs, capped per source.

    ``published_before`` drops network URLs whose feed or sitemap date is older than the seen
    window: a plain sitemap lists a site's whole archive, and without this cut every story would
    come back as new once it fell out of the window.
    """
    fetcher = fetcher or fetcher_for(config)
    cache = cache if cache is not None else HttpCache()
    sources = [s for s in config.sources if not only_sources or s.name in only_sources]
    with ThreadPoolExecutor(
        max_workers=max(1, min(SOURCE_THREADS, len(sources))), thread_name_prefix="discover"
    ) as pool:
        results = list(pool.map(lambda s: discover_source(s, fetcher, config, cache), sources))
    night = Discovery()
    keyed = [[_keyed(candidate) for candidate in result.found] for result in results]
    if hasattr(seen, "among"):  # a state read by host bucket: ask once for tonight's network URLs
        seen = seen.among(
            key
            for source, items in zip(sources, keyed)
            if source.kind not in ("local", "warc")
            for candidate, key, _ in items
            if key is not None and fetcher.is_network(candidate.url)
        )
    taken: set[str] = set()
    for source, result, items in zip(sources, results, keyed):  # config order, whatever finished first
        night.failures.extend(result.failures)
        night.not_modified += result.not_modified
        added = 0
        for candidate, key, error in items:
            if key is None:  # "http://[::1", a port over 65535: no request could be made
                night.failures.append(Failure(candidate.url[:500], source.name, "discover", "bad_url", error))
                continue
            if key in taken:
                continue
            taken.add(key)
            network = source.kind not in ("local", "warc") and fetcher.is_network(candidate.url)
            if network and key in seen:
                night.already_seen += 1
                continue
            if network and published_before and candidate.published_at and candidate.published_at < published_before:
                night.too_old += 1
                continue
            if source.max_items and added >= source.max_items:
                night.over_limit += 1
                continue
            added += 1
            night.candidates.append(candidate)
    return night


def _keyed(candidate: Candidate) -> tuple[Candidate, str | None, str]:
    """The candidate with its URL as requested, and its identity key (None and why, when none)."""
    try:
        candidate.url = request_url(candidate.url)
        return candidate, url_key(candidate.url), ""
    except ValueError as exc:
        return candidate, None, str(exc)
