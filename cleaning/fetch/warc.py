"""WARC in and out: the field's standard container for what a crawler received.

Out: each fetch shard also writes ``raw/run_date=D/shard-N.warc.gz`` (one gzip member per record),
so tonight's captures can be read by any WARC tool, replayed or cleaned again offline. Bodies are
stored decoded: a ``Content-Encoding`` the server used is renamed ``X-Original-Content-Encoding``
and ``Content-Length`` fits the stored body, so readers never try to unzip twice.

In: a source of kind ``warc`` (a ``.warc``/``.warc.gz`` file, or a folder of them) offers every
HTML ``response`` record with status 200 as a candidate; fetch reads the record back by its offset.
Records are read strictly: one shorter than its header says, one whose gzip member stops early,
or bytes at the end that form no whole record (a crawler killed while writing) become a page with
``problem = "truncated"``, which fetch reports as a failure with that reason and ``cleaning
extract`` as a rejected page. Payloads are de-chunked and unzipped under a size cap.
"""

from __future__ import annotations

import gzip
import io
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cleaning.config import MAX_BYTES, FetchConfig
from cleaning.urls import normalize_url

WARC_SUFFIXES = (".warc", ".warc.gz")
WARC_GZIP_LEVEL = 3
_DROPPED = {"content-encoding", "transfer-encoding", "content-length"}
HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


def warc_files(path: str | Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(WARC_SUFFIXES))


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_warc(exchanges, software: str = "newsclean", user_agent: str = "") -> bytes:
    """A gzipped WARC of ``(capture, response)`` pairs, in the order given."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    plain = io.BytesIO()
    writer = WARCWriter(plain, gzip=False)

    def flush_member() -> None:
        # One gzip member per record, as WARC readers expect; at level 3, not warcio's 9, which
        # spent most of a fetch task compressing for a few percent of size.
        buffer.write(gzip.compress(plain.getvalue(), compresslevel=WARC_GZIP_LEVEL, mtime=0))
        plain.seek(0)
        plain.truncate()

    writer.write_record(
        writer.create_warcinfo_record("newsclean.warc.gz", {"software": software, "http-header-user-agent": user_agent})
    )
    flush_member()
    for capture, response in exchanges:
        headers = []
        for name, value in response.raw_headers or [("Content-Type", capture.content_type or "text/html")]:
            if name.lower() == "content-encoding":
                headers.append(("X-Original-Content-Encoding", value))
            elif name.lower() not in _DROPPED:
                headers.append((name, value))
        headers.append(("Content-Length", str(len(capture.body))))
        status_line = f"{capture.status} {response.reason or 'OK'}"
        http_headers = StatusAndHeaders(status_line, headers, protocol="HTTP/1.1")
        target = capture.final_url if "://" in capture.final_url else Path(capture.final_url).resolve().as_uri()
        warc_headers = {"WARC-Date": _iso(capture.fetched_at)}
        if response.peer:
            warc_headers["WARC-IP-Address"] = response.peer
        record = writer.create_warc_record(
            target,
            "response",
            payload=io.BytesIO(capture.body),
            http_headers=http_headers,
            warc_headers_dict=warc_headers,
        )
        writer.write_record(record)
        flush_member()
    return buffer.getvalue()


@dataclass
class WarcPage:
    url: str  # WARC-Target-URI, or "<file>@<offset>" for a damaged record whose URI is unknown
    status: int
    headers: list[tuple[str, str]]
    body: bytes  # the payload, de-chunked and decompressed
    fetched_at: datetime | None
    file: str
    offset: int
    problem: str | None = None  # "truncated", "bad_warc", "too_large", ...: the page cannot be used
    detail: str = ""

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k.lower() == "content-type"), "")

    def error(self):
        """The :class:`~cleaning.fetch.httpclient.FetchError` this page's problem is reported as."""
        from cleaning.fetch.httpclient import FetchError

        return FetchError(self.problem, f"{self.file}@{self.offset}: {self.detail}")


def _page_of(record, file: str, offset: int, body: bytes | None) -> WarcPage | None:
    if record.rec_type not in ("response", "resource"):
        return None
    url = record.rec_headers.get_header("WARC-Target-URI")
    if not url:
        return None
    if record.http_headers is not None and record.rec_type == "response":
        status = int(record.http_headers.get_statuscode() or 0)
        headers = list(record.http_headers.headers)
    else:
        status, headers = 200, [("Content-Type", record.rec_headers.get_header("Content-Type") or "")]
    date = record.rec_headers.get_header("WARC-Date")
    try:
        fetched_at = datetime.fromisoformat(date.replace("Z", "+00:00")) if date else None
    except ValueError:
        fetched_at = None
    return WarcPage(url, status, headers, body if body is not None else b"", fetched_at, file, offset)


# ---------------------------------------------------------------- reading records, checked
# warcio reads leniently: a record cut short yields a short body, a gzip member cut inside its
# headers ends the file without a word, a broken gzip member is skipped with a note on stderr.
# Every record is therefore checked here: its block must be as long as its Content-Length says,
# its gzip member must end properly, and bytes after the last record must form no record. A
# record that fails is reported (``problem``), and reading stops there: its framing is lost.
_COMPRESSIONS_WE_CANNOT_UNDO = ("br", "zstd", "compress", "x-compress")
_HEX = frozenset(b"0123456789abcdefABCDEF")


def _damaged_page(file: str, offset: int, problem: str, detail: str) -> WarcPage:
    return WarcPage(f"{file}@{offset}", 0, [], b"", None, file, offset, problem, detail)


def _ran_out(stream, reader, size: int) -> bool:
    """Did the file end while a record was still being read (rather than hold bytes that are
    not a record)?"""
    try:
        return (reader is None or reader.rem_length() == 0) and stream.tell() >= size
    except (OSError, ValueError):
        return True


def _framing_problem(record, reader) -> str | None:
    """Why a record that has been read to its end was not whole, or None."""
    from warcio.limitreader import LimitReader

    declared = record.rec_headers.get_header("Content-Length" if record.format == "warc" else "length")
    if declared is None or not str(declared).strip().isdigit():
        return f"record has no valid length ({declared!r})"
    stream = record.raw_stream
    while stream is not None and not isinstance(stream, LimitReader):  # a digest-checking wrapper
        stream = getattr(stream, "stream", None)
    if stream is not None and stream.limit > 0:
        return f"record ends {stream.limit} bytes before the {int(declared)} its header declares"
    decompressor = getattr(reader, "decompressor", None)
    if decompressor is not None and not getattr(decompressor, "eof", True):
        return "its gzip member ends before its end-of-stream marker"
    return None


def dechunk(data: bytes) -> bytes:
    """A chunked HTTP body, joined; raises :class:`~cleaning.fetch.httpclient.FetchError` ``truncated``
    when the chunks stop before the last (zero-length) one or a chunk header is not hex."""
    from cleaning.fetch.httpclient import FetchError

    out, pos = [], 0
    while True:
        eol = data.find(b"\n", pos)
        if eol < 0:
            raise FetchError("truncated", f"chunked body ends inside a chunk header after {sum(map(len, out))} bytes")
        size_text = data[pos:eol].split(b";", 1)[0].strip()
        if not size_text or not _HEX.issuperset(size_text):
            raise FetchError("truncated", f"broken chunked encoding: chunk size {size_text[:20]!r}")
        size, pos = int(size_text, 16), eol + 1
        if size == 0:
            return b"".join(out)  # trailers, if any, are not kept
        if pos + size > len(data):
            raise FetchError("truncated", f"chunked body ends inside a chunk of {size} bytes")
        out.append(data[pos : pos + size])
        pos += size
        if data[pos : pos + 2] == b"\r\n":
            pos += 2
        elif data[pos : pos + 1] == b"\n":
            pos += 1
        else:
            raise FetchError("truncated", "broken chunked encoding: a chunk is not followed by a line end")


def _looks_chunked(data: bytes) -> bool:
    """Some crawlers store the joined body but keep ``Transfer-Encoding: chunked``; their body
    does not open with a chunk-size line."""
    line_end = data.find(b"\n", 0, 64)
    size_text = data[:line_end].split(b";", 1)[0].strip() if line_end >= 0 else b""
    return bool(size_text) and _HEX.issuperset(size_text)


def _payload(record, cap: int | None) -> bytes:
    """The record's payload as the page's bytes: at most ``cap`` bytes on disk and after
    decoding; chunked transfer and gzip/deflate content encodings undone, strictly."""
    from cleaning.fetch.httpclient import FetchError, decompress

    stream = record.raw_stream  # after the HTTP headers: the payload as stored
    data = stream.read(cap + 1) if cap else stream.read()
    if cap and len(data) > cap:
        raise FetchError("too_large", f"payload over {cap} bytes")
    headers = record.http_headers if record.rec_type == "response" else None
    if headers is None:
        return data
    if (headers.get_header("Transfer-Encoding") or "").strip().lower() == "chunked" and _looks_chunked(data):
        data = dechunk(data)
    encoding = (headers.get_header("Content-Encoding") or "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        return decompress(data, encoding, cap or MAX_BYTES)
    if encoding in _COMPRESSIONS_WE_CANNOT_UNDO:
        raise FetchError("bad_encoding", f"Content-Encoding {encoding!r} is not supported")
    return data  # identity, or a label some servers send that is no compression ("utf-8")


def _scan(file: str, start: int = 0, with_bodies: bool = False, max_bytes: int | None = None, first_only: bool = False):
    """Each page record of ``file`` from byte ``start`` on, checked; a record that cannot be
    used comes with its ``problem``. After damage to the file's framing, one page reports it
    (with the record's URL when its headers were read, else ``<file>@<offset>``) and the scan
    of this file ends."""
    from warcio.archiveiterator import ArchiveIterator

    from cleaning.fetch.httpclient import FetchError

    try:
        stream = open(file, "rb")
    except OSError as exc:
        yield _damaged_page(file, start, "unreadable", exc.strerror or str(exc))
        return
    with stream:
        size = os.fstat(stream.fileno()).st_size
        stream.seek(start)
        records = ArchiveIterator(stream)
        reader = records.reader
        iterator = iter(records)
        while True:
            offset = records.offset  # where the next record starts (the last one was read to its end)
            try:
                record = next(iterator)
            except StopIteration:
                break
            except Exception as exc:  # warcio raises assorted errors on a damaged header block
                problem = "truncated" if _ran_out(stream, reader, size) else "bad_warc"
                yield _damaged_page(
                    file, offset, problem, f"unreadable record header ({type(exc).__name__}: {exc})"[:300]
                )
                return
            try:
                page = _page_of(record, file, offset, None)
            except (ValueError, TypeError, AttributeError) as exc:  # a status line that is no number, ...
                page = _damaged_page(file, offset, "bad_warc", f"unreadable record ({type(exc).__name__}: {exc})"[:300])
            if page is not None and with_bodies and page.problem is None:
                try:
                    page.body = _payload(record, max_bytes)
                except FetchError as exc:
                    page.problem, page.detail = exc.reason, exc.detail
                except Exception as exc:  # the stored block ended or broke while read
                    page.problem, page.detail = "bad_warc", f"{type(exc).__name__}: {exc}"[:300]
            try:
                records.read_to_end()
                damage = _framing_problem(record, reader)
            except Exception as exc:
                damage = f"{type(exc).__name__}: {exc}"[:300]
            if damage:
                problem = "truncated" if _ran_out(stream, reader, size) else "bad_warc"
                if page is None:  # not a page record, or one whose URI was never read
                    page = _damaged_page(file, offset, problem, damage)
                page.problem, page.detail, page.body = problem, damage, b""
                yield page
                return
            if page is not None:
                yield page
            if first_only:
                return
        end = records.offset
        if end < size:  # bytes after the last whole record: the start of one, cut off
            stream.seek(end)
            if stream.read(65536).strip(b" \t\r\n\x00"):
                yield _damaged_page(
                    file, end, "truncated", f"the last {size - end} bytes of the file form no whole record"
                )


def iter_pages(path: str | Path, with_bodies: bool = False, only_html_200: bool = True, max_bytes: int | None = None):
    """Pages in a WARC file or folder, in file and record order: the HTML ones with status 200,
    or with ``only_html_200=False`` every response record.

    A record that cannot be used is yielded too, with ``problem`` set ("truncated" for a record
    cut short, "bad_warc" for one that is not a record, "too_large" for a payload over
    ``max_bytes``), so a damaged file never loses a story silently; a damaged record whose HTTP
    headers are unknown passes the HTML filter."""
    for file in warc_files(path):
        for page in _scan(str(file), with_bodies=with_bodies, max_bytes=max_bytes):
            if not only_html_200 or (page.problem and page.status == 0):
                yield page
            elif page.status == 200 and page.content_type.split(";")[0].strip().lower() in HTML_TYPES:
                yield page


def read_page(file: str, offset: int, max_bytes: int | None = None) -> WarcPage:
    """The page record at ``offset``; raises :class:`~cleaning.fetch.httpclient.FetchError` when it
    cannot be used (reason ``truncated`` for a record cut short)."""
    from cleaning.fetch.httpclient import FetchError

    for page in _scan(file, offset, with_bodies=True, max_bytes=max_bytes, first_only=True):
        if page.problem:
            raise page.error()
        return page
    raise FetchError("bad_warc", f"no page record at {file}@{offset}")


class WarcShelf:
    """Finds a page by URL in a WARC source; one index per source path, built on first use."""

    def __init__(self, max_bytes: int | None = FetchConfig.max_bytes):
        self.max_bytes = max_bytes  # a page's payload, on disk and decoded
        self._lock = threading.Lock()
        self._indexes: dict[str, dict[str, tuple[str, int]]] = {}

    def find(self, path: str, url: str) -> WarcPage | None:
        with self._lock:
            index = self._indexes.get(path)
            if index is None:
                index = {}
                for page in iter_pages(path):
                    index.setdefault(normalize_url(page.url), (page.file, page.offset))
                self._indexes[path] = index
        where = index.get(normalize_url(url))
        return read_page(*where, max_bytes=self.max_bytes) if where else None
