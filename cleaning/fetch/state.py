"""Incremental state beside the lake: which URLs earlier nights fetched, and the feed cache.

Why Parquet in the lake rather than SQLite on a disk: the lake may be object storage and the
fetch tasks may run on different machines; a file per task in the shared lake needs no locks and
no server. Why partitioned by run date: re-running a date must give the same result, so a night
reads only what *earlier* nights wrote, and a re-run replaces its own partition.

Both are *committed with the night's publication*: the fetch shards and discover write them into
the night's work folder, and publish moves them into ``state/`` just before it writes the
manifest, and only for a night that passed its failure bound. A night that crashed, failed or
ran dry leaves the state as the last published night left it, so its stories are offered again
to the next night and to a re-run of its own date.

``state/fetched/run_date=D/part-0.parquet``
    Identity keys (:func:`cleaning.urls.url_key`) of the URLs fetched over the network by night D
    and of the URLs they redirected to. Discover of night D skips URLs found in the partitions
    of the ``seen_days`` nights before D. Pages read from local files, mirrors or
    WARC files are not recorded: reading them again costs no one anything, and the sample corpus
    relies on it.
``state/http_cache/run_date=D/part-0.parquet``
    Validators (ETag, Last-Modified) and the last body of each feed and sitemap, written by
    discover of night D. Night D sends conditional requests with the validators of the latest
    earlier night; on 304 it parses the stored body again, so an item that failed to fetch last
    night is still offered (and one that was fetched is skipped by the seen filter).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone

import pyarrow as pa

from cleaning import layout
from cleaning.store import Lake

FETCHED_DIR, CACHE_DIR = layout.FETCHED_DIR, layout.CACHE_DIR
TS = pa.timestamp("us", tz="UTC")

FETCHED = pa.schema(
    [
        ("url", pa.string()),
        ("final_url", pa.string()),
        ("source", pa.string()),
        ("status", pa.int32()),
        ("fetched_at", TS),
    ]
)
HTTP_CACHE = pa.schema(
    [
        ("url", pa.string()),
        ("final_url", pa.string()),
        ("etag", pa.string()),
        ("last_modified", pa.string()),
        ("content_type", pa.string()),
        ("body", pa.large_binary()),
        ("fetched_at", TS),  # when this body was received
        ("checked_at", TS),  # when the server last confirmed it (200 or 304)
    ]
)


_partition_date = layout.partition_date


def write_fetched(lake: Lake, run_date: date, shard: int, rows: list[dict]) -> None:
    """A fetch shard's record, pending until the night publishes."""
    lake.write_table(layout.pending_fetched(run_date, shard), pa.Table.from_pylist(rows, schema=FETCHED))


def commit_night(lake: Lake, run_date: date) -> dict:
    """Make night D's pending records the state (publish calls this for a night it commits).

    A record that is not pending (a reprocess run fetches nothing and keeps discover's cache) is
    left as it is. Returns how many rows were committed per record."""
    committed = {}
    pending = lake.list_files(layout.pending_fetched(run_date, 0).rsplit("/", 1)[0], ".parquet")
    if pending:
        table = lake.read_tables(pending, FETCHED)
        lake.delete_dir(layout.fetched_dir(run_date))
        lake.write_table(layout.fetched_file(run_date), table)
        committed["fetched"] = table.num_rows
    cache = layout.pending_http_cache(run_date)
    if lake.exists(cache):
        table = lake.read_table(cache, schema=HTTP_CACHE)
        lake.write_table(layout.http_cache_file(run_date), table)
        committed["http_cache"] = table.num_rows
    return committed


def window_start(run_date: date, days: int) -> datetime:
    """Midnight UTC of the oldest night the seen filter remembers."""
    oldest = run_date - timedelta(days=days)
    return datetime(oldest.year, oldest.month, oldest.day, tzinfo=timezone.utc)


def load_seen(lake: Lake, run_date: date, days: int) -> set[str]:
    """Identity keys of URLs fetched by the published nights among the ``days`` before ``run_date``."""
    oldest = run_date - timedelta(days=days)
    seen: set[str] = set()
    published: dict[date, bool] = {}
    for rel in lake.list_files(FETCHED_DIR, ".parquet"):
        night = _partition_date(rel)
        if night is None or not oldest <= night < run_date:
            continue
        if night not in published:  # a crash between the state commit and the manifest
            published[night] = _published(lake, night)
        if not published[night]:
            continue
        table = lake.read_table(rel, columns=["url", "final_url"])
        seen.update(u for u in table.column("url").to_pylist() if u)
        seen.update(u for u in table.column("final_url").to_pylist() if u)
    return seen


def _published(lake: Lake, night: date) -> bool:
    from cleaning.publish import is_published  # publish imports this module

    return is_published(lake, night)


@dataclass
class CacheEntry:
    url: str
    final_url: str
    etag: str | None
    last_modified: str | None
    content_type: str | None
    body: bytes
    fetched_at: datetime
    checked_at: datetime

    def conditional_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class HttpCache:
    """The feed and sitemap cache of one night; thread-safe, since sources are read side by side."""

    def __init__(self, entries: dict[str, CacheEntry] | None = None):
        self._entries = dict(entries or {})
        self._lock = threading.Lock()

    def get(self, url: str) -> CacheEntry | None:
        with self._lock:
            return self._entries.get(url)

    def stored(self, url: str, response) -> None:
        """Remember a 200 answer, if it carries a validator (without one a later 304 is impossible)."""
        etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
        if not (etag or modified):
            with self._lock:
                self._entries.pop(url, None)  # validators gone: an old one would only mislead
            return
        now = datetime.now(timezone.utc)
        entry = CacheEntry(
            url, response.url, etag, modified, response.headers.get("content-type"), response.body, now, now
        )
        with self._lock:
            self._entries[url] = entry

    def confirmed(self, url: str, response) -> CacheEntry:
        """A 304: the stored body is still current; take any refreshed validators."""
        with self._lock:
            entry = self._entries[url]
            entry.checked_at = datetime.now(timezone.utc)
            entry.etag = response.headers.get("etag") or entry.etag
            entry.last_modified = response.headers.get("last-modified") or entry.last_modified
            return entry

    def entries(self) -> list[CacheEntry]:
        with self._lock:
            return [self._entries[url] for url in sorted(self._entries)]


def load_http_cache(lake: Lake, run_date: date) -> HttpCache:
    """The cache as the latest night before ``run_date`` left it."""
    nights = sorted(
        (night, rel)
        for rel in lake.list_files(CACHE_DIR, ".parquet")
        if (night := _partition_date(rel)) is not None and night < run_date
    )
    if not nights:
        return HttpCache()
    rows = lake.read_table(nights[-1][1]).to_pylist()
    return HttpCache({row["url"]: CacheEntry(**row) for row in rows})


def save_http_cache(lake: Lake, run_date: date, cache: HttpCache, keep_days: int) -> None:
    """Write night D's cache, pending until the night publishes; entries the servers have not
    confirmed for ``keep_days`` are dropped."""
    oldest = datetime.now(timezone.utc) - timedelta(days=keep_days)
    rows = [asdict(e) for e in cache.entries() if e.checked_at >= oldest]
    lake.write_table(layout.pending_http_cache(run_date), pa.Table.from_pylist(rows, schema=HTTP_CACHE))


CACHE_KEEP_NIGHTS = 7  # only the latest earlier night is read; a few more keep re-runs of last week exact


def prune(lake: Lake, run_date: date, seen_days: int) -> None:
    """Drop partitions no night from ``run_date`` on will read: seen URLs past the window, old caches.

    Only partitions *older* than ``run_date``'s windows go, so a backfill of old dates never
    deletes what newer nights need.
    """
    limits = {
        FETCHED_DIR: run_date - timedelta(days=seen_days + 1),
        CACHE_DIR: run_date - timedelta(days=CACHE_KEEP_NIGHTS),
    }
    for folder, before in limits.items():
        nights = {_partition_date(rel) for rel in lake.list_files(folder, ".parquet")}
        for night in sorted(n for n in nights if n is not None and n < before):
            lake.delete_dir(f"{folder}/{layout.night(night)}")
