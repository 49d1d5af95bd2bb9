"""The DAG files: they import cleanly and quickly, without the heavy libraries. Runs of the DAG
(scheduled, manual, reprocess, failures) are in test_orchestration.py; under a real scheduler in
test_orchestration_scheduler.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import ROOT


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_dag_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == {"news_nightly", "example_downstream"}
    dag = dagbag.dags["news_nightly"]
    from cleaning.plan import STAGES

    assert {"plan", "partition", *STAGES} == set(dag.task_ids)
    assert dag.max_active_runs == 1
    assert str(dag.timetable.timezone) in ("UTC", "Timezone('UTC')")
    commit = dag.get_task("commit")
    assert {a.name for a in commit.outlets} == {"newsclean_articles", "newsclean_duplicates", "newsclean_failures"}
    assert dag.get_task("fetch").retries >= 2
    # dedup and publish go in date order: partition waits, without holding a worker, for the
    # earlier nights still running (cleaning.lease.running_before); a failed run frees its date
    partition = dag.get_task("partition")
    assert partition.mode == "reschedule" and partition.timeout > 0
    assert dag.on_failure_callback


def test_parsing_the_dags_imports_no_heavy_library():
    """The DAG processor parses these files often: pyarrow, trafilatura, datasketch and the
    pipeline itself are imported inside the tasks, not at parse time."""
    code = (
        "import sys, importlib.util, airflow.sdk\n"
        "before = set(sys.modules)\n"
        f"for name in ('news_nightly', 'example_downstream'):\n"
        f"    spec = importlib.util.spec_from_file_location(name, {str(ROOT / 'dags')!r} + '/' + name + '.py')\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "heavy = ('pyarrow', 'trafilatura', 'datasketch', 'cleaning', 'numpy', 'lxml', 'feedparser')\n"
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_pod_sizes_reach_every_task_under_the_kubernetes_executor():
    """Parsed as the KubernetesExecutor would: each task carries a pod override with its kind's
    size (network, CPU, memory); under other executors, none."""
    code = (
        "import json, sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"dag = DagBag(dag_folder={str(ROOT / 'dags')!r}).dags['news_nightly']\n"
        "out = {}\n"
        "for task in dag.tasks:\n"
        "    pod = (task.executor_config or {}).get('pod_override')\n"
        "    out[task.task_id] = pod and pod.spec.containers[0].resources.to_dict()\n"
        "print(json.dumps(out))\n"
    )
    import json
    import os

    def parse(executor: str, sizes: str = "") -> dict:
        env = {**os.environ, "AIRFLOW__CORE__EXECUTOR": executor, "NEWSCLEAN_POD_SIZES": sizes}
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env=env)
        assert result.returncode == 0, result.stderr[-2000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    pods = parse("KubernetesExecutor")
    assert pods["plan"] is None  # tiny: the executor's default pod
    assert pods["fetch"] == {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}, "claims": None}
    for task_id in ("clean", "sign", "verify", "measure"):
        assert pods[task_id]["requests"] == {"cpu": "2", "memory": "3Gi"}, task_id
    for task_id in ("bucket", "cluster", "publish", "commit"):
        assert pods[task_id]["limits"] == {"memory": "3Gi"}, task_id
    bigger = parse("KubernetesExecutor", '{"memory": {"cpu": "2", "memory": "6Gi"}}')
    assert bigger["bucket"]["limits"] == {"memory": "6Gi"} and bigger["sign"]["limits"] == {"memory": "3Gi"}
    assert set(parse("LocalExecutor").values()) == {None}
