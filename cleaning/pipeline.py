"""The nightly run as plain functions over the lake: the one place that wires stages together.

Every function takes the config, the run date and (for mapped steps) a shard number, reads its
inputs from the lake, writes its outputs to the lake, and returns a small dict of counts. The
Airflow tasks in ``dags/`` and ``cleaning run`` call exactly these functions, so a night behaves
the same under both. Work files live under ``_work/run_date=D/`` and are replaced, never appended
to, so a retried step leaves the same files as a first try. Raw captures are kept under
``raw/run_date=D/`` so a night can be cleaned again without the network (``reprocess``).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import asdict
from datetime import date

import pyarrow as pa
import xxhash

from cleaning import layout, schema
from cleaning.config import Config
from cleaning.crash import crash_point
from cleaning.dedup import stages as dedup_stages
from cleaning.models import Candidate, Capture, Failure
from cleaning.plan import STAGES
from cleaning.publish import RunFailed  # noqa: F401 (raised by publish; callers catch it from here)
from cleaning.store import Lake

work_dir = layout.work_dir


def shard_of(url: str, shards: int) -> int:
    return xxhash.xxh64_intdigest(url.encode("utf-8")) % shards


def _failures_table(failures: list[Failure]) -> pa.Table:
    return pa.Table.from_pylist([asdict(f) for f in failures], schema=schema.FAILURES)


def _recorded(stage_fn):
    """Keep each step's counts in the work folder, so publish can put them in the manifest."""
    import functools

    @functools.wraps(stage_fn)
    def wrapper(config: Config, run_date: date, *args, **kwargs) -> dict:
        stats = stage_fn(config, run_date, *args, **kwargs)
        name = stats["stage"] + (f"-{stats['shard']:05d}" if "shard" in stats else "")
        Lake(config.lake).write_json(layout.work_stats(run_date, name), stats)
        crash_point(stats["stage"])
        return stats

    return wrapper


def read_stats(lake: Lake, run_date: date) -> list[dict]:
    stats = [lake.read_json(rel) for rel in lake.list_files(f"{layout.work_dir(run_date)}/stats", ".json")]
    return sorted(stats, key=lambda s: (STAGES.index(s["stage"]) if s["stage"] in STAGES else 99, s.get("shard", -1)))


def _workers() -> int:
    return max(1, int(os.environ.get("NEWSCLEAN_WORKERS", os.cpu_count() or 1)))


# ---------------------------------------------------------------- discover
@_recorded
def discover(config: Config, run_date: date, only_sources: list[str] | None = None) -> dict:
    """Write tonight's candidates, one file per shard; returns counts and the shard list.

    Reads the incremental state earlier nights left (URLs already fetched, the feed cache) and
    writes tonight's feed cache; see :mod:`cleaning.fetch.state` for why a re-run gives the same result.
    """
    from cleaning import fetch as fetching
    from cleaning.discover import discover_night
    from cleaning.fetch import state

    started = time.monotonic()
    lake = Lake(config.lake)
    settings = config.fetch
    # Read a host bucket of the seen-URL state at a time, when a network candidate of that
    # bucket is first checked: only the buckets of tonight's hosts are read.
    seen = state.SeenUrls(lake, run_date, settings.seen_days) if settings.skip_seen else set()
    cache = state.load_http_cache(lake, run_date)
    oldest = state.window_start(run_date, settings.seen_days) if settings.skip_seen else None
    fetcher = fetching.fetcher_for(config)
    night = discover_night(config, only_sources, fetcher, seen=seen, cache=cache, published_before=oldest)
    candidates, failures = night.candidates, night.failures
    wd = work_dir(run_date)
    lake.delete_dir(wd)  # a new night (or a re-run) starts from nothing
    state.save_http_cache(lake, run_date, cache, settings.seen_days)  # committed by publish
    state.prune(lake, run_date, settings.seen_days)
    by_shard: dict[int, list[dict]] = {i: [] for i in range(config.shards)}
    for candidate in candidates:
        by_shard[shard_of(_shard_key(candidate.url, fetcher), config.shards)].append(asdict(candidate))
    for shard, rows in by_shard.items():
        lake.write_table(
            layout.work_shard(run_date, "candidates", shard), pa.Table.from_pylist(rows, schema=schema.CANDIDATES)
        )
    lake.write_table(layout.work_failures(run_date, "discover"), _failures_table(failures))
    return {
        "stage": "discover",
        "candidates": len(candidates),
        "failed": len(failures),
        "already_seen": night.already_seen,
        "seen_buckets_read": getattr(seen, "buckets_read", 0),
        "seen_files_read": getattr(seen, "files_read", 0),
        "too_old": night.too_old,
        "over_limit": night.over_limit,
        "not_modified": night.not_modified,
        "shards": list(range(config.shards)),
        "seconds": round(time.monotonic() - started, 3),
    }


def _shard_key(url: str, fetcher) -> str:
    """Network URLs shard by host, so one host's pages share one fetch task and its politeness
    delay holds even when the mapped fetch tasks run side by side; local reads shard by URL."""
    from urllib.parse import urlsplit

    try:
        return (urlsplit(url).hostname or url) if fetcher.is_network(url) else url
    except ValueError:
        return url


# ---------------------------------------------------------------- fetch
@_recorded
def fetch(config: Config, run_date: date, shard: int) -> dict:
    """Fetch one shard: raw captures (Parquet, and a WARC), fetch failures, and the shard's
    fetched-URL record, which publish commits to the seen-URL state with the night."""
    from cleaning import fetch as fetching
    from cleaning.fetch import state
    from cleaning.fetch.warc import build_warc

    started = time.monotonic()
    lake = Lake(config.lake)
    rows = lake.read_table(layout.work_shard(run_date, "candidates", shard)).to_pylist()
    candidates = [Candidate(**row) for row in rows]
    result = fetching.fetch_shard(candidates, config, fetching.fetcher_for(config))
    captures, failures = result.captures, result.failures
    table = pa.Table.from_pylist([asdict(c) for c in captures], schema=schema.CAPTURES)
    lake.write_table(layout.raw_captures(run_date, shard), table, row_group_rows=1024)
    warc_file = layout.raw_warc(run_date, shard)
    if config.fetch.write_warc:
        lake.write_bytes(warc_file, build_warc(result.exchanges, user_agent=config.fetch.user_agent))
    elif lake.exists(warc_file):
        lake.fs.delete_file(lake.path(warc_file))
    lake.write_table(layout.work_failures(run_date, f"fetch-{layout.shard_name(shard, '')}"), _failures_table(failures))
    fetched = result.fetched_rows()
    state.write_fetched(lake, run_date, shard, fetched)
    return {
        "stage": "fetch",
        "shard": shard,
        "fetched": len(captures),
        "fetched_over_network": len(fetched),
        "failed": len(failures),
        "failure_reasons": dict(sorted(Counter(f.reason for f in failures).items())),
        "seconds": round(time.monotonic() - started, 3),
    }


def raw_shards(config: Config, run_date: date) -> list[int]:
    """Shards of the kept raw captures, for a reprocess run (no discover, no fetch)."""
    files = Lake(config.lake).list_files(layout.raw_dir(run_date), ".parquet")
    return sorted(layout.shard_of_name(f) for f in files)


# ---------------------------------------------------------------- clean
@_recorded
def clean(config: Config, run_date: date, shard: int, workers: int | None = None) -> dict:
    from cleaning.clean import clean_captures

    started = time.monotonic()
    lake = Lake(config.lake)
    raw = lake.read_table(layout.raw_captures(run_date, shard)).to_pylist()
    captures = [Capture(**row) for row in raw]
    articles, failures, counts = clean_captures(captures, config.clean, workers or _workers())
    rows = [asdict(a) for a in articles]
    lake.write_table(layout.work_shard(run_date, "cleaned", shard), pa.Table.from_pylist(rows, schema=schema.CLEANED))
    furniture_counts = _furniture_counts((a.source, a.text) for a in articles)
    lake.write_table(layout.furniture_counts(run_date, shard), furniture_counts)
    lake.write_table(layout.work_failures(run_date, f"clean-{layout.shard_name(shard, '')}"), _failures_table(failures))
    return {
        "stage": "clean",
        "shard": shard,
        "cleaned": len(articles),
        "furniture_count_rows": furniture_counts.num_rows,
        "rejected": len(failures),
        **dict(sorted(counts.items())),
        "seconds": round(time.monotonic() - started, 3),
    }


# A clean shard's furniture counts: one row per source and line key holding on how many of the
# shard's pages of that source the key is, with a 64-bit hash of (source, key); the pages per
# source are in the file's metadata (JSON under ``source_pages``).
FURNITURE_COUNTS = pa.schema(
    [("source", pa.string()), ("line_key", pa.string()), ("key_hash", pa.uint64()), ("pages", pa.int64())]
)
_SOURCE_PAGES = b"source_pages"


def _furniture_page(text: str) -> str:
    """A body as the furniture rule reads it: one paragraph a line."""
    return text.replace("\n\n", "\n")


def _furniture_counts(pages) -> pa.Table:
    """The counts :func:`learn_furniture` merges, for ``(source, text)`` pairs of one shard."""
    import json

    from cleaning.clean.furniture import count_lines

    per_source, line_pages = count_lines((source, _furniture_page(text)) for source, text in pages)
    sources, keys, hashes, counts = [], [], [], []
    for source in sorted(per_source):
        for key in sorted(line_pages[source]):
            sources.append(source)
            keys.append(key)
            hashes.append(xxhash.xxh3_64_intdigest(f"{source}\x00{key}".encode("utf-8")))
            counts.append(line_pages[source][key])
    columns = [pa.array(sources, pa.string()), pa.array(keys, pa.string())]
    columns += [pa.array(hashes, pa.uint64()), pa.array(counts, pa.int64())]
    metadata = {_SOURCE_PAGES: json.dumps(dict(sorted(per_source.items()))).encode("utf-8")}
    return pa.table(columns, schema=FURNITURE_COUNTS.with_metadata(metadata))


def _merged_furniture_counts(lake: Lake, parts: list) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
    """Sum the shards' counts (``parts``: counts files, or tables of :func:`_furniture_counts`):
    pages per source, and the ``(source, line_key, pages)`` rows on 2 pages or more (no key on
    fewer can be furniture).

    Two passes, so that the strings of the night's lines are never all in memory: first the
    hashes alone are summed, which finds the (source, key) pairs that may be on 2 pages or more
    (two pairs sharing a hash only let more through); then each shard's rows of those hashes
    are read and summed exactly by source and key."""
    import json

    import pyarrow.compute as pc

    def load(part, columns: list[str]) -> pa.Table:
        return part.select(columns) if isinstance(part, pa.Table) else lake.read_table(part, columns=columns)

    per_source: Counter[str] = Counter()
    for part in parts:
        metadata = part.schema.metadata if isinstance(part, pa.Table) else lake.read_metadata(part).metadata
        per_source.update(json.loads((metadata or {}).get(_SOURCE_PAGES, b"{}")))
    hashes = [load(part, ["key_hash", "pages"]) for part in parts]
    summed = (pa.concat_tables(hashes) if hashes else FURNITURE_COUNTS.empty_table()).group_by("key_hash")
    del hashes
    summed = summed.aggregate([("pages", "sum")])
    repeated = summed.filter(pc.greater_equal(summed.column("pages_sum"), 2)).column("key_hash").combine_chunks()
    del summed
    kept = []
    for part in parts:
        table = load(part, ["source", "line_key", "key_hash", "pages"])
        kept.append(table.filter(pc.is_in(table.column("key_hash"), value_set=repeated)))
    lines = pa.concat_tables(kept) if kept else FURNITURE_COUNTS.empty_table()
    lines = lines.group_by(["source", "line_key"]).aggregate([("pages", "sum")])
    lines = lines.filter(pc.greater_equal(lines.column("pages_sum"), 2))
    rows = zip(*(lines.column(name).to_pylist() for name in ("source", "line_key", "pages_sum")))
    return dict(per_source), list(rows)


@_recorded
def learn_furniture(config: Config, run_date: date) -> dict:
    """Learn each site's recurring lines from the clean shards' counts, merged per source.

    Each clean shard wrote how many of its pages each source has and on how many of them each
    line key appears (:func:`_furniture_counts`); the sums over shards are the night's counts, so
    the rule (:func:`cleaning.clean.furniture.select_furniture`) learns exactly what it would
    from all bodies at once, holding a hash per distinct line and the text of repeated lines
    only (:func:`_merged_furniture_counts`). A cleaned shard without a counts file (cleaned by an
    older version) is counted from its bodies.
    """
    from cleaning.clean.furniture import select_furniture

    started = time.monotonic()
    lake = Lake(config.lake)
    counted = {
        layout.shard_of_name(rel): rel for rel in lake.list_files(layout.furniture_counts_dir(run_date), ".parquet")
    }
    parts = []
    for rel in lake.list_files(f"{layout.work_dir(run_date)}/cleaned", ".parquet"):
        shard = layout.shard_of_name(rel)
        if shard in counted:
            parts.append(counted[shard])
        else:
            cleaned = lake.read_table(rel, columns=["source", "text"])
            parts.append(
                _furniture_counts(zip(cleaned.column("source").to_pylist(), cleaned.column("text").to_pylist()))
            )
    per_source, line_rows = _merged_furniture_counts(lake, parts)
    del parts
    settings = config.clean
    learned = select_furniture(per_source, line_rows, settings.furniture_min_pages, settings.furniture_min_share)
    rows = [{"source": s, "line_key": k} for s in sorted(learned) for k in sorted(learned[s])]
    lake.write_table(
        layout.work_file(run_date, "furniture.parquet"),
        pa.Table.from_pylist(rows, schema=pa.schema([("source", pa.string()), ("line_key", pa.string())])),
    )
    return {
        "stage": "furniture",
        "sites": len(learned),
        "lines": len(rows),
        "repeated_line_keys": len(line_rows),  # on 2 pages or more of a source
        "seconds": round(time.monotonic() - started, 3),
    }


# ---------------------------------------------------------------- dedup
@_recorded
def sign(config: Config, run_date: date, shard: int) -> dict:
    """Strip learned furniture, then compute signatures: writes the final bodies and signatures."""
    from cleaning.clean import strip_furniture
    from cleaning.clean.text import word_count
    from cleaning.dedup import signatures

    started = time.monotonic()
    lake = Lake(config.lake)
    furniture: dict[str, set[str]] = {}
    for row in lake.read_table(layout.work_file(run_date, "furniture.parquet")).to_pylist():
        furniture.setdefault(row["source"], set()).add(row["line_key"])
    table = lake.read_table(layout.work_shard(run_date, "cleaned", shard), schema=schema.CLEANED)
    rows = table.to_pylist()
    removed = 0
    kept, failures = [], []
    for row in rows:
        if row["source"] in furniture:
            row["text"], n = strip_furniture(row["text"], furniture[row["source"]])
            removed += n
        if word_count(row["text"]) < config.clean.min_words:  # counted as the clean stage counts
            failures.append(Failure(row["url"], row["source"], "clean", "too_short", "only site furniture left"))
            continue
        kept.append(row)
    # One row per id: one URL listed twice (two feeds of a source) is one story. A URL always
    # lands in the same shard, so this is the night's rule too; publish keeps the same first row.
    first = {}
    for row in kept:
        first.setdefault(row["id"], row)
    kept = list(first.values())
    lake.write_table(layout.work_shard(run_date, "final", shard), pa.Table.from_pylist(kept, schema=schema.CLEANED))
    lake.write_table(
        layout.work_failures(run_date, f"furniture-{layout.shard_name(shard, '')}"), _failures_table(failures)
    )
    sigs = signatures(((r["id"], r["text"], r["published_at"]) for r in kept), config.dedup, _workers())
    dedup_stages.write_signatures(lake, run_date, shard, sigs)
    entries = dedup_stages.write_keys(lake, run_date, shard, sigs, config.dedup)
    return {
        "stage": "sign",
        "shard": shard,
        "signed": sigs.num_rows,
        "key_entries": entries,
        "furniture_lines_removed": removed,
        "seconds": round(time.monotonic() - started, 3),
    }


@_recorded
def bucket(config: Config, run_date: date, key_range: int) -> dict:
    """Candidate pairs of one key range, tonight's and against the history window."""
    started = time.monotonic()
    stats = dedup_stages.bucket(Lake(config.lake), run_date, key_range, config.dedup)
    return {"stage": "bucket", "shard": key_range, **stats, "seconds": round(time.monotonic() - started, 3)}


@_recorded
def verify(config: Config, run_date: date, part: int) -> dict:
    """Verify one part of the candidate pairs: which are the same story, and by what measure."""
    started = time.monotonic()
    stats = dedup_stages.verify_part(Lake(config.lake), run_date, part, config.dedup)
    return {"stage": "verify", "shard": part, **stats, "seconds": round(time.monotonic() - started, 3)}


@_recorded
def cluster(config: Config, run_date: date) -> dict:
    """Clusters, canonicals and the night's decisions, one file per shard, from the verified edges."""
    started = time.monotonic()
    stats = dedup_stages.cluster(Lake(config.lake), run_date, config.dedup)
    return {"stage": "cluster", **stats, "seconds": round(time.monotonic() - started, 3)}


@_recorded
def measure(config: Config, run_date: date, part: int) -> dict:
    """Measure one part's copies that cluster joined to their canonical through others."""
    started = time.monotonic()
    stats = dedup_stages.measure_part(Lake(config.lake), run_date, part, config.dedup)
    return {"stage": "measure", "shard": part, **stats, "seconds": round(time.monotonic() - started, 3)}


def dedup(config: Config, run_date: date) -> dict:
    """bucket (every key range), verify (every part), cluster, measure (every part): in this
    process, as the DAG's tasks. Returns cluster's counts."""
    for key_range in range(config.dedup.key_ranges):
        bucket(config, run_date, key_range)
    for part in range(config.dedup.key_ranges):
        verify(config, run_date, part)
    stats = cluster(config, run_date)
    for part in range(config.dedup.key_ranges):
        measure(config, run_date, part)
    return stats


DECISIONS = dedup_stages.DECISIONS


# ---------------------------------------------------------------- publish
def publish_shard(config: Config, run_date: date, shard: int, dry_run: bool = False) -> dict:
    """Build and stage one shard's parts of the night's tables and its history (mapped over the
    shards, after dedup); nothing a reader sees changes until :func:`commit_night`."""
    from cleaning.publish import publish_shard as stage

    return stage(config, run_date, shard, dry_run=dry_run)


def commit_night(config: Config, run_date: date, dry_run: bool = False, owner: str | None = None) -> dict:
    """Commit what the shards staged: parts, history, seen-URL state, manifest last; returns the
    manifest. With ``owner``, only while that run holds the date's lease."""
    from cleaning.publish import commit_night as commit

    stats = read_stats(Lake(config.lake), run_date)
    return commit(config, run_date, dry_run=dry_run, stage_stats=stats, owner=owner)


def publish(config: Config, run_date: date, dry_run: bool = False, owner: str | None = None) -> dict:
    """Publish the night in this process: :func:`publish_shard` for every shard, then
    :func:`commit_night`, as the Airflow tasks do. With ``owner``, only while that run holds the
    date's lease."""
    from cleaning.publish import publish_night

    stats = read_stats(Lake(config.lake), run_date)
    return publish_night(config, run_date, dry_run=dry_run, stage_stats=stats, owner=owner)


# ---------------------------------------------------------------- health
def health(config: Config, run_date: date) -> dict:
    """After publish: the night's per-source health rows, flags against each source's recent
    nights, the HTML report, and the ``[health]`` alert hooks when flags were raised
    (:mod:`cleaning.health`). Re-running a date replaces its rows and report."""
    from cleaning import health as source_health

    started = time.monotonic()
    result = source_health.record_night(config, run_date)
    result["alert_errors"] = source_health.alert(config, run_date, result["flags"])
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def reset_for_reprocess(lake: Lake, run_date: date) -> None:
    """Drop tonight's work files except what discover and fetch left (they are not re-run)."""
    wd = work_dir(run_date)
    keep_prefixes = (
        f"{wd}/candidates/",
        f"{wd}/failures/discover",
        f"{wd}/failures/fetch-",
        f"{wd}/stats/discover",
        f"{wd}/stats/fetch-",
        f"{wd}/state/",
    )
    for rel in lake.list_files(wd):
        if not rel.startswith(keep_prefixes):
            lake.fs.delete_file(lake.path(rel))


def fetch_then_clean(config: Config, run_date: date, shards: list[int], report) -> None:
    """Fetch shard k+1 in a thread while shard k is cleaned by the process pool.

    Fetching mostly waits on the network and cleaning mostly computes, so the two overlap
    instead of adding up; each step still reads and writes only its own shard's files, exactly
    as the mapped Airflow tasks do.
    """
    from concurrent.futures import ThreadPoolExecutor

    report("fetch", 0, len(shards))
    report("clean", 0, len(shards))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fetch-ahead") as ahead:
        pending = ahead.submit(fetch, config, run_date, shards[0]) if shards else None
        for done, shard in enumerate(shards, 1):
            pending.result()
            report("fetch", done, len(shards))
            if done < len(shards):
                pending = ahead.submit(fetch, config, run_date, shards[done])
            clean(config, run_date, shard)
            report("clean", done, len(shards))


# ---------------------------------------------------------------- the whole night, in-process
def start_night(
    config: Config, run_date: date, only_sources: list[str] | None = None, reprocess: bool = False
) -> list[int]:
    """The first step of a night: discover (returns tonight's shards), or for a reprocess run the
    shards of the kept raw captures, with the later steps' work files removed."""
    if not reprocess:
        return discover(config, run_date, only_sources)["shards"]
    shards = raw_shards(config, run_date)
    if not shards:
        raise FileNotFoundError(f"no raw captures kept for {run_date} under {config.lake}/raw: nothing to reprocess")
    reset_for_reprocess(Lake(config.lake), run_date)
    return shards


def run_night(
    config: Config,
    run_date: date,
    only_sources: list[str] | None = None,
    reprocess: bool = False,
    dry_run: bool = False,
    progress=None,
    owner: str | None = None,
) -> dict:
    """discover -> fetch -> clean -> furniture -> sign -> dedup -> publish -> health, in this process.

    ``progress(stage, done, total)`` is called as shards finish. With ``reprocess`` the kept raw
    captures of ``run_date`` are cleaned again and nothing is fetched. The run holds the date's
    lease (:mod:`cleaning.lease`) from before discover until it ends, so a second run of the same
    date in the same lake stops with :class:`~cleaning.lease.LeaseHeld` before touching anything.
    """
    from cleaning import lease

    report = progress or (lambda stage, done, total: None)
    lake = Lake(config.lake)
    owner = owner or lease.new_owner()
    lease.acquire(lake, run_date, owner, config.lease_hours)
    try:
        return _run_steps(config, run_date, only_sources, reprocess, dry_run, report, owner)
    finally:
        lease.release(lake, run_date, owner)


def _run_steps(config, run_date, only_sources, reprocess, dry_run, report, owner) -> dict:
    def each_shard(stage: str, fn, shards: list[int]) -> None:
        report(stage, 0, len(shards))
        for done, shard in enumerate(shards, 1):
            fn(config, run_date, shard)
            report(stage, done, len(shards))

    report("discover", 0, 1)
    shards = start_night(config, run_date, only_sources, reprocess)
    report("discover", 1, 1)
    if reprocess:
        each_shard("clean", clean, shards)
    else:
        fetch_then_clean(config, run_date, shards, report)
    report("furniture", 0, 1)
    learn_furniture(config, run_date)
    report("furniture", 1, 1)
    each_shard("sign", sign, shards)
    report("dedup", 0, 1)
    dedup(config, run_date)
    report("dedup", 1, 1)
    report("publish", 0, 1)
    manifest = publish(config, run_date, dry_run=dry_run, owner=owner)
    report("publish", 1, 1)
    if not dry_run:  # a dry run publishes nothing to judge
        report("health", 0, 1)
        health(config, run_date)  # its rows and flags are in the lake: cleaning.health.read_night
        report("health", 1, 1)
    return manifest
