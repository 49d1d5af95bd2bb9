"""Test setup. Airflow reads its settings when first imported, so they are set here, at the top,
before anything imports it: a private AIRFLOW_HOME and sqlite database per test session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # also tests.support.ROOT; here before any import
_HOME = Path(tempfile.mkdtemp(prefix="newsclean-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME}/airflow.db"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.setdefault("NEWSCLEAN_WORKERS", "1")
os.environ["NEWSCLEAN_CONFIG"] = str(ROOT / "data" / "sources.toml")

import pytest  # noqa: E402

from tests.support import SAMPLES, SEED_TEXT, write_config  # noqa: E402,F401 (SAMPLES, SEED_TEXT: older imports)


@pytest.fixture(scope="session")
def airflow_db():
    """Migrate the session's sqlite database once (about 10 s)."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    yield _HOME


@pytest.fixture
def lake(tmp_path):
    return tmp_path / "lake"


@pytest.fixture
def sample_config(lake):
    from cleaning.config import load_config

    return load_config(ROOT / "data" / "sources.toml", lake=str(lake))


@pytest.fixture
def config_file(tmp_path):
    """``config_file(**changes)``: a temporary copy of the sample config (see ``write_config``)."""
    counter = iter(range(1000))

    def make(**changes) -> Path:
        return write_config(tmp_path / f"sources-{next(counter)}.toml", **changes)

    return make


# ---------------------------------------------------------------- the lake: samples, and S3 on loopback
SAMPLE_NIGHT = "2025-08-28"


@pytest.fixture(scope="session")
def sample_lake(tmp_path_factory):
    """A local lake with the sample corpus published for 2025-08-28 (the whole night, in-process,
    about 2 s), shared by the session: read it, never write to it (copy it first with
    ``shutil.copytree``). Returns ``(config, lake_path, manifest)``."""
    from datetime import date

    from cleaning.config import load_config
    from cleaning.pipeline import run_night

    lake = tmp_path_factory.mktemp("sample-lake") / "lake"
    config = load_config(ROOT / "data" / "sources.toml", lake=str(lake))
    manifest = run_night(config, date.fromisoformat(SAMPLE_NIGHT))
    return config, lake, manifest


# Breakages of bench/health_sim.py injected into ten nights of the sample outlets: five healthy
# nights (the defaults' min_history), then one breakage a night, then a healthy night.
HEALTH_SCHEDULE = {
    5: {"northgate-herald": "template"},
    6: {"coastal-ledger": "feed_404"},
    7: {"valley-wire-daily": "forbidden"},
    8: {"northgate-herald": "wire_gone"},
}


@pytest.fixture(scope="session")
def health_nights(tmp_path_factory):
    """Ten nights of the sample outlets served on loopback, with :data:`HEALTH_SCHEDULE`'s
    breakages, run with the default ``[health]`` settings (about 30 s), shared by the session:
    read it, never write to it. Returns ``(config_file, lake_path, results)``, results as
    :func:`bench.health_sim.simulate` gives them. The nights run in a child process, so this
    session's memory stays as small as before (tests measure the peak memory of children it
    forks)."""
    import json

    workdir = tmp_path_factory.mktemp("health-nights")
    code = (
        "import json, sys; from pathlib import Path; from bench.health_sim import simulate\n"
        "schedule = {int(k): v for k, v in json.loads(sys.argv[2]).items()}\n"
        "results = simulate(Path(sys.argv[1]), nights=10, seed=5, schedule=schedule)\n"
        "Path(sys.argv[1], 'results.json').write_text(json.dumps(results))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(workdir), json.dumps(HEALTH_SCHEDULE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((workdir / "results.json").read_text())
    return workdir / "health-sim.toml", workdir / "lake", results


class S3Endpoint:
    """moto's S3 server on 127.0.0.1. ``lake(name)`` makes a fresh bucket and returns a lake URI
    that names the endpoint explicitly, so nothing can fall through to AWS."""

    def __init__(self, url: str):
        self.url = url
        self._buckets = iter(range(10_000))

    def filesystem(self):
        import pyarrow.fs as pafs

        return pafs.S3FileSystem(
            endpoint_override=self.url,
            scheme="http",
            region="us-east-1",
            access_key="testing",
            secret_key="testing",
            allow_bucket_creation=True,
        )

    def bucket(self) -> str:
        name = f"lake-{next(self._buckets):04d}"
        self.filesystem().create_dir(name)
        return name

    def lake(self, prefix: str = "lake") -> str:
        return f"s3://{self.bucket()}/{prefix}?endpoint_override={self.url}&scheme=http&region=us-east-1"


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 API on loopback for the session (moto's server mode, under a second to start).

    Dummy credentials, no shared AWS config files and no EC2 instance-metadata lookups are set
    for the session (subprocesses inherit them), so no request can reach real AWS."""
    import logging

    from moto.server import ThreadedMotoServer

    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    cleared = ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")
    saved = {key: os.environ.get(key) for key in (*env, *cleared)}
    os.environ.update(env)
    for key in cleared:
        os.environ.pop(key, None)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        assert host == "127.0.0.1", host
        yield S3Endpoint(f"http://127.0.0.1:{port}")
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_HOME, ignore_errors=True)
