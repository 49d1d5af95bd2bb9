"""Fetching against a real HTTP server on loopback; the address guard without any connection."""

from __future__ import annotations

import gzip
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cleaning.config import FetchConfig
from cleaning.fetch import Fetcher, FetchError, check_address

PAGE = b"<html><head><meta charset='utf-8'></head><body><p>Hello from loopback.</p></body></html>"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.seen.append(self.path)
        if self.path == "/page":
            self._send(200, PAGE, "text/html; charset=utf-8")
        elif self.path == "/gzip":
            self._send(200, gzip.compress(PAGE), "text/html", {"Content-Encoding": "gzip"})
        elif self.path == "/bomb":
            self._send(200, gzip.compress(b"a" * 5_000_000), "text/html", {"Content-Encoding": "gzip"})
        elif self.path == "/big":
            self._send(200, b"x" * 300_000, "text/html")
        elif self.path == "/loop":
            self._send(302, b"", "text/html", {"Location": "/loop"})
        elif self.path == "/moved":
            self._send(301, b"", "text/html", {"Location": "/page"})
        elif self.path in ("/gone", "/robots.txt"):
            self._send(404, b"not here", "text/html")
        else:
            self._send(500, b"boom", "text/plain")

    def _send(self, status, body, ctype, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.seen = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd
    httpd.shutdown()


def loopback_fetcher(**overrides) -> Fetcher:
    settings = FetchConfig(
        allow_networks=("127.0.0.0/8",), delay_seconds=0, max_bytes=200_000, timeout_seconds=5, retries=0, **overrides
    )
    return Fetcher(settings)


def test_fetch_page_gzip_and_redirect(server):
    base, _ = server
    fetcher = loopback_fetcher()
    assert fetcher.get(base + "/page").body == PAGE
    assert fetcher.get(base + "/gzip").body == PAGE
    moved = fetcher.get(base + "/moved")
    assert moved.url == base + "/page" and moved.body == PAGE


@pytest.mark.parametrize(
    "path,reason",
    [
        ("/gone", "http_404"),
        ("/error", "http_500"),
        ("/loop", "redirect_loop"),
        ("/big", "too_large"),
        ("/bomb", "too_large"),
    ],
)
def test_bad_responses_have_reasons(server, path, reason):
    base, _ = server
    with pytest.raises(FetchError) as info:
        loopback_fetcher().get(base + path)
    assert info.value.reason == reason


def test_loopback_refused_unless_allowed(server):
    base, httpd = server
    before = len(httpd.seen)
    with pytest.raises(FetchError, match="blocked_address"):
        Fetcher(FetchConfig(delay_seconds=0)).get(base + "/page")
    assert len(httpd.seen) == before  # refused before any request was sent


@pytest.mark.parametrize(
    "ip", ["10.1.2.3", "192.168.0.10", "172.16.5.4", "169.254.169.254", "127.0.0.1", "::1", "fd00::1"]
)
def test_private_resolution_opens_no_socket(monkeypatch, ip):
    opened = []
    monkeypatch.setattr(
        socket,
        "create_connection",
        lambda *a, **k: opened.append(a) or (_ for _ in ()).throw(AssertionError("connected")),
    )
    fake_dns = lambda host, port, **kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]
    fetcher = Fetcher(FetchConfig(delay_seconds=0), resolve=fake_dns)
    with pytest.raises(FetchError, match="blocked_address"):
        fetcher.get("http://news.example.org/story")
    assert opened == []


def test_check_address_allows_listed_networks():
    check_address("8.8.8.8", ())  # public: fine (nothing is connected here)
    check_address("127.0.0.5", ("127.0.0.0/8",))
    with pytest.raises(FetchError):
        check_address("127.0.0.5", ())


def test_mirror_reads_local_files_and_refuses_escape(tmp_path):
    (tmp_path / "site" / "news").mkdir(parents=True)
    (tmp_path / "site" / "news" / "a.html").write_bytes(PAGE)
    fetcher = Fetcher(FetchConfig(), mirrors={"https://paper.example/": str(tmp_path / "site")})
    assert fetcher.get("https://paper.example/news/a.html").body == PAGE
    with pytest.raises(FetchError, match="not_found"):
        fetcher.get("https://paper.example/news/missing.html")
    with pytest.raises(FetchError, match="bad_url"):
        fetcher.get("https://paper.example/../secret.html")


def test_remote_feed_cannot_make_us_read_local_files(tmp_path):
    from cleaning.config import Source
    from cleaning.fetch import fetch_one

    secret = tmp_path / "secret.html"
    secret.write_bytes(PAGE)
    remote = Source(name="remote", kind="feed", url="https://feeds.example/rss")
    for url in (f"file://{secret}", str(secret)):
        with pytest.raises(FetchError, match="bad_url"):
            fetch_one(Fetcher(FetchConfig()), url, remote)
    local = Source(name="disk", kind="local", path=str(tmp_path))
    assert fetch_one(Fetcher(FetchConfig()), str(secret), local).body == PAGE
