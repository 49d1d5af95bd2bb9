"""The seen-URL state split by host bucket: what is written, what a reader reads, and that the
answers are those of the whole-window set the state used to be read as."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import pyarrow as pa
import pytest

from cleaning import layout
from cleaning.fetch import state
from cleaning.store import Lake

NIGHT = date(2025, 9, 1)
AT = datetime(2025, 9, 1, tzinfo=timezone.utc)


def row(url: str, final_url: str | None = None) -> dict:
    return {"url": url, "final_url": final_url or url, "source": "s", "status": 200, "fetched_at": AT}


def published(lake: Lake, day: date) -> None:
    lake.write_json(layout.manifest_file(day), {"run_date": day.isoformat()})


def commit(lake: Lake, day: date, shards: list[list[dict]], publish: bool = True) -> dict:
    for shard, rows in enumerate(shards):
        state.write_fetched(lake, day, shard, rows)
    committed = state.commit_night(lake, day)
    if publish:
        published(lake, day)
    return committed


def whole_window_set(lake: Lake, run_date: date, days: int) -> set[str]:
    """The seen set as it was read before the split: every key of every published night in the window."""
    seen = set()
    for rel in lake.list_files(state.FETCHED_DIR, ".parquet"):
        night = layout.partition_date(rel)
        if night and run_date - timedelta(days=days) <= night < run_date and state._published(lake, night):
            table = lake.read_table(rel, columns=["url", "final_url"])
            seen.update(u for name in ("url", "final_url") for u in table.column(name).to_pylist() if u)
    return seen


def test_host_bucket_is_pinned_and_spreads_hosts():
    """xxh64 of the host, modulo 64: these numbers are part of every lake's layout and must never
    move between versions, machines or Python runs."""
    assert layout.HOST_BUCKETS == 64
    hosts = ("www.example.com", "news.example.org", "127.0.0.1", "xn--bcher-kva.example", "")
    assert [state.host_bucket(h) for h in hosts] == [46, 48, 39, 11, 25]
    assert state.key_bucket("https://WWW.example.com:8443/a?b=1") == 46  # the host alone, folded
    assert state.key_bucket("not a url") == 25
    counts = [0] * layout.HOST_BUCKETS
    for i in range(6400):
        counts[state.host_bucket(f"host{i}.example")] += 1
    assert min(counts) > 50 and max(counts) < 160


def test_commit_writes_one_file_per_bucket_and_a_redirect_in_both(tmp_path):
    lake = Lake(str(tmp_path))
    a, b = "https://a.example/1", "https://b.example/2"
    hosts = [f"h{i}.example" for i in range(40)]
    assert state.key_bucket(a) != state.key_bucket(b)
    shards = [[row(a, b)], [row(f"https://{h}/x") for h in hosts], []]
    committed = commit(lake, NIGHT, shards)
    assert committed == {"fetched": 41}
    files = lake.list_files(layout.fetched_dir(NIGHT))
    buckets = {state.key_bucket(a), state.key_bucket(b)} | {state.host_bucket(h) for h in hosts}
    assert files == sorted(layout.fetched_bucket_file(NIGHT, k) for k in buckets)
    for rel in files:
        bucket = layout.fetched_bucket_of(rel)
        for r in lake.read_table(rel).to_pylist():
            assert bucket in (state.key_bucket(r["url"]), state.key_bucket(r["final_url"]))
    # the redirect is in both buckets: a later night finds its target by the target's host alone
    seen = state.SeenUrls(lake, NIGHT + timedelta(days=1), 30)
    assert b in seen and seen.buckets_read == 1 and seen.files_read == 1
    assert a in seen and seen.buckets_read == 2


def test_reader_reads_only_the_buckets_asked_about(tmp_path):
    lake = Lake(str(tmp_path))
    hosts = [f"h{i}.example" for i in range(200)]
    for back in (1, 2, 3):
        commit(lake, NIGHT - timedelta(days=back), [[row(f"https://{h}/{back}") for h in hosts]])
    seen = state.SeenUrls(lake, NIGHT, 30)
    assert "https://h7.example/2" in seen
    assert "https://h7.example/9" not in seen
    assert seen.buckets_read == 1 and seen.files_read == 3  # one bucket, over the three nights
    nothing = state.SeenUrls(lake, NIGHT, 30)  # no network candidate: nothing read, not even manifests
    assert nothing.files_read == 0 and nothing._files is None


def test_answers_equal_the_whole_window_set(tmp_path):
    """Nights inside and outside the window, unpublished nights, the run date itself and a night
    written before the split by host: membership is exactly that of the old whole-window set."""
    lake = Lake(str(tmp_path))
    rng = random.Random(5)
    hosts = [f"h{i}.example" for i in range(30)]
    urls = [f"https://{rng.choice(hosts)}/{i}" for i in range(600)]

    def rows(n):
        return [row(u, rng.choice([u, u, rng.choice(urls)])) for u in rng.sample(urls, n)]

    for back, publish in ((0, True), (1, True), (2, False), (5, True), (29, True), (31, True)):
        commit(lake, NIGHT - timedelta(days=back), [rows(40), rows(30)], publish)
    old = NIGHT - timedelta(days=7)  # a night committed as one file, before the split
    lake.write_table(layout.fetched_file(old), pa.Table.from_pylist(rows(50), schema=state.FETCHED))
    published(lake, old)

    expected = whole_window_set(lake, NIGHT, 30)
    assert 0 < len(expected) < len(urls)
    seen = state.SeenUrls(lake, NIGHT, 30)
    assert {u for u in urls if u in seen} == expected
    assert state.SeenUrls(lake, NIGHT, 30).among(urls + ["", "https://other.example/"]) == expected
    assert state.load_seen(lake, NIGHT, 30) == expected


def test_a_recommit_replaces_the_night_and_a_retried_shard_its_record(tmp_path):
    lake = Lake(str(tmp_path))
    old_url, new_url = "https://old.example/a", "https://new.example/b"
    lake.write_table(layout.fetched_file(NIGHT), pa.Table.from_pylist([row(old_url)], schema=state.FETCHED))
    commit(lake, NIGHT, [[row("https://first.example/try")]], publish=False)
    state.write_fetched(lake, NIGHT, 0, [row(new_url)])  # the shard again, with other rows
    assert state.commit_night(lake, NIGHT) == {"fetched": 1}
    published(lake, NIGHT)
    later = state.SeenUrls(lake, NIGHT + timedelta(days=1), 30)
    assert new_url in later and old_url not in later and "https://first.example/try" not in later
    assert lake.list_files(layout.fetched_dir(NIGHT)) == [layout.fetched_bucket_file(NIGHT, state.key_bucket(new_url))]
    # a night that fetched nothing over the network replaces what a run before it committed
    commit(lake, NIGHT, [[], []])
    assert lake.list_files(layout.fetched_dir(NIGHT)) == []
    # nothing pending (a reprocess fetches nothing): the state is left as it is
    lake.delete_dir(layout.work_dir(NIGHT))
    lake.write_table(layout.fetched_file(NIGHT), pa.Table.from_pylist([row(old_url)], schema=state.FETCHED))
    assert state.commit_night(lake, NIGHT) == {}
    assert old_url in state.SeenUrls(lake, NIGHT + timedelta(days=1), 30)


def test_a_shard_fetched_before_the_split_is_split_at_commit(tmp_path):
    """A fetch task of an older version left one whole file per shard: the commit splits it."""
    lake = Lake(str(tmp_path))
    a, b = "https://a.example/1", "https://b.example/2"
    legacy = f"{layout.pending_fetched_dir(NIGHT)}/{layout.shard_name(3)}"
    lake.write_table(legacy, pa.Table.from_pylist([row(a, b)], schema=state.FETCHED))
    state.write_fetched(lake, NIGHT, 0, [row("https://c.example/3")])
    assert state.commit_night(lake, NIGHT) == {"fetched": 2}
    published(lake, NIGHT)
    seen = state.SeenUrls(lake, NIGHT + timedelta(days=1), 30)
    assert all(u in seen for u in (a, b, "https://c.example/3"))
    assert all(layout.fetched_bucket_of(rel) is not None for rel in lake.list_files(layout.fetched_dir(NIGHT)))


def test_a_commit_that_dies_midway_leaves_only_whole_files(tmp_path, monkeypatch):
    """Each bucket file is replaced whole; until the manifest is written the night is not seen."""
    lake = Lake(str(tmp_path))
    hosts = [f"h{i}.example" for i in range(100)]
    for shard in range(2):
        state.write_fetched(lake, NIGHT, shard, [row(f"https://{h}/{shard}") for h in hosts[shard::2]])
    real, calls = lake.write_table, []

    def dying(rel, table, *args, **kwargs):
        calls.append(rel)
        if len(calls) == 5:
            raise OSError("killed")
        return real(rel, table, *args, **kwargs)

    monkeypatch.setattr(lake, "write_table", dying)
    with pytest.raises(OSError):
        state.commit_night(lake, NIGHT)
    monkeypatch.setattr(lake, "write_table", real)
    written = lake.list_files(layout.fetched_dir(NIGHT))
    assert len(written) == 4 and all(lake.read_table(rel).num_rows for rel in written)
    assert "https://h0.example/0" not in state.SeenUrls(lake, NIGHT + timedelta(days=1), 30)  # no manifest
    state.commit_night(lake, NIGHT)  # the publish again
    published(lake, NIGHT)
    later = state.SeenUrls(lake, NIGHT + timedelta(days=1), 30)
    assert all(f"https://{h}/{i % 2}" in later for i, h in enumerate(hosts))
