"""A page that arrives cut short is a fetch failure with reason ``truncated``, never a capture.

Over HTTP, against a raw socket server on loopback that says one thing and sends another: a body
shorter than its Content-Length, chunked bodies that stop or break, gzip and deflate streams
without their end. In WARC, with files built by the project's own ``build_warc`` and then cut:
through ``cleaning extract`` (the record counts as rejected) and through the pipeline's warc
source (discover, then fetch).
"""

from __future__ import annotations

import gzip
import json
import random
import socket
import threading
import zlib
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cleaning.config import Config, Source
from cleaning.fetch import FetchError, fetch_shard
from cleaning.fetch.httpclient import Response, decompress
from cleaning.models import Candidate, Capture
from tests.support import loopback_fetcher, loopback_settings, page

BODY = page("Cut Short", words=400)


class RawServer:
    """Answers each connection on 127.0.0.1 with the next of ``answers`` (raw bytes, the last
    one repeated), then closes it: the test decides every byte, lies included."""

    def __init__(self, *answers: bytes):
        self.answers = list(answers)
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def url(self, path: str = "/story") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    data = conn.recv(4096)
                    if not data:
                        break
                    request += data
                answer = self.answers[min(self.connections, len(self.answers) - 1)]
                self.connections += 1
                try:
                    conn.sendall(answer)
                    conn.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def head(*lines: str) -> bytes:
    return (
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        + "".join(f"{line}\r\n" for line in lines)
        + "\r\n"
    ).encode()


def chunked(body: bytes, size: int = 1000) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size))


GZIPPED = gzip.compress(BODY)
DEFLATED = zlib.compress(BODY)

CASES = {
    # the server closes early: fewer bytes than Content-Length promised
    "short_content_length": head(f"Content-Length: {len(BODY)}") + BODY[: len(BODY) // 3],
    # chunks stop inside a chunk
    "chunk_cut_inside": head("Transfer-Encoding: chunked") + chunked(BODY)[:1500],
    # chunks stop cleanly between two chunks, without the last (zero-length) chunk
    "chunk_without_last": head("Transfer-Encoding: chunked") + chunked(BODY[:2000]),
    # a chunk header that is not hex
    "chunk_header_not_hex": head("Transfer-Encoding: chunked") + chunked(BODY[:1000]) + b"zz\r\nmore\r\n0\r\n\r\n",
    # the gzip stream is cut, though the bytes sent match the (honest) Content-Length
    "gzip_without_end": head("Content-Encoding: gzip", f"Content-Length: {len(GZIPPED) // 2}")
    + GZIPPED[: len(GZIPPED) // 2],
    "gzip_without_trailer": head("Content-Encoding: gzip", f"Content-Length: {len(GZIPPED) - 4}") + GZIPPED[:-4],
    "deflate_without_end": head("Content-Encoding: deflate", f"Content-Length: {len(DEFLATED) // 2}")
    + DEFLATED[: len(DEFLATED) // 2],
    # gzip, and chunked, and cut: both layers broken
    "gzip_chunks_cut": head("Content-Encoding: gzip", "Transfer-Encoding: chunked") + chunked(GZIPPED, 300)[:700],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_body_cut_short_is_a_truncated_failure(case):
    server = RawServer(CASES[case])
    try:
        with pytest.raises(FetchError) as info:
            loopback_fetcher(obey_robots=False, retries=0).get(server.url())
        assert info.value.reason == "truncated", info.value
    finally:
        server.close()


@pytest.mark.parametrize(
    "answer",
    [
        head(f"Content-Length: {len(BODY)}") + BODY,
        head("Transfer-Encoding: chunked") + chunked(BODY) + b"0\r\n\r\n",
        head("Content-Encoding: gzip", f"Content-Length: {len(GZIPPED)}") + GZIPPED,
        head("Content-Encoding: gzip", "Transfer-Encoding: chunked") + chunked(GZIPPED, 300) + b"0\r\n\r\n",
        head("Content-Encoding: deflate", f"Content-Length: {len(DEFLATED)}") + DEFLATED,
        head() + BODY,  # no length at all: the body ends when the connection does
    ],
    ids=["content_length", "chunked", "gzip", "gzip_chunked", "deflate", "close_delimited"],
)
def test_whole_bodies_still_arrive(answer):
    server = RawServer(answer)
    try:
        assert loopback_fetcher(obey_robots=False, retries=0).get(server.url()).body == BODY
    finally:
        server.close()


def test_a_truncated_answer_is_retried_and_a_whole_one_then_kept():
    server = RawServer(CASES["short_content_length"], head(f"Content-Length: {len(BODY)}") + BODY)
    try:
        assert loopback_fetcher(obey_robots=False, retries=1).get(server.url()).body == BODY
        assert server.connections == 2
    finally:
        server.close()


def test_fetch_shard_records_a_truncated_page_as_a_failure_not_a_capture():
    server = RawServer(CASES["short_content_length"])
    whole = RawServer(head(f"Content-Length: {len(BODY)}") + BODY)
    try:
        source = Source(name="web", kind="feed", url="https://feeds.example/rss")
        config = Config(path=None, lake="", sources=(source,), fetch=loopback_settings(obey_robots=False, retries=1))
        candidates = [Candidate(server.url("/cut"), "web", "test"), Candidate(whole.url("/whole"), "web", "test")]
        result = fetch_shard(candidates, config, loopback_fetcher(obey_robots=False, retries=1))
        assert [c.url for c in result.captures] == [whole.url("/whole")]
        assert [(f.url, f.stage, f.reason) for f in result.failures] == [(server.url("/cut"), "fetch", "truncated")]
        assert "short of the declared Content-Length" in result.failures[0].detail
    finally:
        server.close()
        whole.close()


def test_robots_txt_cut_short_is_no_licence_to_crawl():
    """A truncated robots.txt is not read as an empty (allow-all) one."""
    robots = b"User-agent: *\nDisallow: /private/\n" * 20
    server = RawServer(head(f"Content-Length: {len(robots) * 2}") + robots)
    try:
        with pytest.raises(FetchError) as info:
            loopback_fetcher(retries=0).get(server.url("/private/story"))
        assert info.value.reason == "robots_unavailable"
    finally:
        server.close()


def test_decompress_checks_the_end_of_the_stream():
    with pytest.raises(FetchError, match="truncated"):
        decompress(GZIPPED[:-8], "gzip", 10**6)
    assert decompress(GZIPPED[:-8], "gzip", 10**6, complete=False) == BODY  # a body we cut ourselves
    assert decompress(GZIPPED + GZIPPED, "gzip", 10**6) == BODY + BODY  # two members, as gzip allows
    assert decompress(GZIPPED + b"\0\0\0", "gzip", 10**6) == BODY  # padding after the stream
    with pytest.raises(FetchError, match="too_large"):
        decompress(GZIPPED + GZIPPED, "gzip", len(BODY) + 10)


# ---------------------------------------------------------------- WARC
def story(i: int) -> bytes:
    rng = random.Random(i)  # words that do not compress away, so a cut lands inside a record
    words = " ".join(
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9))) for _ in range(300)
    )
    return (
        f"<html><head><title>Story {i}</title></head><body><article><h1>Story {i}</h1>"
        f"<p>{words}.</p><p>{words[::-1]}.</p></article></body></html>"
    ).encode()


def exchanges(n: int = 3):
    for i in range(n):
        url = f"https://wire.example/story/{i}"
        capture = Capture(
            url=url,
            source="crawl",
            final_url=url,
            status=200,
            content_type="text/html; charset=utf-8",
            fetched_at=datetime(2025, 8, 28, 12, i, tzinfo=timezone.utc),
            body=story(i),
        )
        response = Response(
            url,
            200,
            {"content-type": "text/html; charset=utf-8"},
            story(i),
            raw_headers=[("Content-Type", "text/html; charset=utf-8")],
        )
        yield capture, response


def last_record_offset(path: Path) -> int:
    from cleaning.fetch.warc import iter_pages

    return [p.offset for p in iter_pages(path)][-1]


def cut_warc(tmp_path: Path, how: str) -> Path:
    """Three stories built by ``build_warc``, the last cut as ``how`` says."""
    from cleaning.fetch.warc import build_warc

    data = build_warc(list(exchanges()))
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(data)
    start = last_record_offset(whole)
    if how == "gz_body":  # the last gzip member cut in half: its record ends inside the body
        out, data = tmp_path / "crawl.warc.gz", data[: start + (len(data) - start) // 2]
    elif how == "gz_trailer":  # only the gzip trailer (CRC, size) is missing
        out, data = tmp_path / "crawl.warc.gz", data[:-5]
    elif how == "gz_header":  # cut a few bytes into the last member: not even its WARC header is there
        out, data = tmp_path / "crawl.warc.gz", data[: start + 12]
    elif how == "plain_body":  # an uncompressed WARC cut inside the last record's body
        plain = gzip.decompress(data)
        out, data = tmp_path / "crawl.warc", plain[: len(plain) - len(story(2)) // 2]
    elif how == "plain_header":  # an uncompressed WARC cut inside the last record's WARC header
        plain = gzip.decompress(data)
        last = plain.rindex(b"WARC/1.")
        out, data = tmp_path / "crawl.warc", plain[: last + 60]
    else:
        raise AssertionError(how)
    whole.unlink()
    out.write_bytes(data)
    return out


WARC_CUTS = ["gz_body", "gz_trailer", "gz_header", "plain_body", "plain_header"]


@pytest.mark.parametrize("how", WARC_CUTS)
def test_cleaning_extract_counts_a_truncated_record_as_rejected(tmp_path, capsys, how):
    from cleaning.cli import main

    warc = cut_warc(tmp_path, how)
    out = tmp_path / "out.jsonl"
    assert main(["extract", str(warc), "--out", str(out), "--workers", "1"]) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    good = [r for r in records if not r["error"]]
    bad = [r for r in records if r["error"]]
    assert [r["url"] for r in good] == ["https://wire.example/story/0", "https://wire.example/story/1"]
    assert len(bad) == 1 and bad[0]["error"].startswith("truncated"), bad
    assert bad[0]["text"] is None
    assert "1 rejected" in capsys.readouterr().err


@pytest.mark.parametrize("how", WARC_CUTS)
def test_a_warc_source_turns_a_truncated_record_into_a_fetch_failure(tmp_path, how):
    from cleaning.discover import discover_night
    from cleaning.fetch import fetcher_for

    warc = cut_warc(tmp_path, how)
    config = Config(
        path=tmp_path / "sources.toml",
        lake=str(tmp_path / "lake"),
        sources=(Source(name="crawl", kind="warc", path=str(warc)),),
    )
    fetcher = fetcher_for(config)
    night = discover_night(config, fetcher=fetcher)
    assert not night.failures
    result = fetch_shard(night.candidates, config, fetcher)
    assert sorted(c.url for c in result.captures) == ["https://wire.example/story/0", "https://wire.example/story/1"]
    assert all(c.body == story(i) for i, c in enumerate(result.captures))
    assert [(f.stage, f.reason) for f in result.failures] == [("fetch", "truncated")], result.failures


def test_a_whole_warc_has_no_problem(tmp_path):
    from cleaning.fetch.warc import build_warc, iter_pages, read_page

    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(build_warc(list(exchanges())))
    pages = list(iter_pages(path, with_bodies=True))
    assert [p.problem for p in pages] == [None, None, None]
    assert [p.body for p in pages] == [story(i) for i in range(3)]
    assert read_page(str(path), pages[1].offset).body == story(1)


def test_payloads_stored_chunked_or_zipped_are_decoded_and_checked(tmp_path):
    """WARCs from other crawlers keep the body as the server sent it: chunked, gzipped, or both.
    A whole one is decoded; one whose chunks or gzip stream stop early is ``truncated``."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from cleaning.fetch.warc import iter_pages

    body = story(7)
    zipped = gzip.compress(body)
    payloads = {
        "chunked": (chunked(body) + b"0\r\n\r\n", ["Transfer-Encoding: chunked"]),
        "chunked-cut": (chunked(body)[:1500], ["Transfer-Encoding: chunked"]),
        "gzip": (zipped, ["Content-Encoding: gzip"]),
        "gzip-cut": (zipped[: len(zipped) // 2], ["Content-Encoding: gzip"]),
        "gzip-chunked": (chunked(zipped, 500) + b"0\r\n\r\n", ["Content-Encoding: gzip", "Transfer-Encoding: chunked"]),
        "joined-but-labelled-chunked": (body, ["Transfer-Encoding: chunked"]),  # some crawlers store it so
    }
    path = tmp_path / "other-crawler.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for name, (payload, extra) in payloads.items():
            headers = [("Content-Type", "text/html")] + [tuple(h.split(": ", 1)) for h in extra]
            http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    f"https://other.example/{name}", "response", payload=io.BytesIO(payload), http_headers=http
                )
            )
    pages = {p.url.rsplit("/", 1)[1]: p for p in iter_pages(path, with_bodies=True)}
    assert {name: p.problem for name, p in pages.items()} == {
        "chunked": None,
        "chunked-cut": "truncated",
        "gzip": None,
        "gzip-cut": "truncated",
        "gzip-chunked": None,
        "joined-but-labelled-chunked": None,
    }
    assert all(pages[name].body == body for name in ("chunked", "gzip", "gzip-chunked", "joined-but-labelled-chunked"))
