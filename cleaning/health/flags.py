"""Anomaly flags: tonight's row of a source against the same source's recent published nights.

The math. For a metric ``x`` of a source, its history ``h_1..h_n`` is the metric on each of the
source's last ``history_nights`` published nights before tonight (nights where the metric is
defined). With ``m = median(h)`` and ``MAD = median(|h_i - m|)``, the robust spread is
``s = 1.4826 * MAD`` (equal to the standard deviation for normal data, but one broken night in
the history moves neither ``m`` nor ``s`` much), and the robust z of tonight is
``z = (x - m) / max(s, floor)``. The floor keeps a source whose history never varied (``MAD =
0``: the same pages each night) from being flagged for a change of one page. A flag needs both a
robust z beyond ``z_threshold`` *and* a change that matters in practice (the absolute or relative
minimum of each rule), so small, steady sources are not flagged for noise and large, noisy ones
are not flagged for their usual swings. No source is judged before it has ``min_history`` nights.

The rules (``[health]`` settings in parentheses):

- ``no_items``: nothing of the source was cleaned tonight, while its history median of cleaned
  articles is at least ``no_items_min_median``. It replaces ``yield_drop`` and
  ``body_length_collapse``, which have nothing to measure then.
- ``yield_drop``: yield share ``cleaned / discovered`` at least ``yield_drop_min`` below its
  median and ``z <= -z_threshold`` (floor 0.02).
- ``body_length_collapse``: median body words at most ``body_collapse_ratio`` times the history's
  median of nightly medians and ``z <= -z_threshold`` (floor: 5% of the median).
- ``failure_spike``: failure share at least ``failure_spike_min`` above its median and
  ``z >= z_threshold`` (floor 0.02).
- ``new_failure_reason``: a ``stage:reason`` the source's history never had, with at least
  ``new_reason_min_count`` failures or ``new_reason_min_share`` of the URLs tried.
- ``wire_agency_gone``: an agency credited on at least ``wire_regular_share`` of the history
  nights (counted over all sources) has no copy tonight from any source; raised on each source
  that carried it on at least half of its history nights.

A source that stays broken stops being flagged once its broken nights are half its history: the
history then says this is its normal. That is the price of judging each source by itself.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass

from cleaning.config import HealthConfig

MAD_SCALE = 1.4826
FLAGS = (
    "no_items",
    "yield_drop",
    "body_length_collapse",
    "failure_spike",
    "new_failure_reason",
    "wire_agency_gone",
)


@dataclass(frozen=True)
class Robust:
    median: float
    spread: float  # 1.4826 * MAD
    nights: int

    def z(self, value: float, floor: float) -> float:
        return (value - self.median) / max(self.spread, floor)


def robust(values: list[float]) -> Robust | None:
    values = [float(v) for v in values if v is not None]
    if not values:
        return None
    m = statistics.median(values)
    mad = statistics.median(abs(v - m) for v in values)
    return Robust(m, MAD_SCALE * mad, len(values))


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _usual(stats: Robust, fmt=_pct) -> str:
    return f"median {fmt(stats.median)}, robust spread {fmt(stats.spread)} over the last {stats.nights} nights"


def judge_source(row: dict, history: list[dict], settings: HealthConfig) -> list[dict]:
    """The flags of one source tonight; ``history`` holds its rows of earlier nights, oldest first."""
    if len(history) < settings.min_history:
        return []
    flags = []
    k = settings.z_threshold

    cleaned = robust([h["cleaned"] for h in history])
    if row["cleaned"] == 0 and cleaned.median >= settings.no_items_min_median:
        flags.append(
            {
                "flag": "no_items",
                "evidence": f"0 articles cleaned tonight (discovered {row['discovered']}, fetched {row['fetched']}, "
                f"rejected {row['rejected']}); median {cleaned.median:g} a night over the last {cleaned.nights} nights",
            }
        )
    nothing = bool(flags)

    yields = robust([h.get("yield_share") for h in history])
    x = row.get("yield_share")
    if not nothing and yields and x is not None:
        if yields.median - x >= settings.yield_drop_min and yields.z(x, 0.02) <= -k:
            flags.append(
                {
                    "flag": "yield_drop",
                    "evidence": f"yield {_pct(x)} ({row['cleaned']} cleaned of {row['discovered']} discovered); "
                    f"{_usual(yields)}; robust z {yields.z(x, 0.02):.1f}",
                }
            )

    bodies = robust([h.get("body_words_median") for h in history])
    x = row.get("body_words_median")
    if not nothing and bodies and x is not None and bodies.median > 0:
        floor = 0.05 * bodies.median
        if x <= settings.body_collapse_ratio * bodies.median and bodies.z(x, floor) <= -k:
            flags.append(
                {
                    "flag": "body_length_collapse",
                    "evidence": f"median body {x:g} words ({_pct(x / bodies.median)} of usual); "
                    f"{_usual(bodies, lambda v: f'{v:g} words')}; robust z {bodies.z(x, floor):.1f}",
                }
            )

    shares = robust([h.get("failure_share") for h in history])
    x = row.get("failure_share")
    if shares and x is not None:
        if x - shares.median >= settings.failure_spike_min and shares.z(x, 0.02) >= k:
            attempted = row["discovered"] + row["failed_discover"]
            failed = row["failed_discover"] + row["failed_fetch"] + row["rejected"]
            flags.append(
                {
                    "flag": "failure_spike",
                    "evidence": f"failure share {_pct(x)} ({failed} of {attempted} URLs tried); {_usual(shares)}; "
                    f"robust z {shares.z(x, 0.02):.1f}",
                }
            )

    known = set().union(*(h.get("failures_by_reason", {}) for h in history))
    attempted = row["discovered"] + row["failed_discover"]
    for reason, count in sorted(row.get("failures_by_reason", {}).items()):
        if reason in known:
            continue
        if count >= settings.new_reason_min_count or (attempted and count / attempted >= settings.new_reason_min_share):
            flags.append(
                {
                    "flag": "new_failure_reason",
                    "evidence": f"{reason} x{count} ({_pct(count / attempted) if attempted else 'all'} of "
                    f"{attempted} URLs tried); not seen in the last {len(history)} nights",
                }
            )
    return flags


def gone_agencies(
    tonight: list[dict], history: dict[str, list[dict]], nights: list[list[dict]], settings: HealthConfig
) -> dict[str, list[dict]]:
    """``wire_agency_gone`` flags per source. ``nights`` are the earlier nights' rows (all
    sources, one list per night); ``history`` the same per source."""
    if len(nights) < settings.min_history:
        return {}
    carried_tonight = Counter()
    for row in tonight:
        carried_tonight.update(row.get("wire_agencies", {}))
    nights_with = Counter()
    for rows in nights:
        nights_with.update({agency for row in rows for agency, n in row.get("wire_agencies", {}).items() if n})
    out: dict[str, list[dict]] = {}
    for agency, seen in sorted(nights_with.items()):
        if carried_tonight[agency] or seen / len(nights) < settings.wire_regular_share:
            continue
        for source, rows in sorted(history.items()):
            here = [row.get("wire_agencies", {}).get(agency, 0) for row in rows]
            if not rows or sum(1 for n in here if n) < len(rows) / 2:
                continue
            out.setdefault(source, []).append(
                {
                    "flag": "wire_agency_gone",
                    "evidence": f"{agency}: no copy tonight from any source; credited on {seen} of the last "
                    f"{len(nights)} nights, here on {sum(1 for n in here if n)} of {len(rows)} "
                    f"(median {statistics.median(here):g} a night)",
                }
            )
    return out


def judge_night(tonight: list[dict], nights: list[list[dict]], settings: HealthConfig) -> list[dict]:
    """Tonight's rows with their ``flags`` filled in. ``nights`` holds the rows of the earlier
    published nights, oldest first (at most ``history_nights`` of them are used)."""
    nights = nights[-settings.history_nights :]
    history: dict[str, list[dict]] = {}
    for rows in nights:
        for row in rows:
            history.setdefault(row["source"], []).append(row)
    wire = gone_agencies(tonight, history, nights, settings)
    out = []
    for row in tonight:
        flags = judge_source(row, history.get(row["source"], []), settings) + wire.get(row["source"], [])
        out.append({**row, "flags": flags})
    return out
