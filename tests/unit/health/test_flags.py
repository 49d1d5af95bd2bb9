"""The flag rules of cleaning.health.flags, on hand-made nights."""

from __future__ import annotations

import pytest

from cleaning.config import ConfigError, HealthConfig
from cleaning.health.flags import FLAGS, judge_night, judge_source, robust

SETTINGS = HealthConfig()


def night_row(source="s", discovered=20, cleaned=19, rejected=1, failed_fetch=0, failed_discover=0, words=400, **extra):
    attempted = discovered + failed_discover
    return {
        "source": source,
        "discovered": discovered,
        "failed_discover": failed_discover,
        "fetched": discovered - failed_fetch,
        "failed_fetch": failed_fetch,
        "cleaned": cleaned,
        "rejected": rejected,
        "duplicates": 0,
        "published": cleaned,
        "failures_by_reason": extra.pop("reasons", {"clean:not_article": rejected} if rejected else {}),
        "yield_share": cleaned / discovered if discovered else None,
        "failure_share": (failed_discover + failed_fetch + rejected) / attempted if attempted else None,
        "body_words_median": float(words) if cleaned else None,
        "wire_agencies": extra.pop("wire", {"Reuters": 2}),
        "flags": [],
        **extra,
    }


def history(n=7, **kwargs):
    # small, realistic wobble from night to night
    return [night_row(discovered=20 + i % 3, cleaned=19 + i % 3, words=400 + 10 * (i % 4), **kwargs) for i in range(n)]


def names(flags):
    return sorted(f["flag"] for f in flags)


def test_robust_median_and_scaled_mad():
    stats = robust([1, 2, 3, 4, 100])
    assert stats.median == 3
    assert stats.spread == pytest.approx(1.4826 * 1)  # |h - 3| = 2,1,0,1,97 -> median 1
    assert stats.z(7, floor=0.5) == pytest.approx(4 / 1.4826)
    assert robust([None, None]) is None


def test_a_healthy_night_raises_nothing():
    assert judge_source(night_row(discovered=21, cleaned=20, words=415), history(), SETTINGS) == []


def test_no_judgement_before_min_history():
    broken = night_row(cleaned=0, rejected=20, words=0)
    assert judge_source(broken, history(SETTINGS.min_history - 1), SETTINGS) == []
    assert "no_items" in names(judge_source(broken, history(SETTINGS.min_history), SETTINGS))


def test_no_items_replaces_yield_and_body_and_names_the_counts():
    flags = judge_source(night_row(cleaned=0, rejected=20), history(), SETTINGS)
    assert names(flags) == ["failure_spike", "no_items"]
    no_items = next(f for f in flags if f["flag"] == "no_items")
    assert no_items["evidence"].startswith("0 articles cleaned tonight (discovered 20, fetched 20, rejected 20)")


def test_no_items_needs_a_source_that_usually_has_items():
    quiet = [night_row(discovered=1, cleaned=i % 2, rejected=0) for i in range(7)]
    assert judge_source(night_row(discovered=1, cleaned=0, rejected=0), quiet, SETTINGS) == []


def test_yield_drop_needs_a_drop_that_matters():
    flags = judge_source(night_row(cleaned=8, rejected=0, reasons={}), history(), SETTINGS)
    assert names(flags) == ["yield_drop"]
    assert "yield 40%" in flags[0]["evidence"] and "robust z" in flags[0]["evidence"]
    # two pages fewer: far in MADs of a steady source, but not a drop that matters
    assert judge_source(night_row(cleaned=17, rejected=0, reasons={}), history(), SETTINGS) == []


def test_body_length_collapse():
    flags = judge_source(night_row(words=60), history(), SETTINGS)
    assert names(flags) == ["body_length_collapse"]
    assert "median body 60 words" in flags[0]["evidence"]
    assert judge_source(night_row(words=300), history(), SETTINGS) == []  # shorter, not collapsed


def test_failure_spike_and_new_reason():
    row = night_row(cleaned=12, failed_fetch=8, rejected=0, reasons={"fetch:http_403": 8})
    flags = judge_source(row, history(), SETTINGS)
    assert names(flags) == ["failure_spike", "new_failure_reason", "yield_drop"]
    new = next(f for f in flags if f["flag"] == "new_failure_reason")
    assert new["evidence"].startswith("fetch:http_403 x8 (40% of 20 URLs tried)")


def test_a_new_reason_once_is_not_a_flag_but_a_failed_feed_is():
    one_off = night_row(cleaned=19, failed_fetch=1, rejected=0, reasons={"fetch:timeout": 1})
    assert judge_source(one_off, history(), SETTINGS) == []
    feed = night_row(discovered=0, cleaned=0, rejected=0, failed_discover=1, reasons={"discover:http_404": 1})
    assert names(judge_source(feed, history(), SETTINGS)) == ["failure_spike", "new_failure_reason", "no_items"]


def test_wire_agency_gone_across_sources():
    def night(ap_a, ap_b, **kw):
        return [
            night_row(source="a", wire={"AP": ap_a, "Reuters": 1}),
            night_row(source="b", wire={"AP": ap_b} if ap_b else {}),
            night_row(source="c", wire={"Reuters": 2}),
        ]

    earlier = [night(1, 1) for _ in range(6)]
    judged = judge_night(night(0, 0), earlier, SETTINGS)
    flagged = {r["source"]: names(r["flags"]) for r in judged if r["flags"]}
    assert flagged == {"a": ["wire_agency_gone"], "b": ["wire_agency_gone"]}
    assert judged[0]["flags"][0]["evidence"].startswith("AP: no copy tonight from any source; credited on 6 of")
    # one source still carries AP: not gone
    assert all(not r["flags"] for r in judge_night(night(1, 0), earlier, SETTINGS))


def test_history_window_is_the_last_nights():
    settings = HealthConfig(history_nights=5, min_history=5)
    broken = [[night_row(cleaned=0, rejected=20, reasons={"clean:too_short": 20})] for _ in range(5)]
    healthy = [[night_row()] for _ in range(5)]
    tonight = [night_row(cleaned=0, rejected=20, reasons={"clean:too_short": 20})]
    assert judge_night(tonight, healthy + broken, settings)[0]["flags"] == []  # broken is its normal now
    assert judge_night(tonight, broken + healthy, settings)[0]["flags"]


def test_settings_are_checked():
    with pytest.raises(ConfigError, match="min_history"):
        HealthConfig(history_nights=3, min_history=5)
    with pytest.raises(ConfigError, match="alert_callable"):
        HealthConfig(alert_callable="not a path")
    assert set(FLAGS) == {
        "no_items",
        "yield_drop",
        "body_length_collapse",
        "failure_spike",
        "new_failure_reason",
        "wire_agency_gone",
    }
