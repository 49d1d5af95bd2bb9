"""WARC in and out: the field's standard container for what a crawler received.

Out: each fetch shard also writes ``raw/run_date=D/shard-N.warc.gz`` (one gzip member per record),
so tonight's captures can be read by any WARC tool, replayed or cleaned again offline. Bodies are
stored decoded: a ``Content-Encoding`` the server used is renamed ``X-Original-Content-Encoding``
and ``Content-Length`` fits the stored body, so readers never try to unzip twice.

In: a source of kind ``warc`` (a ``.warc``/``.warc.gz`` file, or a folder of them) offers every
HTML ``response`` record with status 200 as a candidate; fetch reads the record back by its offset.
"""

from __future__ import annotations

import gzip
import io
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

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

    writer.write_record(writer.create_warcinfo_record("newsclean.warc.gz", {"software": software, "http-header-user-agent": user_agent}))
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
        record = writer.create_warc_record(target, "response", payload=io.BytesIO(capture.body), http_headers=http_headers, warc_headers_dict=warc_headers)
        writer.write_record(record)
        flush_member()
    return buffer.getvalue()


@dataclass
class WarcPage:
    url: str  # WARC-Target-URI
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime | None
    file: str
    offset: int

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k.lower() == "content-type"), "")


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


def iter_pages(path: str | Path, with_bodies: bool = False, only_html_200: bool = True):
    """Pages in a WARC file or folder, in file and record order: the HTML ones with status 200,
    or with ``only_html_200=False`` every response record."""
    from warcio.archiveiterator import ArchiveIterator

    for file in warc_files(path):
        with open(file, "rb") as stream:
            records = ArchiveIterator(stream)
            for record in records:
                body = record.content_stream().read() if with_bodies else None
                page = _page_of(record, str(file), records.get_record_offset(), body)
                if page is None:
                    continue
                if not only_html_200 or (page.status == 200 and page.content_type.split(";")[0].strip().lower() in HTML_TYPES):
                    yield page


def read_page(file: str, offset: int) -> WarcPage:
    from warcio.archiveiterator import ArchiveIterator

    with open(file, "rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)))
        body = record.content_stream().read()
        page = _page_of(record, file, offset, body)
    if page is None:
        raise ValueError(f"no page record at {file}:{offset}")
    return page


class WarcShelf:
    """Finds a page by URL in a WARC source; one index per source path, built on first use."""

    def __init__(self):
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
        return read_page(*where) if where else None
