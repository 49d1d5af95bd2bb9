"""The lake as downstream readers see it (docs/schema.md, docs/lake.md).

- DuckDB, Polars, pandas and pyarrow read the same rows from the sample night.
- A night is several parts per table (one per shard); they are zstd Parquet, self-describing
  (descriptions, schema version, publish attempt) and match the manifest's list of parts, sizes
  and checksums.
- A publishing process killed for real (SIGKILL, via ``NEWSCLEAN_TEST_CRASH_AFTER``) before its
  first commit changes nothing; killed between two table commits it leaves only complete files,
  the old manifest, and a night that ``check_night`` flags; a re-run completes it; re-running a
  date gives the same rows and touches no other date. On a local folder and on S3 (moto on
  127.0.0.1).
- The whole night on S3 gives the same tables as on a local folder.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from cleaning import layout, schema
from cleaning.config import load_config
from cleaning.pipeline import publish, run_night
from cleaning.publish import (
    CRASH_ENV,
    NightNotConsistent,
    check_night,
    manifest_file,
    partition_path,
    read_night,
    staging_dir,
)
from cleaning.store import ROW_GROUP_ROWS, Lake, parquet_bytes
from tests.support import ROOT, write_config

NIGHT = date(2025, 8, 28)
TABLES = ("articles", "duplicates", "failures")
SORT_KEYS = {"articles": ("id",), "duplicates": ("id",), "failures": ("stage", "source", "url")}
SOURCES = ROOT / "data" / "sources.toml"


# ---------------------------------------------------------------- helpers
def plain(value):
    """One value as plain Python, whichever library read it (numpy scalars and arrays, pandas
    Timestamps and missing values, dates from the partition path)."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ndarray":
        return [plain(v) for v in value]
    if type(value).__name__ == "NaTType":  # pandas' missing timestamp
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    elif hasattr(value, "item"):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def normalized(table: str, records: list[dict], drop: tuple[str, ...] = ()) -> list[dict]:
    out = [{k: plain(v) for k, v in r.items() if k not in drop} for r in records]
    return sorted(out, key=lambda r: tuple(r[k] for k in SORT_KEYS[table]))


def duckdb_rows(root, table: str) -> list[dict]:
    import duckdb

    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    cursor = con.execute(f"select * from read_parquet('{root}/{table}/*/*.parquet', hive_partitioning = true)")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def polars_rows(root, table: str) -> list[dict]:
    import polars as pl

    return pl.scan_parquet(f"{root}/{table}/*/*.parquet", hive_partitioning=True).collect().to_dicts()


def pandas_rows(root, table: str) -> list[dict]:
    import pandas as pd

    return pd.read_parquet(f"{root}/{table}").to_dict("records")


def parts(lake: Lake, table: str, day: date = NIGHT) -> list[str]:
    """The files in a table's partition folder for ``day`` (what a glob reader reads)."""
    return lake.list_files(layout.table_dir(table, day))


def table_rows(lake: Lake, table: str, day: date = NIGHT) -> list[dict]:
    return [r for rel in parts(lake, table, day) for r in lake.read_table(rel).to_pylist()]


def pyarrow_rows(lake: Lake, table: str, day: date = NIGHT) -> list[dict]:
    return [{**r, "run_date": day} for r in table_rows(lake, table, day)]


def published_rows(lake: Lake, day: date = NIGHT) -> dict[str, list[dict]]:
    """Each table's rows for ``day``, without ``fetched_at`` (the only column a re-run changes)."""
    return {t: normalized(t, table_rows(lake, t, day), drop=("fetched_at",)) for t in TABLES}


def snapshot(lake: Lake, day: date = NIGHT) -> dict[str, str]:
    """SHA-256 of each part of each table and of the manifest of ``day``."""
    rels = [rel for t in TABLES for rel in parts(lake, t, day)] + [manifest_file(day)]
    return {rel: hashlib.sha256(lake.read_bytes(rel)).hexdigest() for rel in rels}


def same_field(have: pa.Field, want: pa.Field) -> bool:
    """Equal name, type, nullability and description; a list's child may be named ``element``
    (Parquet's name, which pyarrow reads back) where the Arrow schema says ``item``."""
    if pa.types.is_list(want.type):
        same_type = pa.types.is_list(have.type) and have.type.value_type == want.type.value_type
    else:
        same_type = have.type == want.type
    return same_type and (have.name, have.nullable, have.metadata) == (want.name, want.nullable, want.metadata)


def attempt_of(lake: Lake, rel: str) -> str:
    return lake.read_metadata(rel).metadata[b"publish_attempt"].decode()


CHILD = """
import sys
from datetime import date
from cleaning.config import load_config
from cleaning.pipeline import publish, run_night
config_path, lake, day, what = sys.argv[1:5]
config = load_config(config_path, lake=lake)
(publish if what == "publish" else run_night)(config, date.fromisoformat(day))
"""


def killed_child(config_path, lake_uri: str, crash_after: str, what: str = "publish") -> None:
    """Run ``publish`` (or the whole night) in a new Python process that SIGKILLs itself right
    after ``crash_after``; assert it really died that way."""
    env = {**os.environ, CRASH_ENV: crash_after, "NEWSCLEAN_WORKERS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(config_path), lake_uri, NIGHT.isoformat(), what],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]


# ---------------------------------------------------------------- readers
def test_duckdb_polars_pandas_and_pyarrow_read_the_same_rows(sample_lake):
    _, root, manifest = sample_lake
    lake = Lake(str(root))
    for table in TABLES:
        expected = normalized(table, pyarrow_rows(lake, table))
        assert len(expected) == manifest["rows"][table] > 0, table
        assert normalized(table, duckdb_rows(root, table)) == expected, table
        assert normalized(table, polars_rows(root, table)) == expected, table
        assert normalized(table, pandas_rows(root, table)) == expected, table
        assert len({tuple(r[k] for k in SORT_KEYS[table]) for r in expected}) == len(expected), table


def test_files_are_zstd_self_describing_and_match_the_manifest(sample_lake):
    config, root, manifest = sample_lake
    lake = Lake(str(root))
    for table in TABLES:
        entry = manifest["files"][table]
        listed = [part["path"] for part in entry["parts"]]
        assert listed == parts(lake, table) == [layout.table_part(table, NIGHT, n) for n in range(config.shards)]
        assert entry["path"] == partition_path(table, NIGHT) == f"{table}/run_date={NIGHT}/"
        assert entry["rows"] == sum(p["rows"] for p in entry["parts"]) == manifest["rows"][table]
        assert entry["bytes"] == sum(p["bytes"] for p in entry["parts"])
    for table, rel in [(t, rel) for t in TABLES for rel in parts(lake, t)]:
        meta = lake.read_metadata(rel)
        for g in range(meta.num_row_groups):
            assert meta.row_group(g).num_rows <= ROW_GROUP_ROWS
            for c in range(meta.num_columns):
                chunk = meta.row_group(g).column(c)
                assert chunk.compression == "ZSTD" and chunk.is_stats_set, (table, chunk.path_in_schema)
        expected = schema.PUBLISHED[table]
        found = meta.schema.to_arrow_schema()
        assert len(found) == len(expected)
        for have, want in zip(found, expected):
            assert same_field(have, want), (table, have, want)
        kv = {k.decode(): v.decode() for k, v in meta.metadata.items() if k != b"ARROW:schema"}
        assert kv == {
            "table": table,
            "schema_version": schema.SCHEMA_VERSION,
            "description": expected.metadata[b"description"].decode(),
            "publish_attempt": manifest["attempt"],
            "run_date": NIGHT.isoformat(),
        }
        data = lake.read_bytes(rel)
        assert {"path": rel, "rows": meta.num_rows, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()} in (
            manifest["files"][table]["parts"]
        )


def test_row_groups_are_sized_for_scans():
    rows = [
        {
            "url": f"https://example.org/{i}",
            "source": "s",
            "stage": "fetch",
            "reason": "http_404",
            "detail": "",
            "status": 404,
        }
        for i in range(20_000)
    ]
    meta = pq.read_metadata(pa.BufferReader(parquet_bytes(pa.Table.from_pylist(rows, schema=schema.FAILURES))))
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [8192, 8192, 3616]


def test_manifest_records_counts_config_code_and_timings(sample_lake):
    config, root, manifest = sample_lake
    assert Lake(str(root)).read_json(manifest_file(NIGHT)) == json.loads(json.dumps(manifest, default=str))
    assert {s["stage"] for s in manifest["stages"]} == {
        "discover",
        "fetch",
        "clean",
        "furniture",
        "sign",
        "bucket",
        "verify",
        "cluster",
        "measure",
    }
    assert manifest["summary"]["totals"]["discovered"] == 48 and manifest["rows"] == {
        "articles": 36,
        "duplicates": 10,
        "failures": 2,
    }
    assert manifest["config_digest"] == config.digest() and manifest["code_version"]
    assert set(manifest["publish_timings"]) == {"build", "stage", "commit", "history"}
    assert manifest["schema_version"] == schema.SCHEMA_VERSION
    assert check_night(Lake(str(root)), NIGHT) == []
    assert not Lake(str(root)).list_files("_staging")


# ---------------------------------------------------------------- crashes and re-runs
@pytest.mark.parametrize("where", ["local", "s3"])
def test_read_rows_reads_only_the_row_groups_that_hold_them(where, tmp_path, request, monkeypatch):
    """The verify stage's access to a shard: rows in any order, repeated, across groups, reading
    only their groups; a row past the end is an error, not a shorter answer."""
    uri = str(tmp_path / "lake") if where == "local" else request.getfixturevalue("s3_endpoint").lake()
    lake = Lake(uri)
    values = [[k] * (k % 5) for k in range(1000)]
    lake.write_table(
        "t.parquet",
        pa.table({"n": list(range(1000)), "v": values}),
        row_group_rows=32,
        dictionary=False,
        statistics=False,
    )
    asked = [999, 3, 3, 40, 0, 511]
    groups_read = []
    original = pq.ParquetFile.read_row_groups
    monkeypatch.setattr(
        pq.ParquetFile,
        "read_row_groups",
        lambda self, groups, **kw: groups_read.append(list(groups)) or original(self, groups, **kw),
    )
    got = lake.read_rows("t.parquet", asked, ["n", "v"])
    assert got.column("n").to_pylist() == asked
    assert got.column("v").to_pylist() == [values[k] for k in asked]
    assert groups_read == [[0, 1, 15, 31]]
    assert lake.read_rows("t.parquet", [], ["n"]).num_rows == 0
    with pytest.raises(IndexError):
        lake.read_rows("t.parquet", [1000], ["n"])


@pytest.fixture(params=["local", "s3"])
def copied_lake(request, sample_lake, tmp_path):
    """A writable copy of the sample lake (work files included, so publish can run again), on a
    local folder or in a fresh S3 bucket. Returns ``(lake URI, Lake)``."""
    _, root, _ = sample_lake
    if request.param == "local":
        shutil.copytree(root, tmp_path / "lake")
        uri = str(tmp_path / "lake")
    else:
        s3 = request.getfixturevalue("s3_endpoint")
        uri = s3.lake()
        target = Lake(uri)
        pafs.copy_files(
            str(root), target.root, source_filesystem=pafs.LocalFileSystem(), destination_filesystem=target.fs
        )
    return uri, Lake(uri)


def test_a_publish_killed_before_its_first_commit_changes_nothing(copied_lake, sample_lake):
    uri, lake = copied_lake
    before, rows = snapshot(lake), published_rows(lake)
    killed_child(SOURCES, uri, crash_after="staged")

    assert snapshot(lake) == before  # every file and the manifest, byte for byte
    assert check_night(lake, NIGHT) == []
    leftovers = lake.list_files(staging_dir(NIGHT), ".staged")
    shards = load_config(SOURCES).shards
    assert sorted(f.split("/", 3)[3] for f in leftovers) == [
        f"{t}/part-{n:05d}.parquet.staged" for t in TABLES for n in range(shards)
    ]
    if lake.is_local:  # the staged parts are invisible to readers of the tables, even to a ** glob
        import duckdb

        root = uri
        found = (
            duckdb.connect()
            .execute(f"select file from glob('{root}/**/*.parquet') where file like '%_staging%'")
            .fetchall()
        )
        assert found and all("/history/" in file for (file,) in found)  # only the staged history
        for table in TABLES:
            assert (
                len(duckdb_rows(root, table))
                == len(polars_rows(root, table))
                == len(pandas_rows(root, table))
                == len(rows[table])
            )

    manifest = publish(load_config(SOURCES, lake=uri), NIGHT)  # the retry
    assert check_night(lake, NIGHT) == [] and manifest["attempt"] not in before
    assert not lake.list_files(staging_dir(NIGHT))
    assert published_rows(lake) == rows


def test_a_publish_killed_between_two_commits_leaves_complete_files_and_a_rerun_completes_it(
    copied_lake, sample_lake, tmp_path
):
    uri, lake = copied_lake
    _, _, first = sample_lake
    before, rows = snapshot(lake), published_rows(lake)
    # The interrupted night publishes different rows (one source fewer), so old and new differ.
    smaller = write_config(tmp_path / "two-sources.toml", sources={"coastal-ledger": None})
    killed_child(smaller, uri, crash_after="articles", what="run_night")

    # articles: the new attempt's parts, complete; duplicates, failures, manifest: the old ones.
    after = snapshot(lake)
    for rel in [*parts(lake, "duplicates"), *parts(lake, "failures"), manifest_file(NIGHT)]:
        assert after[rel] == before[rel], rel
    new_articles = pa.concat_tables([lake.read_table(rel) for rel in parts(lake, "articles")])
    assert 0 < new_articles.num_rows < len(rows["articles"])
    assert set(new_articles.column("source").to_pylist()) == {"northgate-herald", "valley-wire-daily"}
    assert len(new_articles.column("id").unique()) == new_articles.num_rows
    assert {attempt_of(lake, rel) for rel in parts(lake, "articles")} != {first["attempt"]}
    assert len({attempt_of(lake, rel) for rel in parts(lake, "articles")}) == 1
    problems = check_night(lake, NIGHT)
    assert problems and all(p.startswith(partition_path("articles", NIGHT)) for p in problems), problems
    with pytest.raises(NightNotConsistent):
        read_night(lake, NIGHT)
    if lake.is_local:  # every reader sees whole files: the new articles, the old rest, nothing twice
        assert (
            len(duckdb_rows(uri, "articles"))
            == len(polars_rows(uri, "articles"))
            == len(pandas_rows(uri, "articles"))
            == new_articles.num_rows
        )
        assert len(duckdb_rows(uri, "duplicates")) == len(pandas_rows(uri, "duplicates")) == len(rows["duplicates"])

    # The re-run of the interrupted night completes it.
    manifest = run_night(load_config(smaller, lake=uri), NIGHT)
    assert check_night(lake, NIGHT) == [] and not lake.list_files(staging_dir(NIGHT))
    assert manifest["rows"]["articles"] == new_articles.num_rows
    assert read_night(lake, NIGHT)[0]["attempt"] == manifest["attempt"]
    if lake.is_local:  # back to the full config, twice: the same rows as the first publish
        for _ in range(2):
            run_night(load_config(SOURCES, lake=uri), NIGHT)
            assert published_rows(lake) == rows
            assert check_night(lake, NIGHT) == []


def test_rerunning_a_date_replaces_that_date_only(sample_lake, tmp_path):
    _, root, _ = sample_lake
    shutil.copytree(root, tmp_path / "lake")
    uri = str(tmp_path / "lake")
    lake = Lake(uri)
    config = load_config(SOURCES, lake=uri)
    later = NIGHT + timedelta(days=1)
    run_night(config, later)
    other, rows = snapshot(lake, later), published_rows(lake)
    run_night(config, NIGHT)
    assert snapshot(lake, later) == other
    assert published_rows(lake) == rows
    for table in TABLES:  # each night once in a glob over all nights
        expected = len(pyarrow_rows(lake, table)) + len(pyarrow_rows(lake, table, later))
        assert len(duckdb_rows(uri, table)) == len(pandas_rows(uri, table)) == expected


# ---------------------------------------------------------------- S3
def test_the_night_on_s3_gives_the_same_tables_as_on_a_local_folder(s3_endpoint, sample_lake):
    import boto3

    _, root, local_manifest = sample_lake
    uri = s3_endpoint.lake()
    manifest = run_night(load_config(SOURCES, lake=uri), NIGHT)
    s3, local = Lake(uri), Lake(str(root))
    assert published_rows(s3) == published_rows(local)
    history = layout.history_dir(NIGHT)
    assert s3.list_files(history) == local.list_files(history) != []
    for rel in s3.list_files(history):
        assert s3.read_table(rel).to_pylist() == local.read_table(rel).to_pylist(), rel
    assert manifest["rows"] == local_manifest["rows"] and manifest["summary"] == local_manifest["summary"]
    assert check_night(s3, NIGHT) == []

    # What is in the bucket: one object per part the manifest lists, no staging, no folder markers.
    bucket, prefix = s3.root.split("/", 1)
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    keys = [
        o["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
        for o in page.get("Contents", [])
    ]
    for table in TABLES:
        listed = [f"{prefix}/{part['path']}" for part in manifest["files"][table]["parts"]]
        assert [k for k in keys if k.startswith(f"{prefix}/{table}/")] == listed
    assert not [k for k in keys if k.startswith(f"{prefix}/_staging/run_date=")]


def test_s3_endpoint_and_region_from_the_environment(s3_endpoint, monkeypatch):
    bucket = s3_endpoint.bucket()
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint.url)
    lake = Lake(f"s3://{bucket}/lake")
    options = lake.fs.__reduce__()[1][0]
    assert (options["endpoint_override"], options["scheme"], options["region"]) == (
        s3_endpoint.url,
        "http",
        "us-east-1",
    )
    lake.write_json("probe/x.json", {"ok": True})
    assert lake.read_json("probe/x.json") == {"ok": True}


def test_the_s3_reading_example_in_docs_lake_md(s3_endpoint, sample_lake):
    from tests.integration.test_schema_doc import run_block
    from tests.support import code_blocks

    _, root, manifest = sample_lake
    uri = s3_endpoint.lake()
    target = Lake(uri)
    for table in TABLES:
        for rel in parts(Lake(str(root)), table):
            target.write_bytes(rel, Lake(str(root)).read_bytes(rel))
    doc = (ROOT / "docs" / "lake.md").read_text(encoding="utf-8")
    code = next(code for name, _, code in code_blocks(doc) if name == "s3-read")
    bucket, prefix = target.root.split("/", 1)
    code = code.replace("http://127.0.0.1:9000", s3_endpoint.url).replace("newsclean-lake/lake", f"{bucket}/{prefix}")
    assert run_block("python", code, None) == (manifest["rows"]["articles"],) * 3
