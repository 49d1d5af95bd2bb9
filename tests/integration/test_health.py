"""Source health as an operator meets it: ten nights of the sample outlets with a template
change, a feed answering 404, a site answering 403 and a wire agency gone; each breakage raises
exactly its expected flags on its night, healthy nights none; `cleaning report --nights N`
shows the trend and the flags."""

from __future__ import annotations

from datetime import date, timedelta

from bench.health_sim import EXPECTED, FIRST_NIGHT, score
from cleaning import layout
from cleaning.cli import main
from cleaning.health import read_night
from cleaning.store import Lake
from tests.conftest import HEALTH_SCHEDULE


def test_each_breakage_raises_exactly_its_flags(health_nights):
    _, _, results = health_nights
    for result in results:
        expected = {source: sorted(EXPECTED[kind]) for source, kind in result["affected"].items()}
        assert result["flags"] == expected, (result["run_date"], result["evidence"])
    scored = score(results)
    assert scored["detected_first_night"] == scored["breakages"] == 5  # wire_gone hits two outlets
    assert scored["false_flags"] == []


def test_flags_name_their_evidence(health_nights):
    _, lake, _ = health_nights
    night = FIRST_NIGHT + timedelta(days=7)  # valley-wire-daily answers 403 to every page
    rows = {r["source"]: r for r in read_night(Lake(str(lake)), night)}
    evidence = {f["flag"]: f["evidence"] for f in rows["valley-wire-daily"]["flags"]}
    assert evidence["new_failure_reason"].startswith("fetch:http_403 x")
    assert "not seen in the last 7 nights" in evidence["new_failure_reason"]
    assert evidence["no_items"].startswith("0 articles cleaned tonight")
    assert "failure share 100%" in evidence["failure_spike"]
    assert rows["valley-wire-daily"]["failures_by_reason"]["fetch:http_403"] == rows["valley-wire-daily"]["discovered"]
    assert not rows["northgate-herald"]["flags"] and not rows["coastal-ledger"]["flags"]


def test_report_shows_the_trend_and_the_flags(health_nights, capsys):
    config, lake, results = health_nights
    night = FIRST_NIGHT + timedelta(days=8)
    assert main(["report", "--config", str(config), night.isoformat(), "--nights", "4"]) == 0
    out = capsys.readouterr().out
    trend = out.split("source health over", 1)[1]
    assert trend.startswith(f" 4 night(s), {night - timedelta(days=3)} to {night}")
    assert "flags on 2025-09-09: 2" in trend
    assert "northgate-herald: wire_agency_gone: AP: no copy tonight from any source" in trend
    lines = [line.split() for line in trend.splitlines()]
    valley_403 = next(line for line in lines if line[:1] == ["2025-09-08"] and "no_items" in line[-1])
    assert valley_403[-1] == "no_items,failure_spike,new_failure_reason"
    assert sum(1 for line in lines if line[:1] == ["2025-09-06"]) == 3  # every source, every night
    assert f"health report: {lake}/{layout.health_report(night)}" in out
    # without --nights: the night's flags only
    assert main(["report", "--config", str(config), "2025-09-10"]) == 0
    assert "source health 2025-09-10: no flags" in capsys.readouterr().out


def test_nights_are_published_and_reports_written(health_nights):
    _, lake, results = health_nights
    store = Lake(str(lake))
    for result in results:
        night = date.fromisoformat(result["run_date"])
        assert store.read_json(layout.manifest_file(night)).get("status") != "failed"
        html = store.read_bytes(layout.health_report(night)).decode()
        assert html.count("<img class='chart'") == 3
        assert ("flag(s) on" in html) == bool(result["flags"])
    assert set(HEALTH_SCHEDULE) <= {r["night"] for r in results}
