"""The nightly DAG under Airflow's own runner (``dag.test()``, tasks run in this process): the
scheduled night takes its date from the data interval, manual runs take validated params, bad
params never create a run, reprocess uses no network, a source that is down is recorded and the
night goes on, a night past the failure bound fails with its summary, and the lake can live on
object storage (nothing is kept on local disk between tasks).

Each ``dag.test()`` takes a few seconds; the expensive scheduled night is run once per module.
"""

from __future__ import annotations

import copy
import json
import shutil
import socket
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pyarrow.parquet as pq
import pytest

from tests.support import ROOT, write_config

RUN_DATE = "2025-08-28"


# ---------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


@pytest.fixture(scope="module")
def dag():
    """The DAG to run, parsed on its own with retries off: dag.test() would otherwise wait out
    each retry delay before reporting a failed task (the retry settings are checked above)."""
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["news_nightly"]
    for task in dag.tasks:
        task.retries = 0
    _DEFAULTS[id(dag)] = {key: copy.deepcopy(dag.params.get_param(key).value) for key in dag.params}
    return dag


_DEFAULTS: dict[int, dict] = {}


def run_dag(dag, **kwargs):
    """``dag.test(**kwargs)`` on clean params. In-process runs share the Param objects, and Airflow
    writes each run's conf into them (a worker process would start afresh), so without this a
    run's conf leaks into the defaults of the next ``dag.test()`` in this process."""
    for params in [dag.params] + [task.params for task in dag.tasks if task.params]:
        for key, value in _DEFAULTS[id(dag)].items():
            if key in params:
                params.get_param(key).value = copy.deepcopy(value)
    return dag.test(**kwargs)


def _xcom(run, task_id: str, map_index: int = -1):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(
            run_id=run.run_id, dag_ids=run.dag_id, task_ids=task_id, key="return_value", map_indexes=map_index
        )
        row = session.scalars(query).first()
        return None if row is None else XComModel.deserialize_value(row)


def _all_xcoms(run) -> list:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        return [
            (row.task_id, row.map_index, XComModel.deserialize_value(row))
            for row in session.scalars(XComModel.get_many(run_id=run.run_id, dag_ids=run.dag_id))
        ]


def _states(run) -> dict[str, set[str]]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id)
        ).all()
        out: dict[str, set[str]] = {}
        for ti in tis:
            out.setdefault(ti.task_id, set()).add(str(ti.state.value if hasattr(ti.state, "value") else ti.state))
        tries = {ti.task_id: ti.try_number for ti in tis}
    return out | {"_tries": tries}


def _asset_events(run) -> dict[str, dict]:
    """The Asset events the run wrote, by asset name: their ``extra``."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetModel.name, AssetEvent.extra)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetEvent.source_run_id == run.run_id)
        ).all()
    return {name: extra for name, extra in rows}


def _run_count() -> int:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        return session.scalar(select(func.count()).select_from(DagRun).where(DagRun.dag_id == "news_nightly"))


def _rows(lake: Path, table: str, run_date: str = RUN_DATE):
    """A night's rows of ``table``: every part in its folder, in part order."""
    return pq.read_table(lake / table / f"run_date={run_date}")


class _Recorder:
    """Wraps ``Fetcher.get``: records each URL asked for, and optionally refuses all of them."""

    def __init__(self, original, refuse: bool = False):
        self.original, self.refuse, self.urls = original, refuse, []

    def install(self, mp):
        recorder = self

        def get(fetcher, url, *args, **kwargs):
            recorder.urls.append(url)
            if recorder.refuse:
                raise AssertionError(f"network use in a run that must not fetch: {url}")
            return recorder.original(fetcher, url, *args, **kwargs)

        mp.setattr("cleaning.fetch.Fetcher.get", get)
        return self


# ---------------------------------------------------------------- shape (no database)
def test_dag_shape_schedule_pools_retries_docs_assets(dagbag):
    from airflow.sdk import CronDataIntervalTimetable
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    assert dagbag.import_errors == {}
    dag = dagbag.dags["news_nightly"]
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.expression == "0 0 * * *" and "UTC" in str(dag.timetable.timezone)
    assert dag.catchup is False and dag.max_active_runs == 1
    assert set(dag.params) == {
        "run_date",
        "sources",
        "reprocess",
        "jaccard_threshold",
        "containment_threshold",
        "dry_run",
    }
    for d in (dag, dagbag.dags["example_downstream"]):
        assert d.doc_md and all(t.doc_md for t in d.tasks), [t.task_id for t in d.tasks if not t.doc_md]
    for task_id in ("discover", "fetch"):
        task = dag.get_task(task_id)
        assert task.pool == "newsclean_http" and task.retries >= 2 and task.retry_exponential_backoff
    mapped = ("fetch", "clean", "sign", "bucket", "verify", "publish")
    assert all(isinstance(dag.get_task(t), MappedOperator) for t in mapped)
    assert dag.get_task("plan").retries == 0
    # the pool the tasks need is created by `make setup`
    assert "pools set newsclean_http" in (ROOT / "Makefile").read_text()
    # the example consumer is scheduled on exactly the articles Asset that commit updates
    outlets = {(a.name, a.uri) for a in dag.get_task("commit").outlets}
    assert outlets == {(f"newsclean_{t}", f"newsclean://lake/{t}") for t in ("articles", "duplicates", "failures")}
    condition = dagbag.dags["example_downstream"].timetable.asset_condition
    assert {(a.name, a.uri) for a in condition.objects} == {("newsclean_articles", "newsclean://lake/articles")}


def test_plan_refuses_what_the_form_cannot_express(dagbag, tmp_path, monkeypatch):
    """Checked in the first task: unknown keys, sources with reprocess, a date against the interval."""
    monkeypatch.setenv("NEWSCLEAN_LAKE", str(tmp_path / "lake"))  # plan takes the date's lease there
    from airflow.sdk.api.datamodels._generated import DagRunType
    from airflow.sdk.exceptions import AirflowFailException

    dag = dagbag.dags["news_nightly"]
    plan = dag.get_task("plan").python_callable
    defaults = dag.params.dump()

    def call(conf, run_type="manual", interval=None):
        params = defaults | conf
        return plan(params=params, data_interval_start=interval, dag_run=SimpleNamespace(conf=conf, run_type=run_type))

    with pytest.raises(AirflowFailException, match=r"unknown parameter\(s\) \['dryrun'\]"):
        call({"dryrun": True})
    with pytest.raises(AirflowFailException, match="'sources' cannot be combined with 'reprocess'"):
        call({"sources": ["coastal-ledger"], "reprocess": True})
    interval = datetime(2025, 8, 27, tzinfo=timezone.utc)
    backfill = DagRunType.BACKFILL  # what the task context holds
    with pytest.raises(AirflowFailException, match="contradicts this backfill run's data interval"):
        call({"run_date": RUN_DATE}, run_type=backfill, interval=interval)
    assert call({}, run_type=backfill, interval=interval)["run_date"] == "2025-08-27"
    assert call({"run_date": RUN_DATE}, interval=interval)["run_date"] == RUN_DATE  # manual: the param wins
    chosen = call({"run_date": RUN_DATE, "jaccard_threshold": 0.9})
    assert chosen["jaccard_threshold"] == 0.9 and chosen["containment_threshold"] is None


# ---------------------------------------------------------------- refused before a run exists
@pytest.mark.parametrize(
    "conf, complaint",
    [
        ({"run_date": "28/08/2025"}, "is not a 'date'"),
        ({"run_date": "2025-02-30"}, "is not a 'date'"),
        ({"reprocess": "yes"}, "is not of type 'boolean'"),
        ({"sources": ["no-such-outlet"]}, "is not one of"),
        ({"sources": "coastal-ledger"}, "is not of type 'array'"),
        ({"jaccard_threshold": 1.5}, "greater than the maximum"),
        ({"containment_threshold": 0}, "less than or equal to the minimum"),
        ({"dry_run": 1}, "is not of type 'boolean'"),
    ],
)
def test_bad_params_are_refused_before_a_run_is_created(airflow_db, dag, conf, complaint):
    from airflow.sdk.definitions.param import ParamValidationError

    before = _run_count()
    with pytest.raises(ParamValidationError) as refused:
        run_dag(dag, run_conf=conf)
    message = str(refused.value)
    assert f"Invalid input for param {next(iter(conf))}" in message and complaint in message, message
    assert _run_count() == before


# ---------------------------------------------------------------- a scheduled night
@pytest.fixture(scope="module")
def scheduled_night(airflow_db, dag, tmp_path_factory):
    """A scheduled-style run fired at midnight starting 2025-08-29: its data interval is the
    calendar day 2025-08-28. Fetcher.get is wrapped (not replaced) to prove the tasks run in this process."""
    tmp = tmp_path_factory.mktemp("scheduled")
    lake = tmp / "lake"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEWSCLEAN_CONFIG", str(write_config(tmp / "sources.toml")))
        mp.setenv("NEWSCLEAN_LAKE", str(lake))
        from cleaning.fetch import Fetcher

        recorder = _Recorder(Fetcher.get).install(mp)
        run = run_dag(dag, logical_date=datetime(2025, 8, 29, tzinfo=timezone.utc))
    return SimpleNamespace(run=run, lake=lake, config=tmp / "sources.toml", fetched=list(recorder.urls), tmp=tmp)


def test_scheduled_run_takes_its_date_from_the_data_interval(scheduled_night):
    from airflow.utils.state import DagRunState

    from cleaning.config import load_config
    from cleaning.pipeline import run_night

    run, lake = scheduled_night.run, scheduled_night.lake
    assert run.state == DagRunState.SUCCESS
    assert run.data_interval_start == datetime(2025, 8, 28, tzinfo=timezone.utc)
    assert run.data_interval_end == datetime(2025, 8, 29, tzinfo=timezone.utc)
    plan = _xcom(run, "plan")
    assert plan["run_date"] == RUN_DATE == run.data_interval_start.date().isoformat()
    assert scheduled_night.fetched, "Fetcher.get was patched but not called: tasks did not run in-process"
    manifest = json.loads((lake / "manifests" / f"run_date={RUN_DATE}" / "manifest.json").read_text())
    assert manifest.get("status") != "failed"
    assert _xcom(run, "commit") == manifest["rows"]
    events = _asset_events(run)
    assert set(events) == {"newsclean_articles", "newsclean_duplicates", "newsclean_failures"}
    for table in ("articles", "duplicates", "failures"):
        extra = events[f"newsclean_{table}"]
        assert extra == {
            "run_date": RUN_DATE,
            "lake": str(lake),
            "path": f"{table}/run_date={RUN_DATE}/",
            "rows": manifest["rows"][table],
        }
    # the DAG publishes exactly what `cleaning run` publishes for the same night and config
    alone = scheduled_night.tmp / "in-process"
    expected = run_night(load_config(scheduled_night.config, lake=str(alone)), datetime(2025, 8, 28).date())
    assert manifest["rows"] == expected["rows"] and manifest["summary"] == expected["summary"]
    for table in ("articles", "duplicates", "failures"):
        ours, theirs = _rows(lake, table), _rows(alone, table)
        clock = [c for c in ("fetched_at",) if c in ours.column_names]  # when, not what
        assert ours.drop_columns(clock).equals(theirs.drop_columns(clock)), table
    # tasks pass references (dates, shard numbers, counts), never article bodies
    for task_id, map_index, value in _all_xcoms(run):
        assert len(json.dumps(value)) < 2000, (task_id, map_index)


def test_reprocess_cleans_kept_captures_without_network(scheduled_night, dag, tmp_path, monkeypatch):
    from airflow.utils.state import DagRunState

    from cleaning.fetch import Fetcher

    lake = tmp_path / "lake"
    shutil.copytree(scheduled_night.lake, lake)
    shutil.rmtree(lake / "articles")
    monkeypatch.setenv("NEWSCLEAN_CONFIG", str(scheduled_night.config))
    monkeypatch.setenv("NEWSCLEAN_LAKE", str(lake))
    recorder = _Recorder(Fetcher.get, refuse=True).install(monkeypatch)
    real_connect = socket.socket.connect

    def no_network(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"network connection attempted during reprocess: {address}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", no_network)
    run = run_dag(dag, run_conf={"run_date": RUN_DATE, "reprocess": True})
    assert run.state == DagRunState.SUCCESS
    assert recorder.urls == []
    assert _xcom(run, "fetch", 0) == 0  # fetch was mapped and ran, and did nothing
    assert _rows(lake, "articles").equals(_rows(scheduled_night.lake, "articles"))
    assert _rows(lake, "duplicates").equals(_rows(scheduled_night.lake, "duplicates"))


# ---------------------------------------------------------------- manual runs
def test_manual_run_with_sources_thresholds_and_dry_run(airflow_db, dag, tmp_path, monkeypatch):
    from airflow.utils.state import DagRunState

    lake = tmp_path / "lake"
    monkeypatch.setenv("NEWSCLEAN_CONFIG", str(write_config(tmp_path / "sources.toml")))
    monkeypatch.setenv("NEWSCLEAN_LAKE", str(lake))
    conf = {
        "run_date": "2025-08-20",
        "sources": ["coastal-ledger", "valley-wire-daily"],
        "jaccard_threshold": 1.0,
        "containment_threshold": 1.0,
        "dry_run": True,
    }
    run = run_dag(dag, run_conf=conf)
    assert run.state == DagRunState.SUCCESS
    states = _states(run)
    assert states["commit"] == {"skipped"}  # nothing published
    assert _asset_events(run) == {}  # and nobody downstream is told otherwise
    plan = _xcom(run, "plan")
    assert plan.pop("owner").startswith("airflow-news_nightly-")
    assert plan == {
        "run_date": "2025-08-20",
        "sources": conf["sources"],
        "reprocess": False,
        "dry_run": True,
        "jaccard_threshold": 1.0,
        "containment_threshold": 1.0,
    }
    for table in ("articles", "duplicates", "failures", "manifests", "history"):
        assert not (lake / table).exists(), table
    work = lake / "_work" / "run_date=2025-08-20"
    candidates = pq.read_table(work / "candidates").column("source").to_pylist()
    assert set(candidates) == set(conf["sources"])
    from datetime import date

    from cleaning.dedup.stages import read_decisions
    from cleaning.layout import shard_of_name
    from cleaning.store import Lake

    decisions = [  # as publish reads them: with the measure stage's findings
        row
        for rel in sorted((work / "decisions").glob("*.parquet"))
        for row in read_decisions(Lake(str(lake)), date(2025, 8, 20), shard_of_name(rel.name)).to_pylist()
    ]
    assert decisions
    near = [d for d in decisions if d["is_duplicate"] and d["method"] == "near"]
    # the overrides reach dedup: no pair is decided by a shingle measure under them (the sentence
    # alignment and chains through other copies have their own rule, see cleaning/dedup)
    by_shingles = [d for d in near if d["measure"] in ("jaccard", "containment")]
    assert all(d["jaccard"] >= 1.0 or d["containment"] >= 1.0 for d in by_shingles)
    assert all(d["measure"] in ("jaccard", "containment", "alignment", "chain") for d in near)


def test_plan_failure_stops_the_run_before_any_work(airflow_db, dag, tmp_path, monkeypatch):
    from airflow.utils.state import DagRunState

    lake = tmp_path / "lake"
    monkeypatch.setenv("NEWSCLEAN_LAKE", str(lake))
    run = run_dag(dag, run_conf={"run_date": RUN_DATE, "sources": ["coastal-ledger"], "reprocess": True})
    assert run.state == DagRunState.FAILED
    states = _states(run)
    assert states["plan"] == {"failed"} and states["_tries"]["plan"] == 1
    assert states["commit"] == {"upstream_failed"}
    assert not lake.exists()


# ---------------------------------------------------------------- failures
def test_a_source_that_is_down_is_recorded_and_the_night_goes_on(airflow_db, dag, tmp_path, monkeypatch):
    from airflow.utils.state import DagRunState

    with socket.socket() as closed:  # bound, never listening: connections to it are refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/atom.xml"
        config = write_config(
            tmp_path / "sources.toml",
            fetch={"allow_networks": ["127.0.0.0/8"]},
            sources={"coastal-ledger": {"url": url}},
        )
        lake = tmp_path / "lake"
        monkeypatch.setenv("NEWSCLEAN_CONFIG", str(config))
        monkeypatch.setenv("NEWSCLEAN_LAKE", str(lake))
        run = run_dag(dag, run_conf={"run_date": RUN_DATE})
    assert run.state == DagRunState.SUCCESS
    failures = _rows(lake, "failures").to_pylist()
    down = [f for f in failures if f["stage"] == "discover"]
    assert [(f["source"], f["url"]) for f in down] == [("coastal-ledger", url)]
    assert down[0]["reason"].startswith("feed_"), down  # connection refused (or its robots.txt)
    assert set(_rows(lake, "articles").column("source").to_pylist()) == {"northgate-herald", "valley-wire-daily"}
    manifest = json.loads((lake / "manifests" / f"run_date={RUN_DATE}" / "manifest.json").read_text())
    assert manifest["summary"]["sources"]["coastal-ledger"]["failed_discover"] == 1


def test_a_night_past_the_failure_bound_fails_loudly_with_its_summary(airflow_db, dag, tmp_path, monkeypatch, capsys):
    """Every article page is missing (the mirrors point at an empty folder): the run fails in
    commit, without retries, and the failures partition and a failed manifest are written."""
    from airflow.utils.state import DagRunState

    from cleaning import cli

    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    names = ("northgate-herald", "coastal-ledger", "valley-wire-daily")
    config = write_config(tmp_path / "sources.toml", sources={n: {"mirror": _mirror_of(n, empty)} for n in names})
    lake = tmp_path / "lake"
    monkeypatch.setenv("NEWSCLEAN_CONFIG", str(config))
    monkeypatch.setenv("NEWSCLEAN_LAKE", str(lake))
    run = run_dag(dag, run_conf={"run_date": RUN_DATE})
    assert run.state == DagRunState.FAILED
    states = _states(run)
    assert states["commit"] == {"failed"} and states["_tries"]["commit"] == 1
    assert states["cluster"] == {"success"} and states["publish"] == {"success"}
    assert _asset_events(run) == {}  # a failed night does not trigger downstream DAGs
    failures = _rows(lake, "failures").to_pylist()
    assert sum(1 for f in failures if f["stage"] == "fetch" and f["reason"] == "not_found") >= 40
    manifest = json.loads((lake / "manifests" / f"run_date={RUN_DATE}" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "above the bound" in manifest["error"]
    assert manifest["summary"]["totals"]["failure_share"] > 0.5
    capsys.readouterr()
    assert cli.main(["report", RUN_DATE, "--config", str(config), "--lake", str(lake)]) == 3
    out = capsys.readouterr().out
    assert "FAILED" in out and "fail:fetch" in out and "fetched" in out and "TOTAL" in out


def _mirror_of(name: str, folder: Path) -> dict:
    import tomllib

    data = tomllib.loads((ROOT / "data" / "sources.toml").read_text())
    prefixes = next(s["mirror"] for s in data["sources"] if s["name"] == name)
    return {prefix: str(folder) for prefix in prefixes}


# ---------------------------------------------------------------- ready to scale out
def test_runs_with_the_lake_on_object_storage_and_nothing_on_local_disk(
    airflow_db, dag, s3_endpoint, tmp_path, monkeypatch
):
    """Tasks share nothing but the lake: with the lake on S3 (moto on loopback), the working
    folder and temporary folder of the run stay empty, so the tasks could run on any worker."""
    import pyarrow.fs as pafs
    from airflow.utils.state import DagRunState

    lake = s3_endpoint.lake("newsclean")
    root = lake.split("://", 1)[1].split("?", 1)[0]
    workdir, scratch = tmp_path / "cwd", tmp_path / "tmp"
    workdir.mkdir(), scratch.mkdir()
    config = write_config(tmp_path / "sources.toml", pipeline={"shards": 2})
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("NEWSCLEAN_CONFIG", str(config))
    monkeypatch.setenv("NEWSCLEAN_LAKE", lake)
    run = run_dag(dag, run_conf={"run_date": RUN_DATE})
    assert run.state == DagRunState.SUCCESS, _states(run)
    s3 = s3_endpoint.filesystem()
    files = {
        info.path
        for info in s3.get_file_info(pafs.FileSelector(root, recursive=True))
        if info.type == pafs.FileType.File
    }
    for table in ("articles", "duplicates", "failures"):
        assert any(f.startswith(f"{root}/{table}/run_date={RUN_DATE}/part-") for f in files), table
    assert f"{root}/manifests/run_date={RUN_DATE}/manifest.json" in files
    assert list(workdir.iterdir()) == [] and list(scratch.iterdir()) == []
    # the Asset event tells downstream readers where the night is on object storage
    event = _asset_events(run)["newsclean_articles"]
    assert (
        event["lake"] == lake and event["path"] == f"articles/run_date={RUN_DATE}/" and event["rows"] > 0
    )
