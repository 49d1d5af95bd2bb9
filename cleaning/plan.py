"""What a run will do, decided once from its parameters, the config and the schedule.

The Airflow DAG (its ``plan`` task) and ``cleaning run`` both call :func:`make_plan`, so they
accept and refuse the same combinations:

- unknown sources are refused;
- ``sources`` with ``reprocess`` is refused: a reprocess cleans all kept raw captures of the date;
- ``sources`` on a date that is already published is refused: publishing replaces a date's
  tables whole, so a run of some sources would remove the other sources' stories of that date.
  Re-run the whole date instead (its seen-URL state is the one of the nights before it, so every
  story of the date is offered again);
- a ``run_date`` that contradicts a scheduled or backfill run's data interval is refused;
- without a ``run_date``: the night of the data interval, else today in the config's timezone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from cleaning.config import Config

# The steps of a night, in order: run_night runs them, read_stats and `cleaning report` list their
# counts in this order, and the DAG has one task (or one mapped task) per step after `plan`.
# `health` runs after a night is published: per-source health rows and flags (cleaning.health).
STAGES = (
    "discover",
    "fetch",
    "clean",
    "furniture",
    "sign",
    "bucket",
    "verify",
    "cluster",
    "measure",
    "publish",
    "commit",
    "health",
)


class PlanError(ValueError):
    """The parameters contradict each other, the config or the lake."""


@dataclass(frozen=True)
class RunPlan:
    run_date: date
    sources: tuple[str, ...] = field(default_factory=tuple)  # empty: all configured sources
    reprocess: bool = False
    dry_run: bool = False
    jaccard_threshold: float | None = None  # None: the config's value
    containment_threshold: float | None = None

    def to_dict(self) -> dict:
        """JSON-safe, for XCom and logs."""
        return {**asdict(self), "run_date": self.run_date.isoformat(), "sources": list(self.sources)}

    @classmethod
    def from_dict(cls, data: dict) -> RunPlan:
        return cls(
            **{**data, "run_date": date.fromisoformat(data["run_date"]), "sources": tuple(data.get("sources") or ())}
        )


def _published(config: Config, run_date: date) -> bool:
    from cleaning.publish import is_published
    from cleaning.store import Lake

    return is_published(Lake(config.lake), run_date)


def make_plan(
    config: Config,
    *,
    run_date: date | str | None = None,
    sources: list[str] | tuple[str, ...] = (),
    reprocess: bool = False,
    dry_run: bool = False,
    jaccard_threshold: float | None = None,
    containment_threshold: float | None = None,
    interval_date: date | None = None,
    run_type: str | None = None,
    now: datetime | None = None,
) -> RunPlan:
    """The run's plan; raises :class:`PlanError` for what must not run."""
    if isinstance(run_date, str):
        try:
            run_date = date.fromisoformat(run_date)
        except ValueError:
            raise PlanError(f"run_date {run_date!r} is not a date (YYYY-MM-DD)") from None
    kind = (run_type or "").lower()
    if run_date is not None:
        if interval_date is not None and kind in ("scheduled", "backfill") and run_date != interval_date:
            raise PlanError(
                f"run_date {run_date} contradicts this {kind} run's data interval (night {interval_date}); "
                "drop run_date"
            )
    elif interval_date is not None:
        run_date = interval_date
    else:
        run_date = (now or datetime.now(ZoneInfo(config.timezone))).astimezone(ZoneInfo(config.timezone)).date()

    sources = tuple(dict.fromkeys(sources or ()))
    names = {s.name for s in config.sources}
    unknown = sorted(set(sources) - names)
    if unknown:
        raise PlanError(f"unknown source(s) {unknown}; configured: {sorted(names)}")
    if sources and reprocess:
        raise PlanError(
            "'sources' cannot be combined with 'reprocess': a reprocess run cleans all kept raw captures of the date"
        )
    if sources and set(sources) != names and not dry_run and _published(config, run_date):
        raise PlanError(
            f"{run_date} is already published; a run of only {list(sources)} would replace the whole night and "
            "drop the other sources' stories. Re-run the whole date (no sources), or use dry_run to inspect"
        )
    return RunPlan(run_date, sources, bool(reprocess), bool(dry_run), jaccard_threshold, containment_threshold)
