"""A night's health rows, built from the sample night as published."""

from __future__ import annotations

import shutil
from datetime import date

from cleaning import layout
from cleaning.config import load_config
from cleaning.health import read_night, record_night
from cleaning.health.table import _quantile, build_rows, from_table, to_table
from cleaning.store import Lake
from tests.support import ROOT

NIGHT = date(2025, 8, 28)


def test_quantiles_interpolate_like_numpy():
    import numpy as np

    values = [3, 10, 12, 40, 41, 90]
    for q in (0.25, 0.5, 0.75):
        assert _quantile(values, q) == np.quantile(values, q)
    assert _quantile([], 0.5) is None


def test_rows_of_the_sample_night(sample_lake):
    config, lake_path, manifest = sample_lake
    rows = {r["source"]: r for r in read_night(Lake(str(lake_path)), NIGHT)}
    assert sorted(rows) == sorted(s.name for s in config.sources)
    summary = manifest["summary"]["sources"]
    for source, row in rows.items():
        counts = summary[source]
        assert row["discovered"] == counts["discovered"]
        assert row["published"] == counts["published"]
        assert row["duplicates"] == counts["exact_duplicates"] + counts["near_duplicates"]
        assert row["cleaned"] + row["rejected"] + row["failed_fetch"] == row["discovered"]
        assert row["flags"] == []  # one night: no history to judge against
        assert 200 < row["body_words_median"] < 500
        assert row["body_words_p25"] <= row["body_words_median"] <= row["body_words_p75"]
        assert row["furniture_share"] is not None and row["fetch_seconds_per_page"] is not None
    assert sum(r["published"] for r in rows.values()) == manifest["rows"]["articles"]
    # the sample's two special items: a broken link and a section page
    assert rows["northgate-herald"]["failures_by_reason"] == {"fetch:not_found": 1}
    assert rows["coastal-ledger"]["failures_by_reason"] == {"clean:not_article": 1}
    assert rows["coastal-ledger"]["yield_share"] == round(15 / 16, 4)
    # every sample outlet carries wire copies; AP only two of them
    assert {s for s, r in rows.items() if "AP" in r["wire_agencies"]} == {"northgate-herald", "valley-wire-daily"}
    assert all(0 < r["wire_share"] < 1 for r in rows.values())


def test_rows_round_trip_and_a_rerun_replaces_the_night(sample_lake, tmp_path):
    config, lake_path, _ = sample_lake
    copy = tmp_path / "lake"
    shutil.copytree(lake_path, copy)
    config = load_config(ROOT / "data" / "sources.toml", lake=str(copy))
    lake = Lake(str(copy))
    first = read_night(lake, NIGHT)
    assert from_table(to_table(first)) == first
    record_night(config, NIGHT)
    assert read_night(lake, NIGHT) == first
    assert lake.list_files(f"{layout.HEALTH_DIR}") == [layout.health_file(NIGHT)]
    # without the work files the published articles give the bodies
    lake.delete_dir(layout.work_dir(NIGHT))
    rows = {r["source"]: r for r in build_rows(lake, config, NIGHT, lake.read_json(layout.manifest_file(NIGHT)))}
    assert all(r["furniture_share"] is None and r["fetch_seconds_per_page"] is None for r in rows.values())
    assert all(r["body_words_median"] > 200 for r in rows.values())
