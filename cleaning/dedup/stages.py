"""The dedup stages over the lake, each a task that reads and writes files of one night.

The shape MinHash deduplication takes at scale, plus our verification::

    sign    (per shard)      signatures, and entries split by key range   keys/range=R/shard-N
    bucket  (per key range)  candidate pairs, split by verify part        pairs/part=Q/range-R
    verify  (per pair part)  edges: the pairs that are the same story     edges/part-Q, nodes/part-Q
    cluster (once)           components, canonicals, decisions by shard   decisions/shard-N, measure/part-Q
    measure (per pair part)  copies without an edge to their canonical    measured/part-Q

A bucket task holds one key range of the night and of the history window; a verify task one part
of the pairs and the bodies they name, read shard by shard through the small row groups that
hold them; the cluster task the edges and their nodes as columns, a few dozen bytes each, and no
body: the copies it joins to a canonical through others are measured against it by the mapped
measure stage, and :func:`read_decisions` puts the two together for publish. So
memory follows the size of a range or part, and ``[dedup] key_ranges`` (as many bucket tasks as
verify tasks) grows with the night. The decisions do not depend on it: every
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
from cleaning.dedup.clusters import (
    DECIDED,
    DECISIONS,
    MEASURED,
    NODES,
    TO_MEASURE,
    measured_table,
    pending_rows,
    plan_decisions,
    settle,
)
from cleaning.dedup.verify import EDGES, Bodies, verify_batch, verify_pairs
from cleaning.store import Lake

PAIRS = pa.schema([("a", pa.int64()), ("b", pa.int64()), ("kind", pa.int8())])
_UNKNOWN_TIME = np.iinfo(np.int64).max


# ---------------------------------------------------------------- sign: a shard's files
# Verify reads a few hundred bodies of each shard: in row groups of this many rows it reads those
# groups, not whole columns, so it reads little more than the rows its pairs name, plus each
# shard's footer (bench/RESULTS.md, "Dedup at scale"). Hashes do not compress, so no dictionary encoding, and
# rows are found by number, so no statistics (they make the footer of 800 groups 50% larger).
SIGNATURES_ROW_GROUP_ROWS = 32


def write_signatures(lake: Lake, run_date: date, shard: int, sigs: pa.Table) -> None:
    lake.write_table(
        layout.work_shard(run_date, "signatures", shard),
        sigs,
        row_group_rows=SIGNATURES_ROW_GROUP_ROWS,
        dictionary=False,
        statistics=False,
    )


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
    """Reads the sign step's list columns for some rows of one shard: only the row groups that
    hold them (:data:`SIGNATURES_ROW_GROUP_ROWS`), so a verify task reads what its pairs name."""

    def __init__(self, lake: Lake, run_date: date):
        self.lake, self.run_date = lake, run_date

    def __call__(self, shard: int, rows: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
        rel = layout.work_shard(self.run_date, "signatures", shard)
        column = self.lake.read_rows(rel, np.asarray(rows, dtype=np.int64), [name]).column(name)
        column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        offsets = column.offsets.to_numpy()  # a slice's own offsets, into values it shares: rebased below
        values = column.values.to_numpy(zero_copy_only=False)
        return values[offsets[0] : offsets[-1]], offsets - offsets[0]


def _earlier_texts(lake: Lake, ids: dict[int, str]):
    """``texts_of`` for earlier nights' nodes (``ids``: their article ids): their bodies from the
    published ``articles`` part their node names (the publish shard that wrote its history part),
    or from every part of a night whose parts are not numbered by shard."""

    from cleaning.publish import night_parts

    def texts_of(wanted: list[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        by_part: dict[tuple[date, int], dict[str, list[int]]] = {}
        for node in wanted:
            night, part, _ = node_numbers.history_place(node)
            by_part.setdefault((night, part), {}).setdefault(ids[node], []).append(node)
        listed: dict[date, list[str]] = {}
        for (night, part), members in sorted(by_part.items()):
            if night not in listed:
                listed[night] = night_parts(lake, "articles", night)  # the manifest's parts, never a stale one
            own = layout.table_part("articles", night, part)
            value_set = pa.array(sorted(members), pa.string())
            for rel in [own] if own in listed[night] else listed[night]:
                t = lake.read_table(rel, columns=["id"])
                rows = pc.indices_nonzero(pc.is_in(t.column("id"), value_set=value_set))
                if len(rows) == 0:
                    continue
                t = lake.read_rows(rel, rows.to_numpy(), ["id", "text"])  # the row groups holding them
                for id_, text in zip(t.column("id").to_pylist(), t.column("text").to_pylist()):
                    out.update(dict.fromkeys(members[id_], text))
                del t
                pa.default_memory_pool().release_unused()
        return out

    return texts_of


def node_facts(lake: Lake, run_date: date, wanted: np.ndarray) -> pa.Table:
    """:data:`NODES` of ``wanted``, sorted by node: tonight's from their shard's signatures (and
    URL from the final bodies, row for row), earlier nights' from their history rows."""
    wanted = np.unique(np.asarray(wanted, dtype=np.int64))
    tables = []
    earlier = wanted[node_numbers.is_history(wanted)]
    if len(earlier):
        rows = hist.rows_of(lake, earlier.tolist())
        picked = [rows[node] for node in earlier.tolist()]
        table = pa.Table.from_pylist(picked).select(["id", "run_date", "word_count", "content_hash", "url"])
        published = pa.array([r["published_at"] for r in picked], pa.timestamp("us", tz="UTC"))
        tables.append(_facts(earlier, table, True, published))
    tonight = wanted[~node_numbers.is_history(wanted)]
    shards = node_numbers.shard_of(tonight)
    for shard in np.unique(shards).tolist():
        chosen = tonight[shards == shard]
        rows = node_numbers.row_of(chosen)
        sigs = lake.read_rows(
            layout.work_shard(run_date, "signatures", shard), rows, ["id", "content_hash", "word_count", "published_at"]
        )
        urls = lake.read_rows(layout.work_shard(run_date, "final", shard), rows, ["url"])
        sigs = sigs.append_column("run_date", pa.nulls(len(chosen), pa.date32())).append_column(
            "url", urls.column("url")
        )
        tables.append(_facts(chosen, sigs, False, sigs.column("published_at")))
    if not tables:
        return NODES.empty_table()
    facts = pa.concat_tables(tables)
    return facts.take(pc.sort_indices(facts, sort_keys=[("node", "ascending")]))


def _facts(nodes: np.ndarray, table: pa.Table, from_history: bool, published) -> pa.Table:
    micros = pc.fill_null(pc.cast(published, pa.timestamp("us", tz="UTC")).cast(pa.int64()), _UNKNOWN_TIME)
    columns = {
        "node": pa.array(nodes, pa.int64()),
        "id": table.column("id"),
        "from_history": pa.array(np.full(len(nodes), from_history)),
        "run_date": table.column("run_date"),
        "published_us": micros,
        "word_count": table.column("word_count"),
        "content_hash": table.column("content_hash"),
        "url": table.column("url"),
    }
    return pa.table(columns).cast(NODES)


def _bodies(lake: Lake, run_date: date, nodes: pa.Array, ids: pa.Array, earlier, settings: DedupConfig) -> Bodies:
    """Bodies of tonight's nodes and of earlier nights' (``earlier`` true; ``ids`` their article ids)."""
    earlier = pc.fill_null(pa.array(earlier, pa.bool_()), False)
    ids = dict(zip(pc.filter(nodes, earlier).to_pylist(), pc.filter(ids, earlier).to_pylist()))
    return Bodies(_ShardColumns(lake, run_date), _earlier_texts(lake, ids), settings.shingle_words)


def _order(facts: pa.Table):
    """``order(node)`` for :func:`verify_pairs`: tonight's bodies first, then by id."""
    keys = zip(facts.column("from_history").to_pylist(), facts.column("id").to_pylist())
    return dict(zip(facts.column("node").to_pylist(), keys)).__getitem__


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
    facts = node_facts(lake, run_date, pairs[:, :2].ravel())
    bodies = _bodies(lake, run_date, facts.column("node"), facts.column("id"), facts.column("from_history"), settings)
    edges = verify_pairs(pairs, bodies, _order(facts), settings, policy)
    lake.write_table(layout.work_edges(run_date, part), edges.table())
    touched = pa.array(np.concatenate([edges.a, edges.b]), pa.int64())
    lake.write_table(layout.work_nodes(run_date, part), facts.filter(pc.is_in(facts.column("node"), value_set=touched)))
    return {
        "part": part,
        "pairs": len(pairs),
        "edges": len(edges.a),
        "exact_edges": edges.method.count("exact"),
        "alignment_edges": edges.measure.count("alignment"),
    }


# ---------------------------------------------------------------- cluster: the whole night's edges
def cluster(lake: Lake, run_date: date, settings: DedupConfig) -> dict:
    """Clusters and canonicals over every part's edges; one decisions file per sign shard (its
    rows that some edge touches: a body in no cluster is its own story and publish needs no row),
    and the copies to measure against their canonical, split by measure part as verify splits
    its pairs (an earlier night's canonical by its history part)."""
    wd = layout.work_dir(run_date)
    parts = range(settings.key_ranges)
    edges, decided, to_measure = plan_night(
        lake, [layout.work_edges(run_date, q) for q in parts], [layout.work_nodes(run_date, q) for q in parts]
    )
    lake.delete_dir(f"{wd}/measure")  # another split's files must not be read, nor measured ones kept
    lake.delete_dir(f"{wd}/measured")
    members, canonicals = to_measure.column("member").to_numpy(), to_measure.column("canonical").to_numpy()
    where = pair_part(np.stack([np.minimum(members, canonicals), np.maximum(members, canonicals)], axis=1), len(parts))
    for q in parts:
        lake.write_table(layout.work_to_measure(run_date, q), to_measure.filter(pa.array(where == q)))
    shard_of = node_numbers.shard_of(decided.column("node").to_numpy())
    signed = lake.list_files(f"{wd}/signatures", ".parquet")
    for shard in [layout.shard_of_name(f) for f in signed]:
        rows = decided.filter(pa.array(shard_of == shard)).sort_by("id")
        lake.write_table(layout.work_shard(run_date, "decisions", shard), rows)
    dropped = decided.filter(decided.column("is_duplicate"))
    methods = dropped.column("method").to_numpy(zero_copy_only=False)
    from_history = dropped.filter(dropped.column("canonical_from_history")).column("canonical_id")
    return {
        "articles": sum(lake.read_metadata(f).num_rows for f in signed),
        "edges": edges,
        "clustered": decided.num_rows,
        "exact_duplicates": int((methods == "exact").sum()),
        "near_duplicates": int((methods == "near").sum()),
        "canonicals_from_history": len(pc.unique(from_history)),
        "to_measure": to_measure.num_rows,
    }


def plan_night(lake: Lake, edge_files: list[str], node_files: list[str]) -> tuple[int, pa.Table, pa.Table]:
    """The cluster stage's reading and planning: (edges read, decisions with their canonicals'
    URLs, pairs left to measure) from the verify parts' edge and node files."""
    edges = lake.read_tables(edge_files, EDGES)
    decided, to_measure = plan_decisions(edges, _distinct_facts(lake, node_files))
    return edges.num_rows, _with_canonical_urls(lake, node_files, decided), to_measure


def _distinct_facts(lake: Lake, files: list[str]) -> pa.Table:
    """The nodes' facts from every verify part, one row per node, sorted, without URLs (a node
    touched by several parts has a row in each; the URLs are most of the bytes, and only
    canonicals of copies need one: :func:`_with_canonical_urls`)."""
    names = [n for n in NODES.names if n != "url"]
    schema = pa.schema([NODES.field(n) for n in names])
    # first the node numbers alone, to keep each node's first row; then each file's kept rows
    node_lists = [lake.read_table(rel, columns=["node"]).column("node").to_numpy() for rel in files]
    nodes = np.concatenate(node_lists) if node_lists else np.empty(0, np.int64)
    first = np.zeros(len(nodes), bool)
    first[np.unique(nodes, return_index=True)[1]] = True
    bounds = np.cumsum([0] + [len(n) for n in node_lists])
    del node_lists, nodes
    tables = [schema.empty_table()]
    for k, rel in enumerate(files):
        keep = first[bounds[k] : bounds[k + 1]]
        if keep.any():
            tables.append(lake.read_table(rel, columns=names).cast(schema).filter(pa.array(keep)))
    table = pa.concat_tables(tables)
    return table.take(pc.sort_indices(table.column("node")))


def _with_canonical_urls(lake: Lake, files: list[str], decided: pa.Table) -> pa.Table:
    """``canonical_url`` of every copy: its canonical's URL from the verify parts' facts."""
    dropped = decided.column("is_duplicate")
    wanted = pa.array(np.unique(pc.filter(decided.column("canonical_node"), dropped).to_numpy()), pa.int64())
    found = []
    for rel in files:
        table = lake.read_table(rel, columns=["node", "url"])
        found.append(table.filter(pc.is_in(table.column("node"), value_set=wanted)))
    urls = pa.concat_tables(found)  # one file per verify part: never none
    at = pc.index_in(decided.column("canonical_node"), value_set=urls.column("node"))
    column = pc.if_else(dropped, urls.column("url").take(at), pa.scalar(None, pa.string()))
    return decided.set_column(decided.schema.get_field_index("canonical_url"), "canonical_url", column)


# ---------------------------------------------------------------- measure: copies joined through others
def measure_part(
    lake: Lake, run_date: date, part: int, settings: DedupConfig, policy: AlignPolicy | None = DEFAULT_POLICY
) -> dict:
    """Measure part ``part``'s copies against their canonical (shingle overlap, then alignment),
    the pairs of one earlier part side by side so its text is read once a batch."""
    table = lake.read_table(layout.work_to_measure(run_date, part), schema=TO_MEASURE)
    table = table.sort_by([("canonical", "ascending"), ("member", "ascending")])
    bodies = _bodies(
        lake,
        run_date,
        table.column("canonical"),
        table.column("canonical_id"),
        table.column("canonical_from_history"),
        settings,
    )
    pairs = list(zip(table.column("member").to_pylist(), table.column("canonical").to_pylist()))
    measured = measured_table(verify_batch(pairs, bodies, settings, policy))
    lake.write_table(layout.work_measured(run_date, part), measured)
    same = int(pc.sum(measured.column("same_story")).as_py() or 0)
    return {"part": part, "pairs": len(pairs), "same_story": same, "chain": len(pairs) - same}


def read_decisions(lake: Lake, run_date: date, shard: int) -> pa.Table:
    """Shard ``shard``'s decisions (only its clustered rows; absent rows are their own story),
    with the measure stage's findings for its copies joined through others."""
    rel = layout.work_shard(run_date, "decisions", shard)
    if not lake.exists(rel):
        return DECISIONS.empty_table()
    decided = lake.read_table(rel, schema=DECIDED)
    if not len(pending_rows(decided)):
        return decided.select(DECISIONS.names)
    wd = layout.work_dir(run_date)
    found = []
    for rel in lake.list_files(f"{wd}/measure", ".parquet"):
        done = layout.work_measured(run_date, int(rel.rsplit("part-", 1)[1].split(".")[0]))
        if not lake.exists(done):
            raise FileNotFoundError(f"{run_date}: {rel} is not measured yet ({done}): run measure first")
        measured = lake.read_table(done, schema=MEASURED)
        found.append(measured.filter(pa.array(node_numbers.shard_of(measured.column("member").to_numpy()) == shard)))
    measured = pa.concat_tables(found) if found else MEASURED.empty_table()
    return settle(decided, measured).select(DECISIONS.names)
