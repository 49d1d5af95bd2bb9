"""Publish stage: tonight's work files become the night's partitions of the lake tables.

Each table gets exactly one file per run date, ``<table>/run_date=D/part-0.parquet``, written
whole and moved into place, so a reader sees the old partition or the new one and a re-run
replaces the date's rows instead of adding to them. The history index and then the manifest
(``manifests/run_date=D/manifest.json``) are written last: a manifest present means the night
completed. Rows are sorted by id, so the same inputs give byte-for-byte the same rows.
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow as pa

from cleaning import schema
from cleaning.config import Config
from cleaning.store import Lake

TABLES = ("articles", "duplicates", "failures")


def partition_file(table: str, run_date: date) -> str:
    return f"{table}/run_date={run_date.isoformat()}/part-0.parquet"


def manifest_file(run_date: date) -> str:
    return f"manifests/run_date={run_date.isoformat()}/manifest.json"


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
    from cleaning.pipeline import DECISIONS, work_dir

    wd = work_dir(run_date)
    final = lake.read_tables(lake.list_files(f"{wd}/final", ".parquet"), schema.CLEANED)
    sigs = lake.read_tables(lake.list_files(f"{wd}/signatures", ".parquet"), SIGNATURES)
    decisions = lake.read_table(f"{wd}/decisions.parquet", schema=DECISIONS) if lake.exists(f"{wd}/decisions.parquet") else DECISIONS.empty_table()
    failures = lake.read_tables(lake.list_files(f"{wd}/failures", ".parquet"), schema.FAILURES)
    candidates = lake.read_tables(lake.list_files(f"{wd}/candidates", ".parquet"), schema.CANDIDATES, columns=["url", "source"])
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
                    "word_count": len(row["text"].split()),
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
                "source": row["source"],
                "title": row["title"],
                "canonical_id": canonical,
                "canonical_url": canonical_url,
                "canonical_run_date": canonical_date,
                "method": decision["method"],
                "jaccard": decision["jaccard"],
                "containment": decision["containment"],
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
    columns = ("discovered", "failed_discover", "failed_fetch", "failed_clean", "exact_duplicates", "near_duplicates", "published")
    sources = {s: {c: per_source[s].get(c, 0) for c in columns} for s in sorted(per_source)}
    totals = {c: sum(v[c] for v in sources.values()) for c in columns}
    totals["cleaned"] = len(decided)
    failed = totals["failed_discover"] + totals["failed_fetch"] + totals["failed_clean"]
    attempted = totals["discovered"] + totals["failed_discover"]
    totals["failure_share"] = round(failed / attempted, 4) if attempted else 0.0
    return {"sources": sources, "totals": totals}


def publish_night(config: Config, run_date: date, dry_run: bool = False, stage_stats: list[dict] | None = None) -> dict:
    from cleaning.dedup import history as hist
    from cleaning.pipeline import RunFailed

    started = time.monotonic()
    lake = Lake(config.lake)
    tables, summary = build_tables(lake, config, run_date)
    manifest = {
        "run_date": run_date.isoformat(),
        "schema_version": schema.SCHEMA_VERSION,
        "config_digest": config.digest(),
        "code_version": code_version(),
        "published_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dry_run": dry_run,
        "rows": {name: table.num_rows for name, table in tables.items()},
        "summary": summary,
        "stages": stage_stats or [],
    }
    if not dry_run:
        for name in TABLES:
            lake.write_table(partition_file(name, run_date), tables[name])
        sigs = _published_signatures(lake, run_date, tables["articles"])
        hist.save(lake, run_date, sigs)
        hist.prune(lake, run_date, config.dedup.history_days)
        manifest["publish_seconds"] = round(time.monotonic() - started, 3)
        lake.write_json(manifest_file(run_date), manifest)
    share = summary["totals"]["failure_share"]
    if share > config.max_failure_share:
        raise RunFailed(
            f"failure share {share:.1%} is above the bound {config.max_failure_share:.0%} for {run_date}:\n"
            + format_summary(summary)
        )
    return manifest


def _published_signatures(lake: Lake, run_date: date, articles: pa.Table) -> pa.Table:
    import pyarrow.compute as pc

    from cleaning.dedup import SIGNATURES
    from cleaning.dedup.history import HISTORY
    from cleaning.pipeline import work_dir

    sigs = lake.read_tables(lake.list_files(f"{work_dir(run_date)}/signatures", ".parquet"), SIGNATURES)
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
    """The per-source summary as a fixed-width text table."""
    columns = ("discovered", "failed_discover", "failed_fetch", "failed_clean", "exact_duplicates", "near_duplicates", "published")
    headers = ("source", "discovered", "fail:disc", "fail:fetch", "fail:clean", "exact dup", "near dup", "published")
    rows = [[name] + [str(counts[c]) for c in columns] for name, counts in summary["sources"].items()]
    rows.append(["TOTAL"] + [str(summary["totals"][c]) for c in columns])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths)))]
    for r in rows:
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths))))
    lines.append(f"failure share: {summary['totals']['failure_share']:.1%}")
    return "\n".join(lines)
