"""The sharded dedup stages (bucket, verify, cluster over the lake) decide exactly as the
in-process resolve does, whatever the number of key ranges and sign shards."""

import json
import random
from dataclasses import asdict, replace
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pytest

from cleaning import layout
from cleaning.config import DedupConfig
from cleaning.dedup import history as hist
from cleaning.dedup import resolve, signatures, stages
from cleaning.dedup.buckets import Entries, candidate_pairs, key_range
from cleaning.models import article_id
from cleaning.store import Lake

NIGHT = date(2025, 8, 28)
EARLIER = date(2025, 8, 27)
WORDS = [f"w{k}" for k in range(3000)]


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 20))).capitalize() + "."


def _story(rng: random.Random, sentences: int = 14) -> list[str]:
    return [_sentence(rng) for _ in range(sentences)]


def _edited(rng: random.Random, sentences: list[str], share: float) -> list[str]:
    out = []
    for s in sentences:
        words = s.split()
        for _ in range(max(1, int(len(words) * share))):
            words[rng.randrange(len(words))] = rng.choice(WORDS)
        out.append(" ".join(words))
    return out


def _night(seed: int) -> tuple[list[dict], list[dict]]:
    """Tonight's records and an earlier night's, with exact copies, light edits, abridged and
    heavily edited copies (lede kept, local copy after it), copies of earlier stories, and
    unrelated stories."""
    rng = random.Random(seed)
    earlier = [{"url": f"https://old.example/{k}", "text": "\n\n".join(_story(rng))} for k in range(12)]
    tonight = []
    for k in range(40):
        story = _story(rng)
        tonight.append({"url": f"https://a.example/{k}", "text": "\n\n".join(story)})
        kind = k % 5
        if kind == 0:
            tonight.append({"url": f"https://b.example/{k}", "text": "\n\n".join(story)})
        elif kind == 1:
            tonight.append({"url": f"https://b.example/{k}", "text": "\n\n".join(_edited(rng, story, 0.05))})
        elif kind == 2:
            tonight.append({"url": f"https://b.example/{k}", "text": "\n\n".join(story[:7])})
        elif kind == 3:
            heavy = _edited(rng, story[:5], 0.08) + _story(rng, 8)
            tonight.append({"url": f"https://c.example/{k}", "text": "\n\n".join(heavy)})
    for k, old in enumerate(earlier[:6]):
        text = old["text"] if k % 2 else "\n\n".join(_edited(rng, old["text"].split("\n\n"), 0.05))
        tonight.append({"url": f"https://d.example/{k}", "text": text})
    chained = []
    for k in range(4):  # a first half and a second half, each contained in the whole: joined through it
        story = _story(rng)
        chained.append({"url": f"https://e.example/first/{k}", "text": "\n\n".join(story[:7]), "first": True})
        chained.append({"url": f"https://e.example/whole/{k}", "text": "\n\n".join(story)})
        chained.append({"url": f"https://e.example/second/{k}", "text": "\n\n".join(story[7:])})
    tonight += chained
    base = datetime(2025, 8, 28, tzinfo=timezone.utc)
    for k, record in enumerate(tonight):
        record["id"] = article_id(record["url"])
        record["published_at"] = base + timedelta(minutes=rng.randrange(600)) if k % 7 else None
        if record.pop("first", False):
            record["published_at"] = base - timedelta(minutes=1)  # the canonical: no edge to the second half
    for record in earlier:
        record["id"] = article_id(record["url"])
        record["published_at"] = base - timedelta(days=1)
    return tonight, earlier


def _publish_earlier(lake: Lake, earlier: list[dict], settings: DedupConfig) -> None:
    sigs = signatures(((r["id"], r["text"], r["published_at"]) for r in earlier), settings)
    table = sigs.select([n for n in hist.HISTORY.names if n in sigs.column_names])
    table = table.append_column("run_date", pa.array([EARLIER] * len(earlier), pa.date32()))
    table = table.append_column("url", pa.array([r["url"] for r in earlier], pa.string()))
    hist.save(lake, EARLIER, table)
    articles = pa.table({"id": [r["id"] for r in earlier], "text": [r["text"] for r in earlier]})
    part = layout.table_part("articles", EARLIER, 0)
    lake.write_table(part, articles)
    manifest = {"run_date": EARLIER.isoformat(), "files": {"articles": {"parts": [{"path": part}]}}}
    lake.write_json(layout.manifest_file(EARLIER), manifest)


def _staged(lake: Lake, tonight: list[dict], settings: DedupConfig, shards: int) -> list[dict]:
    lake.delete_dir(layout.work_dir(NIGHT))
    for shard in range(shards):
        rows = [r for k, r in enumerate(tonight) if k % shards == shard]
        sigs = signatures(((r["id"], r["text"], r["published_at"]) for r in rows), settings)
        stages.write_signatures(lake, NIGHT, shard, sigs)
        lake.write_table(layout.work_shard(NIGHT, "final", shard), pa.table({"url": [r["url"] for r in rows]}))
        stages.write_keys(lake, NIGHT, shard, sigs, settings)
    for index in range(settings.key_ranges):
        stages.bucket(lake, NIGHT, index, settings)
    for part in range(settings.key_ranges):
        stages.verify_part(lake, NIGHT, part, settings)
    stats = stages.cluster(lake, NIGHT, settings)
    assert stats["articles"] == len(tonight)
    for part in range(settings.key_ranges):
        stages.measure_part(lake, NIGHT, part, settings)
    rows = []
    for shard in range(shards):
        rows += stages.read_decisions(lake, NIGHT, shard).to_pylist()
    return sorted(rows, key=lambda d: d["id"])


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    tonight, earlier = _night(seed=5)
    lake = Lake(str(tmp_path_factory.mktemp("lake")))
    _publish_earlier(lake, earlier, DedupConfig())
    return lake, tonight, earlier


def test_staged_decisions_equal_resolve_for_any_split(night):
    lake, tonight, earlier = night
    settings = DedupConfig()
    history = hist.load(lake, NIGHT, settings.history_days)
    assert history.num_rows == len(earlier)
    texts = {r["id"]: r["text"] for r in tonight} | {"history:" + r["id"]: r["text"] for r in earlier}
    sigs = signatures(((r["id"], r["text"], r["published_at"]) for r in tonight), settings)
    expected = resolve(sigs, lambda wanted: {i: texts[i] for i in wanted if i in texts}, settings, history)
    clustered = [asdict(d) for d in expected if not (d.cluster_size == 1 and not d.is_duplicate)]
    urls = {r["id"]: r["url"] for r in tonight} | {r["id"]: r["url"] for r in earlier}
    for d in clustered:  # resolve leaves the URL to its caller; the stages fill it in
        d["canonical_url"] = urls[d["canonical_id"]] if d["is_duplicate"] else None
    # the night has every kind of evidence, so the comparison below can fail
    methods = {(d["method"], d["measure"], d["canonical_from_history"]) for d in clustered if d["is_duplicate"]}
    assert ("exact", "exact", False) in methods
    assert {m for _, m, _ in methods} >= {"exact", "jaccard", "containment", "alignment", "chain"}
    assert any(h for _, _, h in methods)
    for ranges, shards in ((1, 1), (2, 3), (8, 2), (16, 5)):
        assert _staged(lake, tonight, replace(settings, key_ranges=ranges), shards) == clustered, (ranges, shards)


def test_buckets_per_range_union_to_the_whole(night):
    """Pairs found range by range are exactly the pairs found over all keys at once."""
    lake, tonight, _ = night
    settings = DedupConfig(key_ranges=1)
    _staged(lake, tonight, settings, 2)
    files = lake.list_files(layout.work_keys_dir(NIGHT, 0, 1), ".parquet")
    table = lake.read_tables(files, hist.ENTRIES)
    entries = Entries(*(table.column(n).to_numpy() for n in hist.ENTRIES.names))
    whole, _ = candidate_pairs(entries, Entries.empty())
    where = key_range(entries.key, 8)
    split = np.concatenate([candidate_pairs(entries.take(where == r), Entries.empty())[0] for r in range(8)])
    as_set = lambda pairs: set(map(tuple, pairs.tolist()))  # noqa: E731
    assert len(whole) > 50
    assert as_set(split) == as_set(whole)


def test_oversized_bucket_is_capped_and_counted():
    n = 30
    entries = Entries(
        np.full(n, 7, np.uint64),
        np.zeros(n, np.uint8),
        np.arange(n, dtype=np.int64),
        np.arange(n, dtype=np.uint64),
        np.arange(n, dtype=np.uint64),  # distinct contents
    )
    pairs, counts = candidate_pairs(entries, Entries.empty(), max_bucket=10)
    assert counts == {"buckets_capped": 1, "entries_capped": 20}
    assert set(np.unique(pairs[:, :2]).tolist()) == set(range(10))


def test_history_written_by_range_reads_back(tmp_path, night):
    """A history night split in 16 ranges is read by a task of any other split, and `load`
    rebuilds the key lists."""
    lake, _, earlier = night
    for ranges in (1, 4, 32):
        total = sum(len(hist.key_entries(lake, NIGHT, 30, index, ranges)) for index in range(ranges))
        assert total == len(hist.key_entries(lake, NIGHT, 30, 0, 1))
    loaded = hist.load(lake, NIGHT, 30)
    sigs = signatures(((r["id"], r["text"], r["published_at"]) for r in earlier), DedupConfig())
    assert sorted(map(sorted, loaded.column("band_keys").to_pylist())) == sorted(
        map(sorted, sigs.column("band_keys").to_pylist())
    )
    assert json.loads(json.dumps(loaded.column("url").to_pylist())) == [r["url"] for r in earlier]


def test_measure_reads_bodies_in_batches_with_the_same_decisions(night, monkeypatch):
    """The measure step measures copies without a direct edge a batch of pairs at a time,
    dropping the bodies after each batch; tiny batches decide exactly as one batch does."""

    from cleaning.dedup import verify as verify_module

    lake, tonight, _ = night
    settings = DedupConfig(key_ranges=1)  # every copy to measure in one part
    whole = _staged(lake, tonight, settings, 3)
    measured = []

    def tiny(pairs, *args, **kwargs):
        measured.append(len(pairs))
        return verify_module.verify_batch(pairs, *args, **{**kwargs, "batch": 2})

    monkeypatch.setattr(stages, "verify_batch", tiny)
    assert _staged(lake, tonight, settings, 3) == whole
    assert measured and max(measured) > 2  # more than one batch was needed


def test_decisions_are_not_read_before_their_copies_are_measured(night):
    """A copy joined to its canonical through others is settled by the measure stage; reading
    the decisions before it ran is an error, not a row without its overlap."""
    lake, tonight, _ = night
    settings = DedupConfig(key_ranges=2)
    _staged(lake, tonight, settings, 3)
    assert stages.cluster(lake, NIGHT, settings)["to_measure"] > 0  # the measurements are gone again
    with pytest.raises(FileNotFoundError, match="run measure first"):
        for shard in range(3):
            stages.read_decisions(lake, NIGHT, shard)
    for part in range(settings.key_ranges):
        stages.measure_part(lake, NIGHT, part, settings)
    rows = [r for shard in range(3) for r in stages.read_decisions(lake, NIGHT, shard).to_pylist()]
    assert all(r["jaccard"] is not None for r in rows if r["is_duplicate"])


def test_pairs_with_one_earlier_part_meet_in_one_verify_part():
    """Every pair naming a body of one published history part is verified by one task (it reads
    that part's text once); tonight's pairs still spread over all parts."""
    from cleaning.dedup import nodes as node_numbers
    from cleaning.dedup.buckets import pair_part

    rng = np.random.default_rng(4)
    tonight = node_numbers.tonight(3, rng.integers(0, 50_000, 4000))
    history_parts = [(EARLIER - timedelta(days=d), p) for d in range(3) for p in range(5)]
    earlier = np.concatenate(
        [node_numbers.history(night, p, rng.integers(0, 20_000, 4000 // 15)) for night, p in history_parts]
    )
    with_history = np.stack([tonight[: len(earlier)], earlier], axis=1)
    parts = pair_part(with_history, 16)
    for night, p in history_parts:
        mine = (earlier >> 24) == (node_numbers.history(night, p, np.zeros(1, np.int64))[0] >> 24)
        assert len(set(parts[mine].tolist())) == 1
    among_tonight = pair_part(np.stack([tonight[:-1], tonight[1:]], axis=1), 16)
    assert set(among_tonight.tolist()) == set(range(16))
