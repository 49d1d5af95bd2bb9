"""Publish per shard, then one commit (cleaning.publish; docs/lake.md "How a night is published").

- The parts of a night hold exactly the rows a whole-night build from the same work files gives
  (the way publish worked when it was one step), on a night with three shards.
- A publish task reads only its own shard's work files.
- A shard published again replaces its own part: no row twice.
- A night published again with fewer shards loses the parts of the shards it no longer has;
  a part the manifest does not list is flagged by ``check_night`` and never read by ``read_night``.
- A commit killed midway is completed by running the commit again for the same attempt.
- The commit refuses shards that were not published, or were published for another attempt.
- A dry run stages nothing and commits nothing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta

import pyarrow as pa
import pytest

from cleaning import layout, schema
from cleaning.clean.text import word_count
from cleaning.config import load_config
from cleaning.crash import CRASH_ENV
from cleaning.pipeline import commit_night, publish, publish_shard, run_night
from cleaning.publish import TABLES, NightNotConsistent, check_night, night_attempt, night_shards, read_night
from cleaning.store import Lake
from tests.support import ROOT, write_config

NIGHT = date(2025, 8, 28)
SHARDS = 3
SORT_KEYS = {"articles": ("id",), "duplicates": ("id",), "failures": ("stage", "source", "url")}


def sorted_rows(table: str, rows: list[dict], drop: tuple[str, ...] = ()) -> list[dict]:
    rows = [{k: v for k, v in r.items() if k not in drop} for r in rows]
    return sorted(rows, key=lambda r: tuple(r[k] for k in SORT_KEYS[table]))


def night_rows(lake: Lake, day: date = NIGHT, drop: tuple[str, ...] = ()) -> dict[str, list[dict]]:
    """Each table's rows of a published night, read through its manifest and checked."""
    return {t: sorted_rows(t, table.to_pylist(), drop) for t, table in read_night(lake, day)[1].items()}


def folder_rows(lake: Lake, table: str, day: date = NIGHT) -> list[dict]:
    """What a glob reader sees: every file in the table's partition folder."""
    return [r for rel in lake.list_files(layout.table_dir(table, day)) for r in lake.read_table(rel).to_pylist()]


def whole_night(lake: Lake, day: date) -> dict[str, list[dict]]:
    """The night's tables built from all its work files at once, as publish did before it ran per
    shard (the rows of every shard, then every decision): the reference the parts must equal."""
    from cleaning.dedup.stages import read_decisions

    wd = layout.work_dir(day)
    final = lake.read_tables(lake.list_files(f"{wd}/final", ".parquet"), schema.CLEANED).to_pylist()
    articles = {}
    for row in final:
        articles.setdefault(row["id"], row)
    hashes = {}
    for rel in lake.list_files(f"{wd}/signatures", ".parquet"):
        t = lake.read_table(rel, columns=["id", "content_hash"])
        hashes.update(zip(t.column("id").to_pylist(), t.column("content_hash").to_pylist()))
    decisions = [  # with the measure stage's findings, as publish reads them
        row
        for rel in lake.list_files(f"{wd}/decisions", ".parquet")
        for row in read_decisions(lake, day, layout.shard_of_name(rel)).to_pylist()
    ]
    decided = {d["id"]: d for d in decisions}
    sizes = Counter(d["canonical_id"] for d in decided.values())
    earlier_urls = {}  # canonicals of earlier nights: their url from that night's published articles
    for night in {d["canonical_run_date"] for d in decided.values() if d["canonical_from_history"]}:
        earlier_urls.update((r["id"], r["url"]) for r in read_night(lake, night)[1]["articles"].to_pylist())
    published, dropped = [], []
    for id_, row in articles.items():
        d = decided.get(id_)
        if d is None or not d["is_duplicate"]:
            published.append(
                {
                    **row,
                    "word_count": word_count(row["text"]),
                    "content_hash": hashes.get(id_, ""),
                    "cluster_size": sizes.get(id_, 1),
                }
            )
            continue
        history = d["canonical_from_history"]
        dropped.append(
            {
                **{k: row[k] for k in ("id", "url", "final_url", "source", "title")},
                "canonical_id": d["canonical_id"],
                "canonical_url": earlier_urls[d["canonical_id"]] if history else articles[d["canonical_id"]]["url"],
                "canonical_run_date": d["canonical_run_date"] if history else day,
                "method": d["method"],
                "jaccard": d["jaccard"],
                "containment": d["containment"],
                "measure": d["measure"],
                "score": d["score"],
            }
        )
    failures = lake.read_tables(lake.list_files(f"{wd}/failures", ".parquet"), schema.FAILURES).to_pylist()
    tables = {
        "articles": pa.Table.from_pylist(published, schema=schema.ARTICLES),
        "duplicates": pa.Table.from_pylist(dropped, schema=schema.DUPLICATES),  # float32 as published
        "failures": pa.Table.from_pylist(failures, schema=schema.FAILURES),
    }
    return {t: sorted_rows(t, table.to_pylist()) for t, table in tables.items()}


@pytest.fixture(scope="module")
def three_shards(tmp_path_factory):
    """The sample night published with three shards, then the next night (all of whose stories
    are duplicates of the first night's); read it, copy it to write. ``(config_file, lake)``."""
    folder = tmp_path_factory.mktemp("three-shards")
    config_file = write_config(folder / "sources.toml", pipeline={"shards": SHARDS})
    lake = folder / "lake"
    config = load_config(config_file, lake=str(lake))
    run_night(config, NIGHT)
    run_night(config, NIGHT + timedelta(days=1))
    return config_file, lake


@pytest.fixture
def copy(three_shards, tmp_path):
    """A writable copy of the three-shard lake and its config: ``(config, Lake)``."""
    config_file, lake = three_shards
    shutil.copytree(lake, tmp_path / "lake")
    config = load_config(config_file, lake=str(tmp_path / "lake"))
    return config, Lake(config.lake)


# ---------------------------------------------------------------- the rows
def test_the_parts_hold_the_rows_of_a_whole_night_build(three_shards):
    _, root = three_shards
    lake = Lake(str(root))
    for day in (NIGHT, NIGHT + timedelta(days=1)):
        assert check_night(lake, day) == []
        manifest = lake.read_json(layout.manifest_file(day))
        for table in TABLES:
            assert [p["path"] for p in manifest["files"][table]["parts"]] == [
                layout.table_part(table, day, n) for n in range(SHARDS)
            ]
        assert night_rows(lake, day) == whole_night(lake, day), day
    first = night_rows(lake, NIGHT)
    assert [len(first[t]) for t in TABLES] == [36, 10, 2]  # the README's numbers
    parts_with_rows = [
        p for p in lake.read_json(layout.manifest_file(NIGHT))["files"]["articles"]["parts"] if p["rows"]
    ]
    assert len(parts_with_rows) == SHARDS  # the stories are spread over the parts
    second = night_rows(lake, NIGHT + timedelta(days=1))
    assert second["articles"] == [] and {d["canonical_run_date"] for d in second["duplicates"]} == {NIGHT}


def test_the_rows_do_not_depend_on_the_number_of_shards(three_shards, tmp_path):
    _, root = three_shards
    config = load_config(write_config(tmp_path / "one.toml", pipeline={"shards": 1}), lake=str(tmp_path / "lake"))
    run_night(config, NIGHT)
    one = night_rows(Lake(config.lake), drop=("fetched_at",))
    assert one == night_rows(Lake(str(root)), drop=("fetched_at",))
    assert [len(Lake(config.lake).list_files(layout.table_dir(t, NIGHT))) for t in TABLES] == [1, 1, 1]


def test_history_is_written_in_the_bucket_tasks_ranges_and_decides_the_same(three_shards, tmp_path):
    """With more key ranges than the default 16, each history part's keys are split as the bucket
    tasks split theirs (one file a task reads whole); the next night's rows, decided against that
    history, are those of the three-shard lake with 4 ranges and 16-range history."""
    _, root = three_shards
    config_file = write_config(tmp_path / "wide.toml", pipeline={"shards": 1}, dedup={"key_ranges": 32})
    config = load_config(config_file, lake=str(tmp_path / "lake"))
    run_night(config, NIGHT)
    run_night(config, NIGHT + timedelta(days=1))
    lake = Lake(config.lake)
    folders = {rel.split("/")[-2] for rel in lake.list_files(f"{layout.history_dir(NIGHT)}/keys", ".parquet")}
    assert folders == {f"range={r:04d}-of-0032" for r in range(32)}
    for day in (NIGHT, NIGHT + timedelta(days=1)):
        assert night_rows(lake, day, drop=("fetched_at",)) == night_rows(Lake(str(root)), day, drop=("fetched_at",))


def test_a_publish_task_reads_only_its_own_shard(copy, monkeypatch):
    config, lake = copy
    read = []
    original = Lake.read_table

    def recording(self, relpath, *args, **kwargs):
        read.append(relpath)
        return original(self, relpath, *args, **kwargs)

    monkeypatch.setattr(Lake, "read_table", recording)
    for shard in range(SHARDS):
        read.clear()
        publish_shard(config, NIGHT, shard)
        work = [rel for rel in read if rel.startswith(layout.work_dir(NIGHT))]
        name = layout.shard_name(shard)
        assert work and all(
            rel.endswith("/" + name) or rel.endswith("-" + name) or rel.endswith("failures/discover.parquet")
            for rel in work
        ), work
        assert any(rel.endswith("failures/discover.parquet") for rel in work) == (shard == 0)


# ---------------------------------------------------------------- re-runs and retries
def test_a_shard_published_again_replaces_its_own_part(copy):
    config, lake = copy
    rows = night_rows(lake)
    parts = {t: lake.list_files(layout.table_dir(t, NIGHT)) for t in TABLES}
    attempt = night_attempt(lake, config, NIGHT)
    for _ in range(2):  # an Airflow retry of shard 1, twice
        assert publish_shard(config, NIGHT, 1)["attempt"] == attempt
    manifest = commit_night(config, NIGHT)
    assert check_night(lake, NIGHT) == [] and manifest["attempt"] == attempt
    assert night_rows(lake) == rows
    for table in TABLES:
        assert lake.list_files(layout.table_dir(table, NIGHT)) == parts[table]
        assert sorted_rows(table, folder_rows(lake, table)) == rows[table]  # a glob reader, too
    assert len({r["id"] for r in folder_rows(lake, "articles")}) == len(rows["articles"])
    assert not lake.list_files(layout.staging_dir(NIGHT))


def test_a_night_published_again_with_fewer_shards_drops_the_parts_it_no_longer_has(copy, tmp_path):
    config, lake = copy
    rows = night_rows(lake, drop=("fetched_at",))
    five = load_config(write_config(tmp_path / "five.toml", pipeline={"shards": 5}), lake=config.lake)
    run_night(five, NIGHT)
    assert [len(lake.list_files(layout.table_dir(t, NIGHT))) for t in TABLES] == [5, 5, 5]
    assert check_night(lake, NIGHT) == [] and night_rows(lake, drop=("fetched_at",)) == rows
    history = lake.list_files(layout.history_dir(NIGHT))

    two = load_config(write_config(tmp_path / "two.toml", pipeline={"shards": 2}), lake=config.lake)
    run_night(two, NIGHT)
    for table in TABLES:
        assert lake.list_files(layout.table_dir(table, NIGHT)) == [layout.table_part(table, NIGHT, n) for n in (0, 1)]
        assert sorted_rows(table, folder_rows(lake, table), ("fetched_at",)) == rows[table]
    assert check_night(lake, NIGHT) == [] and night_rows(lake, drop=("fetched_at",)) == rows
    after = lake.list_files(layout.history_dir(NIGHT))
    assert history and after and not any("00002" in rel or "00004" in rel for rel in after)


def test_a_part_the_manifest_does_not_list_is_flagged_and_not_read(copy, capsys):
    from cleaning import cli

    config, lake = copy
    report = ["report", NIGHT.isoformat(), "--config", str(config.path), "--lake", config.lake, "--check"]
    rows = night_rows(lake)
    stale = layout.table_part("articles", NIGHT, 7)  # as if left by an attempt with eight shards
    lake.write_bytes(stale, lake.read_bytes(layout.table_part("articles", NIGHT, 0)))
    assert check_night(lake, NIGHT) == [f"{stale}: not in the manifest (left by another attempt)"]
    assert night_rows(lake) == rows  # read_night reads the parts the manifest lists, only
    capsys.readouterr()
    assert cli.main(report) == 5
    out = capsys.readouterr().out
    assert f"parts: articles {SHARDS}, duplicates {SHARDS}, failures {SHARDS}" in out
    assert "is NOT consistent" in out and f"{stale}: not in the manifest" in out

    publish(config, NIGHT)  # the next publish of the date deletes it
    assert not lake.exists(stale) and check_night(lake, NIGHT) == []
    assert cli.main(report) == 0 and "is consistent" in capsys.readouterr().out


def test_check_and_read_night_notice_a_part_that_is_gone(copy):
    _, lake = copy
    part = layout.table_part("duplicates", NIGHT, 0)
    lake.delete_file(part)
    assert check_night(lake, NIGHT) == [f"{part}: missing"]
    with pytest.raises(NightNotConsistent, match="is gone"):
        read_night(lake, NIGHT)


CHILD = """
import sys
from datetime import date
from cleaning.config import load_config
from cleaning.pipeline import publish
config_path, lake, day = sys.argv[1:4]
publish(load_config(config_path, lake=lake), date.fromisoformat(day))
"""


@pytest.mark.parametrize("step", ["articles", "duplicates", "history"])
def test_a_commit_killed_midway_is_completed_by_committing_the_same_attempt_again(copy, three_shards, step):
    config, lake = copy
    config_file, _ = three_shards
    rows, before = night_rows(lake), lake.read_json(layout.manifest_file(NIGHT))
    env = {**os.environ, CRASH_ENV: step, "NEWSCLEAN_WORKERS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(config_file), config.lake, NIGHT.isoformat()],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]
    assert lake.read_json(layout.manifest_file(NIGHT)) == before  # the old manifest still rules

    manifest = commit_night(config, NIGHT)  # the retry of the commit task: no shard published again
    assert check_night(lake, NIGHT) == [] and night_rows(lake) == rows
    assert manifest["attempt"] == night_attempt(lake, config, NIGHT)
    assert not lake.list_files(layout.staging_dir(NIGHT))


def test_the_commit_refuses_shards_not_published_for_its_attempt(copy):
    config, lake = copy
    before = {t: lake.list_files(layout.table_dir(t, NIGHT)) for t in TABLES}
    manifest = lake.read_bytes(layout.manifest_file(NIGHT))
    for shard in night_shards(lake, NIGHT):
        publish_shard(config, NIGHT, shard)
    counts = layout.publish_counts(NIGHT, 2)
    record = lake.read_json(counts)
    lake.write_json(counts, {**record, "attempt": "20000101T000000Z-000000000000"})
    with pytest.raises(RuntimeError, match="shard 2 was published for attempt 20000101T000000Z"):
        commit_night(config, NIGHT)
    lake.delete_file(counts)
    with pytest.raises(RuntimeError, match="shard 2 was not published"):
        commit_night(config, NIGHT)
    lake.write_json(counts, record)
    lake.write_bytes(record["parts"]["failures"]["staged"], b"cut short")
    with pytest.raises(OSError, match="nothing published"):
        commit_night(config, NIGHT)
    assert lake.read_bytes(layout.manifest_file(NIGHT)) == manifest
    assert {t: lake.list_files(layout.table_dir(t, NIGHT)) for t in TABLES} == before


def test_a_dry_run_stages_and_commits_nothing(copy):
    config, lake = copy
    lake.delete_dir(layout.staging_dir(NIGHT))
    manifest_bytes = lake.read_bytes(layout.manifest_file(NIGHT))
    manifest = publish(config, NIGHT, dry_run=True)
    assert manifest["dry_run"] and manifest["attempt"] is None and "files" not in manifest
    assert manifest["rows"] == {"articles": 36, "duplicates": 10, "failures": 2}
    assert not lake.list_files(layout.staging_dir(NIGHT))
    assert lake.read_bytes(layout.manifest_file(NIGHT)) == manifest_bytes
    with pytest.raises(RuntimeError, match="published as a dry run"):
        commit_night(config, NIGHT)  # a real commit of dry-run shards
