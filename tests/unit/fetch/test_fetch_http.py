"""The HTTP client against a real server on loopback: timeouts, retries, redirects, caps, charsets.

Every host name is made up and resolved to 127.0.0.1 by a fake DNS; delays are hundredths of a
second, except one test that honours a one-second Retry-After (the smallest the header can say).
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
import zlib

import pytest

from cleaning.config import Config, Source
from cleaning.fetch import FetchError, fetch_one, fetch_shard
from cleaning.fetch.httpclient import check_address, retry_after_seconds
from cleaning.fetch.politeness import HostGate
from cleaning.models import Candidate
from tests.support import Reply, Site, fake_dns, loopback_fetcher, loopback_settings, page

WEB = Source(name="web", kind="feed", url="https://feeds.example/rss")


@pytest.fixture
def site():
    server = Site()
    yield server
    server.close()


def test_sends_user_agent_and_encodings(site):
    site.routes["/p"] = Reply(body=page("Hello"))
    fetcher = loopback_fetcher(user_agent="newsclean-test/1.0 (+mailto:ops@example.org)")
    fetcher.get(site.url("/p", "news.example"))
    hit = site.hits[-1]
    assert hit.path == "/p" and hit.host == "news.example"
    assert hit.headers["user-agent"] == "newsclean-test/1.0 (+mailto:ops@example.org)"
    assert "gzip" in hit.headers["accept-encoding"]
    assert site.paths() == ["/robots.txt", "/p"]  # robots.txt first, once


def test_slow_headers_hit_the_read_timeout(site):
    site.routes["/slow"] = Reply(body=page("Slow"), delay=0.6)
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        loopback_fetcher(timeout_seconds=0.15, retries=0, obey_robots=False).get(site.url("/slow"))
    assert info.value.reason == "timeout"
    assert time.monotonic() - started < 0.5


def test_dripping_body_hits_the_total_timeout(site):
    site.routes["/drip"] = Reply(body=b"x" * 400, drip=0.01)  # 4 s at this pace; each byte is prompt
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        loopback_fetcher(timeout_seconds=1.0, total_timeout_seconds=0.3, retries=0, obey_robots=False).get(
            site.url("/drip")
        )
    assert info.value.reason == "timeout"
    assert 0.25 < time.monotonic() - started < 1.0


def test_500_is_retried_with_backoff_then_fails(site):
    site.routes["/err"] = Reply(500, b"boom")
    with pytest.raises(FetchError) as info:
        loopback_fetcher(retries=2, obey_robots=False).get(site.url("/err"))
    assert (info.value.reason, info.value.status) == ("http_500", 500)
    assert site.paths().count("/err") == 3


def test_503_with_retry_after_is_honoured_then_succeeds(site):
    answers = iter([Reply(503, b"busy", {"Retry-After": "1", "Content-Type": "text/plain"}), Reply(body=page("Back"))])
    site.routes["/busy"] = lambda handler: next(answers)
    response = loopback_fetcher(retries=2, obey_robots=False).get(site.url("/busy"))
    assert response.status == 200
    first, second = [h.at for h in site.hits if h.path == "/busy"]
    assert second - first >= 0.95  # waited what the server asked, not the 0.01 s backoff


def test_429_with_too_long_retry_after_gives_up_at_once(site):
    site.routes["/limited"] = Reply(429, b"slow down", {"Retry-After": "3600", "Content-Type": "text/plain"})
    with pytest.raises(FetchError) as info:
        loopback_fetcher(retries=3, max_retry_after_seconds=5, obey_robots=False).get(site.url("/limited"))
    assert (info.value.reason, info.value.status) == ("http_429", 429)
    assert "Retry-After" in info.value.detail
    assert site.paths().count("/limited") == 1


def test_retry_after_as_http_date():
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 30) == pytest.approx(30)
    assert retry_after_seconds("soon") is None


def test_429_makes_the_whole_host_wait():
    gate = HostGate()
    gate.defer("busy.example", 0.15)
    started = time.monotonic()
    with gate.slot("busy.example", 0):
        waited = time.monotonic() - started
    with gate.slot("idle.example", 0):
        pass
    assert waited >= 0.14 and time.monotonic() - started < 0.5


@pytest.mark.parametrize(
    "routes,reason",
    [
        ({"/a": "/b", "/b": "/a"}, "redirect_loop"),
        ({"/r0": "/r1", "/r1": "/r2", "/r2": "/r3", "/r3": "/r4", "/r4": "/r5"}, "too_many_redirects"),
        ({"/files": "file:///etc/passwd"}, "bad_redirect"),
    ],
)
def test_bad_redirects(site, routes, reason):
    for path, target in routes.items():
        site.routes[path] = Reply(302, b"", {"Location": target})
    start = next(iter(routes))
    with pytest.raises(FetchError) as info:
        loopback_fetcher(max_redirects=3, obey_robots=False).get(site.url(start))
    assert info.value.reason == reason
    assert len(site.paths()) <= 4


def test_redirect_to_a_private_address_opens_no_socket(site, monkeypatch):
    site.routes["/go"] = Reply(301, b"", {"Location": "http://intranet.test/admin"})
    real = socket.create_connection
    opened = []
    monkeypatch.setattr(
        socket, "create_connection", lambda address, *a, **k: opened.append(address[0]) or real(address, *a, **k)
    )
    dns = fake_dns({"intranet.test": "10.1.2.3"})
    with pytest.raises(FetchError, match="blocked_address"):
        loopback_fetcher(dns=dns, obey_robots=False).get(site.url("/go", "news.example"))
    assert opened == ["127.0.0.1"] and "intranet.test" in dns.asked


def test_body_over_the_cap(site):
    site.routes["/big"] = Reply(body=b"x" * 300_000)
    site.routes["/big-unannounced"] = Reply(body=b"x" * 300_000, length=False)
    fetcher = loopback_fetcher(max_bytes=200_000, obey_robots=False)
    for path in ("/big", "/big-unannounced"):
        with pytest.raises(FetchError) as info:
            fetcher.get(site.url(path))
        assert info.value.reason == "too_large", path


def test_gzip_bomb_is_cut_at_the_decompression_cap(site):
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)  # about 50 KB on the wire
    assert len(bomb) < 200_000
    site.routes["/bomb"] = Reply(body=bomb, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})
    with pytest.raises(FetchError) as info:
        loopback_fetcher(max_bytes=200_000, max_decompressed_bytes=1_000_000, obey_robots=False).get(site.url("/bomb"))
    assert info.value.reason == "too_large" and "decompressed" in info.value.detail


def test_gzip_and_raw_deflate_bodies(site):
    body = page("Zipped")
    site.routes["/gz"] = Reply(
        body=gzip.compress(body), headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}
    )
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    site.routes["/deflate"] = Reply(
        body=raw.compress(body) + raw.flush(), headers={"Content-Type": "text/html", "Content-Encoding": "deflate"}
    )
    fetcher = loopback_fetcher(obey_robots=False)
    assert fetcher.get(site.url("/gz")).body == body
    assert fetcher.get(site.url("/deflate")).body == body


def test_wrong_content_type_is_refused_before_the_body(site):
    site.routes["/image"] = Reply(body=b"\x89PNG" + b"\0" * 100_000, headers={"Content-Type": "image/png"})
    with pytest.raises(FetchError) as info:
        fetch_one(loopback_fetcher(obey_robots=False), site.url("/image", "news.example"), WEB)
    assert info.value.reason == "bad_content_type"


FRENCH = "Le café de la gare a fermé après soixante ans; les habitués regrettent déjà leur thé préféré. " * 5


@pytest.mark.parametrize(
    "content_type,body,expected",
    [
        ("text/html; charset=iso-8859-1", f"<html><body><p>{FRENCH}</p></body></html>".encode("utf-8"), "utf-8"),
        (
            "text/html; charset=utf-8",
            f"<html><head><meta charset='windows-1252'></head><body><p>{FRENCH}</p></body></html>".encode("cp1252"),
            "cp1252",
        ),
        (
            "text/html",
            f"<html><head><meta http-equiv='Content-Type' content='text/html; charset=iso-8859-15'></head><body><p>{FRENCH}</p></body></html>".encode(
                "iso-8859-15"
            ),
            "iso8859-15",
        ),
        ("text/html", f"<html><body><p>{FRENCH}</p></body></html>".encode("cp1252"), None),
        ("", f"<html><body><p>{FRENCH}</p></body></html>".encode("utf-8"), "utf-8"),
    ],
    ids=["latin1-header-over-utf8", "utf8-header-over-cp1252", "meta-only", "nothing-declared", "no-content-type"],
)
def test_wrong_or_missing_charsets_are_settled_at_fetch(site, content_type, body, expected):
    from cleaning.charset import header_charset
    from cleaning.clean.decode import decode_html

    site.routes["/page"] = Reply(body=body, headers={"Content-Type": content_type} if content_type else {})
    capture = fetch_one(loopback_fetcher(obey_robots=False), site.url("/page", "news.example"), WEB)
    if expected:
        assert header_charset(capture.content_type) == expected
    assert "café de la gare a fermé" in decode_html(capture.body, capture.content_type)


def test_requests_to_one_host_are_spaced_and_hosts_overlap(site):
    for i in range(4):
        site.routes[f"/p{i}"] = Reply(body=page(f"P{i}"))
    hosts = ["one.example", "two.example"]
    config = Config(path=None, lake="", sources=(WEB,), fetch=loopback_settings(delay_seconds=0.1, obey_robots=False))
    candidates = [Candidate(site.url(f"/p{i}", host), "web", "test") for host in hosts for i in range(4)]
    started = time.monotonic()
    result = fetch_shard(candidates, config, loopback_fetcher(delay_seconds=0.1, obey_robots=False))
    elapsed = time.monotonic() - started
    assert len(result.captures) == 8 and not result.failures
    assert [c.url for c in result.captures] == [c.url for c in candidates]  # candidate order
    for host in hosts:
        times = [h.at for h in site.hits if h.host == host]
        assert all(b - a >= 0.085 for a, b in zip(times, times[1:])), host  # arrival jitter
    assert elapsed < 0.6  # two hosts side by side: about 0.3 s, not 0.7 s


def test_per_host_concurrency_limit():
    gate = HostGate(concurrency=2)
    in_flight, peak, lock = [0], [0], threading.Lock()

    def request():
        with gate.slot("h.example", 0):
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            time.sleep(0.03)
            with lock:
                in_flight[0] -= 1

    threads = [threading.Thread(target=request) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2


@pytest.mark.parametrize(
    "ip",
    [
        "10.0.0.1",
        "100.100.100.200",
        "0.0.0.0",
        "169.254.169.254",
        "fd00:ec2::254",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",
        "2002:a9fe:a9fe::1",
        "fe80::1%eth0",
        "224.0.0.1",
    ],
)
def test_address_guard_sees_through_ipv6_wrappers(ip):
    with pytest.raises(FetchError, match="blocked_address"):
        check_address(ip, ())


def test_address_guard_allow_list():
    check_address("::ffff:127.0.0.1", ("127.0.0.0/8",))
    check_address("93.184.216.34", ())
    with pytest.raises(FetchError):
        check_address("127.0.0.2", ("127.0.0.1/32",))
