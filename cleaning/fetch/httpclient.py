"""One HTTP client for the whole run: every request checked, bounded, polite and retried.

Why our own client on :mod:`http.client` rather than requests or urllib: the socket must go to the
exact address we checked (a second DNS lookup could be rebound to an internal address), the caps
must apply while the body streams in, and one politeness gate must be shared by all threads.

A request goes through, in order:

1. the URL check: http or https, a host, a valid port;
2. resolution and the address guard: private, loopback, link-local, shared, reserved and cloud
   metadata addresses (also when embedded in IPv6) are refused unless ``allow_networks`` lists
   them, before any socket exists;
3. robots.txt of the origin, fetched once per run; a disallowed path is refused and a
   Crawl-delay raises the host's delay;
4. the host's politeness slot (:class:`cleaning.fetch.politeness.HostGate`);
5. the exchange, under a connect timeout, a read timeout and a total timeout (a watchdog closes
   the socket, so a server dripping one byte a second cannot hold us), with a content-type check
   before the body is read, a cap on the body and a cap on its decompressed size; a body shorter
   than its Content-Length, a broken chunked encoding or a gzip/deflate stream without its end
   is ``truncated``, never a page;
6. retries with exponential backoff and jitter on timeouts, dropped connections, truncated
   bodies, 408, 429 and 5xx
   (not on a refused connection: nothing listens, and seconds will not change that),
   waiting at least what Retry-After asks, the whole host waiting with us;
7. redirects, each hop checked again from step 1; a loop or too many hops is refused.

Failures raise :class:`FetchError` with a short machine-readable ``reason``.
"""

from __future__ import annotations

import email.utils
import functools
import http.client
import ipaddress
import random
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urljoin, urlsplit

from cleaning.config import FetchConfig
from cleaning.fetch.politeness import HostGate
from cleaning.fetch.robots import MAX_ROBOTS_BYTES, RobotsCache, agent_token

REDIRECTS = frozenset({301, 302, 303, 307, 308})
RETRY_REASONS = frozenset({"timeout", "connection_error", "truncated"})
_CHUNK = 64 * 1024


class FetchError(Exception):
    """A URL that could not be fetched; ``reason`` is short and machine-readable."""

    def __init__(self, reason: str, detail: str = "", status: int | None = None):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail, self.status = reason, detail, status


@dataclass
class Response:
    url: str  # the final URL, after redirects
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes  # decoded from Content-Encoding
    from_network: bool = False  # False for local files, mirrors and WARC records
    raw_headers: list[tuple[str, str]] = field(default_factory=list)  # as the server sent them
    reason: str = ""
    peer: str | None = None  # the address we talked to
    redirects: list[str] = field(default_factory=list)  # URLs that redirected, in order
    fetched_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def media_type(self) -> str:
        return self.content_type.split(";")[0].strip().lower()


# ---------------------------------------------------------------- the address guard
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@functools.lru_cache(maxsize=64)
def _networks(allow: tuple[str, ...]):
    return tuple(ipaddress.ip_network(net, strict=False) for net in allow)


def _embedded_ipv4(address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), if any."""
    if address.version != 6:
        return None
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def check_address(ip: str, allow: tuple[str, ...]) -> None:
    """Refuse non-public addresses unless an allowed network contains them."""
    address = ipaddress.ip_address(ip.split("%", 1)[0])  # drop an IPv6 zone id
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    nets = _networks(tuple(allow))
    embedded = _embedded_ipv4(address)
    for candidate in (address, embedded) if embedded else (address,):
        if any(candidate.version == net.version and candidate in net for net in nets):
            continue
        if not candidate.is_global or candidate.is_multicast:
            raise FetchError("blocked_address", f"{ip} is not a public address")


# ---------------------------------------------------------------- connections to a checked address
class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, ip, connect_timeout, read_timeout):
        super().__init__(host, port, timeout=read_timeout)
        self._ip, self._connect_timeout = ip, connect_timeout
        self._raw_sock = None  # kept: http.client drops self.sock once the response owns it

    def connect(self):
        self.sock = self._raw_sock = socket.create_connection((self._ip, self.port), self._connect_timeout)
        self.sock.settimeout(self.timeout)

    def abort(self):
        """Called by the watchdog from another thread: wake any blocked read."""
        sock = self._raw_sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def connect(self):
        sock = self._raw_sock = socket.create_connection((self._ip, self.port), self._connect_timeout)
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(sock, server_hostname=self.host)
        self.sock.settimeout(self.timeout)


GZIP_MAGIC = b"\x1f\x8b"


def decompress(body: bytes, encoding: str, cap: int, complete: bool = True) -> bytes:
    """Undo a Content-Encoding without ever holding more than ``cap + 1`` bytes of output.

    A stream that stops before its end-of-stream marker raises ``truncated``: a server that
    closed early must not pass for a short page. ``complete=False`` accepts that, for a body we
    cut ourselves (robots.txt is read that way). A gzip body may hold several members, as the
    format allows; bytes after the last that start no member are ignored (padding)."""
    encoding = encoding.lower().strip()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise FetchError("bad_encoding", f"unsupported Content-Encoding {encoding!r}")
    if "gzip" in encoding:
        return _gunzip(body, cap, complete)
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):  # "deflate" is zlib-wrapped by the standard, raw by some servers
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, cap + 1)
        except zlib.error as exc:
            error = exc
            continue
        if len(out) > cap or inflater.unconsumed_tail:
            raise FetchError("too_large", f"decompressed body exceeds {cap} bytes")
        if complete and not inflater.eof:
            raise FetchError("truncated", f"deflate stream ends early (after {len(body)} bytes, {len(out)} decoded)")
        return out
    raise FetchError("bad_encoding", str(error))


def _gunzip(body: bytes, cap: int, complete: bool) -> bytes:
    out, data = [], body
    total = 0
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            piece = inflater.decompress(data, cap + 1 - total)
        except zlib.error as exc:
            raise FetchError("bad_encoding", str(exc)) from None
        out.append(piece)
        total += len(piece)
        if total > cap or inflater.unconsumed_tail:
            raise FetchError("too_large", f"decompressed body exceeds {cap} bytes")
        if not inflater.eof:
            if complete:
                raise FetchError("truncated", f"gzip stream ends early (after {len(body)} bytes, {total} decoded)")
            break
        data = inflater.unused_data
        if not data.startswith(GZIP_MAGIC):
            break
    return b"".join(out)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def is_retryable_status(status: int) -> bool:
    return status in (408, 429) or (500 <= status < 600 and status not in (501, 505))


class HttpClient:
    """Thread-safe; one per fetch task, so politeness and robots.txt hold across its threads."""

    def __init__(
        self,
        settings: FetchConfig,
        resolve: Callable = socket.getaddrinfo,
        gate: HostGate | None = None,
        rng: random.Random | None = None,
    ):
        self.settings = settings
        self.resolve = resolve
        self.gate = gate or HostGate(settings.per_host_concurrency)
        self.robots = RobotsCache(self._fetch_robots)
        self.agent = agent_token(settings.user_agent)
        self._rng = rng or random.Random()
        self._dns: dict[tuple[str, int], list[str]] = {}
        self._dns_lock = threading.Lock()

    # ------------------------------------------------------------ public
    def get(
        self,
        url: str,
        delay: float | None = None,
        *,
        accept: Callable[[str], bool] | None = None,
        headers: dict[str, str] | None = None,
        max_bytes: int | None = None,
        truncate: bool = False,
        obey_robots: bool = True,
    ) -> Response:
        """GET ``url``; returns a 2xx or 304 response, raises :class:`FetchError` otherwise.

        ``accept(media_type)`` is asked before the body is read; ``truncate`` keeps the first
        ``max_bytes`` of a longer body instead of failing (robots.txt is read that way).
        """
        delay = self.settings.delay_seconds if delay is None else delay
        visited: list[str] = []
        try:
            urlsplit(url)
        except ValueError as exc:
            raise FetchError("bad_url", f"{exc}: {url[:200]!r}") from None
        for _hop in range(self.settings.max_redirects + 1):
            visited.append(url)
            response = self._get_with_retries(url, delay, accept, headers or {}, max_bytes, truncate, obey_robots)
            if response.status not in REDIRECTS:
                response.redirects = visited[:-1]
                return response
            try:
                target = urljoin(url, response.headers["location"].strip()).split("#", 1)[0]
                urlsplit(target).port  # noqa: B018 - parse it now, so a bad one fails here
            except ValueError as exc:
                raise FetchError("bad_redirect", f"unparseable Location: {exc}", response.status) from None
            if urlsplit(target).scheme not in ("http", "https"):
                raise FetchError("bad_redirect", f"redirect to a non-HTTP URL: {target[:200]}", response.status)
            if target in visited:
                raise FetchError("redirect_loop", f"{target[:200]} redirects back to itself", response.status)
            url = target
        raise FetchError("too_many_redirects", f"more than {self.settings.max_redirects} redirects")

    # ------------------------------------------------------------ retries
    def _backoff(self, attempt: int) -> float:
        settings = self.settings
        return min(settings.backoff_max_seconds, settings.backoff_seconds * 2**attempt) * self._rng.uniform(0.5, 1.0)

    def _get_with_retries(self, url, delay, accept, headers, max_bytes, truncate, obey_robots) -> Response:
        settings = self.settings
        host = (urlsplit(url).hostname or "").lower()
        for attempt in range(settings.retries + 1):
            last = attempt == settings.retries
            try:
                response = self._get_once(url, delay, accept, headers, max_bytes, truncate, obey_robots)
            except FetchError as exc:
                if exc.reason not in RETRY_REASONS or last:
                    raise
                wait = self._backoff(attempt)
            else:
                status = response.status
                if 200 <= status < 300 or status == 304 or (status in REDIRECTS and "location" in response.headers):
                    return response
                if not is_retryable_status(status) or last:
                    raise FetchError(f"http_{status}", response.reason, status)
                asked = retry_after_seconds(response.headers.get("retry-after"))
                if asked is not None and asked > settings.max_retry_after_seconds:
                    raise FetchError(f"http_{status}", f"Retry-After {asked:.0f} s is over the limit", status)
                wait = max(asked, self._backoff(attempt)) if asked is not None else self._backoff(attempt)
            self.gate.defer(host, wait)  # the whole host backs off, not only this URL
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------ one attempt
    def _addresses(self, host: str, port: int) -> list[str]:
        key = (host, port)
        with self._dns_lock:
            cached = self._dns.get(key)
        if cached is not None:
            return cached
        try:
            infos = self.resolve(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise FetchError("dns_error", str(exc) or type(exc).__name__) from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        if not addresses:
            raise FetchError("dns_error", f"no address for {host}")
        for ip in addresses:  # every address must pass, or a retry could land on a bad one
            check_address(ip, self.settings.allow_networks)
        with self._dns_lock:
            self._dns[key] = addresses
        return addresses

    def _polite_delay(self, parts, delay: float) -> float:
        """Apply robots.txt: refuse a disallowed path, and return the delay Crawl-delay asks for."""
        origin = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1].lower()}"
        robots = self.robots.rules_for(origin)
        if robots.unreachable:
            raise FetchError("robots_unavailable", f"{origin}/robots.txt could not be read")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not robots.allows(self.agent, path):
            raise FetchError("robots_disallowed", f"{path[:200]} is disallowed for {self.agent}")
        crawl_delay = robots.crawl_delay(self.agent)
        if crawl_delay is None:
            return delay
        if crawl_delay > self.settings.max_crawl_delay_seconds:
            raise FetchError(
                "crawl_delay_too_long",
                f"Crawl-delay {crawl_delay:g} s is over {self.settings.max_crawl_delay_seconds:g} s",
            )
        return max(delay, crawl_delay)

    def _fetch_robots(self, url: str) -> tuple[int | None, bytes]:
        try:
            response = self.get(url, obey_robots=False, max_bytes=MAX_ROBOTS_BYTES, truncate=True)
        except FetchError as exc:
            if exc.reason == "too_many_redirects":
                return 404, b""  # RFC 9309: after five redirects, robots.txt is "unavailable"
            return exc.status, b""
        return response.status, response.body

    def _get_once(self, url, delay, accept, headers, max_bytes, truncate, obey_robots) -> Response:
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:  # "http://[::1", "http://host:99999/"
            raise FetchError("bad_url", f"{exc}: {url[:200]!r}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("bad_url", f"unsupported URL {url[:200]!r}")
        host = parts.hostname.lower()
        addresses = self._addresses(host, port)
        if obey_robots and self.settings.obey_robots:
            delay = self._polite_delay(parts, delay)
        with self.gate.slot(host, delay):
            return self._exchange(url, parts, port, addresses[0], accept, headers, max_bytes, truncate)

    def _request_headers(self, extra: dict[str, str]) -> dict[str, str]:
        return {
            "User-Agent": self.settings.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.5",
            "Accept-Encoding": "gzip, deflate",
            "Connection": "close",
            **extra,
        }

    def _exchange(self, url, parts, port, ip, accept, extra_headers, max_bytes, truncate) -> Response:
        settings = self.settings
        limit = max_bytes or settings.max_bytes
        cls = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        conn = cls(parts.hostname, port, ip, settings.connect_timeout_seconds, settings.timeout_seconds)
        expired = threading.Event()

        def on_deadline():
            expired.set()
            conn.abort()

        watchdog = threading.Timer(settings.total_timeout_seconds, on_deadline)
        watchdog.daemon = True
        watchdog.start()
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request("GET", target, headers=self._request_headers(extra_headers))
            answer = conn.getresponse()
            raw_headers = answer.getheaders()
            headers = {k.lower(): v for k, v in raw_headers}
            body, cut, short = b"", False, 0
            if 200 <= answer.status < 300:
                media_type = headers.get("content-type", "").split(";")[0].strip().lower()
                if accept is not None and not accept(media_type):
                    raise FetchError("bad_content_type", headers.get("content-type") or "(none)", answer.status)
                declared = headers.get("content-length", "").strip()
                if declared.isdigit() and int(declared) > limit and not truncate:
                    raise FetchError("too_large", f"Content-Length {declared} is over {limit} bytes", answer.status)
                body, cut = self._read_capped(answer, limit, truncate)
                short = 0 if cut else (answer.length or 0)  # bytes the declared Content-Length still owes
        except FetchError:
            raise
        except ssl.SSLError as exc:
            raise FetchError("tls_error", str(exc)) from None
        except ConnectionRefusedError as exc:  # nothing listens: seconds will not fix it, next night may
            raise FetchError("connection_refused", str(exc)) from None
        except http.client.IncompleteRead as exc:  # chunks stopped early, or a chunk header was not hex
            if expired.is_set():
                raise FetchError("timeout", f"no complete answer within {settings.total_timeout_seconds:g} s") from None
            raise FetchError(
                "truncated", f"broken or incomplete chunked body ({len(exc.partial)} bytes of the last part read)"
            ) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if expired.is_set():
                raise FetchError("timeout", f"no complete answer within {settings.total_timeout_seconds:g} s") from None
            reason = "timeout" if isinstance(exc, TimeoutError | socket.timeout) else "connection_error"
            raise FetchError(reason, str(exc) or type(exc).__name__) from None
        finally:
            watchdog.cancel()
            conn.close()
        if expired.is_set():  # the watchdog cut a body that had no declared length
            raise FetchError("timeout", f"no complete answer within {settings.total_timeout_seconds:g} s")
        if short:
            raise FetchError(
                "truncated",
                f"the connection closed {short} bytes short of the declared Content-Length ({len(body)} received)",
            )
        if body:
            cap = settings.max_decompressed_bytes or settings.max_bytes
            body = decompress(
                body, headers.get("content-encoding", ""), max(cap, limit) if truncate else cap, complete=not cut
            )
            if truncate:
                body = body[:limit]
        return Response(
            url=url,
            status=answer.status,
            headers=headers,
            body=body,
            from_network=True,
            raw_headers=raw_headers,
            reason=answer.reason,
            peer=ip,
        )

    @staticmethod
    def _read_capped(answer, limit: int, truncate: bool) -> tuple[bytes, bool]:
        """The body, at most ``limit`` bytes, and whether it was cut there (only with ``truncate``)."""
        chunks, total = [], 0
        while True:
            chunk = answer.read(min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                if truncate:
                    return b"".join(chunks)[:limit], True
                raise FetchError("too_large", f"body over {limit} bytes", answer.status)
        return b"".join(chunks), False
