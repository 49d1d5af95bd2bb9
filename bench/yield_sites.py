"""Real evaluation pages served as live sites on loopback, for the yield benchmark.

Each page of an evaluation set is served at its original URL: one loopback address per original
host (``127.b.c.d`` with ``b != 0``, derived from a hash of the host name, so a host keeps its
address whatever else is served), listening on port 80 and, with a certificate from a throw-away
CA made for the run, on port 443. Every host also serves ``/robots.txt`` (allow all) and an RSS
feed at ``/__feed.xml`` that lists its article URLs exactly as the data set writes them
(XML-escaped). An optional aggregator host lists some stories of many hosts a second time.

The server is strict: a page is answered 200 only when the raw request target (the bytes after
the method in the request line, not decoded, not normalised) is the target of its published URL,
on the scheme of that URL; anything else is 404. "The target of a published URL" is what a
browser sends for it: the URL with surrounding white space removed, the fragment dropped, and
only the characters that cannot be sent in a request line percent-encoded as UTF-8 (spaces,
controls, non-ASCII); :func:`request_targets` also accepts the WHATWG form, which additionally
escapes ``" < > ` { }``. Every other byte must be as published: re-ordered, decoded, re-encoded
or removed query parameters, a changed path case or a collapsed ``//`` all get a 404. Every
request is recorded (address, scheme, method, raw target, Host header, status) so the report can
name the 404s our URL handling caused.

The server runs in its own process (one asyncio loop, one listening socket per address and port)
so it does not share the pipeline's GIL; :func:`start` returns a handle whose ``stop()`` returns
the request log.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import ipaddress
import json
import re
import socket
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

FEED_PATH = "/__feed.xml"
ROBOTS_PATH = "/robots.txt"
AGGREGATOR_HOST = "aggregator.yieldbench.test"
DEFAULT_PORTS = {"http": 80, "https": 443}

# ---------------------------------------------------------------- the evaluation sets


@dataclass
class EvalPage:
    set: str  # "aeb" | "trafilatura"
    id: str  # AEB: the file id; trafilatura: the file name
    url: str  # the URL as the data set writes it, listed in the feed byte for byte
    path: str  # the page file (gzip)
    url_from: str = "dataset"  # or "page_canonical": the data set's key is not a URL
    gold_body: str | None = None  # AEB
    with_snippets: list[str] = field(default_factory=list)  # trafilatura set
    without_snippets: list[str] = field(default_factory=list)

    def html(self) -> bytes:
        return gzip.decompress(Path(self.path).read_bytes())


def load_aeb(folder: str | Path) -> list[EvalPage]:
    folder = Path(folder)
    pages = []
    for meta in sorted(folder.glob("*.json")):
        page_file = folder / f"{meta.stem}.html.gz"
        if not page_file.exists():
            continue
        data = json.loads(meta.read_text(encoding="utf-8"))
        pages.append(
            EvalPage(
                "aeb",
                meta.stem,
                data["url"],
                str(page_file),
                gold_body=data.get("body") or data.get("articleBody") or "",
            )
        )
    if not pages:
        raise FileNotFoundError(f"no <id>.html.gz + <id>.json pairs in {folder}")
    return pages


def _canonical_of(html: bytes) -> str | None:
    """The page's own URL (link rel=canonical, else og:url), for data-set keys that are not URLs."""
    import lxml.html

    try:
        tree = lxml.html.fromstring(html)
    except Exception:  # noqa: BLE001 - an unparseable page simply has no canonical
        return None
    for xpath in ('//link[@rel="canonical"]/@href', '//meta[@property="og:url"]/@content'):
        for value in tree.xpath(xpath):
            value = value.strip()
            if value.startswith(("http://", "https://")) and wire_url(value).target not in ("/", ""):
                return value  # a home page URL (one page declares only that) is not the page's own
    return None


def load_trafilatura(folder: str | Path) -> tuple[list[EvalPage], list[dict]]:
    """The pages, and the entries that could not be given a URL (listed in the report).

    A few keys of ``evaldata.json`` are labels, not URLs (``hard::<file>``, ``recall::<file>``,
    one ``xhttps://`` typo); those pages are served at the URL they declare themselves
    (canonical link, else og:url, never a bare home page URL) and marked
    ``url_from = "page_canonical"``. A page that declares none, or one that another entry already
    uses, is left out.
    """
    folder = Path(folder)
    data = json.loads((folder / "evaldata.json").read_text(encoding="utf-8"))
    pages, skipped = [], []
    taken = {url for url in data if url.startswith(("http://", "https://"))}
    for key in sorted(data):
        entry = data[key]
        path = folder / "pages" / f"{entry['file']}.gz"
        page = EvalPage(
            "trafilatura",
            entry["file"],
            key,
            str(path),
            with_snippets=list(entry.get("with", [])),
            without_snippets=list(entry.get("without", [])),
        )
        if not key.startswith(("http://", "https://")):
            canonical = _canonical_of(page.html())
            if canonical is None or canonical in taken:
                skipped.append(
                    {
                        "key": key,
                        "file": entry["file"],
                        "why": "no URL of its own" if canonical is None else f"its canonical {canonical} is taken",
                    }
                )
                continue
            taken.add(canonical)
            page.url, page.url_from = canonical, "page_canonical"
        pages.append(page)
    return pages, skipped


# ---------------------------------------------------------------- URLs on the wire

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)(.*)$", re.S)
_C0_OR_SPACE = "".join(chr(i) for i in range(0x21))


def _escape(text: str, extra: str = "") -> str:
    out = []
    for ch in text:
        if ord(ch) <= 0x20 or ord(ch) >= 0x7F or ch in extra:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class WireUrl:
    scheme: str
    host: str  # lower case, IDNA (A-label) form
    port: int
    target: str  # the minimal request target: only unsendable characters escaped
    whatwg_target: str  # the same with " < > ` { } escaped too

    @property
    def origin(self) -> str:
        default = DEFAULT_PORTS[self.scheme] == self.port
        return f"{self.scheme}://{self.host}" + ("" if default else f":{self.port}")

    @property
    def request_url(self) -> str:
        return self.origin + self.target


def idna_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    return host


def wire_url(url: str) -> WireUrl:
    """What a browser would send for ``url`` (see the module docstring); ValueError if not http(s)."""
    text = url.strip(_C0_OR_SPACE).replace("\t", "").replace("\n", "").replace("\r", "")
    text = text.split("#", 1)[0]
    match = _URL.match(text)
    if not match or match.group(1).lower() not in DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    scheme, authority, rest = match.group(1).lower(), match.group(2), match.group(3)
    hostport = authority.rsplit("@", 1)[-1]
    host, _, port = hostport.partition(":") if not hostport.startswith("[") else (hostport, "", "")
    port_number = int(port) if port else DEFAULT_PORTS[scheme]
    if not rest.startswith("/"):
        rest = "/" + rest  # "http://host?q" -> "/?q"; "http://host" -> "/"
    path, mark, query = rest.partition("?")
    minimal = _escape(path) + mark + _escape(query)
    whatwg = _escape(path, '"<>`{}') + mark + _escape(query, "\"<>'")
    return WireUrl(scheme, idna_host(host), port_number, minimal, whatwg)


def request_targets(url: str) -> set[str]:
    w = wire_url(url)
    return {w.target, w.whatwg_target}


# ---------------------------------------------------------------- addresses


def loopback_addresses(hosts: list[str]) -> dict[str, str]:
    """host -> 127.b.c.d, from a hash of the name (b != 0, d not 0 or 255), in sorted order."""
    out, taken = {}, set()
    for host in sorted(set(hosts)):
        counter = 0
        while True:
            digest = hashlib.sha256(f"{host}#{counter}".encode()).digest()
            b, c, d = digest[0], digest[1], digest[2]
            address = f"127.{b}.{c}.{d}"
            if b != 0 and d not in (0, 255) and address not in taken:
                break
            counter += 1
        taken.add(address)
        out[host] = address
    return out


def loopback_resolver(addresses: dict[str, str], unknown: list | None = None):
    """A ``getaddrinfo`` stand-in: served names resolve to their loopback address, loopback
    literals to themselves, every other name fails (and is noted in ``unknown``)."""

    def resolve(host, port, family=0, type=0, proto=0, flags=0, **kwargs):  # noqa: A002 - getaddrinfo's names
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            key = idna_host(name)
        except UnicodeError:
            key = name
        address = addresses.get(key)
        if address is None:
            try:
                if ipaddress.ip_address(name).is_loopback:
                    address = name
            except ValueError:
                pass
        if address is None:
            if unknown is not None:
                unknown.append(name)
            raise socket.gaierror(socket.EAI_NONAME, f"{name} is not served by the yield benchmark")
        number = int(port) if port not in (None, "") else 0
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, number))]

    return resolve


# ---------------------------------------------------------------- certificates


def make_certificates(folder: Path, hosts: list[str]) -> tuple[Path, Path, Path]:
    """A CA for this run and one server certificate naming every host; (ca, cert, key) PEM paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "newsclean yield bench CA (throw-away)")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "yieldbench sites")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in sorted(set(hosts))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


# ---------------------------------------------------------------- the sites


@dataclass
class Site:
    host: str  # IDNA form
    address: str
    feed_scheme: str
    pages: dict[tuple[str, str], str] = field(default_factory=dict)  # (scheme, raw target) -> page file
    feed_urls: list[str] = field(default_factory=list)  # as the data set writes them
    feed: bytes = b""

    @property
    def feed_url(self) -> str:
        return f"{self.feed_scheme}://{self.host}{FEED_PATH}"


def rss(title: str, link: str, urls: list[str], when: datetime) -> bytes:
    items = "".join(
        f"<item><title>Story {n + 1} of {escape(title)}</title><link>{escape(url)}</link>"
        f'<guid isPermaLink="false">{hashlib.sha256(url.encode()).hexdigest()[:16]}</guid>'
        f"<pubDate>{format_datetime(when)}</pubDate></item>\n"
        for n, url in enumerate(urls)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link><description>yield benchmark feed</description>\n"
        f"{items}</channel></rss>\n"
    ).encode("utf-8")


@dataclass
class Web:
    sites: dict[str, Site]  # by IDNA host
    pages: list[EvalPage]  # the served pages, each exactly once
    skipped: list[dict]  # pages not served, and why
    aggregator: Site | None = None
    aggregated: list[str] = field(default_factory=list)  # URLs the aggregator lists a second time

    def all_sites(self) -> list[Site]:
        return list(self.sites.values()) + ([self.aggregator] if self.aggregator else [])

    def addresses(self) -> dict[str, str]:
        return {site.host: site.address for site in self.all_sites()}


def build_web(pages: list[EvalPage], when: datetime, aggregate_every: int = 0) -> Web:
    """Give every page its host's address and route; one feed per host (plus the aggregator).

    Two pages whose URLs reach the same target on the same host cannot both be served: the
    second is left out (listed in ``skipped``)."""
    sites: dict[str, Site] = {}
    served, skipped = [], []
    for page in pages:
        try:
            wire = wire_url(page.url)
        except ValueError as exc:
            skipped.append({"set": page.set, "id": page.id, "url": page.url, "why": str(exc)})
            continue
        if wire.port != DEFAULT_PORTS[wire.scheme]:
            skipped.append({"set": page.set, "id": page.id, "url": page.url, "why": "non-default port"})
            continue
        if wire.target in (FEED_PATH, ROBOTS_PATH):
            skipped.append(
                {"set": page.set, "id": page.id, "url": page.url, "why": "collides with the feed or robots.txt"}
            )
            continue
        site = sites.setdefault(wire.host, Site(wire.host, "", wire.scheme))
        targets = {wire.target, wire.whatwg_target}
        clash = [t for t in targets if (wire.scheme, t) in site.pages]
        if clash:
            skipped.append(
                {
                    "set": page.set,
                    "id": page.id,
                    "url": page.url,
                    "why": f"another page is served at {wire.scheme} {clash[0]}",
                }
            )
            continue
        for target in targets:
            site.pages[(wire.scheme, target)] = page.path
        site.feed_urls.append(page.url)
        served.append(page)
    hosts = list(sites) + ([AGGREGATOR_HOST] if aggregate_every else [])
    addresses = loopback_addresses(hosts)
    for host, site in sites.items():
        site.address = addresses[host]
        site.feed = rss(host, f"{site.feed_scheme}://{host}/", site.feed_urls, when)
    web = Web(sites, served, skipped)
    if aggregate_every:
        # every n-th story, in host order, so the aggregator spans many hosts
        ordered = [url for host in sorted(sites) for url in sites[host].feed_urls]
        web.aggregated = ordered[::aggregate_every]
        agg = Site(AGGREGATOR_HOST, addresses[AGGREGATOR_HOST], "https")
        agg.feed = rss("Aggregated stories", f"https://{AGGREGATOR_HOST}/", web.aggregated, when)
        web.aggregator = agg
    return web


# ---------------------------------------------------------------- the strict server

ROBOTS_BODY = b"User-agent: *\nAllow: /\n"


def _route(site: Site, scheme: str, method: str, target: str) -> tuple[int, bytes, str]:
    if method not in ("GET", "HEAD"):
        return 405, b"method not allowed\n", "text/plain"
    if target == ROBOTS_PATH:
        return 200, ROBOTS_BODY, "text/plain"
    if target == FEED_PATH and scheme == site.feed_scheme and site.feed:
        return 200, site.feed, "application/rss+xml"
    path = site.pages.get((scheme, target))
    if path is None:
        return 404, b"<html><body><h1>404 Not Found</h1></body></html>\n", "text/html"
    return 200, gzip.decompress(Path(path).read_bytes()), "text/html"  # no charset: pages declare their own


async def _serve(
    sites: list[Site], cert: str | None, key: str | None, log: list, ready, stop_event: asyncio.Event, errors: list
):
    tls = None
    if cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert, key)

    def handler_for(site: Site, scheme: str):
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            except (
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                asyncio.TimeoutError,
                ConnectionError,
                ssl.SSLError,
                OSError,
            ):
                writer.close()
                return
            lines = head.decode("latin-1").split("\r\n")
            words = lines[0].split(" ")
            method = words[0]
            target = " ".join(words[1:-1]) if len(words) >= 3 else (words[1] if len(words) == 2 else "")
            host_header = next(
                (ln.split(":", 1)[1].strip() for ln in lines[1:] if ln.lower().startswith("host:")), None
            )
            try:
                status, body, ctype = _route(site, scheme, method, target)
            except Exception as exc:  # noqa: BLE001 - a broken page file must not stop the server
                errors.append(f"{site.host} {target}: {type(exc).__name__}: {exc}")
                status, body, ctype = 500, b"server error\n", "text/plain"
            log.append((site.host, site.address, scheme, method, target, host_header, status))
            reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error"}[status]
            header = (
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            try:
                writer.write(header.encode("latin-1") + (b"" if method == "HEAD" else body))
                await writer.drain()
            except (ConnectionError, ssl.SSLError, OSError):
                pass
            finally:
                writer.close()
                try:
                    await writer.wait_closed()
                except (ConnectionError, ssl.SSLError, OSError):
                    pass

        return handle

    servers = []
    for site in sites:
        servers.append(
            await asyncio.start_server(handler_for(site, "http"), site.address, 80, backlog=128, reuse_address=True)
        )
        if tls is not None:
            servers.append(
                await asyncio.start_server(
                    handler_for(site, "https"),
                    site.address,
                    443,
                    ssl=tls,
                    backlog=128,
                    reuse_address=True,
                    ssl_handshake_timeout=30,
                )
            )
    ready()
    await stop_event.wait()
    for server in servers:
        server.close()
    for server in servers:
        await server.wait_closed()


def _child(sites: list[Site], cert, key, conn) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    log: list = []
    errors: list = []

    async def main():
        stop_event = asyncio.Event()
        loop = asyncio.get_running_loop()

        def watch():
            conn.recv()  # blocks until the parent says stop
            loop.call_soon_threadsafe(stop_event.set)

        import threading

        try:
            await _serve(
                sites,
                cert,
                key,
                log,
                lambda: (conn.send(("ready", None)), threading.Thread(target=watch, daemon=True).start()),
                stop_event,
                errors,
            )
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
            return
        conn.send(("log", (log, errors)))

    asyncio.run(main())


@dataclass
class Running:
    process: object
    conn: object

    def stop(self) -> tuple[list[tuple], list[str]]:
        """Stop the server; returns (request log, server errors)."""
        try:
            self.conn.send("stop")
            if not self.conn.poll(60):
                raise RuntimeError("the site server did not answer stop")
            kind, payload = self.conn.recv()
        finally:
            self.process.join(10)
            if self.process.is_alive():
                self.process.kill()
        if kind != "log":
            raise RuntimeError(f"site server: {payload}")
        return payload


def start(web: Web, cert: Path | None, key: Path | None) -> Running:
    """Serve every site in a child process; returns once every socket listens."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")  # before the pipeline starts any thread
    parent, child = ctx.Pipe()
    process = ctx.Process(
        target=_child,
        args=(web.all_sites(), str(cert) if cert else None, str(key) if key else None, child),
        daemon=True,
    )
    process.start()
    if not parent.poll(120):
        process.kill()
        raise RuntimeError("the site server did not start within 120 s")
    kind, payload = parent.recv()
    if kind != "ready":
        process.join(5)
        raise RuntimeError(f"the site server did not start: {payload}")
    return Running(process, parent)
