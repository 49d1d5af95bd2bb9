"""Test setup. Airflow reads its settings when first imported, so they are set here, at the top,
before anything imports it: a private AIRFLOW_HOME and sqlite database per test session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_HOME = Path(tempfile.mkdtemp(prefix="newsclean-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME}/airflow.db"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.setdefault("NEWSCLEAN_WORKERS", "1")
os.environ["NEWSCLEAN_CONFIG"] = str(ROOT / "data" / "sources.toml")

import pytest  # noqa: E402

SAMPLES = ROOT / "data" / "samples"
SEED_TEXT = (ROOT / "tests" / "fixtures" / "seed.txt")


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


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_HOME, ignore_errors=True)
