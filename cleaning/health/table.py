"""One night's health rows, one per source, from what the night left in the lake.

The counts come from the published night: the manifest's per-source summary and stage stats,
and the night's ``failures`` parts (for reasons). Body lengths, wire credits and the share of
bodies holding learned furniture come from the night's work files while they exist (right after
publish, which is when :func:`cleaning.health.record_night` runs): they hold every article that
reached dedup, so a source whose stories are all duplicates of earlier nights still shows how
its pages extract. Without work files (a later recomputation) the published articles are used.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date

import pyarrow as pa

from cleaning import layout, schema
from cleaning.config import Config
from cleaning.publish import night_parts, read_published  # the parts the night's manifest lists
from cleaning.store import Lake

COUNTS = (
    "discovered",
    "failed_discover",
    "fetched",
    "failed_fetch",
    "cleaned",
    "rejected",
    "duplicates",
    "published",
)


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _quantile(sorted_values: list[int], q: float) -> float | None:
    """Linear-interpolated quantile (numpy's default) of an already sorted list."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * q
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return float(sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low))


def _body_facts(lake: Lake, run_date: date) -> tuple[dict[str, list[int]], dict[str, Counter]]:
    """Per source, the word counts of tonight's articles that reached dedup (work files, one
    shard at a time), or of the published articles (their parts, when the work files are gone),
    and their wire credits."""
    from cleaning.clean.text import word_count

    words: dict[str, list[int]] = defaultdict(list)
    agencies: dict[str, Counter] = defaultdict(Counter)
    files = lake.list_files(f"{layout.work_dir(run_date)}/final", ".parquet")
    for rel in files or night_parts(lake, "articles", run_date):
        if files:  # a story sits in one shard; a shard holds it once (its first row, as publish)
            table = lake.read_table(rel, columns=["id", "source", "text", "wire_agency"])
            first = {}
            for index, id_ in enumerate(table.column("id").to_pylist()):
                first.setdefault(id_, index)
            if len(first) < table.num_rows:
                table = table.take(sorted(first.values()))
            counts = [word_count(text) for text in table.column("text").to_pylist()]
        else:
            table = lake.read_table(rel, columns=["source", "word_count", "wire_agency"])
            counts = table.column("word_count").to_pylist()
        for source, n, agency in zip(
            table.column("source").to_pylist(), counts, table.column("wire_agency").to_pylist()
        ):
            words[source].append(n)
            if agency:
                agencies[source][agency] += 1
    return words, agencies


def _furniture_shares(lake: Lake, run_date: date) -> dict[str, float] | None:
    """Per source, the share of extracted bodies (before furniture was stripped) that hold a line
    learned as furniture tonight, one clean shard at a time; None when the work files are gone."""
    from cleaning.clean.text import comparison_key

    learned_file = layout.work_file(run_date, "furniture.parquet")
    cleaned_files = lake.list_files(f"{layout.work_dir(run_date)}/cleaned", ".parquet")
    if not lake.exists(learned_file) or not cleaned_files:
        return None
    learned: dict[str, set[str]] = defaultdict(set)
    for row in lake.read_table(learned_file).to_pylist():
        learned[row["source"]].add(row["line_key"])
    holding, total = Counter(), Counter()
    for rel in cleaned_files:
        table = lake.read_table(rel, columns=["source", "text"])
        for source, text in zip(table.column("source").to_pylist(), table.column("text").to_pylist()):
            total[source] += 1
            keys = learned.get(source)
            if keys and any(comparison_key(part) in keys for part in text.split("\n\n")):
                holding[source] += 1
    return {source: holding[source] / n for source, n in total.items()}


def _fetch_seconds(lake: Lake, run_date: date, stages: list[dict]) -> dict[str, float]:
    """Per source, seconds per fetched page: each fetch shard's wall time spread evenly over the
    pages of that shard (by the shard's candidates), summed per source, divided by its pages."""
    seconds = {s["shard"]: float(s.get("seconds", 0.0)) for s in stages if s.get("stage") == "fetch" and "shard" in s}
    spent, pages = Counter(), Counter()
    for shard, wall in seconds.items():
        rel = layout.work_shard(run_date, "candidates", shard)
        if not lake.exists(rel):
            continue
        per_source = Counter(lake.read_table(rel, columns=["source"]).column("source").to_pylist())
        in_shard = sum(per_source.values())
        for source, n in per_source.items():
            spent[source] += wall * n / in_shard
            pages[source] += n
    return {source: spent[source] / pages[source] for source in pages if pages[source]}


def build_rows(lake: Lake, config: Config, run_date: date, manifest: dict) -> list[dict]:
    """The night's rows (no flags yet), sorted by source: every configured source, and any other
    source the night's tables name."""
    summary = manifest.get("summary", {}).get("sources", {})
    failures = read_published(lake, "failures", run_date, columns=["source", "stage", "reason"])
    reasons: dict[str, Counter] = defaultdict(Counter)
    stage_failures: dict[str, Counter] = defaultdict(Counter)
    for source, stage, reason in zip(*(failures.column(c).to_pylist() for c in ("source", "stage", "reason"))):
        reasons[source][f"{stage}:{reason}"] += 1
        stage_failures[source][stage] += 1

    words, agencies = _body_facts(lake, run_date)
    furniture = _furniture_shares(lake, run_date)
    latency = _fetch_seconds(lake, run_date, manifest.get("stages", []))

    names = sorted({s.name for s in config.sources} | set(summary) | set(reasons))
    rows = []
    for source in names:
        counts = summary.get(source, {})
        discovered = int(counts.get("discovered", 0))
        failed_fetch = stage_failures[source]["fetch"]
        failed_discover = stage_failures[source]["discover"]
        rejected = sum(n for stage, n in stage_failures[source].items() if stage not in ("discover", "fetch"))
        duplicates = int(counts.get("exact_duplicates", 0)) + int(counts.get("near_duplicates", 0))
        published = int(counts.get("published", 0))
        cleaned = duplicates + published
        lengths = sorted(words.get(source, []))
        attempted = discovered + failed_discover
        rows.append(
            {
                "source": source,
                "discovered": discovered,
                "failed_discover": failed_discover,
                "fetched": max(discovered - failed_fetch, 0),
                "failed_fetch": failed_fetch,
                "cleaned": cleaned,
                "rejected": rejected,
                "duplicates": duplicates,
                "published": published,
                "failures_by_reason": dict(sorted(reasons[source].items())),
                "yield_share": _share(cleaned, discovered),
                "failure_share": _share(failed_discover + failed_fetch + rejected, attempted),
                "body_words_median": float(statistics.median(lengths)) if lengths else None,
                "body_words_p25": _quantile(lengths, 0.25),
                "body_words_p75": _quantile(lengths, 0.75),
                "furniture_share": round(furniture.get(source, 0.0), 4)
                if furniture is not None and source in furniture
                else None,
                "wire_share": _share(sum(agencies[source].values()), len(lengths)),
                "wire_agencies": dict(sorted(agencies[source].items())),
                "fetch_seconds_per_page": round(latency[source], 4) if source in latency else None,
                "flags": [],
            }
        )
    return rows


def to_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                **r,
                "failures_by_reason": list(r["failures_by_reason"].items()),
                "wire_agencies": list(r["wire_agencies"].items()),
            }
            for r in rows
        ],
        schema=schema.SOURCE_HEALTH,
    )


def from_table(table: pa.Table) -> list[dict]:
    """Rows as written by :func:`to_table`, maps back as dicts."""
    rows = table.to_pylist()
    for row in rows:
        for name in ("failures_by_reason", "wire_agencies"):
            value = row.get(name) or []
            row[name] = dict(value) if isinstance(value, list) else dict(value)
        row["flags"] = row.get("flags") or []
    return rows
