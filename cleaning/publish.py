"""Publish stage: tonight's work files become the night's partitions of the lake tables.

Each table's night is a folder of *parts*, ``<table>/run_date=D/part-NNNNN.parquet``, one per
shard of the night (the part number is the shard number), and the night's manifest lists every
part. Publishing goes in two kinds of step, the same in-process (:func:`publish_night`) and under
Airflow (one mapped task per shard, then one commit task), and the same on a local disk and on
object storage, which has no atomic rename (``docs/lake.md``):

1. :func:`publish_shard`, once per shard: reads only that shard's work files (final bodies,
   content hashes, the dedup decisions, its failures and candidates), builds its rows of the
   three tables column by column, encodes each as one Parquet file in memory whose footer names
   the attempt, stages it under ``_staging/run_date=D/<attempt>/`` (size checked) with the
   shard's history files, and writes the shard's counts to ``_work/run_date=D/publish/``. A
   shard published again replaces its own staged files; nothing a reader sees changes.
2. :func:`commit_night`, once: sums the shards' counts, checks the accounting and the failure
   bound, then

   a. commits every staged part of ``articles``, then of ``duplicates``, then of ``failures``
      (each part in one step: a rename, or one server-side copy, so every part a reader sees is
      whole), deleting after each table the parts of the date this attempt did not write (left
      by an earlier attempt with more shards);
   b. moves the staged history files into ``history/run_date=D/`` (after deleting the date's
      old ones), then commits the night's seen-URL state and feed cache
      (:mod:`cleaning.fetch.state`), so a night that never publishes never hides its stories;
   c. writes the manifest ``manifests/run_date=D/manifest.json``, last: it names the attempt and
      lists every part's path, rows, size and SHA-256. Each part also carries the attempt id in
      its Parquet footer (``publish_attempt``), so a reader checks that the parts it read are the
      ones the manifest lists (:func:`check_night`, :func:`read_night`). Then the date's
      staging folder is deleted.

The attempt id (:func:`night_attempt`) is derived from what is published: the night's dedup
output (its decision files, with their sizes and times), the code version and the config. Every
shard task and the commit of one publication compute the same id without talking to each other;
re-running dedup (or the night) makes a new one, and publishing the same dedup output again with
the same code and config writes byte-identical parts under the same id. A commit that died
midway can be run again for the same attempt: parts it already committed are recognised by
their footer and size.

Rows in a part are sorted by id (``failures``: by stage, source, url), so the same inputs give
the same parts.
"""

from __future__ import annotations

import hashlib
import subprocess
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow as pa

from cleaning import layout, schema
from cleaning.config import Config
from cleaning.crash import CRASH_ENV, crash_point  # noqa: F401 (CRASH_ENV: the hook's switch)
from cleaning.fetch import state
from cleaning.store import COMPRESSION, Lake, parquet_bytes, sha256

TABLES = layout.PUBLISHED_TABLES
ATTEMPT_KEY = b"publish_attempt"
_crash_point = crash_point  # in the commit: after "staged", each table, "history", "state" and "manifest"
manifest_file, staging_dir = layout.manifest_file, layout.staging_dir
SUMMARY_COLUMNS = (
    "discovered",
    "failed_discover",
    "failed_fetch",
    "failed_clean",
    "exact_duplicates",
    "near_duplicates",
    "published",
)
# What a publish task reads of the dedup decisions (cluster sizes and canonical URLs are dedup's:
# a shard cannot see the other members of its clusters).
DECISION_COLUMNS = [
    "id",
    "is_duplicate",
    "canonical_id",
    "canonical_url",
    "canonical_from_history",
    "canonical_run_date",
    "method",
    "jaccard",
    "containment",
    "measure",
    "score",
    "cluster_size",
]
BATCH_ROWS = 8_192  # bodies counted per batch when a shard's word counts are computed
IO_THREADS = 16  # parallel requests when a commit or a check touches every part (object storage)


def partition_path(table: str, run_date: date) -> str:
    """The partition of a table's night, a folder of parts: ``articles/run_date=D/`` (what an
    Asset event names; read it whole, or the parts the manifest lists)."""
    return layout.table_dir(table, run_date) + "/"


partition_file = partition_path  # the older name, from when a night was one file per table


def new_attempt_id() -> str:
    """Sortable by start time, unique across processes: ``20250829T031500Z-1f2e3d4c5b6a``."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:12]


class RunFailed(RuntimeError):
    """The night's failure share passed ``[pipeline] max_failure_share``."""


class NightNotConsistent(RuntimeError):
    """The files of a night are not (yet) the ones its manifest names: publishing is in progress,
    or an attempt died between its commits and the night has not been published again since."""


class NightFailed(NightNotConsistent):
    """The night failed its failure bound and was never published: reading again will not help
    until the night is run again successfully."""


def _each(fn, items) -> list:
    """``fn`` over ``items`` on a few threads (one request each on object storage), in order."""
    items = list(items)
    if len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(IO_THREADS, len(items)), thread_name_prefix="publish-io") as pool:
        return list(pool.map(fn, items))


def _attempt_in(lake: Lake, rel: str) -> str:
    return ((lake.read_metadata(rel).metadata or {}).get(ATTEMPT_KEY) or b"").decode()


# ---------------------------------------------------------------- readers
def night_parts(lake: Lake, table: str, run_date: date) -> list[str]:
    """Paths of the parts of ``table`` for ``run_date`` as the night's manifest lists them (none
    when the night has no manifest). The manifest is the list of truth: a part in the folder that
    it does not list is left by another attempt and is not part of the night."""
    rel = manifest_file(run_date)
    if not lake.exists(rel):
        return []
    return [part["path"] for part in layout.manifest_parts(lake.read_json(rel), table)]


def read_published(lake: Lake, table: str, run_date: date, columns: list[str] | None = None) -> pa.Table:
    """The rows of ``table`` for a published night (the parts its manifest lists), optionally
    only ``columns``; no attempt check (:func:`read_night` does that). One part in memory at a
    time besides the result, so read only the columns you need."""
    published = schema.PUBLISHED[table]
    return lake.read_tables(night_parts(lake, table, run_date), published, columns=columns)


def check_night(lake: Lake, run_date: date) -> list[str]:
    """What keeps ``run_date``'s tables from being the complete, consistent publication its
    manifest describes; an empty list when they are. Reads the manifest, lists each table's
    partition folder, reads each part's Parquet footer and the ``stage`` column of ``failures``."""
    import pyarrow.compute as pc

    rel = manifest_file(run_date)
    if not lake.exists(rel):
        return [f"no manifest for {run_date}: the night was never completely published"]
    manifest = lake.read_json(rel)
    attempt = manifest.get("attempt")
    if manifest.get("status") == "failed":
        return [f"the night {run_date} failed and was not published: {manifest.get('error', 'failure bound')}"]
    if not attempt:
        return [f"the manifest for {run_date} names no publish attempt (written before the lake had attempts)"]
    problems, rows = [], Counter()
    for table in TABLES:
        parts = layout.manifest_parts(manifest, table)
        if not parts:
            problems.append(f"{partition_path(table, run_date)}: the manifest lists no part")
        listed = {part["path"] for part in parts}
        for extra in sorted(set(lake.list_files(layout.table_dir(table, run_date))) - listed):
            problems.append(f"{extra}: not in the manifest (left by another attempt)")

        def check(part: dict) -> tuple[str | None, int]:
            path, size = part["path"], lake.size(part["path"])
            if size is None:
                return f"{path}: missing", 0
            meta = lake.read_metadata(path)
            found = ((meta.metadata or {}).get(ATTEMPT_KEY) or b"").decode()
            if found != attempt:
                return f"{path}: from attempt {found or '?'}, the manifest names {attempt}", 0
            if part.get("bytes") is not None and size != part["bytes"]:
                return f"{path}: {size} bytes, the manifest says {part['bytes']}", 0
            return None, meta.num_rows

        for problem, n in _each(check, parts):
            if problem:
                problems.append(problem)
            rows[table] += n
    books = manifest.get("accounting")
    if books and not problems:
        parts = layout.manifest_parts(manifest, "failures")
        stages = _each(lambda p: lake.read_table(p["path"], columns=["stage"]).column("stage"), parts)
        discover = sum(pc.sum(pc.equal(s, "discover")).as_py() or 0 for s in stages)
        found = _books(books["discovered"], rows["articles"], rows["duplicates"], rows["failures"] - discover)
        if found != books or found["unaccounted"] > 0:
            problems.append(f"accounting: the tables hold {found}, the manifest says {books}")
    return problems


def read_night(lake: Lake, run_date: date, tables: tuple[str, ...] = TABLES) -> tuple[dict, dict[str, pa.Table]]:
    """The manifest and the tables of one published night, checked to belong together.

    Reads the manifest first, then each part it lists, and raises :class:`NightNotConsistent`
    when a part read is not from the attempt the manifest names, or is gone (retry later: a
    publish is running, or re-publish the night). The attempt id is inside each part, so the
    check holds for the bytes actually read, even if a publish commits in between. Parts the
    manifest does not list are not read.
    """
    rel = manifest_file(run_date)
    if not lake.exists(rel):
        raise NightNotConsistent(f"no manifest for {run_date}: the night was never completely published")
    manifest = lake.read_json(rel)
    if manifest.get("status") == "failed":
        raise NightFailed(
            f"the night {run_date} failed and was not published: {manifest.get('error', 'failure bound')}"
        )
    out = {}
    for table in tables:
        pieces = []
        for part in layout.manifest_parts(manifest, table):
            try:
                data = lake.read_table(part["path"])
            except FileNotFoundError:
                raise NightNotConsistent(
                    f"{part['path']} is gone: {run_date} is being published again, read again shortly"
                ) from None
            found = (data.schema.metadata or {}).get(ATTEMPT_KEY, b"").decode()
            if not manifest.get("attempt") or found != manifest["attempt"]:
                raise NightNotConsistent(
                    f"{table} for {run_date} is from attempt {found or '?'}, "
                    f"the manifest names {manifest.get('attempt')}"
                )
            pieces.append(data)
        out[table] = pa.concat_tables(pieces) if pieces else schema.PUBLISHED[table].empty_table()
    return manifest, out


def _books(discovered: int, published: int, duplicates: int, failed: int) -> dict:
    return {
        "discovered": discovered,
        "published": published,
        "duplicates": duplicates,
        "failed": failed,
        "unaccounted": discovered - published - duplicates - failed,
    }


def accounting(discovered: int, tables: dict[str, pa.Table]) -> dict:
    """Each discovered URL ends in exactly one table: published, a duplicate, or a failure of
    fetch, clean or dedup (discover failures name sources and feed items, not candidates)."""
    import pyarrow.compute as pc

    failures = tables["failures"]
    failed = (
        failures.num_rows - pc.sum(pc.equal(failures.column("stage"), "discover")).as_py() if failures.num_rows else 0
    )
    return _books(discovered, tables["articles"].num_rows, tables["duplicates"].num_rows, failed)


def code_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("newsclean")
    except PackageNotFoundError:
        release = "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{release}+{commit}" if commit else release


# ---------------------------------------------------------------- the attempt and the shards
def night_attempt(lake: Lake, config: Config, run_date: date) -> str:
    """The id of the publication of the night's current dedup output, ``20250829T031500Z-1f2e3d4c5b6a``.

    The time is when dedup last wrote its decisions (one file per shard; so ids sort by the
    dedup they publish); the suffix hashes the decision files (paths, sizes, times), the code
    version and the config. The shard tasks and the commit of one publication compute it alone
    and agree; a new dedup of the night gives a new id."""
    import pyarrow.fs as pafs

    selector = pafs.FileSelector(
        lake.path(f"{layout.work_dir(run_date)}/decisions"), recursive=True, allow_not_found=True
    )
    files = [i for i in lake.fs.get_file_info(selector) if i.type == pafs.FileType.File]
    if not files:
        raise FileNotFoundError(f"no dedup decisions for {run_date} in {lake.uri}: run dedup before publish")
    listing = sorted((i.path.removeprefix(lake.root), i.size, i.mtime_ns or 0) for i in files)
    digest = hashlib.sha256(repr((listing, code_version(), config.digest())).encode()).hexdigest()
    newest = datetime.fromtimestamp(max(m for _, _, m in listing) / 1e9, timezone.utc)
    return newest.strftime("%Y%m%dT%H%M%SZ") + "-" + digest[:12]


def night_shards(lake: Lake, run_date: date) -> list[int]:
    """The night's shards: those discover wrote candidates for (kept by a reprocess run)."""
    files = lake.list_files(f"{layout.work_dir(run_date)}/candidates", ".parquet")
    return sorted(layout.shard_of_name(f) for f in files)


def _failure_files(lake: Lake, run_date: date, shard: int, first: bool) -> list[str]:
    """The step failure files of ``shard`` (``<step>-shard-N``); the night's first shard also
    takes the night-level ones (discover's)."""
    mine = []
    for rel in lake.list_files(f"{layout.work_dir(run_date)}/failures", ".parquet"):
        name = rel.rsplit("/", 1)[1]
        if ("shard-" in name and layout.shard_of_name(name) == shard) or ("shard-" not in name and first):
            mine.append(rel)
    return mine


# ---------------------------------------------------------------- one shard
def _first_per_id(table: pa.Table) -> pa.Table:
    """The first row of each id (one URL per id is the rule; this keeps a part free of repeats
    even if a step wrote one twice)."""
    import pyarrow.compute as pc

    if table.num_rows == 0 or pc.count_distinct(table.column("id")).as_py() == table.num_rows:
        return table
    rows = pa.table({"id": table.column("id"), "row": pa.array(range(table.num_rows), pa.int64())})
    first = rows.group_by("id", use_threads=False).aggregate([("row", "min")]).column("row_min")
    return table.take(pa.array(sorted(first.to_pylist()), pa.int64()))


def _word_counts(texts: pa.ChunkedArray) -> pa.Array:
    from cleaning.clean.text import word_count

    counts: list[int] = []
    for start in range(0, len(texts), BATCH_ROWS):
        counts.extend(word_count(t) for t in texts.slice(start, BATCH_ROWS).to_pylist())
    return pa.array(counts, pa.int32())


def build_shard(
    lake: Lake, run_date: date, shard: int, first: bool = False
) -> tuple[dict[str, pa.Table], pa.Table, dict]:
    """One shard's rows of the three tables, its history rows and its counts, column by column
    from its own work files: final bodies, content hashes and history fields (signatures), the
    dedup decisions, candidates and failures. ``first``: the night's first shard, which also
    carries the night-level failures (discover's)."""
    import pyarrow.compute as pc

    from cleaning.dedup import SIGNATURES
    from cleaning.dedup.history import HISTORY

    final = _first_per_id(lake.read_table(layout.work_shard(run_date, "final", shard), schema=schema.CLEANED))
    kept = [name for name in HISTORY.names if name in SIGNATURES.names]  # not the shingle sets
    sigs = _first_per_id(lake.read_tables([layout.work_shard(run_date, "signatures", shard)], SIGNATURES, kept))
    decided_rel = layout.work_shard(run_date, "decisions", shard)
    if lake.exists(decided_rel):
        from cleaning.dedup.stages import read_decisions

        decisions = _first_per_id(read_decisions(lake, run_date, shard).select(DECISION_COLUMNS))
    elif final.num_rows:
        raise FileNotFoundError(f"no dedup decisions for shard {shard} of {run_date} ({decided_rel}): run dedup first")
    else:
        from cleaning.dedup.stages import DECISIONS

        decisions = DECISIONS.empty_table().select(DECISION_COLUMNS)

    decided = decisions.take(pc.index_in(final.column("id"), value_set=decisions.column("id")))
    duplicate = pc.fill_null(decided.column("is_duplicate"), False)
    kept_rows = pc.invert(duplicate)

    published = final.filter(kept_rows)
    ids = published.column("id")
    columns = {name: published.column(name) for name in published.column_names}
    columns["word_count"] = _word_counts(published.column("text"))
    columns["content_hash"] = pc.fill_null(
        sigs.column("content_hash").take(pc.index_in(ids, value_set=sigs.column("id"))), ""
    )
    columns["cluster_size"] = pc.fill_null(decided.filter(kept_rows).column("cluster_size"), 1).cast(pa.int32())
    articles = pa.table([columns[f.name] for f in schema.ARTICLES], schema=schema.ARTICLES).sort_by("id")

    dropped, why = final.filter(duplicate), decided.filter(duplicate)
    from_history = pc.fill_null(why.column("canonical_from_history"), False)
    tonight = pa.scalar(run_date, pa.date32())
    columns = {name: dropped.column(name) for name in ("id", "url", "final_url", "source", "title")}
    columns.update({name: why.column(name) for name in ("canonical_id", "method", "measure")})
    columns["canonical_url"] = pc.fill_null(why.column("canonical_url"), "")
    columns["canonical_run_date"] = pc.if_else(from_history, why.column("canonical_run_date"), tonight)
    for name in ("jaccard", "containment", "score"):
        columns[name] = why.column(name).cast(schema.DUPLICATES.field(name).type)
    duplicates = pa.table([columns[f.name] for f in schema.DUPLICATES], schema=schema.DUPLICATES).sort_by("id")

    failures = lake.read_tables(_failure_files(lake, run_date, shard, first), schema.FAILURES)
    failures = failures.sort_by([("stage", "ascending"), ("source", "ascending"), ("url", "ascending")])

    history = sigs.filter(pc.is_in(sigs.column("id"), value_set=articles.column("id")))
    history = history.append_column("run_date", pa.array([run_date] * history.num_rows, pa.date32()))
    history = history.append_column(
        "url", articles.column("url").take(pc.index_in(history.column("id"), value_set=articles.column("id")))
    )
    history = history.select(HISTORY.names).cast(HISTORY).sort_by("id")

    candidates_rel = layout.work_shard(run_date, "candidates", shard)
    discovered = lake.read_table(candidates_rel, columns=["source"]) if lake.exists(candidates_rel) else None
    per_source: dict[str, Counter] = defaultdict(Counter)
    for source in discovered.column("source").to_pylist() if discovered is not None else []:
        per_source[source]["discovered"] += 1
    stages = failures.column("stage").to_pylist()
    for source, stage in zip(failures.column("source").to_pylist(), stages):
        per_source[source][f"failed_{stage}"] += 1
    for source in articles.column("source").to_pylist():
        per_source[source]["published"] += 1
    for source, method in zip(duplicates.column("source").to_pylist(), duplicates.column("method").to_pylist()):
        per_source[source][f"{method}_duplicates"] += 1
    counts = {
        "sources": {s: {c: per_source[s].get(c, 0) for c in SUMMARY_COLUMNS} for s in sorted(per_source)},
        "cleaned": final.num_rows,  # every article that reached dedup (a story alone has no decision row)
        "discover_failures": stages.count("discover"),
    }
    return {"articles": articles, "duplicates": duplicates, "failures": failures}, history, counts


def _encode(table: pa.Table) -> bytes:
    """One Parquet file in memory; an empty part has no row group at all (a row group of no rows
    would carry no column statistics), which every reader reads as no rows."""
    if table.num_rows:
        return parquet_bytes(table)
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.ParquetWriter(sink, table.schema, compression=COMPRESSION).close()
    return sink.getvalue().to_pybytes()


def _stage_part(lake: Lake, run_date: date, attempt: str, table: str, shard: int, data: pa.Table) -> dict:
    """Encode one part once, with the attempt in its footer, stage it, and check the staged size.
    (Encoding first matters on S3: an error while streaming into an object still completes the
    upload with a truncated object.)"""
    metadata = {
        **schema.PUBLISHED[table].metadata,
        ATTEMPT_KEY: attempt.encode(),
        b"run_date": run_date.isoformat().encode(),
    }
    encoded = _encode(data.replace_schema_metadata(metadata))
    staged = layout.staged_part(run_date, attempt, table, shard)
    lake.write_bytes(staged, encoded)
    if lake.size(staged) != len(encoded):  # an upload that went wrong must not reach a table
        raise OSError(f"staged {staged} is {lake.size(staged)} bytes, expected {len(encoded)}: nothing published")
    return {
        "staged": staged,
        "path": layout.table_part(table, run_date, shard),
        "rows": data.num_rows,
        "bytes": len(encoded),
        "sha256": sha256(encoded),
    }


def _stage_history(
    lake: Lake, run_date: date, attempt: str, shard: int, history: pa.Table, key_ranges: int
) -> list[str]:
    """Write the shard's history files under the attempt's staging; returns their paths relative
    to :func:`layout.staged_history`, where the commit finds them and from where it moves them
    to the same paths under ``history/run_date=D/``. The keys are split in as many ranges as the
    bucket tasks use (:func:`cleaning.dedup.history.ranges_for`)."""
    from cleaning.dedup import history as hist

    directory = layout.staged_history(run_date, attempt)
    written = hist.write_shard(lake, directory, shard, history, hist.ranges_for(key_ranges))
    return [p.removeprefix(directory + "/") for p in written]


def publish_shard(
    config: Config, run_date: date, shard: int, attempt: str | None = None, dry_run: bool = False
) -> dict:
    """Build and stage one shard's parts of the night's tables and its history files, and write
    its counts for :func:`commit_night`. Reads only the shard's own work files; publishing a
    shard again replaces its staged parts. A dry run builds and counts, and stages nothing."""
    started = time.monotonic()
    lake = Lake(config.lake)
    attempt = attempt or night_attempt(lake, config, run_date)
    first = shard == min(night_shards(lake, run_date), default=shard)
    tables, history, counts = build_shard(lake, run_date, shard, first)
    timings = {"build": round(time.monotonic() - started, 3)}
    mark = time.monotonic()
    parts = {} if dry_run else {t: _stage_part(lake, run_date, attempt, t, shard, tables[t]) for t in TABLES}
    timings["stage"] = round(time.monotonic() - mark, 3)
    mark = time.monotonic()
    history_files = [] if dry_run else _stage_history(lake, run_date, attempt, shard, history, config.dedup.key_ranges)
    timings["history"] = round(time.monotonic() - mark, 3)
    record = {
        "stage": "publish",
        "shard": shard,
        "run_date": run_date.isoformat(),
        "attempt": attempt,
        "dry_run": dry_run,
        "rows": {t: tables[t].num_rows for t in TABLES},
        **counts,
        "parts": parts,
        "history": history_files,
        "history_rows": history.num_rows,
        "timings": timings,
        "seconds": round(time.monotonic() - started, 3),
    }
    lake.write_json(layout.publish_counts(run_date, shard), record)
    return {k: record[k] for k in ("stage", "shard", "attempt", "rows", "seconds")}


# ---------------------------------------------------------------- the whole night
def publish_night(
    config: Config,
    run_date: date,
    dry_run: bool = False,
    stage_stats: list[dict] | None = None,
    owner: str | None = None,
) -> dict:
    """In one process: :func:`publish_shard` for every shard of the night, then
    :func:`commit_night` (what the mapped publish tasks and the commit task do under Airflow)."""
    lake = Lake(config.lake)
    attempt = night_attempt(lake, config, run_date)
    for shard in night_shards(lake, run_date):
        publish_shard(config, run_date, shard, attempt=attempt, dry_run=dry_run)
    return commit_night(config, run_date, attempt=attempt, dry_run=dry_run, stage_stats=stage_stats, owner=owner)


def _shard_records(lake: Lake, run_date: date, attempt: str, dry_run: bool) -> list[dict]:
    def record(shard: int) -> dict:
        rel = layout.publish_counts(run_date, shard)
        if not lake.exists(rel):
            raise RuntimeError(f"{run_date}: shard {shard} was not published ({rel} missing); nothing published")
        found = lake.read_json(rel)
        if found.get("attempt") != attempt:
            raise RuntimeError(
                f"{run_date}: shard {shard} was published for attempt {found.get('attempt')}, not {attempt} "
                "(dedup ran again since): publish it again; nothing published"
            )
        if found.get("dry_run") and not dry_run:
            raise RuntimeError(
                f"{run_date}: shard {shard} was published as a dry run: publish it again; nothing published"
            )
        return found

    shards = night_shards(lake, run_date)
    if not shards:
        raise FileNotFoundError(f"no shards for {run_date} in {lake.uri}: run discover first")
    return _each(record, shards)


def _summary(records: list[dict]) -> dict:
    sources: dict[str, Counter] = defaultdict(Counter)
    for record in records:
        for source, counts in record["sources"].items():
            sources[source].update(counts)
    out = {s: {c: int(sources[s].get(c, 0)) for c in SUMMARY_COLUMNS} for s in sorted(sources)}
    totals = {c: sum(v[c] for v in out.values()) for c in SUMMARY_COLUMNS}
    totals["cleaned"] = sum(r["cleaned"] for r in records)
    failed = totals["failed_discover"] + totals["failed_fetch"] + totals["failed_clean"]
    attempted = totals["discovered"] + totals["failed_discover"]
    totals["failure_share"] = round(failed / attempted, 4) if attempted else 0.0
    return {"sources": out, "totals": totals}


def commit_night(
    config: Config,
    run_date: date,
    attempt: str | None = None,
    dry_run: bool = False,
    stage_stats: list[dict] | None = None,
    owner: str | None = None,
) -> dict:
    """Commit the night the publish tasks staged: check the accounting and the failure bound from
    their counts, commit the parts table by table, the history and the seen-URL state, and the
    manifest last. With ``owner``, only while that run holds the date's lease. Raises
    :class:`RunFailed` for a night past its failure bound (after publishing its failures, on a
    first attempt at the date). A dry run checks and returns the manifest it would write."""
    started = time.monotonic()
    lake = Lake(config.lake)
    attempt = attempt or night_attempt(lake, config, run_date)
    records = _shard_records(lake, run_date, attempt, dry_run)
    summary = _summary(records)
    rows = {t: sum(r["rows"][t] for r in records) for t in TABLES}
    discover_failures = sum(r["discover_failures"] for r in records)
    books = _books(
        summary["totals"]["discovered"], rows["articles"], rows["duplicates"], rows["failures"] - discover_failures
    )
    if books["unaccounted"] > 0:  # below 0: a reprocess whose candidates were removed
        raise RuntimeError(f"{run_date}: {books} - discovered URLs missing from every table; nothing published")
    manifest = {
        "run_date": run_date.isoformat(),
        "schema_version": schema.SCHEMA_VERSION,
        "config_digest": config.digest(),
        "code_version": code_version(),
        "published_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dry_run": dry_run,
        "attempt": None if dry_run else attempt,
        "rows": rows,
        "summary": summary,
        "accounting": books,
        "stages": stage_stats or [],
    }
    share = summary["totals"]["failure_share"]
    if owner is not None and not dry_run:
        from cleaning import lease

        lease.hold(lake, run_date, owner, config.lease_hours)  # another run took the date over: publish nothing
    if share <= config.max_failure_share:
        if not dry_run:
            _commit(lake, config, run_date, records, TABLES, manifest, started)
        return manifest
    # A failed night publishes nothing a reader of the tables could mistake for a night: its
    # articles and duplicates are withheld and stay out of the history. A first attempt at the
    # date publishes its failures and a manifest saying it failed, for inspection; a re-run of a
    # date already published leaves that publication exactly as it was and writes its report
    # beside the manifest instead.
    reason = f"failure share {share:.1%} is above the bound {config.max_failure_share:.0%} for {run_date}"
    manifest.update(status="failed", failure_bound=config.max_failure_share, error=reason)
    if not dry_run:
        if is_published(lake, run_date):
            manifest["withheld_rows"], manifest["rows"] = manifest["rows"], {}
            manifest["report_file"] = failed_report_file(run_date, attempt)
            lake.write_json(manifest["report_file"], manifest)
            lake.delete_dir(staging_dir(run_date, attempt))
        else:
            manifest["withheld_rows"] = {name: manifest["rows"].pop(name) for name in TABLES if name != "failures"}
            _commit(lake, config, run_date, records, ("failures",), manifest, started)
    raise RunFailed(
        f"{reason}; nothing of the night was published (the counts show what would have been):\n"
        + format_summary(summary)
    )


def failed_report_file(run_date: date, attempt: str) -> str:
    """Where a failed re-run of an already published night leaves its manifest-like report."""
    return f"{layout.manifest_dir(run_date)}/{_FAILED_PREFIX}{attempt}.json"


_FAILED_PREFIX = "failed-"


def failed_reports(lake: Lake, run_date: date) -> list[str]:
    """The reports of failed re-runs of ``run_date``, oldest attempt first."""
    files = lake.list_files(layout.manifest_dir(run_date), ".json")
    return sorted(f for f in files if f.rsplit("/", 1)[-1].startswith(_FAILED_PREFIX))


def is_published(lake: Lake, run_date: date) -> bool:
    """Has ``run_date`` a manifest of a night that passed its bound? (Only such nights count as
    seen, as history and as health; a crashed or failed night does not.)"""
    rel = manifest_file(run_date)
    return lake.exists(rel) and lake.read_json(rel).get("status") != "failed"


def _check_staged(lake: Lake, run_date: date, attempt: str, parts: list[dict]) -> None:
    """Every part is staged whole, or already committed by an earlier try of this same attempt
    (a commit that died midway and is run again); else nothing is published."""
    import pyarrow.fs as pafs

    selector = pafs.FileSelector(lake.path(staging_dir(run_date, attempt)), recursive=True, allow_not_found=True)
    sizes = {i.path.removeprefix(lake.root + "/"): i.size for i in lake.fs.get_file_info(selector)}

    def check(part: dict) -> None:
        if sizes.get(part["staged"]) == part["bytes"]:
            return
        if part["staged"] not in sizes and lake.size(part["path"]) == part["bytes"]:
            if _attempt_in(lake, part["path"]) == attempt:
                part["committed"] = True
                return
        raise OSError(
            f"staged {part['staged']} is {sizes.get(part['staged'], 'missing, not')} bytes, expected "
            f"{part['bytes']}: nothing published"
        )

    _each(check, parts)


def _delete_stale_parts(lake: Lake, table: str, run_date: date, keep: set[str]) -> None:
    """Delete the files of a table's night that this attempt did not write."""
    stale = [rel for rel in lake.list_files(layout.table_dir(table, run_date)) if rel not in keep]
    _each(lake.delete_file, stale)


def _commit_history(lake: Lake, config: Config, run_date: date, attempt: str, records: list[dict]) -> None:
    """The staged history files become the night's history (the date's old files go), then
    history past the retention window is pruned."""
    from cleaning.dedup import history as hist

    staged, target = layout.staged_history(run_date, attempt), layout.history_dir(run_date)
    wanted = {f"{staged}/{rel}": f"{target}/{rel}" for record in records for rel in record["history"]}
    keep = set(wanted.values())
    _each(lake.delete_file, [rel for rel in lake.list_files(target) if rel not in keep])

    def move(item: tuple[str, str]) -> None:
        source, final = item
        if lake.exists(source):
            lake.commit(source, final)
        elif not lake.exists(final):  # not moved by an earlier try of this attempt: lost
            raise OSError(f"staged history file {source} is missing: publish its shard again")

    _each(move, sorted(wanted.items()))
    hist.prune(lake, run_date, config.dedup.history_days)


def _commit(
    lake: Lake,
    config: Config,
    run_date: date,
    records: list[dict],
    tables: tuple[str, ...],
    manifest: dict,
    started: float,
) -> None:
    """Check the staged parts, commit them table by table (deleting each table's stale parts),
    the history, the seen-URL state, the manifest last, then drop the staging folder.
    ``tables``: all of them, or only ``failures`` for a failed night, which then publishes no
    articles or duplicates (any left by a crashed attempt are deleted) and adds nothing to the
    history."""
    attempt = manifest["attempt"]
    timings = {name: round(sum(r["timings"][name] for r in records), 3) for name in ("build", "stage", "history")}
    parts = {t: sorted((dict(r["parts"][t]) for r in records), key=lambda p: p["path"]) for t in tables}
    mark = time.monotonic()
    _check_staged(lake, run_date, attempt, [p for t in tables for p in parts[t]])
    timings["stage"] = round(timings["stage"] + time.monotonic() - mark, 3)
    _crash_point("staged")
    mark = time.monotonic()
    for table in TABLES:
        if table not in tables:
            _delete_stale_parts(lake, table, run_date, keep=set())
            continue
        _each(lambda p: p.get("committed") or lake.commit(p["staged"], p["path"]), parts[table])
        _delete_stale_parts(lake, table, run_date, keep={p["path"] for p in parts[table]})
        _crash_point(table)
    timings["commit"] = round(time.monotonic() - mark, 3)
    mark = time.monotonic()
    if "articles" in tables:
        _commit_history(lake, config, run_date, attempt, records)
    timings["history"] = round(timings["history"] + time.monotonic() - mark, 3)
    _crash_point("history")
    if "articles" in tables:  # the seen-URL state and feed cache commit with the night
        manifest["state_committed"] = state.commit_night(lake, run_date)
        _crash_point("state")
    manifest["files"] = {
        t: {
            "path": partition_path(t, run_date),
            "rows": sum(p["rows"] for p in parts[t]),
            "bytes": sum(p["bytes"] for p in parts[t]),
            "parts": [{k: p[k] for k in ("path", "rows", "bytes", "sha256")} for p in parts[t]],
        }
        for t in tables
    }
    manifest["publish_timings"] = timings
    manifest["publish_seconds"] = round(sum(r["seconds"] for r in records) + time.monotonic() - started, 3)
    lake.write_json(manifest_file(run_date), manifest)
    _crash_point("manifest")
    # This attempt's staging, and any left by attempts that died before committing this date.
    lake.delete_dir(staging_dir(run_date))


def format_summary(summary: dict) -> str:
    """The per-source summary as a fixed-width text table, in pipeline order.

    ``fetched`` and ``cleaned`` are derived from the manifest's counts: cleaned = articles that
    reached dedup (exact + near duplicates + published); fetched = discovered - fetch failures,
    at least cleaned + clean failures (a reprocess run whose candidates were removed).
    """
    headers = (
        "source",
        "fail:disc",
        "discovered",
        "fetched",
        "fail:fetch",
        "cleaned",
        "fail:clean",
        "exact dup",
        "near dup",
        "published",
    )

    def cells(counts: dict) -> list[int]:
        get = lambda c: int(counts.get(c, 0))  # noqa: E731
        cleaned = get("exact_duplicates") + get("near_duplicates") + get("published")
        fetched = max(get("discovered") - get("failed_fetch"), cleaned + get("failed_clean"))
        return [
            get("failed_discover"),
            get("discovered"),
            fetched,
            get("failed_fetch"),
            cleaned,
            get("failed_clean"),
            get("exact_duplicates"),
            get("near_duplicates"),
            get("published"),
        ]

    body = [[name] + cells(counts) for name, counts in summary["sources"].items()]
    total = ["TOTAL"] + [sum(r[i] for r in body) for i in range(1, len(headers))]
    rows = [[str(v) for v in r] for r in body + [total]]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(values) -> str:
        return "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths))).rstrip()

    lines = [line(headers)] + [line(r) for r in rows]
    lines.append(f"failure share: {summary['totals']['failure_share']:.1%}")
    return "\n".join(lines)
