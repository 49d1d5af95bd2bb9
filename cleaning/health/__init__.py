"""Source health: see a source break before downstream readers do.

After a night publishes, :func:`record_night` writes one row per source to
``source_health/run_date=D/part-0.parquet`` (counts, failure reasons, body lengths, furniture and
wire shares, fetch time; :mod:`cleaning.health.table`), judges each source against its own recent
published nights (:mod:`cleaning.health.flags`, robust statistics) and writes the night's
self-contained HTML report (:mod:`cleaning.health.report`). Re-running a date replaces its
partition and report. :func:`alert` runs the configured hooks when flags were raised.
"""

from __future__ import annotations

import importlib
import json
import logging
import subprocess
from datetime import date

from cleaning import layout
from cleaning.config import Config
from cleaning.health.flags import FLAGS, judge_night
from cleaning.health.table import build_rows, from_table, to_table
from cleaning.store import Lake

__all__ = ["FLAGS", "NotPublished", "alert", "health_nights", "read_night", "record_night"]

log = logging.getLogger(__name__)


class NotPublished(RuntimeError):
    """Health is recorded for published nights only."""


def _published(lake: Lake, run_date: date) -> bool:
    from cleaning.publish import is_published

    return is_published(lake, run_date)


def health_nights(lake: Lake, until: date, count: int, include_until: bool = True) -> list[date]:
    """The last ``count`` published nights with health rows, up to ``until``, oldest first."""
    dates = [
        d
        for d in layout.health_dates(lake.list_files(layout.HEALTH_DIR, ".parquet"))
        if d < until or (include_until and d == until)
    ]
    chosen = []
    for night in reversed(dates):
        if len(chosen) == count:
            break
        if _published(lake, night):
            chosen.append(night)
    return chosen[::-1]


def read_night(lake: Lake, run_date: date) -> list[dict]:
    return from_table(lake.read_table(layout.health_file(run_date)))


def record_night(config: Config, run_date: date) -> dict:
    """Write the night's health rows and report; returns the flags and where the files are."""
    lake = Lake(config.lake)
    rel = layout.manifest_file(run_date)
    if not lake.exists(rel):
        raise NotPublished(f"no manifest for {run_date} in {config.lake}: publish the night first")
    manifest = lake.read_json(rel)
    if manifest.get("status") == "failed":
        raise NotPublished(f"{run_date} failed its failure bound and was not published: no health recorded")
    settings = config.health
    rows = build_rows(lake, config, run_date, manifest)
    earlier = [read_night(lake, d) for d in health_nights(lake, run_date, settings.history_nights, False)]
    rows = judge_night(rows, earlier, settings)
    lake.write_table(layout.health_file(run_date), to_table(rows))

    from cleaning.health.report import render_html

    report = layout.health_report(run_date)
    lake.write_bytes(report, render_html(lake, run_date, settings.report_nights).encode("utf-8"))
    flags = [{"source": r["source"], **flag} for r in rows for flag in r["flags"]]
    return {
        "stage": "health",
        "run_date": run_date.isoformat(),
        "sources": len(rows),
        "history_nights": len(earlier),
        "flags": flags,
        "file": layout.health_file(run_date),
        "report": report,
        "report_path": lake.path(report),
    }


def format_flags(run_date: date | str, flags: list[dict]) -> str:
    if not flags:
        return f"source health {run_date}: no flags"
    lines = [f"source health {run_date}: {len(flags)} flag(s)"]
    lines += [f"  {f['source']}: {f['flag']}: {f['evidence']}" for f in flags]
    return "\n".join(lines)


def alert(config: Config, run_date: date, flags: list[dict]) -> list[str]:
    """Run the ``[health]`` alert hooks when there are flags; returns the hooks' errors (a hook
    that fails is reported, it does not stop the night)."""
    settings = config.health
    errors = []
    if not flags:
        return errors
    payload = {"run_date": run_date.isoformat(), "lake": config.lake, "flags": flags}
    if settings.alert_command:
        try:
            done = subprocess.run(
                settings.alert_command,
                shell=True,  # noqa: S602 (the operator's own command, from the config)
                input=json.dumps(payload),
                text=True,
                capture_output=True,
                timeout=120,
            )
            if done.returncode:
                errors.append(f"alert_command exited {done.returncode}: {done.stderr.strip()[-500:]}")
        except (OSError, subprocess.SubprocessError) as exc:
            errors.append(f"alert_command: {type(exc).__name__}: {exc}")
    if settings.alert_callable:
        module, _, name = settings.alert_callable.partition(":")
        try:
            target = importlib.import_module(module)
            for part in name.split("."):
                target = getattr(target, part)
            target(run_date, flags)
        except Exception as exc:  # the hook is someone else's code: report, go on
            errors.append(f"alert_callable {settings.alert_callable}: {type(exc).__name__}: {exc}")
    for error in errors:
        log.warning("health alert hook failed: %s", error)
    return errors
