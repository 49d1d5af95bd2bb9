"""Furniture learned from per-shard counts merged per source is exactly what learning from all
bodies of the night at once gives, however the pages are split into shards."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, datetime, timezone

import pyarrow as pa
import pytest

from cleaning import layout, pipeline, schema
from cleaning.clean.furniture import learn_site_furniture, select_furniture
from cleaning.clean.text import comparison_key
from cleaning.config import Config
from cleaning.store import Lake

NIGHT = date(2025, 9, 1)


def whole_night_rule(pages, min_pages=5, min_share=0.4):
    """The rule as it was written before counts were merged (one pass over every body)."""
    per_source_pages = Counter()
    line_pages = defaultdict(Counter)
    for source, text in pages:
        per_source_pages[source] += 1
        keys = {comparison_key(line) for line in text.split("\n") if line.strip()}
        line_pages[source].update(k for k in keys if k)
    learned = {}
    for source, count in per_source_pages.items():
        if count < min_pages:
            continue
        threshold = max(2, min_share * count)
        keys = {key for key, seen in line_pages[source].items() if seen >= threshold}
        if keys:
            learned[source] = keys
    return learned


FURNITURE = [
    "Follow the Daily Planet on Mastodon",
    "FOLLOW THE DAILY PLANET ON MASTODON!",  # the same key as the line above
    "Subscribe to our print edition",
    "© 2025 Daily Planet Media",
    "Photo: staff",
    "Reporting by our correspondents; editing by the desk",
    "—",  # a line whose key is empty
    "   ",
]


def night_pages(seed: int) -> list[tuple[str, str]]:
    """Bodies (paragraphs separated by blank lines, as clean writes them) of sources of every size
    around the page floor, with lines at and around every share, some repeated within a page."""
    rng = random.Random(seed)
    sizes = {"big": 40, "mid": 10, "floor": 5, "below": 4, "one": 1, "two": 2}
    pages = []
    for source, size in sizes.items():
        share = {line: rng.choice([0.0, 0.2, 0.39, 0.4, 0.41, 0.5, 1.0]) for line in FURNITURE}
        for n in range(size):
            lines = [f"{source} story {n} paragraph {i} {rng.random()}" for i in range(rng.randint(0, 6))]
            for line, p in share.items():
                if rng.random() < p:
                    lines.insert(rng.randint(0, len(lines)), line)
                    if rng.random() < 0.3:  # the same line twice on one page counts once
                        lines.append(line.lower())
            pages.append((source, "\n\n".join(lines)))
    rng.shuffle(pages)
    return pages


def shardings(pages: list, seed: int):
    rng = random.Random(seed)
    n = len(pages)
    yield "one shard", [pages]
    yield "two halves", [pages[: n // 2], pages[n // 2 :]]
    yield "seven round robin", [pages[i::7] for i in range(7)]
    yield "by source", [[p for p in pages if p[0] == s] for s in sorted({p[0] for p in pages})]
    placed = [[] for _ in range(7)]  # five shards at random, two left empty
    for p in pages:
        placed[rng.randrange(5)].append(p)
    yield "random with empty shards", placed
    yield "one page a shard", [[p] for p in pages]


def merged_rule(shards: list, min_pages: int, min_share: float):
    tables = [pipeline._furniture_counts(shard) for shard in shards]
    per_source, rows = pipeline._merged_furniture_counts(None, tables)
    return select_furniture(per_source, rows, min_pages, min_share)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("min_pages,min_share", [(5, 0.4), (0, 0.0), (1, 1.0), (4, 0.5), (10, 0.25)])
def test_merged_counts_learn_exactly_the_whole_night_rule(seed, min_pages, min_share):
    pages = night_pages(seed)
    expected = whole_night_rule([(s, pipeline._furniture_page(t)) for s, t in pages], min_pages, min_share)
    assert learn_site_furniture([(s, pipeline._furniture_page(t)) for s, t in pages], min_pages, min_share) == expected
    for name, shards in shardings(pages, seed):
        assert merged_rule(shards, min_pages, min_share) == expected, name
    assert any(expected.values()) or min_pages > 40  # the cases are not vacuous


def test_edge_cases_by_hand():
    # "a" is on 2 of 5 pages (share 0.4 exactly): learned; "b" is twice on one page only: not
    page = lambda *lines: "\n\n".join(lines)
    pages = [
        ("s", page("a", "x1")),
        ("s", page("A!", "b", "b", "x2")),
        ("s", page("x3")),
        ("s", page("x4")),
        ("s", page("x5")),
        ("t", page("a", "a")),
    ]
    expected = {"s": {"a"}}
    for _, shards in shardings(pages, 0):
        assert merged_rule(shards, 5, 0.4) == expected
    assert merged_rule([], 5, 0.4) == {} == whole_night_rule([], 5, 0.4)


def test_hash_collisions_only_cost_memory(monkeypatch):
    """The first pass sums hashes of (source, key); keys sharing a hash must still be told apart."""
    import xxhash

    pages = night_pages(11)
    expected = whole_night_rule([(s, pipeline._furniture_page(t)) for s, t in pages])
    monkeypatch.setattr(xxhash, "xxh3_64_intdigest", lambda data: len(data) % 3)
    for name, shards in shardings(pages, 11):
        assert merged_rule(shards, 5, 0.4) == expected, name


def test_the_furniture_step_merges_shard_counts(tmp_path):
    """Through the lake: clean shards' count files, plus one shard cleaned without counts (by an
    older version), give the furniture the whole night's bodies give."""
    config = Config(path=tmp_path / "sources.toml", lake=str(tmp_path / "lake"))
    lake = Lake(config.lake)
    pages = night_pages(7)
    shards = [pages[i::3] for i in range(3)]
    for shard, rows in enumerate(shards):
        cleaned = [
            {
                "id": f"{shard}-{i}",
                "url": f"https://x/{shard}/{i}",
                "source": s,
                "title": None,
                "text": t,
                "authors": [],
                "fetched_at": datetime(2025, 9, 1, tzinfo=timezone.utc),
            }
            for i, (s, t) in enumerate(rows)
        ]
        lake.write_table(
            layout.work_shard(NIGHT, "cleaned", shard), pa.Table.from_pylist(cleaned, schema=schema.CLEANED)
        )
        if shard != 1:
            lake.write_table(layout.furniture_counts(NIGHT, shard), pipeline._furniture_counts(rows))
    stats = pipeline.learn_furniture(config, NIGHT)
    learned = {}
    for row in lake.read_table(layout.work_file(NIGHT, "furniture.parquet")).to_pylist():
        learned.setdefault(row["source"], set()).add(row["line_key"])
    settings = config.clean
    expected = whole_night_rule(
        [(s, pipeline._furniture_page(t)) for s, t in pages], settings.furniture_min_pages, settings.furniture_min_share
    )
    assert learned == expected and stats["lines"] == sum(map(len, expected.values())) > 0
