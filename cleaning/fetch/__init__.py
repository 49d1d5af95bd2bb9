"""Fetch stage: turn candidate URLs into raw captures, politely and safely.

One :class:`Fetcher` serves a whole task. It reads local files (plain paths, ``file:`` URLs, and
URLs under a source's ``mirror`` prefix, which is how the bundled sample corpus is served
offline), pages kept in WARC sources, and everything else over HTTP through one
:class:`~cleaning.fetch.httpclient.HttpClient`, which checks every address, honours robots.txt and
keeps per-host politeness across all threads (see that module for the rules).

:func:`fetch_shard` fetches one shard with threads: the candidates are grouped into one queue
per host (``per_host_concurrency`` queues for hosts that allow more), and up to ``max_workers``
queues are drained side by side, so one host's politeness delay overlaps the others' work.
Results come back in candidate order whatever the timing.

The stage never raises for one bad URL: every candidate ends either as a capture or as a
:class:`~cleaning.models.Failure` with the stage, reason and HTTP status.
"""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

from cleaning.charset import effective_charset, with_charset
from cleaning.config import Config, FetchConfig, Source
from cleaning.fetch.httpclient import FetchError, HttpClient, Response, check_address, decompress
from cleaning.fetch.warc import WarcShelf
from cleaning.models import Capture, Failure
from cleaning.urls import url_key

__all__ = ["FetchError", "Fetcher", "Response", "check_address", "fetch_one", "fetch_shard", "fetcher_for"]

HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")
LOCAL_KINDS = ("local", "urls", "warc")


def accepts_html(media_type: str) -> bool:
    return media_type in HTML_TYPES


@dataclass
class Fetcher:
    settings: FetchConfig
    mirrors: dict[str, str] = field(default_factory=dict)
    resolve: callable = socket.getaddrinfo  # replaceable in tests and benchmarks

    def __post_init__(self):
        self.http = HttpClient(self.settings, resolve=self.resolve)
        self.warcs = WarcShelf(max_bytes=self.settings.max_decompressed_bytes or self.settings.max_bytes)

    def get(
        self, url: str, delay: float | None = None, *, accept=None, headers: dict[str, str] | None = None
    ) -> Response:
        local = self.local_path(url)
        if local is not None:
            return self._read_local(url, local)
        return self.http.get(url, delay, accept=accept, headers=headers)

    def is_network(self, url: str) -> bool:
        """Would fetching ``url`` go over the network (not to a file or a mirror)?"""
        try:
            return self.local_path(url) is None and urlsplit(url).scheme in ("http", "https")
        except (FetchError, ValueError):
            return False

    def local_path(self, url: str) -> Path | None:
        try:
            urlsplit(url)
        except ValueError as exc:
            raise FetchError("bad_url", f"{exc}: {url[:200]!r}") from None
        for prefix, folder in self.mirrors.items():
            if url.startswith(prefix):
                relative = unquote(urlsplit(url).path[len(urlsplit(prefix).path) :].lstrip("/"))
                path = (Path(folder) / relative).resolve()
                if Path(folder).resolve() not in path.parents:  # "../" must not escape the mirror
                    raise FetchError("bad_url", "path escapes the mirror folder")
                return path
        parts = urlsplit(url)
        if parts.scheme == "file":
            return Path(unquote(parts.path))
        if parts.scheme == "" and url.startswith("/"):
            return Path(url)
        return None

    def _read_local(self, url: str, path: Path) -> Response:
        try:
            if path.stat().st_size > self.settings.max_bytes:
                raise FetchError("too_large", f"{path} is over {self.settings.max_bytes} bytes")
            body = path.read_bytes()
        except FileNotFoundError:
            raise FetchError("not_found", str(path), 404) from None
        except (IsADirectoryError, NotADirectoryError, PermissionError) as exc:
            raise FetchError("unreadable", str(exc)) from None
        if path.suffix == ".gz":
            body = decompress(body, "gzip", self.settings.max_decompressed_bytes or self.settings.max_bytes)
        return Response(url, 200, {"content-type": "text/html"}, body)

    def read_warc(self, source: Source, url: str) -> Response:
        page = self.warcs.find(source.path, url)
        if page is None:
            raise FetchError("not_found", f"{url[:200]} is not in {source.path}", 404)
        headers = {k.lower(): v for k, v in page.headers}
        when = page.fetched_at or datetime.now(timezone.utc)
        return Response(page.url, page.status, headers, page.body, raw_headers=page.headers, fetched_at=when)


def fetcher_for(config: Config, resolve=None) -> Fetcher:
    mirrors = {}
    for source in config.sources:
        mirrors.update(source.mirror)
    return Fetcher(config.fetch, mirrors, resolve or socket.getaddrinfo)


def source_is_local(source: Source) -> bool:
    """Sources the operator pointed at this machine's disk (a folder, a list, a WARC, a feed file)."""
    return source.kind in LOCAL_KINDS or not (source.url or "").startswith(("http://", "https://"))


def fetch_page(fetcher: Fetcher, url: str, source: Source) -> Response:
    """Fetch one article page; raises :class:`FetchError`."""
    if source.kind == "warc":
        response = fetcher.read_warc(source, url)
    else:
        if not url.startswith(("http://", "https://")) and not source_is_local(source):
            # A remote feed must never make us read a file on this machine.
            raise FetchError("bad_url", f"non-HTTP link from a remote source: {url[:200]}")
        response = fetcher.get(url, source.delay_seconds, accept=accepts_html)
    if not 200 <= response.status < 300:
        raise FetchError(f"http_{response.status}", response.reason, response.status)
    if not accepts_html(response.media_type):
        raise FetchError("bad_content_type", response.content_type, response.status)
    return response


def capture_of(response: Response, url: str, source: Source) -> Capture:
    """The capture kept in the lake; its content type names the charset the fetcher settled on."""
    charset = effective_charset(response.body, response.content_type)
    return Capture(
        url=url,
        source=source.name,
        final_url=response.url,
        status=response.status,
        content_type=with_charset(response.content_type, charset),
        fetched_at=response.fetched_at,
        body=response.body,
    )


def fetch_one(fetcher: Fetcher, url: str, source: Source) -> Capture:
    """Fetch one article page into a capture; raises :class:`FetchError`."""
    return capture_of(fetch_page(fetcher, url, source), url, source)


@dataclass
class Fetched:
    """One shard's outcome. ``exchanges`` pairs each capture with its response, for the WARC."""

    captures: list[Capture] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    exchanges: list[tuple[Capture, Response]] = field(default_factory=list)

    def fetched_rows(self) -> list[dict]:
        """Rows for :mod:`cleaning.fetch.state`: the pages that came over the network."""
        return [
            {
                "url": url_key(capture.url),
                "final_url": url_key(capture.final_url),
                "source": capture.source,
                "status": capture.status,
                "fetched_at": capture.fetched_at,
            }
            for capture, response in self.exchanges
            if response.from_network
        ]


def _lane_key(fetcher: Fetcher, url: str, source: Source) -> str:
    """Which queue a URL waits in: its host, or one shared queue for everything read locally."""
    try:
        if source.kind == "warc" or not fetcher.is_network(url):
            return ""
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # unparseable: it fails in the shared queue with its reason
        return ""


def _lanes(fetcher: Fetcher, jobs: list[tuple[int, str, Source]], per_host: int) -> list[list[tuple[int, str, Source]]]:
    by_host: dict[str, list] = {}
    for job in jobs:
        by_host.setdefault(_lane_key(fetcher, job[1], job[2]), []).append(job)
    lanes = []
    for host in sorted(by_host, key=lambda h: (h != "", h)):
        queue = by_host[host]
        split = 1 if host == "" else min(per_host, len(queue))
        lanes.extend(queue[i::split] for i in range(split))
    return lanes


def fetch_shard(candidates, config: Config, fetcher: Fetcher | None = None) -> Fetched:
    """Fetch every candidate of a shard; each ends as a capture or a failure, in candidate order."""
    fetcher = fetcher or fetcher_for(config)
    sources = {s.name: s for s in config.sources}
    outcomes: list = [None] * len(candidates)
    jobs = []
    for index, candidate in enumerate(candidates):
        source = sources.get(candidate.source)
        if source is None:
            outcomes[index] = Failure(
                candidate.url, candidate.source, "fetch", "unknown_source", "source is no longer configured"
            )
        else:
            jobs.append((index, candidate.url, source))

    def drain(lane):
        for index, url, source in lane:
            try:
                response = fetch_page(fetcher, url, source)
                outcomes[index] = (capture_of(response, url, source), response)
            except FetchError as exc:
                outcomes[index] = Failure(url, source.name, "fetch", exc.reason, exc.detail, exc.status)
            except Exception as exc:  # a bug or a URL nothing expected must not lose the candidate
                outcomes[index] = Failure(
                    url, source.name, "fetch", "internal_error", f"{type(exc).__name__}: {exc}"[:500]
                )

    lanes = _lanes(fetcher, jobs, config.fetch.per_host_concurrency)
    if lanes:
        with ThreadPoolExecutor(
            max_workers=min(config.fetch.max_workers, len(lanes)), thread_name_prefix="fetch"
        ) as pool:
            for future in [pool.submit(drain, lane) for lane in lanes]:
                future.result()
    result = Fetched()
    for outcome in outcomes:
        if isinstance(outcome, Failure):
            result.failures.append(outcome)
        else:
            result.captures.append(outcome[0])
            result.exchanges.append(outcome)
    return result
