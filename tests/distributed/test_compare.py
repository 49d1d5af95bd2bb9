"""The table comparison of `make test-distributed` (ops/distributed/run.py), without servers: rows
are compared as sets of whole rows in any order, only the fetch time is left out, and a
changed, missing or extra row is reported with the row itself."""

from __future__ import annotations

import importlib.util
from datetime import datetime, timezone

import pyarrow as pa
import pytest

from tests.support import ROOT


@pytest.fixture(scope="module")
def driver():
    spec = importlib.util.spec_from_file_location("distributed_run", ROOT / "ops" / "distributed" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tables(rows: list[dict]) -> dict[str, pa.Table]:
    table = pa.Table.from_pylist(rows)
    return {name: table for name in ("articles", "duplicates", "failures")}


ROWS = [
    {"id": "a", "text": "one", "fetched_at": datetime(2025, 8, 28, 1, tzinfo=timezone.utc)},
    {"id": "b", "text": "two", "fetched_at": datetime(2025, 8, 28, 2, tzinfo=timezone.utc)},
]


def test_equal_in_any_order_and_whatever_the_fetch_time(driver):
    later = [{**row, "fetched_at": datetime(2025, 8, 29, tzinfo=timezone.utc)} for row in reversed(ROWS)]
    assert driver.compare_tables(_tables(ROWS), _tables(later)) == []


def test_a_changed_or_missing_row_is_reported(driver):
    changed = [ROWS[0], {**ROWS[1], "text": "TWO"}]
    problems = driver.compare_tables(_tables(ROWS), _tables(changed))
    assert len(problems) == 3 and '"TWO"' in problems[0] and "1 only on Celery, 1 only in one process" in problems[0]
    problems = driver.compare_tables(_tables(ROWS), _tables(ROWS[:1]))
    assert "2 rows on Celery, 1 in one process" in problems[0]


def test_a_different_schema_is_reported(driver):
    other = [{**row, "extra": 1} for row in ROWS]
    assert "schemas differ" in driver.compare_tables(_tables(ROWS), _tables(other))[0]
