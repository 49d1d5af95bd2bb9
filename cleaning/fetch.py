"""Fetch stage: turn candidate URLs into raw captures, politely and safely.

One :class:`Fetcher` serves a whole task. It reads local files (plain paths, ``file:`` URLs, and
URLs under a source's ``mirror`` prefix, which is how the bundled sample corpus is served
offline) and speaks HTTP itself so that every connection goes to an address it has checked:
the host is resolved once, each address is tested against the allow-list, and the socket is
opened to that exact address. Anything private, loopback, link-local or reserved is refused
unless ``[fetch] allow_networks`` lists it.

The stage never raises for one bad URL: it returns a :class:`~cleaning.models.Failure` instead.
"""

from __future__ import annotations

import gzip
import http.client
import ipaddress
import socket
import ssl
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urljoin, urlsplit, unquote

from cleaning.config import Config, FetchConfig, Source
from cleaning.models import Capture, Failure


class FetchError(Exception):
    """A URL that could not be fetched; ``reason`` is short and machine-readable."""

    def __init__(self, reason: str, detail: str = "", status: int | None = None):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail, self.status = reason, detail, status


@dataclass
class Response:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes


def check_address(ip: str, allow: tuple[str, ...]) -> None:
    """Refuse non-public addresses unless an allowed network contains them."""
    address = ipaddress.ip_address(ip)
    if any(address in ipaddress.ip_network(net) for net in allow):
        return
    if not address.is_global or address.is_multicast:
        raise FetchError("blocked_address", f"{ip} is not a public address")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, ip, timeout):
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self):
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, ip, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self):
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _decompress(body: bytes, encoding: str, cap: int) -> bytes:
    encoding = encoding.lower().strip()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise FetchError("bad_encoding", f"unsupported Content-Encoding {encoding!r}")
    wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, cap + 1)
    except zlib.error as exc:
        raise FetchError("bad_encoding", str(exc)) from None
    if len(out) > cap or inflater.unconsumed_tail:
        raise FetchError("too_large", f"decompressed body exceeds {cap} bytes")
    return out


@dataclass
class Fetcher:
    settings: FetchConfig
    mirrors: dict[str, str] = field(default_factory=dict)
    resolve: callable = socket.getaddrinfo  # replaceable in tests
    _last_request: dict[str, float] = field(default_factory=dict)

    def get(self, url: str, delay: float | None = None) -> Response:
        local = self._local_path(url)
        if local is not None:
            return self._read_local(url, local)
        return self._get_http(url, self.settings.delay_seconds if delay is None else delay)

    def _local_path(self, url: str) -> Path | None:
        for prefix, folder in self.mirrors.items():
            if url.startswith(prefix):
                relative = unquote(urlsplit(url).path[len(urlsplit(prefix).path):].lstrip("/"))
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
        except (IsADirectoryError, PermissionError) as exc:
            raise FetchError("unreadable", str(exc)) from None
        if path.suffix == ".gz":
            body = _decompress(body, "gzip", self.settings.max_bytes)
        return Response(url, 200, {"content-type": "text/html"}, body)

    def _wait_politely(self, host: str, delay: float) -> None:
        last = self._last_request.get(host)
        if last is not None:
            remaining = last + delay - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)
        self._last_request[host] = time.monotonic()

    def _connect(self, url: str):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("bad_url", f"unsupported URL {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            infos = self.resolve(parts.hostname, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise FetchError("dns_error", str(exc)) from None
        addresses = [info[4][0] for info in infos]
        if not addresses:
            raise FetchError("dns_error", f"no address for {parts.hostname}")
        for ip in addresses:  # every address must pass, or a retry could land on a bad one
            check_address(ip, self.settings.allow_networks)
        cls = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        return cls(parts.hostname, port, addresses[0], self.settings.timeout_seconds)

    def _get_http(self, url: str, delay: float) -> Response:
        settings = self.settings
        for _hop in range(settings.max_redirects + 1):
            parts = urlsplit(url)
            conn = self._connect(url)
            self._wait_politely(parts.hostname or "", delay)
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            try:
                conn.request(
                    "GET",
                    path,
                    headers={
                        "User-Agent": settings.user_agent,
                        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.5",
                        "Accept-Encoding": "gzip",
                    },
                )
                response = conn.getresponse()
                headers = {k.lower(): v for k, v in response.getheaders()}
                if response.status in (301, 302, 303, 307, 308) and "location" in headers:
                    url = urljoin(url, headers["location"])
                    continue
                raw = response.read(settings.max_bytes + 1)
            except (OSError, http.client.HTTPException) as exc:
                reason = "timeout" if isinstance(exc, TimeoutError | socket.timeout) else "connection_error"
                raise FetchError(reason, str(exc) or type(exc).__name__) from None
            finally:
                conn.close()
            if len(raw) > settings.max_bytes:
                raise FetchError("too_large", f"body over {settings.max_bytes} bytes")
            body = _decompress(raw, headers.get("content-encoding", ""), settings.max_bytes)
            if response.status >= 400:
                raise FetchError(f"http_{response.status}", response.reason, response.status)
            return Response(url, response.status, headers, body)
        raise FetchError("too_many_redirects", f"more than {settings.max_redirects} redirects")


def fetcher_for(config: Config) -> Fetcher:
    mirrors = {}
    for source in config.sources:
        mirrors.update(source.mirror)
    return Fetcher(config.fetch, mirrors)


def source_is_local(source: Source) -> bool:
    """Sources the operator pointed at this machine's disk (a folder, a list, a feed file)."""
    return source.kind in ("local", "urls") or not (source.url or "").startswith(("http://", "https://"))


HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


def fetch_one(fetcher: Fetcher, url: str, source: Source) -> Capture:
    """Fetch one article page; raises :class:`FetchError`."""
    if not url.startswith(("http://", "https://")) and not source_is_local(source):
        # A remote feed must never make us read a file on this machine.
        raise FetchError("bad_url", f"non-HTTP link from a remote source: {url[:200]}")
    response = fetcher.get(url, source.delay_seconds)
    content_type = response.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() not in HTML_TYPES:
        raise FetchError("bad_content_type", content_type, response.status)
    return Capture(
        url=url,
        source=source.name,
        final_url=response.url,
        status=response.status,
        content_type=content_type or None,
        fetched_at=datetime.now(timezone.utc),
        body=response.body,
    )


def fetch_all(candidates, config: Config, fetcher: Fetcher | None = None):
    """Fetch each candidate; returns ``(captures, failures)``, in candidate order."""
    fetcher = fetcher or fetcher_for(config)
    captures, failures = [], []
    for candidate in candidates:
        try:
            captures.append(fetch_one(fetcher, candidate.url, config.source(candidate.source)))
        except FetchError as exc:
            failures.append(Failure(candidate.url, candidate.source, "fetch", exc.reason, exc.detail, exc.status))
    return captures, failures
