"""The DAGs under a real scheduler: Airflow's scheduler (LocalExecutor), DAG processor and API
server on 127.0.0.1, each task in its own process, driven only through the REST API:

- a bad conf is refused with HTTP 400 and no run is created;
- unpausing the DAG creates the latest scheduled night, whose run date is its data interval's;
- a manual run triggered through ``/api/v2/.../dagRuns`` with a run date succeeds;
- a backfill over three dates (``/api/v2/backfills``, ``max_active_runs: 1``) publishes three
  partitions, and the example downstream DAG runs on their Asset events.

These are the same components `airflow standalone` starts; they are started one by one so the
scheduler's log server (which `standalone` would bind on every interface) stays off. Every process
is started in its own session and stopped by process group: SIGINT, then SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.support import ROOT, write_config

pytestmark = pytest.mark.slow

AIRFLOW = str(Path(sys.executable).parent / "airflow")
BACKFILL = ["2025-08-25", "2025-08-26", "2025-08-27"]
MANUAL = "2025-08-28"


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    for _ in range(20):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if _port_is_free(port):
            return port
    raise RuntimeError("no free port on 127.0.0.1")


class LocalAirflow:
    """scheduler + dag-processor + api-server for one private AIRFLOW_HOME, on loopback."""

    def __init__(self, home: Path, env: dict[str, str], port: int, lake: Path):
        self.home, self.env, self.port, self.lake = home, env, port, lake
        self.base = f"http://127.0.0.1:{port}"
        self.procs: dict[str, subprocess.Popen] = {}
        self.token = None

    def start(self) -> None:
        assert _port_is_free(self.port), f"port {self.port} is taken: another Airflow would answer for this one"
        commands = {
            "api-server": [AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
            "scheduler": [AIRFLOW, "scheduler", "--skip-serve-logs"],
            "dag-processor": [AIRFLOW, "dag-processor"],
        }
        for name, command in commands.items():
            log = open(self.home / f"{name}.log", "wb")
            self.procs[name] = subprocess.Popen(
                command,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            log.close()

    def stop(self) -> None:
        """SIGINT to each process group, then SIGTERM, then SIGKILL, each after a grace period."""
        for sig, grace in ((signal.SIGINT, 15), (signal.SIGTERM, 8), (signal.SIGKILL, 5)):
            alive = [p for p in self.procs.values() if p.poll() is None or self._group_alive(p.pid)]
            if not alive:
                return
            for proc in alive:
                try:
                    os.killpg(proc.pid, sig)  # the group this test created (start_new_session)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and any(p.poll() is None or self._group_alive(p.pid) for p in alive):
                time.sleep(0.2)

    @staticmethod
    def _group_alive(pgid: int) -> bool:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:] for p in sorted(self.home.glob("*.log"))
        )

    # ------------------------------------------------------------ REST
    def request(self, method: str, path: str, body=None, expect=(200,)):
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        with httpx.Client(base_url=self.base, trust_env=False, timeout=30) as client:
            response = client.request(method, path, json=body, headers=headers)
        assert response.status_code in expect, f"{method} {path}: {response.status_code} {response.text[:1000]}"
        return response

    def wait(self, what: str, check, timeout: float, every: float = 1.0):
        import httpx

        deadline = time.monotonic() + timeout
        while True:
            for name, proc in self.procs.items():
                assert proc.poll() is None, (
                    f"{name} exited with {proc.returncode} while waiting for {what}\n{self.logs()}"
                )
            try:
                value = check()
            except (
                OSError,
                httpx.HTTPError,
                AssertionError,
                ValueError,
                KeyError,
            ) as exc:  # not up yet / not there yet
                value, last = None, exc
            else:
                last = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})\n{self.logs()}"
                )
            time.sleep(every)

    def healthy(self) -> bool:
        import httpx

        with httpx.Client(base_url=self.base, trust_env=False, timeout=5) as client:
            health = client.get("/api/v2/monitor/health").json()
        return all(health.get(c, {}).get("status") == "healthy" for c in ("metadatabase", "scheduler", "dag_processor"))

    def login(self) -> None:
        passwords = json.loads((self.home / "simple_auth_manager_passwords.json.generated").read_text())
        self.token = self.request(
            "POST", "/auth/token", {"username": "admin", "password": passwords["admin"]}, expect=(200, 201)
        ).json()["access_token"]

    def runs(self, dag_id: str) -> list[dict]:
        return self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100").json()["dag_runs"]

    def xcom(self, dag_id: str, run_id: str, task_id: str):
        from urllib.parse import quote

        path = (
            f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/xcomEntries/return_value"
        )
        value = self.request("GET", path).json()["value"]
        return json.loads(value) if isinstance(value, str) else value


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow-home")
    lake = home / "lake"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "PYTEST_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__METRICS__STATSD_ON": "False",
            "NEWSCLEAN_CONFIG": str(write_config(home / "sources.toml", pipeline={"shards": 1})),
            "NEWSCLEAN_LAKE": str(lake),
            "NEWSCLEAN_WORKERS": "1",
        }
    )
    migrated = subprocess.run([AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-2000:]
    server = LocalAirflow(home, env, port, lake)
    try:
        server.start()
        server.wait("scheduler, DAG processor and API server to be healthy", server.healthy, timeout=120)
        server.login()
        # the pool discover and fetch run in; without it they would wait forever
        server.request(
            "POST",
            "/api/v2/pools",
            {"name": "newsclean_http", "slots": 2, "description": "outbound HTTP", "include_deferred": False},
            expect=(200, 201),
        )
        for dag_id in ("news_nightly", "example_downstream"):
            server.wait(
                f"{dag_id} to be parsed",
                lambda d=dag_id: server.request("GET", f"/api/v2/dags/{d}").json(),
                timeout=120,
            )
        yield server
    finally:
        server.stop()
        leftovers = [name for name, p in server.procs.items() if server._group_alive(p.pid)]
        assert not leftovers, f"processes left running: {leftovers}"


def _done(server: LocalAirflow, dag_id: str, run_ids: set[str]) -> dict[str, dict] | None:
    runs = {r["dag_run_id"]: r for r in server.runs(dag_id) if r["dag_run_id"] in run_ids}
    failed = [r for r in runs.values() if r["state"] == "failed"]
    assert not failed, f"{dag_id} runs failed: {[r['dag_run_id'] for r in failed]}\n{server.logs()}"
    if len(runs) == len(run_ids) and all(r["state"] == "success" for r in runs.values()):
        return runs
    return None


def test_nightly_runs_under_a_scheduler_through_the_rest_api(airflow):
    started = time.monotonic()
    # a bad conf is refused before a run exists, with a message that names the param
    refused = airflow.request(
        "POST",
        "/api/v2/dags/news_nightly/dagRuns",
        {"logical_date": None, "conf": {"run_date": "28/08/2025"}},
        expect=(400,),
    )
    assert "run_date" in refused.text and "is not a 'date'" in refused.text, refused.text
    assert airflow.runs("news_nightly") == []

    # unpause: the scheduler creates the latest scheduled night at once (catchup=False)
    airflow.request("PATCH", "/api/v2/dags/example_downstream", {"is_paused": False})
    airflow.request("PATCH", "/api/v2/dags/news_nightly", {"is_paused": False})
    run = airflow.request(
        "POST", "/api/v2/dags/news_nightly/dagRuns", {"logical_date": None, "conf": {"run_date": MANUAL}}
    ).json()
    manual_id = run["dag_run_id"]
    scheduled = airflow.wait(
        "the scheduled run",
        lambda: [r for r in airflow.runs("news_nightly") if r["run_type"] == "scheduled"],
        timeout=60,
    )
    assert len(scheduled) == 1
    ids = {manual_id, scheduled[0]["dag_run_id"]}
    runs = airflow.wait("the manual and scheduled runs", lambda: _done(airflow, "news_nightly", ids), timeout=240)
    assert airflow.xcom("news_nightly", manual_id, "plan")["run_date"] == MANUAL
    night = runs[scheduled[0]["dag_run_id"]]
    interval_start = night["data_interval_start"][:10]
    assert airflow.xcom("news_nightly", night["dag_run_id"], "plan")["run_date"] == interval_start
    assert date.fromisoformat(interval_start) >= date.today() - timedelta(days=2)
    for run_date in (MANUAL, interval_start):
        assert (airflow.lake / "articles" / f"run_date={run_date}" / "part-00000.parquet").exists()
    print(f"scheduled + manual: {time.monotonic() - started:.0f}s")

    # backfill three nights, one at a time
    body = {
        "dag_id": "news_nightly",
        "from_date": f"{BACKFILL[0]}T00:00:00Z",
        "to_date": f"{BACKFILL[-1]}T00:00:00Z",
        "max_active_runs": 1,
        "reprocess_behavior": "none",
        "run_backwards": False,
        "dag_run_conf": {},
    }
    for _attempt in range(8):  # with sqlite, creation can meet "database is locked" (503): try again
        created = airflow.request("POST", "/api/v2/backfills", body, expect=(200, 503))
        if created.status_code == 200:
            break
        time.sleep(2)
    assert created.status_code == 200, created.text
    backfill = created.json()

    def backfill_runs():
        found = [r for r in airflow.runs("news_nightly") if r["run_type"] == "backfill"]
        return found if len(found) == len(BACKFILL) else None

    filled = airflow.wait("three backfill runs", backfill_runs, timeout=60)
    filled_ids = {r["dag_run_id"] for r in filled}
    airflow.wait("the backfill to finish", lambda: _done(airflow, "news_nightly", filled_ids), timeout=300)
    assert sorted(r["data_interval_start"][:10] for r in filled) == BACKFILL, filled
    for run_date in BACKFILL:
        for table in ("articles", "duplicates", "failures"):
            assert (airflow.lake / table / f"run_date={run_date}" / "part-00000.parquet").exists(), (table, run_date)
    airflow.wait(
        "the backfill to be marked complete",
        lambda: airflow.request("GET", f"/api/v2/backfills/{backfill['id']}").json()["completed_at"],
        timeout=60,
    )
    print(f"+ backfill: {time.monotonic() - started:.0f}s")

    # the downstream DAG ran on the Asset events and counted each published night
    def counted() -> set[str] | None:
        nights = set()
        for r in airflow.runs("example_downstream"):
            assert r["state"] != "failed", f"example_downstream failed\n{airflow.logs()}"
            if r["state"] == "success":
                nights |= set(airflow.xcom("example_downstream", r["dag_run_id"], "count_articles_per_source"))
        return nights if set(BACKFILL) <= nights else None

    airflow.wait("example_downstream to count the backfilled nights", counted, timeout=120)
    print(f"+ downstream: {time.monotonic() - started:.0f}s")
