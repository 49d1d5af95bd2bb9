"""Nightly news ingestion: discover -> fetch -> clean -> dedup -> publish.

The DAG only schedules; every task calls one function of ``cleaning.pipeline`` (the same ones
``cleaning run`` calls), passing the run date and shard numbers, never article bodies. Heavy
libraries are imported inside the tasks so parsing this file stays fast.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, task

PROJECT = Path(__file__).resolve().parents[1]
TIMEZONE = os.environ.get("NEWSCLEAN_TIMEZONE", "UTC")

ARTICLES = Asset("newsclean_articles", uri="newsclean://lake/articles")
DUPLICATES = Asset("newsclean_duplicates", uri="newsclean://lake/duplicates")
FAILURES = Asset("newsclean_failures", uri="newsclean://lake/failures")


def _config():
    from cleaning.config import load_config

    path = os.environ.get("NEWSCLEAN_CONFIG", str(PROJECT / "data" / "sources.toml"))
    return load_config(path, lake=os.environ.get("NEWSCLEAN_LAKE") or None)


def _date(plan: dict):
    from datetime import date

    return date.fromisoformat(plan["run_date"])


@dag(
    dag_id="news_nightly",
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone=TIMEZONE),
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1), "retry_exponential_backoff": True},
    params={
        "run_date": Param("", type="string", pattern=r"^(\d{4}-\d{2}-\d{2})?$", description="YYYY-MM-DD; empty: the night of the data interval, or today"),
        "sources": Param([], type="array", items={"type": "string"}, description="only these sources (empty: all)"),
        "reprocess": Param(False, type="boolean", description="clean the kept raw captures again; no network"),
        "dry_run": Param(False, type="boolean", description="run everything but publish"),
    },
    doc_md=__doc__,
    tags=["news"],
)
def news_nightly():
    @task
    def plan(params=None, data_interval_start=None) -> dict:
        """Fix the run date and options for every later task."""
        from datetime import date
        from zoneinfo import ZoneInfo

        config = _config()
        if params.get("run_date"):
            run_date = date.fromisoformat(params["run_date"])
        elif data_interval_start is not None:
            run_date = data_interval_start.astimezone(ZoneInfo(config.timezone)).date()
        else:
            run_date = datetime.now(ZoneInfo(config.timezone)).date()
        names = {s.name for s in config.sources}
        unknown = sorted(set(params.get("sources") or []) - names)
        if unknown:
            raise ValueError(f"unknown sources {unknown}; configured: {sorted(names)}")
        return {
            "run_date": run_date.isoformat(),
            "sources": list(params.get("sources") or []),
            "reprocess": bool(params.get("reprocess")),
            "dry_run": bool(params.get("dry_run")),
        }

    @task
    def discover(plan: dict) -> list[int]:
        from cleaning import pipeline

        config = _config()
        if plan["reprocess"]:
            shards = pipeline.raw_shards(config, _date(plan))
            if not shards:
                raise FileNotFoundError(f"no raw captures kept for {plan['run_date']}: nothing to reprocess")
            pipeline._reset_for_reprocess(pipeline.Lake(config.lake), _date(plan))
            return shards
        return pipeline.discover(config, _date(plan), plan["sources"] or None)["shards"]

    @task(retries=3, max_active_tis_per_dagrun=4)
    def fetch(shard: int, plan: dict) -> int:
        from cleaning import pipeline

        if plan["reprocess"]:
            return shard
        pipeline.fetch(_config(), _date(plan), shard)
        return shard

    @task
    def clean(shard: int, plan: dict) -> int:
        from cleaning import pipeline

        pipeline.clean(_config(), _date(plan), shard)
        return shard

    @task
    def furniture(plan: dict, cleaned: list[int]) -> None:
        from cleaning import pipeline

        pipeline.learn_furniture(_config(), _date(plan))

    @task
    def sign(shard: int, plan: dict) -> int:
        from cleaning import pipeline

        pipeline.sign(_config(), _date(plan), shard)
        return shard

    @task
    def dedup(plan: dict, signed: list[int]) -> dict:
        from cleaning import pipeline

        return pipeline.dedup(_config(), _date(plan))

    @task(outlets=[ARTICLES, DUPLICATES, FAILURES])
    def publish(plan: dict, decided: dict) -> dict:
        from cleaning import pipeline
        from cleaning.publish import format_summary

        manifest = pipeline.publish(_config(), _date(plan), dry_run=plan["dry_run"])
        print(format_summary(manifest["summary"]))
        return manifest["rows"]

    run = plan()
    shards = discover(run)
    fetched = fetch.partial(plan=run).expand(shard=shards)
    cleaned = clean.partial(plan=run).expand(shard=fetched)
    learned = furniture(run, cleaned)
    signed = sign.partial(plan=run).expand(shard=shards)
    learned >> signed
    publish(run, dedup(run, signed))


news_nightly()
