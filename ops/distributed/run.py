"""`make test-distributed`: one night of `news_nightly` on CeleryExecutor with two workers.

Everything runs on 127.0.0.1 in a temporary folder, nothing leaves loopback:

- PostgreSQL (initdb as user ``postgres`` when run as root, ``fsync=off``, a free port): Airflow's
  metadata database and Celery's result backend (``db+postgresql+psycopg2://``);
- Redis (the Celery broker; ``apt-get install redis-server`` when missing and run as root);
- moto's S3 server, with one bucket holding the lake (``NEWSCLEAN_LAKE=s3://...``);
- ``airflow db migrate``, then api-server, scheduler (``--skip-serve-logs``), dag-processor and two
  Celery workers (``--concurrency 1 --skip-serve-logs``, hostnames ``worker-a`` and ``worker-b``),
  and the pool ``newsclean_http``.

It triggers ``news_nightly`` for ``--date`` over the bundled sample corpus with ``--shards``
shards, waits for the run, and checks that it succeeded, that the mapped task instances
(any task with ``map_index >= 0``) ran on both workers, and that the published tables
(articles, duplicates, failures, read back from S3 through ``cleaning.publish.read_night``) equal
those of ``cleaning run`` of the same night and config in one process on a local lake (run
meanwhile, while the servers start). Rows are compared sorted, without the columns in
``VARYING`` (when a page was fetched).
Every server runs in its own session and is stopped by process group, also on failure.

Exit status: 0 passed (or skipped outside CI when the servers cannot be had: not root and no
redis-server or PostgreSQL), 1 failed. Under CI (``CI`` set) it never skips.

    .venv/bin/python ops/distributed/run.py [--date 2025-08-28] [--shards 4] [--keep]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
AIRFLOW = str(VENV_BIN / "airflow")
DAG_ID = "news_nightly"
WORKERS = ("worker-a", "worker-b")
TABLES = ("articles", "duplicates", "failures")
VARYING = {"fetched_at"}  # when the page was fetched: differs between any two runs
BUCKET = "newsclean"
# The DAG's queue per kind of task (NEWSCLEAN_QUEUE_*, dags/news_nightly.py), set to queues of their
# own; both workers serve all of them and Airflow's default queue, so the run works whether or not
# the tasks use them yet, and the summary shows where each task was routed.
QUEUES = {"NETWORK": "newsclean-network", "CPU": "newsclean-cpu", "MEMORY": "newsclean-memory"}
WORKER_QUEUES = ",".join(["default", *QUEUES.values()])
HTTP_POOL_SLOTS = 4


class Skip(Exception):
    """The servers this needs cannot be had here (only outside CI)."""


class Failed(Exception):
    pass


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def say(message: str) -> None:
    print(f"[distributed {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise Failed("no free port on 127.0.0.1")


# ---------------------------------------------------------------- what the machine must have
def _apt_install(package: str) -> bool:
    """``apt-get install package`` when we are root and have apt-get; True when it worked."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    say(f"installing {package} with apt-get")
    quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "text": True}
    done = subprocess.run(["apt-get", "install", "-y", "-qq", package], **quiet)
    if done.returncode != 0:  # an old or missing package list: update once, then try again
        subprocess.run(["apt-get", "update", "-qq"], **quiet)
        done = subprocess.run(["apt-get", "install", "-y", "-qq", package], **quiet)
    if done.returncode != 0:
        say(f"apt-get install {package} failed: {done.stderr.strip()[-500:]}")
    return done.returncode == 0


def redis_server() -> str:
    found = shutil.which("redis-server")
    if not found and _apt_install("redis-server"):
        found = shutil.which("redis-server")
    if not found:
        raise Skip("redis-server is not installed and cannot be installed here (needs root and apt-get)")
    return found


def postgres_bin() -> Path:
    def find() -> Path | None:
        candidates = sorted(
            glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3].split(".")[0])
        )
        initdb = shutil.which("initdb") or (candidates[-1] if candidates else None)
        return Path(initdb).parent if initdb and Path(initdb).with_name("postgres").exists() else None

    found = find()
    if not found and _apt_install("postgresql"):
        found = find()
    if not found:
        raise Skip("PostgreSQL (initdb, postgres) is not installed and cannot be installed here")
    return found


# ---------------------------------------------------------------- processes, stopped by group
class Processes:
    def __init__(self, logs: Path):
        self.logs = logs
        self.procs: dict[str, subprocess.Popen] = {}
        self.servers: list[str] = []  # those that must stay up (not one-shot jobs)

    def start(self, name: str, command: list[str], env: dict[str, str], server=True, **kwargs) -> subprocess.Popen:
        with open(self.logs / f"{name}.log", "wb") as log:
            proc = subprocess.Popen(
                command,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, stopped as a whole
                **kwargs,
            )
        self.procs[name] = proc
        if server:
            self.servers.append(name)
        return proc

    def check_alive(self, names=None) -> None:
        for name in names or self.servers:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise Failed(f"{name} exited with status {proc.returncode}\n{self.tail(name)}")

    def tail(self, name: str, chars: int = 3000) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return f"--- {name} (last {chars} characters of {path})\n{text[-chars:]}"

    @staticmethod
    def group_alive(pgid: int) -> bool:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def stop(self, names: list[str], first=signal.SIGTERM, grace: float = 10.0) -> None:
        """``first`` to each group, SIGKILL to the groups still alive after ``grace`` seconds."""
        procs = [self.procs[n] for n in names if n in self.procs]
        for sig, wait in ((first, grace), (signal.SIGKILL, 5.0)):
            alive = [p for p in procs if self.group_alive(p.pid)]
            if not alive:
                break
            for proc in alive:
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                for proc in alive:
                    proc.poll()  # reap our direct children, so their groups can vanish
                if not any(self.group_alive(p.pid) for p in alive):
                    break
                time.sleep(0.2)
        for proc in procs:
            try:
                proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass

    def leftovers(self) -> list[str]:
        return [name for name, proc in self.procs.items() if self.group_alive(proc.pid)]


def wait_for(what: str, check, timeout: float, procs: Processes, watch=None, every: float = 0.5):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        procs.check_alive(watch)
        try:
            value = check()
        except Exception as exc:  # not up yet
            value, last = None, exc
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failed(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")
        time.sleep(every)


# ---------------------------------------------------------------- the night through Airflow's REST API
class Api:
    def __init__(self, base: str):
        import httpx

        self.client = httpx.Client(base_url=base, trust_env=False, timeout=30)
        self.token = None

    def request(self, method: str, path: str, body=None, expect=(200,)):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.client.request(method, path, json=body, headers=headers)
        if response.status_code not in expect:
            raise Failed(f"{method} {path}: HTTP {response.status_code} {response.text[:1000]}")
        return response.json() if response.content else None

    def healthy(self) -> bool:
        health = self.client.get("/api/v2/monitor/health").json()
        return all(health.get(c, {}).get("status") == "healthy" for c in ("metadatabase", "scheduler", "dag_processor"))

    def login(self, home: Path) -> None:
        passwords = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
        body = {"username": "admin", "password": passwords["admin"]}
        self.token = self.request("POST", "/auth/token", body, expect=(200, 201))["access_token"]

    def task_instances(self, run_id: str) -> list[dict]:
        from urllib.parse import quote

        path = f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances"
        found, offset = [], 0
        while True:
            page = self.request("GET", f"{path}?limit=100&offset={offset}")
            found += page["task_instances"]
            offset += len(page["task_instances"])
            if not page["task_instances"] or offset >= page["total_entries"]:
                return found


# ---------------------------------------------------------------- comparing the published tables
def _rows(table, ignore: set[str]) -> list[str]:
    """The table's rows as canonical JSON strings without the ``ignore`` columns, sorted."""
    names = [n for n in table.column_names if n not in ignore]
    rows = table.select(names).to_pylist()
    return sorted(json.dumps(row, sort_keys=True, default=str) for row in rows)


def compare_tables(distributed: dict, single: dict) -> list[str]:
    """Differences between the two runs' tables, as sentences; empty when they are equal."""
    problems = []
    for name in TABLES:
        a, b = distributed[name], single[name]
        if a.schema.remove_metadata() != b.schema.remove_metadata():
            problems.append(f"{name}: schemas differ:\n{a.schema}\n---\n{b.schema}")
            continue
        ignore = VARYING & set(a.column_names)
        rows_a, rows_b = _rows(a, ignore), _rows(b, ignore)
        if rows_a == rows_b:
            continue
        only_a = sorted(set(rows_a) - set(rows_b))
        only_b = sorted(set(rows_b) - set(rows_a))
        problems.append(
            f"{name}: {len(rows_a)} rows on Celery, {len(rows_b)} in one process; "
            f"{len(only_a)} only on Celery, {len(only_b)} only in one process"
            + (f"\n  first only on Celery: {only_a[0][:600]}" if only_a else "")
            + (f"\n  first only in one process: {only_b[0][:600]}" if only_b else "")
        )
    return problems


# ---------------------------------------------------------------- the whole test
class Run:
    def __init__(self, args):
        self.args = args
        self.started = time.monotonic()
        self.phases: dict[str, float] = {}
        self.tmp = Path(tempfile.mkdtemp(prefix="newsclean-distributed-"))
        self.home = self.tmp / "airflow"
        self.logs = self.tmp / "logs"
        self.home.mkdir()
        self.logs.mkdir()
        self.pg_tmp: Path | None = None
        self.procs = Processes(self.logs)

    def phase(self, name: str, since: float) -> float:
        now = time.monotonic()
        self.phases[name] = now - since
        return now

    # --------------------------------------------------------- servers
    def base_env(self) -> dict[str, str]:
        """This process's environment without Airflow, newsclean, AWS or proxy settings of its own."""
        dropped = ("AIRFLOW_", "NEWSCLEAN_", "AWS_", "PYTEST_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
        for key in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            env.pop(key, None)
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        env.update(
            {  # S3 on loopback only: dummy keys, no shared AWS files, no instance-metadata lookups
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            }
        )
        env["NEWSCLEAN_WORKERS"] = "1"  # one extraction process per task: two workers on two cores
        return env

    def write_config(self) -> Path:
        sys.path.insert(0, str(ROOT))
        from tests.support import write_config  # data/sources.toml with absolute sample paths

        return write_config(self.tmp / "sources.toml", pipeline={"shards": self.args.shards})

    def start_postgres(self, env: dict[str, str]) -> int:
        bindir = self.pg_bindir
        port = free_port()
        as_root = os.geteuid() == 0
        self.pg_tmp = Path(tempfile.mkdtemp(prefix="newsclean-pg-"))
        data = self.pg_tmp / "data"
        user = {}
        if as_root:  # initdb refuses root: the cluster belongs to user postgres
            shutil.chown(self.pg_tmp, "postgres", "postgres")
            user = {"user": "postgres", "group": "postgres"}
        pg_env = {**env, "HOME": str(self.pg_tmp), "LC_ALL": "C.UTF-8"}
        init = subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            env=pg_env,
            cwd=self.pg_tmp,
            capture_output=True,
            text=True,
            **user,
        )
        if init.returncode != 0:
            raise Failed(f"initdb failed: {init.stdout[-1500:]}{init.stderr[-1500:]}")
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(port),
            "unix_socket_directories": str(self.pg_tmp),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
        }
        command = [str(bindir / "postgres"), "-D", str(data)]
        for key, value in settings.items():
            command += ["-c", f"{key}={value}"]
        self.procs.start("postgres", command, pg_env, cwd=self.pg_tmp, **user)

        def ready():
            import psycopg2

            conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=2)
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("CREATE DATABASE airflow")
            conn.close()
            return True

        wait_for("PostgreSQL", ready, 60, self.procs, ["postgres"])
        return port

    def start_redis(self, env: dict[str, str]) -> int:
        server = self.redis_bin
        port = free_port()
        command = [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
        self.procs.start("redis", command + ["--dir", str(self.tmp)], env)

        def ready():
            import redis

            return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2).ping()

        wait_for("Redis", ready, 30, self.procs, ["redis"])
        return port

    def start_s3(self, env: dict[str, str]) -> str:
        port = free_port()
        self.procs.start("moto", [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], env)
        endpoint = f"http://127.0.0.1:{port}"

        def ready():
            self.s3().create_dir(BUCKET)
            return True

        self.endpoint = endpoint
        wait_for("moto's S3 server", ready, 30, self.procs, ["moto"])
        return f"s3://{BUCKET}/lake?endpoint_override={endpoint}&scheme=http&region=us-east-1"

    def s3(self):
        import pyarrow.fs as pafs

        return pafs.S3FileSystem(
            endpoint_override=self.endpoint,
            scheme="http",
            region="us-east-1",
            access_key="testing",
            secret_key="testing",
            allow_bucket_creation=True,
        )

    def airflow_env(self, env, pg_port, redis_port, api_port, config, lake) -> dict[str, str]:
        database = f"postgres@127.0.0.1:{pg_port}/airflow"
        return {
            **env,
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{database}",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            # psycopg2 named: plain db+postgresql:// loads psycopg 3 and crashes the scheduler
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://{database}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            # only the run we trigger: unpausing must not also start yesterday's scheduled night
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__METRICS__STATSD_ON": "False",
            "NEWSCLEAN_CONFIG": str(config),
            "NEWSCLEAN_LAKE": lake,
            **{f"NEWSCLEAN_QUEUE_{kind}": queue for kind, queue in QUEUES.items()},
        }

    def start_airflow(self, env: dict[str, str], api_port: int) -> Api:
        migrated = subprocess.run(
            [AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True, timeout=300, cwd=self.tmp
        )
        if migrated.returncode != 0:
            raise Failed(f"airflow db migrate failed:\n{migrated.stdout[-3000:]}{migrated.stderr[-3000:]}")
        commands = {
            "api-server": [AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", str(api_port), "--workers", "1"],
            "scheduler": [AIRFLOW, "scheduler", "--skip-serve-logs"],
            "dag-processor": [AIRFLOW, "dag-processor"],
        }
        for name, command in commands.items():
            self.procs.start(name, command, env, cwd=self.tmp)
        for name in WORKERS:
            worker_env = {
                **env,
                "NEWSCLEAN_WORKER_NAME": name,  # the task instances' hostname (newsclean_worker.py)
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "newsclean_worker.hostname",
                "PYTHONPATH": os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH")) if p),
            }
            command = [AIRFLOW, "celery", "worker", "--concurrency", "1", "--skip-serve-logs", "-H", name]
            command += ["--queues", WORKER_QUEUES]
            command += ["--pid", str(self.tmp / f"{name}.pid")]  # one pid file per worker in one home
            self.procs.start(name, command, worker_env, cwd=self.tmp)
        api = Api(f"http://127.0.0.1:{api_port}")
        airflow_procs = [*commands, *WORKERS]
        wait_for("api-server, scheduler and dag-processor", api.healthy, 180, self.procs, airflow_procs, every=1)
        api.login(self.home)
        pool = {"name": "newsclean_http", "slots": HTTP_POOL_SLOTS, "description": "newsclean: outbound HTTP"}
        api.request("POST", "/api/v2/pools", {**pool, "include_deferred": False}, expect=(200, 201))
        wait_for(f"{DAG_ID} to be parsed", lambda: api.request("GET", f"/api/v2/dags/{DAG_ID}"), 120, self.procs)

        def workers_ready():
            return all(" ready." in (self.logs / f"{n}.log").read_text(errors="replace") for n in WORKERS)

        wait_for("both Celery workers", workers_ready, 120, self.procs, airflow_procs)
        return api

    # --------------------------------------------------------- the test
    def main(self) -> None:
        args = self.args
        # what the machine must have, before anything starts (Skip when it cannot be had)
        self.redis_bin, self.pg_bindir = redis_server(), postgres_bin()
        env = self.base_env()
        config = self.write_config()
        t = time.monotonic()
        # the single-process night, on a local lake, while the servers start
        single_lake = self.tmp / "single-lake"
        single = [str(VENV_BIN / "cleaning"), "run", "--config", str(config), "--lake", str(single_lake)]
        self.procs.start("cleaning-run", single + ["--date", args.date], env, server=False, cwd=self.tmp)
        pg_port = self.start_postgres(env)
        redis_port = self.start_redis(env)
        lake = self.start_s3(env)
        api_port = free_port()
        af_env = self.airflow_env(env, pg_port, redis_port, api_port, config, lake)
        say(f"PostgreSQL :{pg_port}, Redis :{redis_port}, S3 {self.endpoint}; migrating and starting Airflow")
        api = self.start_airflow(af_env, api_port)
        t = self.phase("servers up", t)
        say(f"Airflow and two Celery workers ready after {self.phases['servers up']:.0f} s; triggering {args.date}")

        api.request("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
        run = api.request(
            "POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": {"run_date": args.date}}
        )
        run_id = run["dag_run_id"]
        from urllib.parse import quote

        last_note = 0.0

        def finished():
            nonlocal last_note
            state = api.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}")["state"]
            if time.monotonic() - last_note > 15:
                last_note = time.monotonic()
                counts = defaultdict(int)
                for ti in api.task_instances(run_id):
                    counts[ti["state"] or "none"] += 1
                say(f"run {state}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
            return state if state in ("success", "failed") else None

        airflow_procs = ["api-server", "scheduler", "dag-processor", *WORKERS]
        try:
            state = wait_for(f"run {run_id}", finished, args.timeout, self.procs, airflow_procs, every=1)
        except Failed:
            self.report_tasks(api.task_instances(run_id))  # where it stopped, and on which queues
            raise
        t = self.phase("DAG run", t)
        tis = api.task_instances(run_id)
        self.report_tasks(tis)
        if state != "success":
            raise Failed(f"run {run_id} ended {state}\n{self.task_logs(tis)}")

        problems = []
        mapped = [ti for ti in tis if ti["map_index"] >= 0]
        hosts = {ti["hostname"] for ti in tis}
        mapped_hosts = {ti["hostname"] for ti in mapped}
        if not mapped:
            problems.append("no mapped task instances in the run")
        if mapped_hosts != set(WORKERS):
            problems.append(f"mapped task instances ran on {sorted(mapped_hosts)}, expected both of {list(WORKERS)}")
        if not hosts <= set(WORKERS):
            problems.append(f"task instances report hosts {sorted(hosts)}: not only the two workers")
        bad = [f"{ti['task_id']}[{ti['map_index']}]={ti['state']}" for ti in tis if ti["state"] != "success"]
        if bad:
            problems.append(f"task instances not successful: {bad}")

        # the single-process night, then the tables compared
        single_proc = self.procs.procs["cleaning-run"]
        try:
            single_proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            raise Failed("cleaning run did not finish within 300 s") from None
        if single_proc.returncode != 0:
            raise Failed(f"cleaning run failed with status {single_proc.returncode}\n{self.procs.tail('cleaning-run')}")
        problems += self.compare(single_lake, lake)
        self.phase("compare", t)
        if problems:
            raise Failed("\n".join(problems))

    def compare(self, single_lake: Path, s3_lake: str) -> list[str]:
        """Both nights read the way readers read them (the manifest, then the parts it lists)."""
        from datetime import date

        from cleaning.publish import read_night
        from cleaning.store import Lake

        night = date.fromisoformat(self.args.date)
        os.environ.update({k: v for k, v in self.base_env().items() if k.startswith("AWS_")})  # S3 keys here
        s3_manifest, on_s3 = read_night(Lake(s3_lake), night, TABLES)
        local_manifest, local = read_night(Lake(str(single_lake)), night, TABLES)
        problems = compare_tables(on_s3, local)
        if s3_manifest.get("rows") != local_manifest.get("rows"):
            problems.append(
                f"manifest rows {s3_manifest.get('rows')} on Celery, {local_manifest.get('rows')} in one process"
            )
        counts = ", ".join(f"{name} {on_s3[name].num_rows}" for name in TABLES)
        if not problems:
            say(f"tables equal to the single-process run ({counts} rows; sorted rows, without {sorted(VARYING)})")
        if not on_s3["articles"].num_rows:
            problems.append("no articles published")
        return problems

    # --------------------------------------------------------- reporting
    def report_tasks(self, tis: list[dict]) -> None:
        by_host = defaultdict(list)
        lines = []
        order = sorted(tis, key=lambda ti: (ti["start_date"] or "~", ti["task_id"], ti["map_index"]))
        for ti in order:
            name = ti["task_id"] + (f"[{ti['map_index']}]" if ti["map_index"] >= 0 else "")
            duration = ti["duration"] or 0.0
            by_host[ti["hostname"] or "-"].append((name, duration))
            lines.append(
                f"  {name:<22} {ti['state'] or '-':<8} {ti['hostname'] or '-':<10} {duration:6.1f} s  {ti['queue']}"
            )
        print("task instances (in start order): task, state, worker, duration, queue", flush=True)
        print("\n".join(lines), flush=True)
        for host, done in sorted(by_host.items()):
            total = sum(d for _, d in done)
            print(f"  {host}: {len(done)} tasks, {total:.1f} s busy: {', '.join(n for n, _ in done)}", flush=True)

    def task_logs(self, tis: list[dict], chars: int = 2500) -> str:
        out = []
        for ti in tis:
            if ti["state"] in ("success", "skipped"):
                continue
            pattern = f"dag_id={DAG_ID}/run_id=*/task_id={ti['task_id']}/**/*.log"
            for path in sorted(glob.glob(str(self.home / "logs" / pattern), recursive=True)):
                if ti["map_index"] < 0 or f"map_index={ti['map_index']}" in path:
                    out.append(f"--- {path}\n{Path(path).read_text(errors='replace')[-chars:]}")
        return "\n".join(out)

    def stop(self) -> None:
        t = time.monotonic()
        procs = self.procs
        procs.stop([*WORKERS, "scheduler", "dag-processor", "api-server", "cleaning-run"], signal.SIGTERM, 15)
        procs.stop(["redis", "moto"], signal.SIGTERM, 5)
        procs.stop(["postgres"], signal.SIGINT, 10)  # SIGINT: PostgreSQL's fast shutdown
        left = procs.leftovers()
        self.phase("stop", t)
        if left:
            raise Failed(f"processes left running: {left}")

    def cleanup(self) -> None:
        for folder in (self.tmp, self.pg_tmp):
            if folder is None:
                continue
            if self.args.keep:
                say(f"kept {folder}")
            else:
                shutil.rmtree(folder, ignore_errors=True)


def _raise_exit(signum, frame):
    raise SystemExit(128 + signum)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--date", default="2025-08-28", help="run date of the night (default: %(default)s)")
    parser.add_argument("--shards", type=int, default=4, help="[pipeline] shards for both runs (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=420, help="seconds the run may take (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders (logs, lakes, database)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_exit)  # stopped from outside: still stop the servers
    ci = in_ci()
    run = Run(args)
    outcome, message = 1, ""
    try:
        try:
            run.main()
            outcome = 0
        finally:
            failed_logs = ""
            if outcome != 0:
                failed_logs = "\n".join(run.procs.tail(name) for name in run.procs.procs)
            try:
                run.stop()
            finally:
                if failed_logs:
                    print(failed_logs, file=sys.stderr, flush=True)
    except Skip as exc:
        if ci:
            message = f"FAILED (CI never skips): {exc}"
        else:
            outcome, message = 0, f"SKIPPED: {exc}. Run as root (apt-get installs it), or install it, to run this test."
    except Failed as exc:
        outcome, message = 1, f"FAILED: {exc}"
    except (KeyboardInterrupt, SystemExit) as exc:  # Ctrl-C or SIGTERM: the servers were stopped above
        outcome, message = 1, f"FAILED: interrupted ({type(exc).__name__})"
    except Exception:  # a bug here or an unexpected answer: still a clear failure, servers stopped
        import traceback

        outcome, message = 1, f"FAILED:\n{traceback.format_exc()}"
    finally:
        run.cleanup()
    phases = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in run.phases.items())
    total = time.monotonic() - run.started
    if not message:
        message = "PASSED: news_nightly on CeleryExecutor, two workers, lake on S3"
    say(f"{message}\n[distributed] wall time {total:.0f} s ({phases})")
    skipped = message.startswith("SKIPPED")
    # a closing line that CI reads like a test runner's
    print(f"distributed: {int(outcome == 0 and not skipped)} passed, {outcome} failed" + (", 1 skipped" * skipped))
    return outcome


if __name__ == "__main__":
    sys.exit(main())
