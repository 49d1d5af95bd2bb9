"""
# news_nightly: discover, fetch, clean, furniture, sign, bucket, verify, cluster, measure, publish, commit, health

One run = one **run date** D. The DAG only schedules: every task calls one function of
`cleaning.pipeline` (the same ones `cleaning run` calls) and passes the run date and shard
numbers, never article bodies. All state between tasks lives in the lake (`_work/run_date=D/`,
`raw/`, the published tables), so any task can run on any worker (Local, Celery or Kubernetes
executor) as long as the lake is shared (a folder, or `s3://...`).

**Schedule.** Daily at midnight in `NEWSCLEAN_TIMEZONE` (default UTC; keep it equal to
`[pipeline] timezone`). A scheduled or backfill run processes the night of its data interval,
which is one calendar day: the run that fires at 00:00 on D+1 covers `[D, D+1)` and has run date
D. So `airflow backfill create --dag-id news_nightly --from-date A --to-date B
--max-active-runs 1` runs exactly the nights A..B. `catchup=False`: missed nights are not run on
unpause (feeds only list current items, so a late run would file today's stories under an old
date); fill gaps with a backfill, preferably with `--dag-run-conf '{"reprocess": true}'` when
the raw captures of those nights were kept.

**Manual runs** (Trigger form): `run_date` (empty: the data interval's night, else today in the
config's timezone), `sources` (a subset; empty: all), `reprocess` (clean the kept raw captures
again; no network), `jaccard_threshold` / `containment_threshold` (empty: the config's value),
`dry_run` (run everything, publish nothing; `commit` ends *skipped*, no Asset events).
Bad values are refused before a run is created; unknown keys and contradictory combinations are
refused by `plan`, the first task.

**Outputs.** `commit` updates one Asset per table (`newsclean_articles`, `newsclean_duplicates`,
`newsclean_failures`) with `{"run_date", "lake", "path", "rows"}` in the event's extra, and logs
the per-source summary (also: `cleaning report D`). A night whose failure share passes
`[pipeline] max_failure_share` fails in `commit`, loudly, with that summary; only its `failures`
partition and manifest are written, for inspection (its articles are withheld). `publish` (one
task per shard) only stages; nothing a reader sees changes before `commit`, which writes the
manifest last.

**Source health.** `health` (after `commit`) writes the night's `source_health` rows and the
HTML report `reports/health/run_date=D/index.html` in the lake, and judges each source against
its own recent nights. When it raises flags it logs each with its evidence, runs the
`[health]` alert hooks, and ends **skipped** with the flags as its message (a pink square in the
grid; the run stays successful), or **failed** with `[health] fail_on_flags = true`.

**Needs** the pool `newsclean_http` (`airflow pools set newsclean_http 4 "outbound HTTP"`,
done by `make setup`): without it `discover` and `fetch` wait forever under a scheduler.
Config: `NEWSCLEAN_CONFIG` (default `data/sources.toml`) and `NEWSCLEAN_LAKE` (overrides the
config's lake), read when each task runs. See `docs/operations.md`.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, task

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = str(PROJECT / "data" / "sources.toml")
TIMEZONE = os.environ.get("NEWSCLEAN_TIMEZONE", "UTC")
# Midnight, so each data interval is one calendar day and its start is the run date: backfill
# --from-date/--to-date then name nights directly (with 02:00, "A to B" would miss night B).
SCHEDULE = "0 0 * * *"
HTTP_POOL = "newsclean_http"  # bounds outbound HTTP across all runs; created by `make setup`

ARTICLES = Asset("newsclean_articles", uri="newsclean://lake/articles")
DUPLICATES = Asset("newsclean_duplicates", uri="newsclean://lake/duplicates")
FAILURES = Asset("newsclean_failures", uri="newsclean://lake/failures")
TABLE_ASSETS = {"articles": ARTICLES, "duplicates": DUPLICATES, "failures": FAILURES}

log = logging.getLogger(__name__)

# Network tasks (feeds, article pages): retried with exponential backoff, bounded by the pool.
NETWORK = {
    "pool": HTTP_POOL,
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(hours=2),
}


def _queue(kind: str) -> str:
    """The Celery queue for one kind of task: ``NEWSCLEAN_QUEUE_<KIND>``, else Airflow's
    ``[operators] default_queue`` (docs/operations.md, "Celery")."""
    from airflow.sdk import conf

    return os.environ.get(f"NEWSCLEAN_QUEUE_{kind}") or conf.get("operators", "default_queue", fallback="default")


# Pod sizes under the KubernetesExecutor, by kind of task (requests; the memory request is also
# the limit). Network tasks mostly wait on sockets; CPU tasks run NEWSCLEAN_WORKERS processes;
# memory tasks hold a key range, a shard's parts or the night's edges, each under 2 GB at 1M a night
# (bench/RESULTS.md, "Dedup at scale"). NEWSCLEAN_POD_SIZES (JSON, same shape) overrides them.
POD_SIZES = {
    "network": {"cpu": "500m", "memory": "1Gi"},
    "cpu": {"cpu": "2", "memory": "3Gi"},
    "memory": {"cpu": "1", "memory": "3Gi"},
}


def _pod(kind: str) -> dict:
    """``executor_config`` for one kind of task: a ``pod_override`` with its size when Airflow runs
    the KubernetesExecutor, else nothing (other executors ignore pod sizes)."""
    import json

    from airflow.sdk import conf

    if "kubernetes" not in conf.get("core", "executor", fallback="").lower():
        return {}
    from kubernetes.client import models as k8s  # the cncf.kubernetes provider brings it

    size = {**POD_SIZES, **json.loads(os.environ.get("NEWSCLEAN_POD_SIZES") or "{}")}[kind]
    resources = k8s.V1ResourceRequirements(requests=dict(size), limits={"memory": size["memory"]})
    container = k8s.V1Container(name="base", resources=resources)  # "base": the executor's task container
    return {"pod_override": k8s.V1Pod(spec=k8s.V1PodSpec(containers=[container]))}


QUEUE_NETWORK = _queue("NETWORK")  # discover, fetch: outbound HTTP, on workers allowed out
QUEUE_CPU = _queue("CPU")  # clean, sign, verify, measure: extraction, MinHash, checks; NEWSCLEAN_WORKERS processes
QUEUE_MEMORY = _queue("MEMORY")  # furniture, bucket, cluster, publish, commit, health: larger reads


def _configured_sources() -> list[str]:
    """Source names of the config, for the form's choices; read without validation (parse time)."""
    import tomllib

    try:
        with open(os.environ.get("NEWSCLEAN_CONFIG", DEFAULT_CONFIG), "rb") as fh:
            data = tomllib.load(fh)
        return sorted(
            {s["name"] for s in data.get("sources", []) if isinstance(s, dict) and isinstance(s.get("name"), str)}
        )
    except (OSError, ValueError, AttributeError):
        return []  # plan() still checks the names against the config it runs with


SOURCES = _configured_sources()
_THRESHOLD = {"type": ["null", "number"], "exclusiveMinimum": 0, "maximum": 1}
PARAMS = {
    "run_date": Param(
        None,
        type=["null", "string"],
        format="date",
        title="Run date",
        description="YYYY-MM-DD. Empty: the night of the data interval (scheduled and backfill runs), "
        "else today in the config's timezone.",
    ),
    "sources": Param(
        [],
        type="array",
        items={"type": "string", **({"enum": SOURCES} if SOURCES else {})},
        uniqueItems=True,
        **({"examples": SOURCES} if SOURCES else {}),
        title="Sources",
        description="Only these sources. Empty: all configured sources. Not with reprocess, nor on a date "
        "already published (that would drop the other sources' stories).",
    ),
    "reprocess": Param(
        False,
        type="boolean",
        title="Reprocess",
        description="Clean the run date's kept raw captures again, without discover or fetch: no network.",
    ),
    "jaccard_threshold": Param(
        None,
        **_THRESHOLD,
        title="Jaccard threshold",
        description="Near-duplicate Jaccard threshold in (0, 1]. Empty: the config's value.",
    ),
    "containment_threshold": Param(
        None,
        **_THRESHOLD,
        title="Containment threshold",
        description="Abridged-copy containment threshold in (0, 1]. Empty: the config's value.",
    ),
    "dry_run": Param(
        False,
        type="boolean",
        title="Dry run",
        description="Run every step but publish nothing (no partitions, no history, no Asset events).",
    ),
}


def _fail(message: str):
    from airflow.sdk.exceptions import AirflowFailException

    return AirflowFailException(message)  # no retry: the same input fails the same way


def _config(plan: dict | None = None):
    """The config for this task: ``NEWSCLEAN_CONFIG`` and ``NEWSCLEAN_LAKE`` as the task runs,
    with the run's dedup threshold overrides applied."""
    from dataclasses import replace

    from cleaning.config import load_config

    path = os.environ.get("NEWSCLEAN_CONFIG", DEFAULT_CONFIG)
    config = load_config(path, lake=os.environ.get("NEWSCLEAN_LAKE") or None)
    overrides = {k: plan[k] for k in ("jaccard_threshold", "containment_threshold") if plan and plan.get(k) is not None}
    if overrides:
        config = replace(config, dedup=replace(config.dedup, **overrides))
    return config


def pipeline_lake(config):
    from cleaning.store import Lake

    return Lake(config.lake)


def _date(plan: dict):
    from datetime import date

    return date.fromisoformat(plan["run_date"])


# ---------------------------------------------------------------- tasks: one call into cleaning each
@task(retries=0)
def plan(params=None, data_interval_start=None, dag_run=None) -> dict:
    """Fix the run date and options for every later task (`cleaning.plan.make_plan`, the same
    rules as `cleaning run`), then take the date's lease: a second run of the date, scheduled
    or manual, stops here with the holder's name."""
    from cleaning import lease
    from cleaning.config import ConfigError
    from cleaning.plan import PlanError, make_plan

    conf = dict(getattr(dag_run, "conf", None) or {})
    unknown_keys = sorted(set(conf) - set(PARAMS))
    if unknown_keys:
        raise _fail(f"unknown parameter(s) {unknown_keys}; expected some of {sorted(PARAMS)}")
    try:
        config = _config()
    except ConfigError as exc:
        raise _fail(f"bad configuration: {exc}") from None
    interval_date = None
    if data_interval_start is not None:
        interval_date = pendulum.instance(data_interval_start).in_timezone(TIMEZONE).date()
    run_type = getattr(dag_run, "run_type", None)
    run_type = str(getattr(run_type, "value", run_type) or "")  # "scheduled", "backfill", "manual", ...
    try:
        chosen = make_plan(
            config,
            run_date=params.get("run_date"),
            sources=params.get("sources") or (),
            reprocess=params.get("reprocess"),
            dry_run=params.get("dry_run"),
            jaccard_threshold=params.get("jaccard_threshold"),
            containment_threshold=params.get("containment_threshold"),
            interval_date=interval_date,
            run_type=run_type,
        ).to_dict()
    except PlanError as exc:
        raise _fail(str(exc)) from None
    if TIMEZONE != config.timezone:
        log.warning("the DAG's timezone %s differs from [pipeline] timezone %s", TIMEZONE, config.timezone)
    chosen["owner"] = f"airflow-{getattr(dag_run, 'dag_id', 'news_nightly')}-{getattr(dag_run, 'run_id', 'run')}"
    try:
        lease.acquire(pipeline_lake(config), _date(chosen), chosen["owner"], config.lease_hours, pid=None)
    except lease.LeaseHeld as exc:
        raise _fail(str(exc)) from None
    log.info("plan: %s (lake %s, config %s)", chosen, config.lake, config.path)
    return chosen


@task(**NETWORK, queue=QUEUE_NETWORK, executor_config=_pod("network"))
def discover(plan: dict) -> list[int]:
    """Read each source's feed or list and write tonight's candidate URLs, one file per shard.
    A source that cannot be read is recorded in `failures` and the night goes on. With
    `reprocess`: no discovery, the shards of the kept raw captures are returned."""
    from cleaning import pipeline

    try:
        shards = pipeline.start_night(_config(plan), _date(plan), plan["sources"] or None, plan["reprocess"])
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from None
    log.info("discover: %s shards", len(shards))
    return shards


@task(**NETWORK, queue=QUEUE_NETWORK, executor_config=_pod("network"), max_active_tis_per_dagrun=4)
def fetch(shard: int, plan: dict) -> int:
    """Fetch one shard's pages politely and keep the raw captures (`raw/run_date=D/`).
    A page that cannot be fetched is recorded in `failures`. Skipped work with `reprocess`."""
    from cleaning import pipeline

    if plan["reprocess"]:
        log.info("reprocess: shard %s is not fetched again", shard)
        return shard
    log.info("fetch: %s", pipeline.fetch(_config(plan), _date(plan), shard))
    return shard


@task(queue=QUEUE_CPU, executor_config=_pod("cpu"))
def clean(shard: int, plan: dict) -> int:
    """Extract and clean one shard's captured pages (trafilatura + our rules)."""
    from cleaning import pipeline

    log.info("clean: %s", pipeline.clean(_config(plan), _date(plan), shard))
    return shard


@task(queue=QUEUE_MEMORY, executor_config=_pod("memory"))
def furniture(plan: dict, cleaned: list[int]) -> None:
    """Learn each site's recurring lines (site furniture) over all of tonight's shards."""
    from cleaning import pipeline

    log.info("furniture: %s", pipeline.learn_furniture(_config(plan), _date(plan)))


@task(queue=QUEUE_CPU, executor_config=_pod("cpu"))
def sign(shard: int, plan: dict) -> int:
    """Strip the learned furniture from one shard, compute its MinHash signatures and lead
    sentence keys, and write its entries split by key range for the bucket tasks."""
    from cleaning import pipeline

    log.info("sign: %s", pipeline.sign(_config(plan), _date(plan), shard))
    return shard


@task.sensor(
    poke_interval=60,
    timeout=timedelta(hours=6).total_seconds(),
    mode="reschedule",  # no worker slot is held while it waits
    queue=QUEUE_CPU,
    executor_config=_pod("cpu"),
)
def partition(plan: dict, signed: list[int]):
    """Wait while a night before this one (within `[dedup] history_days`) is still running: its
    stories are tonight's duplicate history, so dedup and publish go in date order while fetch
    and clean of several nights may overlap. Then split tonight's dedup work: one bucket task and
    one verify task per key range (`[dedup] key_ranges`; the decisions do not depend on it)."""
    from airflow.sdk import PokeReturnValue

    from cleaning import lease

    config = _config(plan)
    running = lease.running_before(pipeline_lake(config), _date(plan), config.dedup.history_days)
    if running:
        log.info("waiting for earlier nights to commit: %s", "; ".join(f"{d}: {c.describe()}" for d, c in running))
        return PokeReturnValue(is_done=False)
    return PokeReturnValue(is_done=True, xcom_value=list(range(config.dedup.key_ranges)))


@task(queue=QUEUE_MEMORY, executor_config=_pod("memory"))
def bucket(key_range: int, plan: dict) -> int:
    """Candidate pairs of one key range: tonight's entries of every shard and the history's."""
    from cleaning import pipeline

    log.info("bucket: %s", pipeline.bucket(_config(plan), _date(plan), key_range))
    return key_range


@task(queue=QUEUE_CPU, executor_config=_pod("cpu"))
def verify(part: int, plan: dict) -> int:
    """Verify one part of the candidate pairs (shingle overlap, then sentence alignment)."""
    from cleaning import pipeline

    log.info("verify: %s", pipeline.verify(_config(plan), _date(plan), part))
    return part


@task(queue=QUEUE_MEMORY, executor_config=_pod("memory"))
def cluster(plan: dict, verified: list[int]) -> dict:
    """Clusters, canonicals and decisions from every part's verified pairs."""
    from cleaning import pipeline

    stats = pipeline.cluster(_config(plan), _date(plan))
    log.info("cluster: %s", stats)
    return stats


@task(queue=QUEUE_CPU, executor_config=_pod("cpu"))
def measure(part: int, plan: dict) -> int:
    """Measure one part's copies that cluster joined to their canonical through others."""
    from cleaning import pipeline

    log.info("measure: %s", pipeline.measure(_config(plan), _date(plan), part))
    return part


@task(queue=QUEUE_MEMORY, executor_config=_pod("memory"))
def publish(shard: int, plan: dict) -> int:
    """Build and stage one shard's parts of the night's tables and its history; readers see
    nothing of it until `commit`."""
    from cleaning import pipeline

    log.info("publish: %s", pipeline.publish_shard(_config(plan), _date(plan), shard, dry_run=plan["dry_run"]))
    return shard


@task(outlets=list(TABLE_ASSETS.values()), queue=QUEUE_MEMORY, executor_config=_pod("memory"))
def commit(plan: dict, published: list[int], outlet_events=None) -> dict:
    """Commit the staged parts, the history and the seen-URL state, then the manifest (last);
    log the per-source summary and update the tables' Assets. Fails without retry when the
    failure share passes the bound; is skipped (no Asset events) in a dry run."""
    from airflow.sdk.exceptions import AirflowSkipException

    from cleaning import layout, lease, pipeline
    from cleaning.publish import format_summary

    config = _config(plan)
    run_date = _date(plan)
    owner = plan.get("owner")
    try:
        manifest = pipeline.commit_night(config, run_date, dry_run=plan["dry_run"], owner=owner)
    except pipeline.RunFailed as exc:
        lease.release(pipeline_lake(config), run_date, owner)
        raise _fail(f"run {run_date} FAILED: {exc}") from None
    except lease.LeaseHeld as exc:
        raise _fail(str(exc)) from None
    lease.release(pipeline_lake(config), run_date, owner)  # the night is over: the date is free
    log.info("run %s summary:\n%s", run_date, format_summary(manifest["summary"]))
    if plan["dry_run"]:
        raise AirflowSkipException(
            f"dry run: nothing published for {run_date} (rows that would be published: {manifest['rows']})"
        )
    for table, asset in TABLE_ASSETS.items():
        outlet_events[asset].extra = {
            "run_date": run_date.isoformat(),
            "lake": config.lake,
            "path": layout.table_dir(table, run_date) + "/",
            "rows": manifest["rows"][table],
        }
    return manifest["rows"]


@task(retries=0, queue=QUEUE_MEMORY, executor_config=_pod("memory"))
def health(plan: dict, published: dict) -> dict:
    """Record the night's source health (rows, flags, HTML report) and run the alert hooks.
    With flags: ends skipped with the flags as its message, or fails when
    `[health] fail_on_flags` is set. Skipped with commit (a dry run)."""
    from airflow.sdk.exceptions import AirflowSkipException

    from cleaning import pipeline
    from cleaning.health import format_flags

    config = _config(plan)
    run_date = _date(plan)
    result = pipeline.health(config, run_date)
    log.info(
        "health: %s sources, %s nights of history; rows %s; report %s",
        result["sources"],
        result["history_nights"],
        result["file"],
        result["report_path"],
    )
    for error in result["alert_errors"]:
        log.error("health alert hook failed: %s", error)
    flags = result["flags"]
    summary = {"run_date": run_date.isoformat(), "flags": flags, "report": result["report_path"]}
    if not flags:
        log.info(format_flags(run_date, flags))
        return summary
    for flag in flags:
        log.warning("health flag %s: %s: %s", flag["source"], flag["flag"], flag["evidence"])
    message = f"{format_flags(run_date, flags)}\nreport: {result['report_path']}"
    if config.health.fail_on_flags:
        raise _fail(message)
    raise AirflowSkipException(message)


def give_back_lease(context) -> None:
    """When a run fails, free the dates it holds at once (otherwise its claim keeps them, and
    holds up later nights' `partition`, for `[pipeline] lease_hours`)."""
    from cleaning import lease

    dag_run = context.get("dag_run")
    if dag_run is None:
        return
    try:
        freed = lease.release_all(pipeline_lake(_config()), lease.airflow_owner(dag_run.dag_id, dag_run.run_id))
        log.info("failed run %s gave back its lease of %s", dag_run.run_id, freed)
    except Exception:  # a callback must not raise; the claim then lapses by itself
        log.exception("could not give back the lease of failed run %s", dag_run.run_id)


# ---------------------------------------------------------------- the DAG: schedule and wiring
@dag(
    dag_id="news_nightly",
    schedule=CronDataIntervalTimetable(SCHEDULE, timezone=TIMEZONE),
    start_date=pendulum.datetime(2025, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args={
        "owner": "newsclean",
        "retries": 1,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
    },
    params=PARAMS,
    on_failure_callback=give_back_lease,
    doc_md=__doc__,
    tags=["news"],
)
def news_nightly():
    """Wiring only: plan, then discover; fetch, clean and sign mapped over the shards; furniture
    between clean and sign; bucket and verify mapped over the key ranges; cluster once; measure
    mapped over the key ranges; publish mapped over the shards; commit once; then health."""

    def mapped(fn):  # a mapped task does not take its docstring as doc_md by itself
        return fn.override(doc_md=fn.function.__doc__).partial

    run = plan()
    shards = discover(run)
    fetched = mapped(fetch)(plan=run).expand(shard=shards)
    cleaned = mapped(clean)(plan=run).expand(shard=fetched)
    learned = furniture(run, cleaned)
    signed = mapped(sign)(plan=run).expand(shard=shards)
    learned >> signed
    ranges = partition(run, signed)
    found = mapped(bucket)(plan=run).expand(key_range=ranges)
    verified = mapped(verify)(plan=run).expand(part=found)
    decided = cluster(run, verified)
    measured = mapped(measure)(plan=run).expand(part=ranges)
    decided >> measured
    published = mapped(publish)(plan=run).expand(shard=shards)
    measured >> published
    health(run, commit(run, published))


news_nightly()
