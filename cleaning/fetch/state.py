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

``state/fetched/run_date=D/host_bucket=NN/part-0.parquet``
    Identity keys (:func:`cleaning.urls.url_key`) of the URLs fetched over the network by night D
    and of the URLs they redirected to. Discover of night D skips URLs found in the partitions
    of the ``seen_days`` nights before D. Pages read from local files, mirrors or
    WARC files are not recorded: reading them again costs no one anything, and the sample corpus
    relies on it.

    Each night is split into :data:`~cleaning.layout.HOST_BUCKETS` buckets by a stable hash of
    the host (:func:`host_bucket`), so a reader that asks about some hosts reads only their
    buckets (:class:`SeenUrls`). A row sits in the bucket of its URL's host and, when it
    redirected to a host of another bucket, in that bucket too: each bucket holds every key of
    its hosts. Each fetch shard writes its rows by bucket (``_work/.../state/fetched/
    host_bucket=NN/shard-N.parquet``, then an index naming them); the commit writes one file per
    bucket. A night written before the split (one ``part-0.parquet``) is still read, whole.
``state/http_cache/run_date=D/part-0.parquet``
    Validators (ETag, Last-Modified) and the last body of each feed and sitemap, written by
    discover of night D. Night D sends conditional requests with the validators of the latest
    earlier night; on 304 it parses the stored body again, so an item that failed to fetch last
    night is still offered (and one that was fetched is skipped by the seen filter).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit

import pyarrow as pa
import xxhash

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


def host_bucket(host: str) -> int:
    """The state bucket of a host (lower-case, as in identity keys): stable across runs, machines
    and Python versions (xxh64, not Python's salted ``hash``)."""
    return xxhash.xxh64_intdigest(host.encode("utf-8")) % layout.HOST_BUCKETS


def key_host(key: str) -> str:
    """The host of an identity key ("" for a key without one)."""
    try:
        return urlsplit(key).hostname or ""
    except ValueError:
        return ""


def key_bucket(key: str) -> int:
    return host_bucket(key_host(key))


def _by_bucket(rows: Iterable[dict]) -> dict[int, list[dict]]:
    """Rows by the bucket of their URL's host, and also of their final URL's host when that
    bucket differs (a redirect to another site)."""
    buckets: dict[int, list[dict]] = {}
    for row in rows:
        own = key_bucket(row["url"] or "")
        buckets.setdefault(own, []).append(row)
        if row["final_url"] and (other := key_bucket(row["final_url"])) != own:
            buckets.setdefault(other, []).append(row)
    return buckets


def write_fetched(lake: Lake, run_date: date, shard: int, rows: list[dict]) -> None:
    """A fetch shard's record, by host bucket, pending until the night publishes.

    The index goes last and names the bucket files: a retried shard replaces its record as a
    whole, and files an earlier try left are not named."""
    index = layout.pending_fetched_index(run_date, shard)
    lake.delete_file(index)
    buckets = _by_bucket(rows)
    for bucket in sorted(buckets):
        table = pa.Table.from_pylist(buckets[bucket], schema=FETCHED)
        lake.write_table(layout.pending_fetched(run_date, shard, bucket), table)
    lake.write_json(index, {"shard": shard, "rows": len(rows), "buckets": sorted(buckets)})


def _pending_by_bucket(lake: Lake, run_date: date) -> tuple[dict[int, list[pa.Table]], int] | None:
    """The night's pending record, as tables per bucket, and its row count; None when no fetch
    shard left one. Reads each bucket's files when asked (tables are lazily read per bucket)."""
    folder = layout.pending_fetched_dir(run_date)
    files = lake.list_files(folder)
    indexes = [rel for rel in files if rel.endswith(".json")]
    # a shard fetched by a version before the split left one whole file: split it here
    whole = [rel for rel in files if rel.endswith(".parquet") and layout.fetched_bucket_of(rel) is None]
    if not indexes and not whole:
        return None
    parts: dict[int, list] = {}
    rows = 0
    for rel in indexes:
        index = lake.read_json(rel)
        rows += index["rows"]
        for bucket in index["buckets"]:
            parts.setdefault(bucket, []).append(layout.pending_fetched(run_date, index["shard"], bucket))
    for rel in whole:
        table = lake.read_table(rel, schema=FETCHED)
        rows += table.num_rows
        for bucket, bucket_rows in _by_bucket(table.to_pylist()).items():
            parts.setdefault(bucket, []).append(pa.Table.from_pylist(bucket_rows, schema=FETCHED))
    return parts, rows


def commit_night(lake: Lake, run_date: date) -> dict:
    """Make night D's pending records the state (publish calls this for a night it commits).

    Each bucket's file is replaced whole (the lake writes a file through a temporary name, or as
    one object), then the files of D no fetch shard wrote this time (buckets of an earlier run
    of D, or a whole-night file from before the split) are deleted; the night counts as seen only
    once its manifest is written, after this. A record that is not pending (a reprocess run
    fetches nothing and keeps discover's cache) is left as it is. Returns how many rows were
    committed per record (``fetched`` counts each fetched page once, even when its redirect put
    it in two buckets)."""
    committed = {}
    pending = _pending_by_bucket(lake, run_date)
    if pending is not None:
        parts, rows = pending
        before = set(lake.list_files(layout.fetched_dir(run_date), ".parquet"))
        written = set()
        for bucket in sorted(parts):
            tables = [p if isinstance(p, pa.Table) else lake.read_table(p, schema=FETCHED) for p in parts[bucket]]
            rel = layout.fetched_bucket_file(run_date, bucket)
            lake.write_table(rel, pa.concat_tables(tables))
            written.add(rel)
        for rel in sorted(before - written):
            lake.delete_file(rel)
        committed["fetched"] = rows
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


class SeenUrls:
    """Identity keys of URLs fetched by the published nights among the ``days`` before ``run_date``,
    read one host bucket at a time, when a key of that bucket is first asked about.

    ``key in seen`` reads (once) the files of the key's bucket over the window; the nights before
    the split by host are read whole, once. So a night whose candidates come from a few hosts
    reads only those hosts' buckets, and one without network candidates reads nothing, not even
    the manifests. :meth:`among` answers for many keys at once holding one bucket at a time.
    """

    def __init__(self, lake: Lake, run_date: date, days: int):
        self.lake, self.run_date, self.days = lake, run_date, days
        self._files: dict[int | None, list[str]] | None = None  # None: written before the split
        self._loaded: dict[int | None, set[str]] = {}
        self._lock = threading.RLock()
        self.files_read = 0

    def _window(self) -> dict[int | None, list[str]]:
        with self._lock:
            return self._list_window()

    def _list_window(self) -> dict[int | None, list[str]]:
        if self._files is None:
            oldest = self.run_date - timedelta(days=self.days)
            files: dict[int | None, list[str]] = {}
            published: dict[date, bool] = {}
            for rel in self.lake.list_files(FETCHED_DIR, ".parquet"):
                night = _partition_date(rel)
                if night is None or not oldest <= night < self.run_date:
                    continue
                if night not in published:  # a crash between the state commit and the manifest
                    published[night] = _published(self.lake, night)
                if published[night]:
                    files.setdefault(layout.fetched_bucket_of(rel), []).append(rel)
            self._files = files
        return self._files

    def _columns(self, bucket: int | None):
        """The ``url`` and ``final_url`` columns of one bucket's files over the window, a file at a time."""
        for rel in self._window().get(bucket, []):
            self.files_read += 1
            table = self.lake.read_table(rel, columns=["url", "final_url"])
            for name in ("url", "final_url"):
                yield table.column(name).combine_chunks()

    def bucket(self, bucket: int | None) -> set[str]:
        """Every seen key of one bucket (``None``: of the nights written whole)."""
        with self._lock:
            if bucket not in self._loaded:
                keys: set[str] = set()
                for column in self._columns(bucket):
                    keys.update(column.to_pylist())
                keys.discard(None)
                keys.discard("")
                self._loaded[bucket] = keys
            return self._loaded[bucket]

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        if self._window().get(None) and key in self.bucket(None):
            return True
        return key in self.bucket(key_bucket(key))

    @property
    def buckets_read(self) -> int:
        return sum(1 for b in self._loaded if b is not None)

    def among(self, keys: Iterable[str]) -> set[str]:
        """The seen keys among ``keys``, reading each file of their buckets once and holding one
        file's keys at a time (nothing is kept for later calls)."""
        import pyarrow.compute as pc

        wanted: dict[int, list[str]] = {}
        for key in keys:
            if key:
                wanted.setdefault(key_bucket(key), []).append(key)
        found: set[str] = set()

        def match(asked: pa.Array, bucket: int | None) -> None:
            for column in self._columns(bucket):
                found.update(asked.filter(pc.is_in(asked, value_set=column)).to_pylist())

        for bucket in sorted(wanted):
            match(pa.array(wanted[bucket], pa.string()), bucket)
        if self._window().get(None) and wanted:
            match(pa.array([k for bucket in sorted(wanted) for k in wanted[bucket]], pa.string()), None)
        return found


def load_seen(lake: Lake, run_date: date, days: int) -> set[str]:
    """Every identity key of URLs fetched by the published nights among the ``days`` before
    ``run_date``, as one set (:class:`SeenUrls` reads only the buckets asked about)."""
    seen = SeenUrls(lake, run_date, days)
    keys: set[str] = set()
    for bucket in seen._window():
        keys.update(seen.bucket(bucket))
    return keys


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
