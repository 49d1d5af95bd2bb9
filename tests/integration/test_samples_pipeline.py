"""The whole night, in-process, on the bundled sample corpus: what the README promises."""

from __future__ import annotations

import json
from datetime import date

import pyarrow.parquet as pq
import pytest

from cleaning.pipeline import run_night
from tests.support import SAMPLES

NIGHT = date(2025, 8, 28)
TRUTH = json.loads((SAMPLES / "truth.json").read_text(encoding="utf-8"))
PAGES = {p["url"]: p for p in TRUTH["pages"]}
# The counts stated in the README for the sample corpus.
EXPECTED = {"discovered": 48, "published": 36, "duplicates": 10, "failures": 2}


def read(lake, table, day=NIGHT):
    """The night's rows of ``table``: every part in its partition folder."""
    return pq.read_table(lake / table / f"run_date={day.isoformat()}").to_pylist()


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    from cleaning.config import load_config
    from tests.support import ROOT

    lake = tmp_path_factory.mktemp("lake")
    config = load_config(ROOT / "data" / "sources.toml", lake=str(lake))
    manifest = run_night(config, NIGHT)
    return config, lake, manifest


def test_counts_match_readme(night):
    _, lake, manifest = night
    totals = manifest["summary"]["totals"]
    assert totals["discovered"] == EXPECTED["discovered"]
    assert manifest["rows"] == {"articles": 36, "duplicates": 10, "failures": 2}
    assert len(read(lake, "articles")) == EXPECTED["published"]
    assert len(read(lake, "duplicates")) == EXPECTED["duplicates"]
    assert len(read(lake, "failures")) == EXPECTED["failures"]


def test_each_story_published_once(night):
    _, lake, _ = night
    articles = read(lake, "articles")
    stories = [PAGES[a["url"]]["story"] for a in articles]
    assert len(stories) == len(set(stories))
    expected = {p["story"] for p in TRUTH["pages"] if p["kind"] == "article"}
    assert set(stories) == expected
    for dup in read(lake, "duplicates"):
        assert PAGES[dup["url"]]["story"] == PAGES[dup["canonical_url"]]["story"]


def test_failures_have_stage_and_reason(night):
    _, lake, _ = night
    reasons = {(f["url"].rsplit("/", 1)[1], f["stage"], f["reason"]) for f in read(lake, "failures")}
    assert reasons == {("reservoir-levels-fall.html", "fetch", "not_found"), ("index.html", "clean", "not_article")}


def test_no_furniture_and_whole_bodies(night):
    _, lake, _ = night
    for article in read(lake, "articles"):
        text = article["text"].lower()
        for furniture in TRUTH["furniture"]:
            assert furniture.lower() not in text, (article["url"], furniture)
        page = PAGES[article["url"]]
        for paragraph in page["paragraphs"][1:]:  # the first may lose its dateline, see below
            assert paragraph in article["text"], (article["url"], paragraph[:60])
        assert article["published_at"] is not None


def test_seed_story_once_with_metadata(night):
    _, lake, _ = night
    seed = next(a for a in read(lake, "articles") if "japan-trade-negotiator" in a["url"])
    assert seed["text"].count("Japan's leading trade negotiator, Ryosei Akazawa") == 1
    assert seed["text"].count("pending the resolution of outstanding issues") == 1
    assert "Aug 28, 2025" not in seed["text"] and "(With Reuters inputs)" not in seed["text"]
    assert seed["wire_agency"] == "Reuters"
    assert seed["published_at"].date().isoformat() == "2025-08-28"
    assert seed["title"].startswith("Japan")


def test_agency_datelines_become_metadata(night):
    _, lake, _ = night
    by_url = {a["url"]: a for a in read(lake, "articles")}
    for url, article in by_url.items():
        page = PAGES[url]
        if page["wire_agency"]:
            assert article["wire_agency"] == page["wire_agency"], url
            assert f"({page['wire_agency']}) -" not in article["text"]


def test_rerun_replaces_the_date_exactly(night):
    config, lake, _ = night
    before = {t: read(lake, t) for t in ("articles", "duplicates", "failures")}
    run_night(config, NIGHT)
    after = {t: read(lake, t) for t in ("articles", "duplicates", "failures")}
    strip = lambda rows: [{k: v for k, v in r.items() if k != "fetched_at"} for r in rows]
    assert {t: strip(r) for t, r in after.items()} == {t: strip(r) for t, r in before.items()}


def test_next_night_sees_history_and_publishes_nothing_again(night):
    config, lake, _ = night
    from datetime import timedelta

    later = NIGHT + timedelta(days=2)
    manifest = run_night(config, later)
    assert manifest["rows"]["articles"] == 0
    dups = read(lake, "duplicates", later)
    assert len(dups) == EXPECTED["published"] + EXPECTED["duplicates"]
    first_night_ids = {a["id"] for a in read(lake, "articles")}
    assert {d["canonical_id"] for d in dups} <= first_night_ids
    assert {d["canonical_run_date"] for d in dups} == {NIGHT}


def test_reprocess_uses_kept_captures_without_network(night, monkeypatch):
    config, lake, _ = night
    import cleaning.fetch as fetch

    def no_network(*args, **kwargs):
        raise AssertionError("reprocess must not fetch")

    monkeypatch.setattr(fetch.Fetcher, "get", no_network)
    manifest = run_night(config, NIGHT, reprocess=True)
    assert manifest["rows"]["articles"] == EXPECTED["published"]
    assert manifest["summary"]["totals"]["failed_fetch"] == 1  # kept from the original fetch


def test_lake_reads_in_duckdb_and_pandas(night):
    _, lake, _ = night
    import duckdb
    import pandas as pd

    con = duckdb.connect()
    rows = con.execute(
        f"select count(*), count(distinct id) from read_parquet('{lake}/articles/*/*.parquet', "
        "hive_partitioning=true) where run_date = '2025-08-28'"
    ).fetchone()
    assert rows == (EXPECTED["published"], EXPECTED["published"])
    frame = pd.read_parquet(lake / "articles", filters=[("run_date", "=", "2025-08-28")])
    assert len(frame) == EXPECTED["published"]


def test_a_failed_night_publishes_only_its_failures(night, tmp_path, capsys):
    """Past the failure bound: no articles, duplicates or history for that date, and an earlier
    publication of the same date is left as it was; readers and the report are told."""
    import shutil
    from dataclasses import replace

    from cleaning import cli
    from cleaning.pipeline import RunFailed
    from cleaning.publish import NightFailed, check_night, read_night
    from cleaning.store import Lake

    config, published_lake, _ = night
    strict = lambda lake: replace(config, lake=str(lake), max_failure_share=0.01)  # noqa: E731
    fresh = tmp_path / "fresh"
    with pytest.raises(RunFailed, match="above the bound"):
        run_night(strict(fresh), NIGHT)
    day = f"run_date={NIGHT.isoformat()}"
    assert not (fresh / "articles" / day).exists() and not (fresh / "duplicates" / day).exists()
    assert not (fresh / "history" / day).exists()
    assert len(read(fresh, "failures")) == EXPECTED["failures"]
    manifest = json.loads((fresh / "manifests" / day / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["withheld_rows"] == {"articles": EXPECTED["published"], "duplicates": EXPECTED["duplicates"]}
    assert "failed and was not published" in check_night(Lake(str(fresh)), NIGHT)[0]

    with pytest.raises(NightFailed):
        read_night(Lake(str(fresh)), NIGHT)

    again = tmp_path / "again"  # a good night, then a failed re-run of it: the night stays as it was
    shutil.copytree(published_lake, again)
    published = lambda: {  # noqa: E731  (what readers see: the tables, the history, the manifests)
        p.relative_to(again): p.read_bytes()
        for top in ("articles", "duplicates", "failures", "history", "manifests")
        for p in (again / top).rglob("*")
        if p.is_file()
    }
    before = published()
    with pytest.raises(RunFailed):
        run_night(strict(again), NIGHT)
    after = published()
    reports = [p for p in after if p.name.startswith("failed-")]
    assert len(reports) == 1 and {p: b for p, b in after.items() if p not in reports} == before
    manifest, tables = read_night(Lake(str(again)), NIGHT)
    assert tables["articles"].num_rows == EXPECTED["published"] and check_night(Lake(str(again)), NIGHT) == []
    capsys.readouterr()
    assert cli.main(["report", NIGHT.isoformat(), "--config", str(config.path), "--lake", str(again)]) == 0
    assert "a later run failed" in capsys.readouterr().out
    capsys.readouterr()
    assert cli.main(["report", NIGHT.isoformat(), "--config", str(config.path), "--lake", str(fresh)]) == 3
    assert f"withheld, not published: articles {EXPECTED['published']}" in capsys.readouterr().out


def test_sign_keeps_a_story_written_without_spaces(tmp_path):
    """The length floor after furniture stripping counts words as the clean stage does: a
    Japanese story has few spaces but many words."""
    from datetime import datetime, timezone

    import pyarrow as pa

    from cleaning import schema
    from cleaning.config import load_config
    from cleaning.pipeline import sign, work_dir
    from cleaning.store import Lake
    from tests.support import ROOT

    config = load_config(ROOT / "data" / "sources.toml", lake=str(tmp_path / "lake"))
    lake, wd = Lake(config.lake), work_dir(NIGHT)
    story = "東京都は二十八日、新しい防災計画を発表した。地震や豪雨に備え、避難所の数を来年までに二倍に増やす。"
    row = {
        "id": "jp1",
        "url": "https://news.example/jp1",
        "source": "northgate-herald",
        "title": "防災計画",
        "authors": [],
        "text": story,
        "fetched_at": datetime(2025, 8, 28, tzinfo=timezone.utc),
    }
    lake.write_table(f"{wd}/cleaned/shard-00000.parquet", pa.Table.from_pylist([row], schema=schema.CLEANED))
    lake.write_table(
        f"{wd}/furniture.parquet",
        pa.table({"source": pa.array([], pa.string()), "line_key": pa.array([], pa.string())}),
    )
    assert sign(config, NIGHT, 0)["signed"] == 1
