"""The one-writer lease: who holds a date, when a claim lapses, on a folder and on S3."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pytest

from cleaning import layout, lease
from cleaning.store import Lake

DAY = date(2025, 9, 1)


def test_the_first_claim_holds_and_the_second_is_refused_with_the_holder_named(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    lease.acquire(lake, DAY, "first", hours=1)
    with pytest.raises(lease.LeaseHeld, match="another run is writing 2025-09-01.*first"):
        lease.acquire(lake, DAY, "second", hours=1)
    assert [c.owner for c in lease.claims(lake, DAY)] == ["first"]  # the loser left no claim
    lease.acquire(lake, DAY, "first", hours=1)  # renewing one's own claim is fine
    lease.acquire(lake, DAY + timedelta(days=1), "second", hours=1)  # another date is free
    lease.release(lake, DAY, "first")
    lease.acquire(lake, DAY, "second", hours=1)


def test_expired_claims_and_claims_of_dead_processes_lapse(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    old = datetime.now(timezone.utc) - timedelta(hours=2)
    expired = {"owner": "gone", "acquired_at": old.isoformat(), "expires_at": (old + timedelta(hours=1)).isoformat()}
    lake.write_json(f"{layout.lease_dir(DAY)}/gone.json", {**expired, "host": "elsewhere", "pid": None})
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    killed = {**expired, "owner": "killed", "expires_at": (old + timedelta(hours=9)).isoformat()}
    import socket

    lake.write_json(
        f"{layout.lease_dir(DAY)}/killed.json", {**killed, "host": socket.gethostname(), "pid": int(dead.stdout)}
    )
    assert lease.holder(lake, DAY) is None  # a live-looking claim of a process that has exited
    lease.acquire(lake, DAY, "next", hours=1)  # neither the expired nor the dead claim blocks it
    assert [c.owner for c in lease.claims(lake, DAY)] == ["next"]  # and both were tidied away


def test_a_claim_without_a_process_id_holds_until_it_expires(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    lease.acquire(lake, DAY, lease.airflow_owner("news_nightly", "manual__1"), hours=1, pid=None)
    with pytest.raises(lease.LeaseHeld, match="cleaning unlock 2025-09-01"):
        lease.acquire(lake, DAY, "cli", hours=1)
    removed = lease.unlock(lake, DAY)
    assert [c.owner for c in removed] == ["airflow-news_nightly-manual__1"]
    lease.acquire(lake, DAY, "cli", hours=1)


def test_hold_takes_a_free_lease_again_but_never_one_another_run_holds(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    owner = lease.airflow_owner("news_nightly", "scheduled__1")
    lease.hold(lake, DAY, owner, hours=1)  # nobody held it: publish of a re-run task takes it
    lease.release(lake, DAY, owner)
    lease.acquire(lake, DAY, "other", hours=1)
    with pytest.raises(lease.LeaseHeld, match="nothing was published by this run"):
        lease.hold(lake, DAY, owner, hours=1)


def test_claims_are_files_a_person_can_read(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    lease.acquire(lake, DAY, "cli-host-1", hours=2)
    (path,) = (tmp_path / "lake" / "_leases" / "run_date=2025-09-01").glob("*.json")
    claim = json.loads(path.read_text())
    assert claim["owner"] == "cli-host-1" and claim["pid"] and claim["expires_at"] > claim["acquired_at"]


@pytest.mark.slow
def test_the_lease_works_on_s3(s3_endpoint):
    lake = Lake(s3_endpoint.lake())
    lease.acquire(lake, DAY, "first", hours=1)
    with pytest.raises(lease.LeaseHeld):
        lease.acquire(lake, DAY, "second", hours=1)
    lease.release(lake, DAY, "first")
    lease.acquire(lake, DAY, "second", hours=1)
    assert [c.owner for c in lease.claims(lake, DAY)] == ["second"]


def test_nights_still_running_before_a_date_are_the_ones_it_waits_for(tmp_path):
    """Dedup of a night waits for the earlier nights in its history window that a live run
    holds; its own date, later dates, nights outside the window and lapsed claims do not count."""
    lake = Lake(str(tmp_path / "lake"))
    owner = lease.airflow_owner("news_nightly", "backfill__2025-08-30T00:00:00+00:00")
    lease.acquire(lake, DAY - timedelta(days=2), owner, hours=1, pid=None)
    lease.acquire(lake, DAY - timedelta(days=1), "cli-other", hours=1, pid=None)
    lease.acquire(lake, DAY - timedelta(days=40), "cli-old", hours=1, pid=None)  # outside 30 days
    lease.acquire(lake, DAY, "me", hours=1, pid=None)
    lease.acquire(lake, DAY + timedelta(days=1), "later", hours=1, pid=None)
    running = lease.running_before(lake, DAY, 30)
    assert [(d, c.owner) for d, c in running] == [(DAY - timedelta(days=2), owner), (DAY - timedelta(days=1), "cli-other")]
    in_two_hours = datetime.now(timezone.utc) + timedelta(hours=2)
    assert lease.running_before(lake, DAY, 30, now=in_two_hours) == []  # claims lapse
    # a failed Airflow run gives back every date it holds, and only its own claims
    assert lease.release_all(lake, owner) == [DAY - timedelta(days=2)]
    assert [d for d, _ in lease.running_before(lake, DAY, 30)] == [DAY - timedelta(days=1)]
    assert lease.release_all(lake, owner) == []
