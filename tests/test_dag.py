"""The Airflow DAG: it imports cleanly, and a real dag.test() run publishes the sample night."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_dag_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    dag = dagbag.dags["news_nightly"]
    assert {"plan", "discover", "fetch", "clean", "furniture", "sign", "dedup", "publish"} <= set(dag.task_ids)
    assert dag.max_active_runs == 1
    assert str(dag.timetable.timezone) in ("UTC", "Timezone('UTC')")
    publish = dag.get_task("publish")
    assert {a.name for a in publish.outlets} == {"newsclean_articles", "newsclean_duplicates", "newsclean_failures"}
    assert dag.get_task("fetch").retries >= 2


@pytest.mark.slow
def test_dag_run_publishes_sample_night(airflow_db, dagbag, tmp_path, monkeypatch):
    from airflow.utils.state import DagRunState

    lake = tmp_path / "lake"
    monkeypatch.setenv("NEWSCLEAN_LAKE", str(lake))
    dag = dagbag.dags["news_nightly"]
    run = dag.test(run_conf={"run_date": "2025-08-28"})
    assert run.state == DagRunState.SUCCESS
    articles = pq.read_table(lake / "articles" / "run_date=2025-08-28" / "part-0.parquet")
    assert articles.num_rows == 36
    assert pq.read_table(lake / "duplicates" / "run_date=2025-08-28" / "part-0.parquet").num_rows == 10
    assert (lake / "manifests" / "run_date=2025-08-28" / "manifest.json").exists()


def test_bad_params_are_refused_before_a_run(airflow_db, dagbag):
    from airflow.sdk.definitions.param import ParamValidationError

    dag = dagbag.dags["news_nightly"]
    with pytest.raises(ParamValidationError):
        dag.test(run_conf={"run_date": "28/08/2025"})
    with pytest.raises(ParamValidationError):
        dag.test(run_conf={"reprocess": "yes"})
