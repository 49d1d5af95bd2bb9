"""
# example_downstream: a consumer of the published articles

An example for downstream teams. It is scheduled on the `newsclean_articles` Asset, so it runs
after each successful `publish` of `news_nightly` (a dry run or a failed night sends no event).
Each Asset event carries `{"run_date", "lake", "path", "rows"}` in its extra; the task reads that
night's `articles` partition with pyarrow (a local folder or `s3://...`) and logs the number of
articles per source. Several nights published before this DAG runs (a backfill) arrive as several
events of one run; each night is counted.

Copy the pattern, not the file: declare the same Asset (name and URI), schedule on it, and read
the partition named in the event.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from airflow.sdk import Asset, dag, task

ARTICLES = Asset("newsclean_articles", uri="newsclean://lake/articles")  # as declared by news_nightly

log = logging.getLogger(__name__)


def _read_sources(lake: str, path: str):
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    if "://" in lake:
        fs, root = pafs.FileSystem.from_uri(lake)
    else:
        fs, root = pafs.LocalFileSystem(), lake
    return pq.read_table(f"{root.rstrip('/')}/{path}", filesystem=fs, columns=["source"])


@dag(
    dag_id="example_downstream",
    schedule=[ARTICLES],
    catchup=False,
    default_args={"owner": "downstream-team", "retries": 2, "retry_delay": timedelta(minutes=1)},
    doc_md=__doc__,
    tags=["news", "example"],
)
def example_downstream():
    @task
    def count_articles_per_source(triggering_asset_events=None) -> dict:
        """Read each triggering night's articles partition and log the count per source;
        returns `{run_date: {source: count}}`."""
        import pyarrow.compute as pc

        nights: dict[str, dict] = {}
        events = triggering_asset_events.get(ARTICLES, []) if triggering_asset_events else []
        for event in events:
            extra = event.extra or {}
            if not {"run_date", "lake", "path"} <= set(extra):
                log.warning("asset event %s has no run_date/lake/path in its extra; skipped", event)
                continue
            nights[extra["run_date"]] = extra  # a re-published night: the latest event wins
        if not nights:
            log.warning("no published night in the triggering events: nothing to count")
        counts = {}
        for run_date in sorted(nights):
            extra = nights[run_date]
            table = _read_sources(extra["lake"], extra["path"])
            per_source = pc.value_counts(table.column("source")).to_pylist() if table.num_rows else []
            counts[run_date] = {
                item["values"]: item["counts"] for item in sorted(per_source, key=lambda i: i["values"])
            }
            lines = "\n".join(f"  {source:<24} {n:>6}" for source, n in counts[run_date].items())
            log.info(
                "night %s: %d articles in %s/%s\n%s", run_date, table.num_rows, extra["lake"], extra["path"], lines
            )
        return counts

    count_articles_per_source()


example_downstream()
