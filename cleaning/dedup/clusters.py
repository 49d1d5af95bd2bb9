"""Connected components of verified pairs, and the canonical member of each.

The cluster stage (:func:`plan_decisions`) holds the night's edges and the facts of their nodes
as columns and reads no body; the copies it joins to their canonical only through other copies
are measured against it by the mapped measure stage, and :func:`settle` puts the measurements
into the decisions. :func:`decide` runs the three in one process (the in-process dedup).

Canonical rule (documented in the README and docs/schema.md): a member from an earlier night
always wins (the story is already published); otherwise the earliest ``published_at`` wins
(unknown dates count as latest), then the longest body in words, then the smallest id. The rule
only looks at record fields, never at input order, so any order gives the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# History nodes carry this prefix in resolve, since a URL fetched again keeps its article id.
HISTORY_PREFIX = "history:"


# ---------------------------------------------------------------- the cluster stage
# What the cluster stage knows of each body an edge touches: who it is and how it ranks.
NODES = pa.schema(
    [
        ("node", pa.int64()),
        ("id", pa.string()),  # the article id (an earlier night's without any prefix)
        ("from_history", pa.bool_()),
        ("run_date", pa.date32()),  # earlier nights' only
        ("published_us", pa.int64()),  # microseconds since the epoch; unknown: the largest int64
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
        ("method", pa.string()),  # "exact" | "near" | null for canonicals
        ("jaccard", pa.float64()),
        ("containment", pa.float64()),
        ("canonical_from_history", pa.bool_()),
        ("canonical_run_date", pa.date32()),
        # What decided, and its value: "exact" (1), "jaccard" or "containment" (of the 4-gram sets),
        # "alignment" (the copy's share in the sentence alignment), or "chain" (joined through other
        # copies; the weakest link's value). Measured against the canonical when it verifies directly.
        ("measure", pa.string()),
        ("score", pa.float64()),
        ("cluster_size", pa.int32()),  # canonicals: tonight's rows in its cluster, itself included
        ("canonical_url", pa.string()),  # duplicates: the canonical's URL (tonight's or an earlier night's)
    ]
)
# decide's result: whose decision (``node``) and its canonical's (``canonical_node``), then the decision
DECIDED = pa.schema([pa.field("node", pa.int64()), pa.field("canonical_node", pa.int64())] + list(DECISIONS))


@dataclass
class Decision:
    """One row of :data:`DECISIONS`, for callers that want objects (the in-process dedup)."""

    id: str
    cluster_id: str
    canonical_id: str
    is_duplicate: bool
    method: str | None
    jaccard: float | None
    containment: float | None
    canonical_from_history: bool = False
    canonical_run_date: date | None = None
    measure: str | None = None
    score: float | None = None
    cluster_size: int | None = None
    canonical_url: str | None = None


def components(a: np.ndarray, b: np.ndarray, size: int) -> np.ndarray:
    """The root of each of ``size`` nodes (0..size-1) in the graph of edges ``a[k] - b[k]``: the
    smallest node of its component.

    Hook and compress, column-wise: every edge whose ends have different roots hooks the larger
    root under the smaller, then pointer jumping makes every node point at its root. Parents only
    ever decrease, so no cycle forms, and the smallest node of a component is never hooked, so it
    is the root all its members end at. A chain of k nodes takes one round (its hooks form a
    chain that jumping shortens in log2(k) steps); the memory is a few int64 per node and edge."""
    parent = np.arange(size, dtype=np.int64)
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    while True:
        ra, rb = parent[a], parent[b]
        apart = ra != rb
        if not apart.any():
            return parent
        np.minimum.at(parent, np.maximum(ra, rb)[apart], np.minimum(ra, rb)[apart])
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped


def _distinct_nodes(nodes: pa.Table, wanted: np.ndarray) -> pa.Table:
    """One row per node of ``wanted`` (sorted), from facts that may repeat a node (a node touched
    by several verify parts has a row in each); the table itself when it is that already."""
    node = nodes.column("node").to_numpy()
    names = [n for n in NODES.names if n in nodes.column_names]  # the URL may come later
    schema = pa.schema([NODES.field(n) for n in names])
    if len(node) == len(wanted) and np.array_equal(node, wanted):
        return nodes.select(names).cast(schema)
    order = np.argsort(node, kind="stable")
    found, first = np.unique(node[order], return_index=True)
    rows = order[first][np.isin(found, wanted)]
    table = nodes.take(pa.array(rows)).select(names).cast(schema)
    missing = np.setdiff1d(wanted, table.column("node").to_numpy())
    if len(missing):
        raise ValueError(f"{len(missing)} nodes of the edges have no facts (first: {int(missing[0])})")
    return table


def _canonical_order(nodes: pa.Table, root: np.ndarray) -> np.ndarray:
    """Node positions sorted by component, then by the canonical rule: earlier nights first (the
    oldest night first), then the earliest ``published_at`` (unknown as the largest value, so
    last), the most words, the smallest id."""
    keys = pa.table(
        {
            "root": root,
            "tonight": pc.invert(nodes.column("from_history")),  # earlier nights first
            "run_date": nodes.column("run_date"),  # set for earlier nights only, so it orders only them
            "published_us": nodes.column("published_us"),
            "word_count": nodes.column("word_count"),
            "id": nodes.column("id"),
        }
    )
    order = [("root", "ascending"), ("tonight", "ascending"), ("run_date", "ascending")]
    order += [("published_us", "ascending"), ("word_count", "descending"), ("id", "ascending")]
    return pc.sort_indices(keys, sort_keys=order).to_numpy()


class _EdgeIndex:
    """Finds the edge between two node positions, if any, by binary search on ``lo * size + hi``."""

    def __init__(self, a: np.ndarray, b: np.ndarray, size: int):
        if size >= 3_000_000_000:
            raise ValueError(f"{size} nodes: too many for one cluster task's pair keys")
        self.size = size
        keys = np.minimum(a, b) * size + np.maximum(a, b)
        self.order = np.argsort(keys, kind="stable")
        self.keys = keys[self.order]

    def find(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The edge's row for each pair (``x[k]``, ``y[k]``), or -1 (the index is never empty:
        :func:`plan_decisions` returns before it when there are no edges)."""
        keys = np.minimum(x, y) * self.size + np.maximum(x, y)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[at] == keys, self.order[at], -1)


# Pairs (member, canonical) that cluster leaves to be measured, and what measuring found.
TO_MEASURE = pa.schema(
    [
        ("member", pa.int64()),
        ("canonical", pa.int64()),
        ("canonical_id", pa.string()),
        ("canonical_from_history", pa.bool_()),
    ]
)
MEASURED = pa.schema(
    [
        ("member", pa.int64()),
        ("same_story", pa.bool_()),
        ("jaccard", pa.float64()),
        ("containment", pa.float64()),
        ("measure", pa.string()),
        ("score", pa.float64()),
    ]
)


def decide(edges: pa.Table, nodes: pa.Table, measure) -> pa.Table:
    """:func:`plan_decisions`, ``measure(pairs)`` (``{(member, canonical): Verdict}``) over the
    pairs it leaves, and :func:`settle`: what the cluster and measure stages do, in one process."""
    decided, to_measure = plan_decisions(edges, nodes)
    pairs = list(zip(to_measure.column("member").to_pylist(), to_measure.column("canonical").to_pylist()))
    return settle(decided, measured_table(measure(sorted(pairs)) if pairs else {}))


def measured_table(verdicts: dict) -> pa.Table:
    """:data:`MEASURED` rows from ``{(member, canonical): Verdict}``."""
    rows = [
        {"member": m, "same_story": v.same_story, "jaccard": v.jaccard, "containment": v.containment}
        | {"measure": v.measure, "score": v.score}
        for (m, _), v in sorted(verdicts.items())
    ]
    return pa.Table.from_pylist(rows, schema=MEASURED)


def plan_decisions(edges: pa.Table, nodes: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Decisions (:data:`DECIDED`, in no set order) for tonight's bodies that some edge touches, and
    the pairs still to measure (:data:`TO_MEASURE`); bodies no edge touches are their own story
    and get none.

    ``edges`` has the verify stage's columns (``a``, ``b``, ``method``, ``jaccard``,
    ``containment``, ``measure``, ``score``); ``nodes`` the facts (:data:`NODES`) of every node
    they touch (without ``url``, ``canonical_url`` is left empty for the caller to fill: the
    cluster stage reads URLs only for the canonicals that need them). Clusters are the connected
    components of the edges, the canonical the member the canonical rule puts first
    (:func:`_canonical_order`). A dropped copy carries the evidence of its edge to the canonical;
    without one, an equal content hash makes it exact, else the pair is left to measure: its row
    carries, until :func:`settle` fills in the measurement, the widest path of edges to the
    canonical (``measure`` "chain", ``score`` the weakest link's value), which stands when the
    measurement does not find the same story. Everything is held
    column-wise: a few dozen bytes per edge and per node; no body is read."""
    a, b = edges.column("a").to_numpy(), edges.column("b").to_numpy()
    if len(a) == 0:
        return DECIDED.empty_table(), TO_MEASURE.empty_table()
    nodes = _distinct_nodes(nodes, np.unique(np.concatenate([a, b])))
    node = nodes.column("node").to_numpy()
    size = len(node)
    ai, bi = np.searchsorted(node, a), np.searchsorted(node, b)
    root = components(ai, bi, size)
    order = _canonical_order(nodes, root)
    first = np.r_[True, root[order][1:] != root[order][:-1]]
    canonical_at_root = np.empty(size, dtype=np.int64)
    canonical_at_root[root[order][first]] = order[first]
    canonical = canonical_at_root[root]

    from_history = nodes.column("from_history").to_numpy(zero_copy_only=False)
    tonight = ~from_history
    tonight_size = np.bincount(root[tonight], minlength=size)
    is_canonical = canonical == np.arange(size)
    kept = np.flatnonzero(tonight & is_canonical)
    dropped = np.flatnonzero(tonight & ~is_canonical)
    top = canonical[dropped]

    edge = _EdgeIndex(ai, bi, size).find(dropped, top)
    hashes = nodes.column("content_hash")
    same_hash = pc.fill_null(pc.equal(hashes.take(pa.array(dropped)), hashes.take(pa.array(top))), False)
    same_hash = same_hash.to_numpy(zero_copy_only=False) & (edge < 0)
    to_measure = np.flatnonzero((edge < 0) & ~same_hash)

    # what decided each dropped copy, column-wise: its edge's evidence, else exact, else measured
    has_edge = edge >= 0
    at_edge = np.where(has_edge, edge, 0)
    method = np.where(has_edge, _codes(edges.column("method"), METHODS)[at_edge], METHODS.index("exact"))
    measure_code = np.where(has_edge, _codes(edges.column("measure"), MEASURES)[at_edge], MEASURES.index("exact"))
    values = {}
    for name in ("jaccard", "containment", "score"):
        column = edges.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
        values[name] = np.where(has_edge, column[at_edge], 1.0)
    # left to measure: "near", no overlap yet, and the chain's value until the measurement says more
    method[to_measure], measure_code[to_measure] = METHODS.index("near"), MEASURES.index("chain")
    values["jaccard"][to_measure] = values["containment"][to_measure] = np.nan
    if len(to_measure):
        chains: dict[int, list[int]] = {}  # canonical position -> copies to measure
        for k in to_measure.tolist():
            chains.setdefault(int(top[k]), []).append(k)
        in_chains = np.isin(root[ai], root[list(chains)])
        scores = edges.column("score").to_numpy(zero_copy_only=False)[in_chains]
        neighbours: dict[int, list[tuple[int, float]]] = {}
        for x, y, score in zip(ai[in_chains].tolist(), bi[in_chains].tolist(), scores.tolist()):
            neighbours.setdefault(x, []).append((y, score))
            neighbours.setdefault(y, []).append((x, score))
        for at, copies in chains.items():
            widest = widest_paths(at, neighbours)
            for k in copies:
                values["score"][k] = widest[int(dropped[k])]

    ids, run_dates = nodes.column("id"), nodes.column("run_date")
    top_history = from_history[top]
    n_kept, n_dropped = len(kept), len(dropped)
    none_kept = pa.nulls(n_kept, pa.float64())
    table = pa.table(
        {
            "node": np.concatenate([node[kept], node[dropped]]),
            "canonical_node": np.concatenate([node[kept], node[top]]),
            "id": _taken(ids, kept, dropped),
            "cluster_id": _taken(ids, kept, top),
            "is_duplicate": np.r_[np.zeros(n_kept, bool), np.ones(n_dropped, bool)],
            "method": pa.concat_arrays([pa.nulls(n_kept, pa.string()), _strings(method, METHODS)]),
            "jaccard": pa.concat_arrays([none_kept, pa.array(_round4(values["jaccard"]), from_pandas=True)]),
            "containment": pa.concat_arrays([none_kept, pa.array(_round4(values["containment"]), from_pandas=True)]),
            "canonical_from_history": np.r_[np.zeros(n_kept, bool), top_history],
            "canonical_run_date": pa.concat_arrays(
                [
                    pa.nulls(n_kept, pa.date32()),
                    pc.if_else(pa.array(top_history), _taken(run_dates, top), pa.scalar(None, pa.date32())),
                ]
            ),
            "measure": pa.concat_arrays([pa.nulls(n_kept, pa.string()), _strings(measure_code, MEASURES)]),
            "score": pa.concat_arrays([none_kept, pa.array(_round4(values["score"]))]),
            "cluster_size": pa.concat_arrays(
                [pa.array(tonight_size[root[kept]], pa.int32()), pa.nulls(n_dropped, pa.int32())]
            ),
            "canonical_url": pa.concat_arrays(
                [
                    pa.nulls(n_kept, pa.string()),
                    _taken(nodes.column("url"), top)
                    if "url" in nodes.column_names
                    else pa.nulls(n_dropped, pa.string()),
                ]
            ),
        }
    )
    table = table.append_column("canonical_id", table.column("cluster_id")).select(DECIDED.names).cast(DECIDED)
    pending = dropped[to_measure]
    to_measure_table = pa.table(
        {
            "member": node[pending],
            "canonical": node[top[to_measure]],
            "canonical_id": _taken(ids, top[to_measure]),
            "canonical_from_history": from_history[top[to_measure]],
        },
        schema=TO_MEASURE,
    )
    return table, to_measure_table


def pending_rows(decided: pa.Table) -> np.ndarray:
    """Rows of ``decided`` left to measure: copies whose overlap is not known yet."""
    pending = pc.and_(decided.column("is_duplicate"), pc.is_null(decided.column("jaccard")))
    return np.flatnonzero(pending.to_numpy(zero_copy_only=False))


def settle(decided: pa.Table, measured: pa.Table) -> pa.Table:
    """``decided`` with the measurements (:data:`MEASURED`) of its rows left to measure: their
    overlap, and what decided with its value when the measurement finds the same story (else the
    chain stays). Every such row needs its measurement."""
    rows = pending_rows(decided)
    if len(rows) == 0:
        return decided
    nodes = decided.column("node").take(pa.array(rows))
    at = np.asarray(pc.fill_null(pc.index_in(nodes, value_set=measured.column("member")), -1))
    if (at < 0).any():
        raise ValueError(f"{int((at < 0).sum())} copies left to measure have no measurement: run measure first")
    found = measured.take(pa.array(at))
    same = found.column("same_story").to_numpy(zero_copy_only=False)
    out = {}
    for name in ("jaccard", "containment", "score"):
        column = decided.column(name).to_numpy(zero_copy_only=False).astype(np.float64)  # nulls as NaN
        value = _round4(found.column(name).to_numpy(zero_copy_only=False))
        chosen = np.ones(len(rows), bool) if name != "score" else same
        column[rows[chosen]] = value[chosen]
        out[name] = pa.array(column, pa.float64(), from_pandas=True)  # NaN back to null
    measure = decided.column("measure").to_numpy(zero_copy_only=False).copy()
    measure[rows[same]] = found.column("measure").to_numpy(zero_copy_only=False)[same]
    out["measure"] = pa.array(measure, pa.string())
    for name, column in out.items():
        decided = decided.set_column(decided.schema.get_field_index(name), name, column)
    return decided


METHODS = ["exact", "near"]
MEASURES = ["exact", "jaccard", "containment", "alignment", "chain"]


def _codes(column, vocabulary: list[str]) -> np.ndarray:
    codes = pc.index_in(column, value_set=pa.array(vocabulary))
    if codes.null_count:
        unknown = pc.filter(column, pc.is_null(codes)).to_pylist()[:3]
        raise ValueError(f"unknown values {unknown}: expected one of {vocabulary}")
    return codes.to_numpy(zero_copy_only=False).astype(np.int8)


def _strings(codes: np.ndarray, vocabulary: list[str]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int8()), pa.array(vocabulary)).cast(pa.string())


def _taken(column, *positions: np.ndarray) -> pa.Array:
    return pa.concat_arrays([column.take(pa.array(p, pa.int64())).combine_chunks() for p in positions])


def _round4(values: np.ndarray) -> np.ndarray:
    """Rounded to 4 decimals as Python's ``round`` does (correctly, unlike ``np.round`` on values
    such as 5e-05), a block at a time so the temporary floats stay few."""
    out = np.empty(len(values), dtype=np.float64)
    for start in range(0, len(values), 65_536):
        block = values[start : start + 65_536].tolist()
        out[start : start + len(block)] = [round(v, 4) for v in block]
    return out


def widest_paths(canonical: int, neighbours: dict[int, list[tuple[int, float]]]) -> dict[int, float]:
    """For every member of the canonical's cluster, the weakest link on its path of verified
    links to the canonical whose weakest link is strongest (a widest path: Dijkstra with min
    instead of sum; links never leave a cluster, so the search stays inside it)."""
    import heapq

    best = {canonical: 2.0}
    heap = [(-2.0, canonical)]
    while heap:
        width, node = heapq.heappop(heap)
        if -width < best.get(node, -1.0):
            continue
        for other, score in neighbours.get(node, ()):
            value = min(-width, score)
            if value > best.get(other, -1.0):
                best[other] = value
                heapq.heappush(heap, (-value, other))
    return best
