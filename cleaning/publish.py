"""Publish stage: tonight's work files become the night's partitions of the lake tables.

Each table gets exactly one file per run date, ``<table>/run_date=D/part-0.parquet``, so a re-run
replaces the date's rows instead of adding to them and a retried publish never duplicates rows.
Publishing one night (an *attempt*, with its own id) goes in four steps, the same on a local disk
and on object storage, which has no atomic rename (``docs/lake.md``):

1. stage: each table is encoded once and written under ``_staging/run_date=D/<attempt>/``, and
   the staged sizes are checked; a crash here leaves the published tables untouched;
2. commit, table by table: each staged file becomes ``<table>/run_date=D/part-0.parquet`` in
   one step (a rename, or one server-side copy), so a reader of a table sees the whole old file
   or the whole new one;
3. the history index of the night, then the night's seen-URL state and feed cache
   (:mod:`cleaning.fetch.state`), so a night that never publishes never hides its stories;
4. the manifest ``manifests/run_date=D/manifest.json``, last: it names the attempt and each
   file's rows, size and SHA-256. Each file also carries its attempt id in its Parquet footer
   (``publish_attempt``), so a reader checks that the files it read are the ones the manifest
   names (:func:`check_night`, :func:`read_night`). Then the staging folder is deleted.

Rows are sorted by id, so the same inputs give the same rows.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow as pa

from cleaning import layout, schema
from cleaning.clean.text import word_count
from cleaning.config import Config
from cleaning.crash import CRASH_ENV, crash_point  # noqa: F401 (CRASH_ENV: the hook's switch)
from cleaning.fetch import state
from cleaning.store import Lake, parquet_bytes, sha256

TABLES = layout.PUBLISHED_TABLES
ATTEMPT_KEY = b"publish_attempt"
_crash_point = crash_point  # after "staged", each table, "history", "state" and "manifest"
partition_file, manifest_file, staging_dir = layout.table_file, layout.manifest_file, layout.staging_dir


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


def check_night(lake: Lake, run_date: date) -> list[str]:
    """What keeps ``run_date``'s tables from being the complete, consistent publication its
    manifest describes; an empty list when they are. Reads the manifest and the Parquet footers."""
    rel = manifest_file(run_date)
    if not lake.exists(rel):
        return [f"no manifest for {run_date}: the night was never completely published"]
    manifest = lake.read_json(rel)
    attempt, files = manifest.get("attempt"), manifest.get("files") or {}
    if manifest.get("status") == "failed":
        return [f"the night {run_date} failed and was not published: {manifest.get('error', 'failure bound')}"]
    if not attempt:
        return [f"the manifest for {run_date} names no publish attempt (written before the lake had attempts)"]
    problems = []
    for table in TABLES:
        path = partition_file(table, run_date)
        expected = files.get(table, {})
        if lake.size(path) is None:
            problems.append(f"{path}: missing")
            continue
        found = (lake.read_metadata(path).metadata or {}).get(ATTEMPT_KEY, b"").decode()
        if found != attempt:
            problems.append(f"{path}: from attempt {found or '?'}, the manifest names {attempt}")
        elif expected.get("bytes") is not None and lake.size(path) != expected["bytes"]:
            problems.append(f"{path}: {lake.size(path)} bytes, the manifest says {expected['bytes']}")
    books = manifest.get("accounting")
    if books and not problems:
        found = accounting(books["discovered"], {t: lake.read_table(partition_file(t, run_date)) for t in TABLES})
        if found != books or found["unaccounted"] > 0:
            problems.append(f"accounting: the tables hold {found}, the manifest says {books}")
    return problems


def read_night(lake: Lake, run_date: date, tables: tuple[str, ...] = TABLES) -> tuple[dict, dict[str, pa.Table]]:
    """The manifest and the tables of one published night, checked to belong together.

    Reads the manifest first, then each table, and raises :class:`NightNotConsistent` when a
    table read is not from the attempt the manifest names (retry later: a publish is running, or
    re-publish the night). The attempt id is inside each file, so the check holds for the bytes
    actually read, even if a publish commits in between.
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
        data = lake.read_table(partition_file(table, run_date))
        found = (data.schema.metadata or {}).get(ATTEMPT_KEY, b"").decode()
        if not manifest.get("attempt") or found != manifest["attempt"]:
            raise NightNotConsistent(
                f"{table} for {run_date} is from attempt {found or '?'}, the manifest names {manifest.get('attempt')}"
            )
        out[table] = data
    return manifest, out


def accounting(discovered: int, tables: dict[str, pa.Table]) -> dict:
    """Each discovered URL ends in exactly one table: published, a duplicate, or a failure of
    fetch, clean or dedup (discover failures name sources and feed items, not candidates)."""
    import pyarrow.compute as pc

    failures = tables["failures"]
    failed = (
        failures.num_rows - pc.sum(pc.equal(failures.column("stage"), "discover")).as_py() if failures.num_rows else 0
    )
    published, duplicates = tables["articles"].num_rows, tables["duplicates"].num_rows
    return {
        "discovered": discovered,
        "published": published,
        "duplicates": duplicates,
        "failed": failed,
        "unaccounted": discovered - published - duplicates - failed,
    }


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


def _read_work(lake: Lake, run_date: date):
    from cleaning.dedup import SIGNATURES
    from cleaning.pipeline import DECISIONS

    wd = layout.work_dir(run_date)
    final = lake.read_tables(lake.list_files(f"{wd}/final", ".parquet"), schema.CLEANED)
    sigs = lake.read_tables(lake.list_files(f"{wd}/signatures", ".parquet"), SIGNATURES, columns=["id", "content_hash"])
    decided = layout.work_file(run_date, "decisions.parquet")
    decisions = lake.read_table(decided, schema=DECISIONS) if lake.exists(decided) else DECISIONS.empty_table()
    failures = lake.read_tables(lake.list_files(f"{wd}/failures", ".parquet"), schema.FAILURES)
    candidates = lake.read_tables(
        lake.list_files(f"{wd}/candidates", ".parquet"), schema.CANDIDATES, columns=["url", "source"]
    )
    return final, sigs, decisions, failures, candidates


def build_tables(lake: Lake, config: Config, run_date: date) -> tuple[dict[str, pa.Table], dict]:
    from cleaning.dedup import history as hist

    final, sigs, decisions, failures, candidates = _read_work(lake, run_date)
    articles = {}
    for row in final.to_pylist():
        articles.setdefault(row["id"], row)
    hashes = dict(zip(sigs.column("id").to_pylist(), sigs.column("content_hash").to_pylist()))
    decided = {d["id"]: d for d in decisions.to_pylist()}
    cluster_sizes = Counter(d["canonical_id"] for d in decided.values())

    history_urls = {}
    if any(d["canonical_from_history"] for d in decided.values()):
        h = hist.load(lake, run_date, config.dedup.history_days)
        history_urls = dict(zip(h.column("id").to_pylist(), h.column("url").to_pylist()))

    published, dropped = [], []
    for id_ in sorted(articles):
        row = articles[id_]
        decision = decided.get(id_)
        if decision is None or not decision["is_duplicate"]:
            published.append(
                {
                    **row,
                    "word_count": word_count(row["text"]),
                    "content_hash": hashes.get(id_, ""),
                    "cluster_size": cluster_sizes.get(id_, 1),
                }
            )
            continue
        canonical = decision["canonical_id"]
        if decision["canonical_from_history"]:
            canonical_url = history_urls.get(canonical, "")
            canonical_date = decision["canonical_run_date"]
        else:
            canonical_url = articles[canonical]["url"]
            canonical_date = run_date
        dropped.append(
            {
                "id": id_,
                "url": row["url"],
                "final_url": row["final_url"],
                "source": row["source"],
                "title": row["title"],
                "canonical_id": canonical,
                "canonical_url": canonical_url,
                "canonical_run_date": canonical_date,
                "method": decision["method"],
                "jaccard": decision["jaccard"],
                "containment": decision["containment"],
                "measure": decision.get("measure"),
                "score": decision.get("score"),
            }
        )

    failure_rows = sorted(failures.to_pylist(), key=lambda f: (f["stage"], f["source"], f["url"]))
    tables = {
        "articles": pa.Table.from_pylist(published, schema=schema.ARTICLES),
        "duplicates": pa.Table.from_pylist(dropped, schema=schema.DUPLICATES),
        "failures": pa.Table.from_pylist(failure_rows, schema=schema.FAILURES),
    }
    return tables, _summary(candidates, tables, decided)


def _summary(candidates: pa.Table, tables: dict[str, pa.Table], decided: dict) -> dict:
    per_source: dict[str, Counter] = defaultdict(Counter)
    for source in candidates.column("source").to_pylist():
        per_source[source]["discovered"] += 1
    for row in tables["failures"].to_pylist():
        per_source[row["source"]][f"failed_{row['stage']}"] += 1
    for source in tables["articles"].column("source").to_pylist():
        per_source[source]["published"] += 1
    for row in tables["duplicates"].to_pylist():
        per_source[row["source"]][f"{row['method']}_duplicates"] += 1
    columns = (
        "discovered",
        "failed_discover",
        "failed_fetch",
        "failed_clean",
        "exact_duplicates",
        "near_duplicates",
        "published",
    )
    sources = {s: {c: per_source[s].get(c, 0) for c in columns} for s in sorted(per_source)}
    totals = {c: sum(v[c] for v in sources.values()) for c in columns}
    totals["cleaned"] = len(decided)
    failed = totals["failed_discover"] + totals["failed_fetch"] + totals["failed_clean"]
    attempted = totals["discovered"] + totals["failed_discover"]
    totals["failure_share"] = round(failed / attempted, 4) if attempted else 0.0
    return {"sources": sources, "totals": totals}


def publish_night(
    config: Config,
    run_date: date,
    dry_run: bool = False,
    stage_stats: list[dict] | None = None,
    owner: str | None = None,
) -> dict:
    started = time.monotonic()
    lake = Lake(config.lake)
    tables, summary = build_tables(lake, config, run_date)
    manifest_accounting = accounting(summary["totals"]["discovered"], tables)
    if manifest_accounting["unaccounted"] > 0:  # below 0: a reprocess whose candidates were removed
        raise RuntimeError(
            f"{run_date}: {manifest_accounting} - discovered URLs missing from every table; nothing published"
        )
    manifest = {
        "run_date": run_date.isoformat(),
        "schema_version": schema.SCHEMA_VERSION,
        "config_digest": config.digest(),
        "code_version": code_version(),
        "published_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dry_run": dry_run,
        "attempt": None if dry_run else new_attempt_id(),
        "rows": {name: table.num_rows for name, table in tables.items()},
        "summary": summary,
        "accounting": manifest_accounting,
        "stages": stage_stats or [],
    }
    share = summary["totals"]["failure_share"]
    if owner is not None and not dry_run:
        from cleaning import lease

        lease.hold(lake, run_date, owner, config.lease_hours)  # another run took the date over: publish nothing
    if share <= config.max_failure_share:
        if not dry_run:
            _commit_night(lake, config, run_date, tables, manifest, started)
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
            manifest["report_file"] = failed_report_file(run_date, manifest["attempt"])
            lake.write_json(manifest["report_file"], manifest)
        else:
            manifest["withheld_rows"] = {name: manifest["rows"].pop(name) for name in TABLES if name != "failures"}
            _commit_night(lake, config, run_date, {"failures": tables["failures"]}, manifest, started)
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


def _commit_night(
    lake: Lake, config: Config, run_date: date, tables: dict[str, pa.Table], manifest: dict, started: float
) -> None:
    """Stage, commit table by table, history, manifest last, then drop the staging folder.
    ``tables`` holds the tables to publish: all of them, or only ``failures`` for a failed night,
    which then adds nothing to the history either."""
    from cleaning.dedup import history as hist

    attempt = manifest["attempt"]
    timings = {"build": round(time.monotonic() - started, 3)}
    mark = time.monotonic()
    staged, files = {}, {}
    for name in tables:
        metadata = {
            **schema.PUBLISHED[name].metadata,
            ATTEMPT_KEY: attempt.encode(),
            b"run_date": run_date.isoformat().encode(),
        }
        data = parquet_bytes(tables[name].replace_schema_metadata(metadata))
        staged[name] = f"{staging_dir(run_date, attempt)}/{name}.parquet.staged"
        lake.write_bytes(staged[name], data)
        files[name] = {
            "path": partition_file(name, run_date),
            "rows": tables[name].num_rows,
            "bytes": len(data),
            "sha256": sha256(data),
        }
    for name in tables:  # an upload that went wrong must not reach a table
        if lake.size(staged[name]) != files[name]["bytes"]:
            raise OSError(
                f"staged {staged[name]} is {lake.size(staged[name])} bytes, expected {files[name]['bytes']}: "
                "nothing published"
            )
    timings["stage"] = round(time.monotonic() - mark, 3)
    _crash_point("staged")
    mark = time.monotonic()
    for name in tables:
        lake.commit(staged[name], files[name]["path"])
        _crash_point(name)
    timings["commit"] = round(time.monotonic() - mark, 3)
    mark = time.monotonic()
    if "articles" in tables:
        hist.save(lake, run_date, _published_signatures(lake, run_date, tables["articles"]))
        hist.prune(lake, run_date, config.dedup.history_days)
    timings["history"] = round(time.monotonic() - mark, 3)
    _crash_point("history")
    if "articles" in tables:  # the seen-URL state and feed cache commit with the night
        manifest["state_committed"] = state.commit_night(lake, run_date)
        _crash_point("state")
    manifest["files"] = files
    manifest["publish_timings"] = timings
    manifest["publish_seconds"] = round(time.monotonic() - started, 3)
    lake.write_json(manifest_file(run_date), manifest)
    _crash_point("manifest")
    # This attempt's staging, and any left by attempts that died before committing this date.
    lake.delete_dir(staging_dir(run_date))


def _published_signatures(lake: Lake, run_date: date, articles: pa.Table) -> pa.Table:
    import pyarrow.compute as pc

    from cleaning.dedup import SIGNATURES
    from cleaning.dedup.history import HISTORY

    kept = [name for name in HISTORY.names if name in SIGNATURES.names]  # not the shingle sets
    sigs = lake.read_tables(
        lake.list_files(f"{layout.work_dir(run_date)}/signatures", ".parquet"), SIGNATURES, columns=kept
    )
    sigs = sigs.filter(pc.is_in(sigs.column("id"), value_set=articles.column("id")))
    urls = dict(zip(articles.column("id").to_pylist(), articles.column("url").to_pylist()))
    rows = []
    seen = set()
    for row in sigs.to_pylist():
        if row["id"] in seen:
            continue
        seen.add(row["id"])
        rows.append({**row, "run_date": run_date, "url": urls[row["id"]]})
    rows.sort(key=lambda r: r["id"])
    return pa.Table.from_pylist(rows, schema=HISTORY)


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
