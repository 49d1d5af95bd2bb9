"""One writer per lake and run date: a lease kept in the lake itself.

Two runs of one date at once (a scheduled and a manual run, two shells, a backfill over a running
night) would delete each other's work files and publish a night mixing both. Before it touches
anything of date D, a run takes D's lease; publish checks the lease is still its own before it
commits, and gives it back when the run ends.

Why a lease file per claimant, rather than one lock file: object stores have no atomic
"create if absent" that pyarrow exposes, but they do list a prefix consistently after a write. So
each claimant writes its own file ``_leases/run_date=D/<owner>.json`` (nobody overwrites anybody),
then lists the folder; among the claims that are still live, the one with the earliest
``acquired_at`` (ties: the smaller owner) holds the lease, and every other claimant removes its
file and stops. Two claimants that write at once both see both files and agree on the winner;
one that writes later sees the earlier live claim and loses. This works the same on a local
folder and on S3.

A claim is live until its ``expires_at`` (``[pipeline] lease_hours`` after it was taken or
renewed). A claim made by a process on this machine whose process id no longer runs is dead at
once, so a run killed with SIGKILL does not block its own re-run. Airflow runs claim under their
run id, with no process id (their tasks are separate processes): a re-run of the same Airflow run
holds the lease again, a different run waits for the end or the expiry. ``cleaning unlock D``
removes every claim of a date, for an operator who knows the holder is gone.
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone

from cleaning import layout
from cleaning.store import Lake


class LeaseHeld(RuntimeError):
    """Another run holds the lease of this lake and date."""


@dataclass(frozen=True)
class Claim:
    owner: str
    acquired_at: str  # ISO 8601, UTC
    expires_at: str
    host: str
    pid: int | None  # None for owners that outlive one process (Airflow runs)

    def live(self, now: datetime) -> bool:
        if datetime.fromisoformat(self.expires_at) <= now:
            return False
        if self.pid is not None and self.host == socket.gethostname():
            return _process_alive(self.pid)
        return True

    def describe(self) -> str:
        where = f"{self.host} pid {self.pid}" if self.pid is not None else self.host
        return f"{self.owner} (since {self.acquired_at} on {where}, expires {self.expires_at})"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


AIRFLOW_PREFIX = "airflow-"  # owners that outlive one process: claims without a process id


def new_owner() -> str:
    """An owner name for a run in this process (the CLI, tests)."""
    return f"cli-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def airflow_owner(dag_id: str, run_id: str) -> str:
    return f"{AIRFLOW_PREFIX}{dag_id}-{run_id}"


def _pid_for(owner: str) -> int | None:
    return None if owner.startswith(AIRFLOW_PREFIX) else os.getpid()


def _folder(run_date: date) -> str:
    return layout.lease_dir(run_date)


def _file(run_date: date, owner: str) -> str:
    return f"{_folder(run_date)}/{re.sub(r'[^A-Za-z0-9._-]+', '_', owner)}.json"


def claims(lake: Lake, run_date: date) -> list[Claim]:
    found = []
    for rel in lake.list_files(_folder(run_date), ".json"):
        try:
            found.append(Claim(**lake.read_json(rel)))
        except (FileNotFoundError, TypeError, ValueError, KeyError):
            continue  # removed while listing, or not a claim
    return found


def holder(lake: Lake, run_date: date, now: datetime | None = None) -> Claim | None:
    """The live claim that holds the date, if any."""
    now = now or datetime.now(timezone.utc)
    live = [c for c in claims(lake, run_date) if c.live(now)]
    return min(live, key=lambda c: (c.acquired_at, c.owner)) if live else None


def acquire(lake: Lake, run_date: date, owner: str, hours: float, pid: int | None = -1) -> Claim:
    """Take (or renew) the lease of ``run_date``; raises :class:`LeaseHeld` naming the holder.

    ``pid=-1`` records this process; ``None`` records none (the owner outlives the process).
    """
    now = datetime.now(timezone.utc)
    mine = next((c for c in claims(lake, run_date) if c.owner == owner), None)
    claim = Claim(
        owner=owner,
        acquired_at=mine.acquired_at if mine else now.isoformat(timespec="microseconds"),
        expires_at=(now + timedelta(hours=hours)).isoformat(timespec="microseconds"),
        host=socket.gethostname(),
        pid=os.getpid() if pid == -1 else pid,
    )
    lake.write_json(_file(run_date, owner), asdict(claim))
    winner = holder(lake, run_date)
    if winner is None or winner.owner != owner:
        lake.delete_file(_file(run_date, owner))
        held = winner.describe() if winner else "a claim that vanished while we looked"
        raise LeaseHeld(
            f"another run is writing {run_date} in {lake.root}: {held}. Wait for it to finish, or, if it is "
            f"surely gone, remove its claim with `cleaning unlock {run_date}`"
        )
    for stale in claims(lake, run_date):  # dead claims of earlier runs: tidy them away
        if stale.owner != owner and not stale.live(now):
            lake.delete_file(_file(run_date, stale.owner))
    return claim


def hold(lake: Lake, run_date: date, owner: str, hours: float) -> Claim:
    """Renew ``owner``'s claim, or take the lease again if it lapsed and nobody else took it
    (publish calls this: an Airflow run whose failed task was cleared and re-run gave the lease
    back when the task failed). Raises :class:`LeaseHeld` when another run holds it."""
    try:
        return acquire(lake, run_date, owner, hours, pid=_pid_for(owner))
    except LeaseHeld as exc:
        raise LeaseHeld(f"{exc}; nothing was published by this run ({owner})") from None


def check(lake: Lake, run_date: date, owner: str) -> None:
    """Raise :class:`LeaseHeld` unless ``owner`` holds the lease now."""
    winner = holder(lake, run_date)
    if winner is None or winner.owner != owner:
        raise LeaseHeld(
            f"this run ({owner}) no longer holds the lease of {run_date} in {lake.root}"
            + (f": {winner.describe()} does" if winner else " (it expired or was removed)")
            + "; nothing was published by this run"
        )


def release(lake: Lake, run_date: date, owner: str) -> None:
    if lake.exists(_file(run_date, owner)):
        lake.delete_file(_file(run_date, owner))


def unlock(lake: Lake, run_date: date) -> list[Claim]:
    """Remove every claim of ``run_date``; returns them."""
    removed = claims(lake, run_date)
    lake.delete_dir(_folder(run_date))
    return removed


def running_before(lake: Lake, run_date: date, days: int, now: datetime | None = None) -> list[tuple[date, Claim]]:
    """The dates of the ``days`` before ``run_date`` that a live run holds, oldest first: nights
    whose commit has not happened yet. Their published stories are ``run_date``'s duplicate
    history, so its dedup waits for them (the DAG's ``partition`` step)."""
    now = now or datetime.now(timezone.utc)
    earlier = sorted(
        {
            d
            for rel in lake.list_files(layout.LEASE_DIR, ".json")
            if (d := layout.partition_date(rel)) and run_date - timedelta(days=days) <= d < run_date
        }
    )
    return [(d, claim) for d in earlier if (claim := holder(lake, d, now)) is not None]


def release_all(lake: Lake, owner: str) -> list[date]:
    """Give back every date ``owner`` holds (a failed Airflow run, from the DAG's failure
    callback: its claim would otherwise keep the date, and later nights' dedup, waiting until it
    expires). Returns the dates."""
    name = _file(date(2000, 1, 1), owner).rsplit("/", 1)[1]
    freed = []
    for rel in lake.list_files(layout.LEASE_DIR, ".json"):
        if rel.rsplit("/", 1)[1] == name and (d := layout.partition_date(rel)) is not None:
            release(lake, d, owner)
            freed.append(d)
    return sorted(freed)
