"""The dedup stages over the lake, each a task that reads and writes files of one night.

The shape MinHash deduplication takes at scale, plus our verification::

    sign    (per shard)      signatures, and entries split by key range   keys/range=R/shard-N
    bucket  (per key range)  candidate pairs, split by verify part        pairs/part=Q/range-R
    verify  (per pair part)  edges: the pairs that are the same story     edges/part-Q, nodes/part-Q
    cluster (once)           components, canonicals, decisions by shard   decisions/shard-N

A bucket task holds one key range of the night and of the history window; a verify task one part
of the pairs and, one shard at a time, the bodies they name; the cluster task only the edges, a
night's duplicates. So memory follows the size of a range or part, and ``[dedup] key_ranges`` (as
many bucket tasks as verify tasks) grows with the night. The decisions do not depend on it: every
range is decided on its own (:mod:`.buckets`), every candidate is verified (:mod:`.verify`), and
clusters are the components of all edges (:mod:`.clusters`) - the in-process
:func:`cleaning.dedup.resolve` runs the same three functions over one range and one part, and a
test holds the two equal.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cleaning import layout
from cleaning.config import DedupConfig
from cleaning.dedup import bands_per_row
from cleaning.dedup import history as hist
from cleaning.dedup import nodes as node_numbers
from cleaning.dedup.align import DEFAULT_POLICY, AlignPolicy
from cleaning.dedup.buckets import Entries, candidate_pairs, entries_from_columns, key_range, pair_part, prefix_ranks
from cleaning.dedup.clusters import Decision, NodeInfo, decide
from cleaning.dedup.verify import Bodies, Edges, gather, verify_batch, verify_pairs
from cleaning.store import Lake

PAIRS = pa.schema([("a", pa.int64()), ("b", pa.int64()), ("kind", pa.int8())])
EDGES = pa.schema(
    [
        ("a", pa.int64()),
        ("b", pa.int64()),
        ("method", pa.string()),
        ("jaccard", pa.float64()),
        ("containment", pa.float64()),
        ("measure", pa.string()),
        ("score", pa.float64()),
    ]
)
NODES = pa.schema(
    [
        ("node", pa.int64()),
        ("id", pa.string()),
        ("from_history", pa.bool_()),
        ("run_date", pa.date32()),
        ("published_us", pa.int64()),
        ("word_count", pa.int32()),
        ("content_hash", pa.string()),
        ("url", pa.string()),
    ]
)
DECISIONS = pa.schema(
    [
        ("id", pa.string()),
        ("cluster_id", pa.string()),
        ("canonical_id", pa.string()),
        ("is_duplicate", pa.bool_()),
        ("method", pa.string()),
        ("jaccard", pa.float64()),
        ("containment", pa.float64()),
        ("canonical_from_history", pa.bool_()),
        ("canonical_run_date", pa.date32()),
        ("measure", pa.string()),
        ("score", pa.float64()),
        ("cluster_size", pa.int32()),  # canonicals: tonight's rows in its cluster, itself included
        ("canonical_url", pa.string()),  # duplicates: the canonical's URL (tonight's or an earlier night's)
    ]
)
_UNKNOWN_TIME = np.iinfo(np.int64).max


# ---------------------------------------------------------------- sign: a shard's entries by range
def write_keys(lake: Lake, run_date: date, shard: int, sigs: pa.Table, settings: DedupConfig) -> int:
    """Split shard ``shard``'s entries by key range, one file per range (empty ones too, so a
    re-run replaces every file of the shard). Returns the number of entries."""
    ids = sigs.column("id").to_pylist()
    ranks = prefix_ranks(ids)  # the same in every shard, unlike positions in one shard's order
    entries = entries_from_columns(
        node_numbers.tonight(shard, np.arange(sigs.num_rows)),
        ids,
        sigs.column("content_hash").to_pylist(),
        sigs.column("band_keys"),
        sigs.column("sentence_keys"),
        bands_per_row(settings),
        ranks,
    )
    where = key_range(entries.key, settings.key_ranges)
    for index in range(settings.key_ranges):
        table = _entries_table(entries.take(where == index))
        lake.write_table(layout.work_keys(run_date, index, settings.key_ranges, shard), table)
    return len(entries)


def _entries_table(entries: Entries) -> pa.Table:
    return pa.table([entries.key, entries.kind, entries.node, entries.rank, entries.hash], schema=hist.ENTRIES)


# ---------------------------------------------------------------- bucket: one key range
def bucket(lake: Lake, run_date: date, index: int, settings: DedupConfig) -> dict:
    """Candidate pairs of key range ``index``: tonight's entries of every shard in that range and
    the history window's; written split by verify part."""
    ranges = settings.key_ranges
    files = lake.list_files(layout.work_keys_dir(run_date, index, ranges), ".parquet")
    table = lake.read_tables(files, hist.ENTRIES)
    tonight = Entries(*(table.column(n).to_numpy() for n in hist.ENTRIES.names))
    del table
    earlier = hist.key_entries(lake, run_date, settings.history_days, index, ranges)
    pairs, counts = candidate_pairs(tonight, earlier, settings.max_bucket)
    part = pair_part(pairs, settings.key_ranges)
    for q in range(settings.key_ranges):
        chosen = pairs[part == q]
        table = pa.table([chosen[:, 0], chosen[:, 1], chosen[:, 2].astype(np.int8)], schema=PAIRS)
        lake.write_table(layout.work_pairs(run_date, q, index), table)
    return {
        "key_range": index,
        "entries": len(tonight),
        "history_entries": len(earlier),
        "pairs": len(pairs),
        **counts,
    }


# ---------------------------------------------------------------- reading bodies and their facts
class _ShardColumns:
    """Reads the sign step's list columns of one shard at a time (the last two kept), so a
    verify task never holds more than a shard's columns besides the bodies it gathered."""

    def __init__(self, lake: Lake, run_date: date):
        self.lake, self.run_date = lake, run_date
        self.cache: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, shard: int, rows: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
        key = (shard, name)
        if key not in self.cache:
            if len(self.cache) >= 2:
                self.cache.pop(next(iter(self.cache)))
                pa.default_memory_pool().release_unused()  # else the pool keeps every shard it read
            table = self.lake.read_table(layout.work_shard(self.run_date, "signatures", shard), columns=[name])
            column = table.column(name)
            column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
            self.cache[key] = (column.values.to_numpy(zero_copy_only=False), column.offsets.to_numpy())
        return gather(*self.cache[key], np.asarray(rows, dtype=np.int64))


def _earlier_texts(lake: Lake, info: dict[int, NodeInfo]):
    """``texts_of`` for earlier nights' nodes: their bodies from the published articles."""

    from cleaning.publish import night_parts

    def texts_of(wanted: list[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        by_night: dict[date, dict[str, list[int]]] = {}
        for node in wanted:
            by_night.setdefault(info[node].run_date, {}).setdefault(info[node].id, []).append(node)
        for night, ids in sorted(by_night.items()):
            value_set = pa.array(sorted(ids), pa.string())
            for rel in night_parts(lake, "articles", night):  # the manifest's parts, never a stale one
                t = lake.read_table(rel, columns=["id", "text"])
                t = t.filter(pc.is_in(t.column("id"), value_set=value_set))
                for id_, text in zip(t.column("id").to_pylist(), t.column("text").to_pylist()):
                    out.update(dict.fromkeys(ids[id_], text))
                del t
                pa.default_memory_pool().release_unused()
        return out

    return texts_of


def node_info(lake: Lake, run_date: date, wanted: np.ndarray) -> dict[int, NodeInfo]:
    """Who each node is and how it ranks: tonight's from its shard's signatures (and its URL from
    the final bodies, row for row), earlier nights' from their history rows."""
    wanted = np.asarray(wanted, dtype=np.int64)
    out: dict[int, NodeInfo] = {}
    earlier = wanted[node_numbers.is_history(wanted)]
    for node, row in hist.rows_of(lake, earlier.tolist()).items():
        published = row["published_at"]
        out[node] = NodeInfo(
            row["id"],
            True,
            row["run_date"],
            _UNKNOWN_TIME if published is None else _micros(published),
            int(row["word_count"]),
            row["content_hash"],
            row["url"],
        )
    tonight = wanted[~node_numbers.is_history(wanted)]
    shards = node_numbers.shard_of(tonight)
    for shard in np.unique(shards).tolist():
        chosen = tonight[shards == shard]
        rows = pa.array(node_numbers.row_of(chosen))
        sigs = lake.read_table(
            layout.work_shard(run_date, "signatures", shard),
            columns=["id", "content_hash", "word_count", "published_at"],
        ).take(rows)
        urls = lake.read_table(layout.work_shard(run_date, "final", shard), columns=["url"]).take(rows)
        published = sigs.column("published_at").cast(pa.int64()).fill_null(_UNKNOWN_TIME).to_pylist()
        for k, node in enumerate(chosen.tolist()):
            out[node] = NodeInfo(
                sigs.column("id")[k].as_py(),
                False,
                None,
                published[k],
                sigs.column("word_count")[k].as_py(),
                sigs.column("content_hash")[k].as_py(),
                urls.column("url")[k].as_py(),
            )
    return out


def _micros(value) -> int:
    return pa.array([value], pa.timestamp("us", tz="UTC")).cast(pa.int64())[0].as_py()


def _bodies(lake: Lake, run_date: date, info: dict[int, NodeInfo], settings: DedupConfig) -> Bodies:
    return Bodies(_ShardColumns(lake, run_date), _earlier_texts(lake, info), settings.shingle_words)


def _order(info: dict[int, NodeInfo]):
    return lambda node: (info[node].from_history, info[node].id)


# ---------------------------------------------------------------- verify: one part of the pairs
def verify_part(
    lake: Lake, run_date: date, part: int, settings: DedupConfig, policy: AlignPolicy | None = DEFAULT_POLICY
) -> dict:
    """Edges of pair part ``part`` (the pairs every bucket task found for it), and the facts of
    the bodies they touch, for the cluster task."""
    # the files of this split only: a re-run with fewer ranges must not read an earlier split's
    files = [layout.work_pairs(run_date, part, index) for index in range(settings.key_ranges)]
    table = lake.read_tables([f for f in files if lake.exists(f)], PAIRS)
    pairs = np.column_stack([table.column(n).to_numpy().astype(np.int64) for n in PAIRS.names]).reshape(-1, 3)
    info = node_info(lake, run_date, np.unique(pairs[:, :2]))
    edges = verify_pairs(pairs, _bodies(lake, run_date, info, settings), _order(info), settings, policy)
    lake.write_table(layout.work_edges(run_date, part), _edges_table(edges))
    touched = np.unique(np.concatenate([edges.a, edges.b])).tolist()
    lake.write_table(layout.work_nodes(run_date, part), _nodes_table({n: info[n] for n in touched}))
    return {
        "part": part,
        "pairs": len(pairs),
        "edges": len(edges.a),
        "exact_edges": edges.method.count("exact"),
        "alignment_edges": edges.measure.count("alignment"),
    }


def _edges_table(edges: Edges) -> pa.Table:
    return pa.table(
        [edges.a, edges.b, edges.method, edges.jaccard, edges.containment, edges.measure, edges.score], schema=EDGES
    )


def _nodes_table(info: dict[int, NodeInfo]) -> pa.Table:
    rows = [{"node": node, **vars(facts)} for node, facts in sorted(info.items())]
    return pa.Table.from_pylist(rows, schema=NODES)


# ---------------------------------------------------------------- cluster: the whole night's edges
def cluster(lake: Lake, run_date: date, settings: DedupConfig, policy: AlignPolicy | None = DEFAULT_POLICY) -> dict:
    """Clusters and canonicals over every part's edges; one decisions file per sign shard (its
    rows that some edge touches: a body in no cluster is its own story and publish needs no row)."""
    wd = layout.work_dir(run_date)
    parts = range(settings.key_ranges)
    table = lake.read_tables([layout.work_edges(run_date, q) for q in parts], EDGES).sort_by(
        [("a", "ascending"), ("b", "ascending")]
    )
    edges = Edges(
        table.column("a").to_numpy(),
        table.column("b").to_numpy(),
        *(table.column(n).to_pylist() for n in EDGES.names[2:]),
    )
    info: dict[int, NodeInfo] = {}
    for row in lake.read_tables([layout.work_nodes(run_date, q) for q in parts], NODES).to_pylist():
        node = row.pop("node")
        info[node] = NodeInfo(**row)
    bodies = _bodies(lake, run_date, info, settings)
    decisions = decide(edges, info, lambda pairs: verify_batch(pairs, bodies, settings, policy))
    node_of = {facts.id: node for node, facts in info.items() if not facts.from_history}
    by_shard: dict[int, list[Decision]] = {}
    for decision in decisions:
        by_shard.setdefault(int(node_numbers.shard_of(node_of[decision.id])), []).append(decision)
    shards = [layout.shard_of_name(f) for f in lake.list_files(f"{wd}/signatures", ".parquet")]
    for shard in shards:
        rows = [vars(d) for d in by_shard.get(shard, [])]
        lake.write_table(layout.work_shard(run_date, "decisions", shard), pa.Table.from_pylist(rows, schema=DECISIONS))
    articles = sum(lake.read_metadata(f).num_rows for f in lake.list_files(f"{wd}/signatures", ".parquet"))
    return {
        "articles": articles,
        "edges": len(edges.a),
        "clustered": len(decisions),
        "exact_duplicates": sum(1 for d in decisions if d.is_duplicate and d.method == "exact"),
        "near_duplicates": sum(1 for d in decisions if d.is_duplicate and d.method == "near"),
        "canonicals_from_history": len({d.canonical_id for d in decisions if d.canonical_from_history}),
    }


def read_decisions(lake: Lake, run_date: date, shard: int) -> pa.Table:
    """Shard ``shard``'s decisions (only its clustered rows; absent rows are their own story)."""
    rel = layout.work_shard(run_date, "decisions", shard)
    return lake.read_table(rel, schema=DECISIONS) if lake.exists(rel) else DECISIONS.empty_table()
