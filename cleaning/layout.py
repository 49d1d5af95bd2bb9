"""Where everything lives in the lake: one function per kind of file, paths relative to the root.

Every module that reads or writes the lake builds its paths here, so the layout can be read in
one place (``docs/lake.md`` describes it for readers) and changed in one place. Everything of one
night sits under a ``run_date=YYYY-MM-DD`` folder, which Hive-partitioned readers (DuckDB,
Polars, pandas, Spark) turn into a ``run_date`` column.

Published, read by downstream teams::

    <table>/run_date=D/part-NNNNN.parquet   articles, duplicates, failures: one part per shard
    manifests/run_date=D/manifest.json      written last; lists every part of the night
    source_health/run_date=D/part-0.parquet one row per source: counts, body lengths, flags
    reports/health/run_date=D/index.html    the night's source health report (self-contained)

Kept for later nights::

    history/run_date=D/rows/part-N.parquet  D's published stories (id, hash, URL, ranking fields)
    history/run_date=D/keys/range=R-of-K/part-N.parquet
                                            their band, sentence and hash keys by key range
    raw/run_date=D/shard-N.parquet, .warc.gz raw captures, for a reprocess without network
    state/fetched/run_date=D/host_bucket=NN/part-0.parquet
                                            seen URLs by host bucket, committed with D's publication
    state/http_cache/run_date=D/part-0.parquet

Private to a run (``_``-prefixed, never read by readers)::

    _work/run_date=D/...                    files passed between the steps of D's run
    _staging/run_date=D/<attempt>/...       publish's staging area (parts, history, per shard)
    _leases/run_date=D/<owner>.json         who is writing D (:mod:`cleaning.lease`)
"""

from __future__ import annotations

from datetime import date

PUBLISHED_TABLES = ("articles", "duplicates", "failures")


def night(run_date: date) -> str:
    return f"run_date={run_date.isoformat()}"


def partition_date(relpath: str) -> date | None:
    """The run date of a path with a ``run_date=`` folder, or None."""
    for part in relpath.split("/"):
        if part.startswith("run_date="):
            try:
                return date.fromisoformat(part.removeprefix("run_date="))
            except ValueError:
                return None
    return None


def shard_name(shard: int, suffix: str = ".parquet") -> str:
    return f"shard-{shard:05d}{suffix}"


def shard_of_name(name: str) -> int:
    return int(name.rsplit("shard-", 1)[1].split(".")[0])


# ---------------------------------------------------------------- published
def table_dir(table: str, run_date: date) -> str:
    """The partition folder of one table and night: its parts, and nothing else."""
    return f"{table}/{night(run_date)}"


def part_name(part: int) -> str:
    return f"part-{part:05d}.parquet"


def table_part(table: str, run_date: date, part: int) -> str:
    """Part ``part`` of a table's night; the part number is the shard number, so a shard
    published again replaces its own part."""
    return f"{table_dir(table, run_date)}/{part_name(part)}"


def manifest_parts(manifest: dict, table: str) -> list[dict]:
    """The parts of ``table`` a night's manifest lists, each ``{"path", "rows", "bytes",
    "sha256"}``; a manifest written before nights had parts names one file, returned as one part."""
    entry = (manifest.get("files") or {}).get(table)
    if not entry:
        return []
    return list(entry["parts"]) if "parts" in entry else [entry]


def manifest_dir(run_date: date) -> str:
    return f"manifests/{night(run_date)}"


def manifest_file(run_date: date) -> str:
    return f"{manifest_dir(run_date)}/manifest.json"


def staging_dir(run_date: date, attempt: str | None = None) -> str:
    base = f"_staging/{night(run_date)}"
    return f"{base}/{attempt}" if attempt else base


def staged_part(run_date: date, attempt: str, table: str, part: int) -> str:
    """Where a publish task stages a part before the commit makes it :func:`table_part`."""
    return f"{staging_dir(run_date, attempt)}/{table}/{part_name(part)}.staged"


def staged_history(run_date: date, attempt: str) -> str:
    """The folder the publish tasks stage the night's history files in, laid out as they will
    sit under :func:`history_dir`."""
    return f"{staging_dir(run_date, attempt)}/history"


HEALTH_DIR = "source_health"


def health_file(run_date: date) -> str:
    """The night's per-source health rows (:mod:`cleaning.health`), written after publish."""
    return f"{HEALTH_DIR}/{night(run_date)}/part-0.parquet"


def health_dates(relpaths: list[str]) -> list[date]:
    """Run dates of the health partitions among ``relpaths`` (a listing of :data:`HEALTH_DIR`), sorted."""
    return sorted({d for rel in relpaths if rel.endswith("/part-0.parquet") and (d := partition_date(rel))})


def health_report(run_date: date) -> str:
    """The night's self-contained HTML health report (charts inline; opens without a server)."""
    return f"reports/health/{night(run_date)}/index.html"


# ---------------------------------------------------------------- kept for later nights
HISTORY_DIR = "history"


def history_dir(run_date: date) -> str:
    return f"{HISTORY_DIR}/{night(run_date)}"


def raw_dir(run_date: date) -> str:
    return f"raw/{night(run_date)}"


def raw_captures(run_date: date, shard: int) -> str:
    return f"{raw_dir(run_date)}/{shard_name(shard)}"


def raw_warc(run_date: date, shard: int) -> str:
    return f"{raw_dir(run_date)}/{shard_name(shard, '.warc.gz')}"


FETCHED_DIR = "state/fetched"
CACHE_DIR = "state/http_cache"


# The seen-URL state of a night is split by a hash of the URL's host (:func:`cleaning.fetch.state.
# host_bucket`) into this many buckets, so a reader that needs some hosts reads only their
# buckets. The number is part of the layout: every night must use the same one (a different
# number would need a new FETCHED_DIR).
HOST_BUCKETS = 64
_BUCKET_PREFIX = "host_bucket="


def fetched_dir(run_date: date) -> str:
    return f"{FETCHED_DIR}/{night(run_date)}"


def fetched_file(run_date: date) -> str:
    """The whole night's record in one file, as nights were written before the split by host
    (still read: see :func:`fetched_bucket_of`)."""
    return f"{fetched_dir(run_date)}/part-0.parquet"


def bucket_name(bucket: int) -> str:
    return f"{_BUCKET_PREFIX}{bucket:02d}"


def fetched_bucket_file(run_date: date, bucket: int) -> str:
    """One host bucket of night D's seen-URL record."""
    return f"{fetched_dir(run_date)}/{bucket_name(bucket)}/part-0.parquet"


def fetched_bucket_of(relpath: str) -> int | None:
    """The host bucket of a state or pending file, or None for a whole-night file (written
    before the split by host, or a pending file of a fetch that ran before it)."""
    for part in relpath.split("/"):
        if part.startswith(_BUCKET_PREFIX):
            return int(part.removeprefix(_BUCKET_PREFIX))
    return None


def http_cache_dir(run_date: date) -> str:
    return f"{CACHE_DIR}/{night(run_date)}"


def http_cache_file(run_date: date) -> str:
    return f"{http_cache_dir(run_date)}/part-0.parquet"


# ---------------------------------------------------------------- private to a run
LEASE_DIR = "_leases"


def lease_dir(run_date: date) -> str:
    return f"{LEASE_DIR}/{night(run_date)}"


def work_dir(run_date: date) -> str:
    return f"_work/{night(run_date)}"


def work_shard(run_date: date, kind: str, shard: int) -> str:
    """A step's per-shard work file: ``candidates``, ``cleaned``, ``final``, ``signatures``."""
    return f"{work_dir(run_date)}/{kind}/{shard_name(shard)}"


def work_failures(run_date: date, step: str) -> str:
    """``discover`` or ``<step>-shard-N``: each step's failures, merged by publish."""
    return f"{work_dir(run_date)}/failures/{step}.parquet"


def work_stats(run_date: date, name: str) -> str:
    return f"{work_dir(run_date)}/stats/{name}.json"


def publish_counts(run_date: date, shard: int) -> str:
    """A publish task's counts and staged parts, read by the night's commit."""
    return f"{work_dir(run_date)}/publish/{shard_name(shard, '.json')}"


def work_file(run_date: date, name: str) -> str:
    """A single work file of the night: ``furniture.parquet``, ``decisions.parquet``."""
    return f"{work_dir(run_date)}/{name}"


FURNITURE_COUNTS = "furniture_counts"


def furniture_counts(run_date: date, shard: int) -> str:
    """A clean shard's furniture counts (pages per source, pages per source and line key),
    merged per source by the furniture step."""
    return work_shard(run_date, FURNITURE_COUNTS, shard)


def furniture_counts_dir(run_date: date) -> str:
    return f"{work_dir(run_date)}/{FURNITURE_COUNTS}"


def pending_fetched_dir(run_date: date) -> str:
    return f"{work_dir(run_date)}/state/fetched"


def pending_fetched(run_date: date, shard: int, bucket: int) -> str:
    """A fetch shard's record of one host bucket, pending until the night publishes."""
    return f"{pending_fetched_dir(run_date)}/{bucket_name(bucket)}/{shard_name(shard)}"


def pending_fetched_index(run_date: date, shard: int) -> str:
    """Which buckets a fetch shard wrote and how many rows (written last: the shard's record is
    the files it names)."""
    return f"{pending_fetched_dir(run_date)}/{shard_name(shard, '.json')}"


def pending_http_cache(run_date: date) -> str:
    return f"{work_dir(run_date)}/state/http_cache.parquet"


# ---------------------------------------------------------------- the dedup stages' work files
def work_keys_dir(run_date: date, key_range: int, ranges: int) -> str:
    """Entries (band, sentence and content-hash keys) of one key range, one file per sign shard."""
    return f"{work_dir(run_date)}/keys/range={key_range:04d}-of-{ranges:04d}"


def work_keys(run_date: date, key_range: int, ranges: int, shard: int) -> str:
    return f"{work_keys_dir(run_date, key_range, ranges)}/{shard_name(shard)}"


def work_pairs_dir(run_date: date, part: int) -> str:
    """Candidate pairs of one verify part, one file per key range that found them."""
    return f"{work_dir(run_date)}/pairs/part={part:05d}"


def work_pairs(run_date: date, part: int, key_range: int) -> str:
    return f"{work_pairs_dir(run_date, part)}/range-{key_range:04d}.parquet"


def work_edges(run_date: date, part: int) -> str:
    """Verified pairs of one verify part, with the bodies they touch in ``nodes/``."""
    return f"{work_dir(run_date)}/edges/part-{part:05d}.parquet"


def work_nodes(run_date: date, part: int) -> str:
    return f"{work_dir(run_date)}/nodes/part-{part:05d}.parquet"


def work_to_measure(run_date: date, part: int) -> str:
    """Pairs (copy, canonical) without an edge of their own, left by cluster to one measure part;
    what measuring found goes to :func:`work_measured`."""
    return f"{work_dir(run_date)}/measure/part-{part:05d}.parquet"


def work_measured(run_date: date, part: int) -> str:
    return f"{work_dir(run_date)}/measured/part-{part:05d}.parquet"
