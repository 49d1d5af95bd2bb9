"""Dedup stage: exact and near-duplicate bodies, tonight and against earlier nights.

Two steps, so the DAG can spread the first over shards:

1. ``signatures`` (per shard): normalized words and sentences -> content hash, shingle count,
   LSH band keys from two MinHash signatures (:mod:`.shingles`, :mod:`.minhash`) - one of the
   whole body, one of its lead (the first ``lead_words`` words) - and keys of adjacent lead
   sentences (:mod:`.sentence_keys`). Wire copies are abridged from the bottom, as news is
   written to be cut: a lightly abridged copy still shares nearly all of the lead's shingles,
   and a heavily edited one (cut to a third, local copy after the lede, words changed
   throughout, a dateline on top) still keeps consecutive lede sentences. No text is kept: the
   verify step gets the shingle hashes, the words and the words per sentence.
2. ``resolve`` (one reduce step): exact groups by content hash; candidate pairs from equal band
   keys and from sentence keys shared twice, among tonight's bodies and against the history
   index (:mod:`.candidates`); each candidate verified first on the shingle sets - Jaccard >=
   ``jaccard_threshold``, or the shorter body contained in the longer >=
   ``containment_threshold`` when the shorter has at least ``containment_min_shingles``
   shingles (a two-line brief is contained in many stories) - and, for pairs that fail but
   share enough, by aligning their sentences (:mod:`.align`); clusters as connected components;
   one canonical per cluster (:mod:`.clusters`). Each dropped copy carries what decided it
   (``measure``) and that measure's value (``score``).
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable, Iterable

import numpy as np
import pyarrow as pa

from cleaning.config import DedupConfig
from cleaning.dedup.align import DEFAULT_POLICY, AlignPolicy, align, matches_batch, sentences_batch
from cleaning.dedup.candidates import band_pairs, cross_pairs, unique_pairs
from cleaning.dedup.clusters import HISTORY_PREFIX, NodeUnionFind, canonical_rank
from cleaning.dedup.minhash import band_keys, band_layout, batch_signatures, permutations
from cleaning.dedup.sentence_keys import cross_key_pairs, flatten, lead_sentence_keys, repeated_pairs, shared_key_pairs
from cleaning.dedup.shingles import (
    _sorted_unique,
    batch_shingles,
    fold32,
    jaccard_and_containment,
    lead_of,
    sorted_sets,
    words_and_sentences,
)

SIGNATURES = pa.schema(
    [
        ("id", pa.string()),
        ("content_hash", pa.string()),
        ("n_shingles", pa.int32()),  # word n-grams in the body (repeats counted)
        ("word_count", pa.int32()),
        ("published_at", pa.timestamp("us", tz="UTC")),
        ("band_keys", pa.list_(pa.uint64())),
        ("sentence_keys", pa.list_(pa.uint64())),  # keys of adjacent lead sentences (:mod:`.sentence_keys`)
        # For the verify step, not kept in history: n-gram hashes in text order (the shingle
        # sets), and for the alignment the words (32-bit hashes, text order) and words per sentence.
        ("shingles", pa.list_(pa.uint32())),
        ("words", pa.list_(pa.uint32())),
        ("sentences", pa.list_(pa.int32())),
    ]
)
# Work columns the verify step reads; the history index keeps none of them.
VERIFY_COLUMNS = ("shingles", "words", "sentences")


@dataclass
class Decision:
    id: str
    cluster_id: str
    canonical_id: str
    is_duplicate: bool
    method: str | None  # "exact" | "near" | None for canonicals
    jaccard: float | None
    containment: float | None
    canonical_from_history: bool = False
    canonical_run_date: date | None = None
    # What decided, and its value: "exact" (1), "jaccard" or "containment" (of the 4-gram sets),
    # "alignment" (the copy's share in the sentence alignment), or "chain" (joined through other
    # copies; the weakest link's value). Measured against the canonical when it verifies directly.
    measure: str | None = None
    score: float | None = None


def layout(settings: DedupConfig) -> tuple[int, int]:
    return band_layout(settings.lsh_threshold, settings.num_perm)


def bands_per_row(settings: DedupConfig) -> int:
    bands, _ = layout(settings)
    return bands * (2 if settings.lead_words else 1)


def _sign_chunk(args):
    """Content hashes, word counts, band keys, n-gram counts, words and sentences of a list of bodies."""
    texts, settings = args
    bands, rows = layout(settings)
    words, word_counts, sentence_lengths, sentence_counts = words_and_sentences(texts)
    digests: list[str] = []
    values, starts = batch_shingles(words, word_counts, settings.shingle_words, digests)
    counts = np.diff(starts)
    signed = np.flatnonzero(counts >= settings.min_shingles)
    width = bands * (2 if settings.lead_words else 1)
    keys = np.zeros((len(texts), width), dtype=np.uint64)
    if len(signed):
        matrix = band_keys(batch_signatures(values, starts, settings.num_perm)[signed], bands, rows)
        if settings.lead_words:
            lead, lead_starts = lead_of(values, starts, max(1, settings.lead_words - settings.shingle_words + 1))
            lead_sigs = batch_signatures(lead, lead_starts, settings.num_perm)[signed]
            matrix = np.concatenate([matrix, band_keys(lead_sigs, bands, rows, salt=1)], axis=1)
        keys[signed] = matrix
    key_lengths = np.where(counts >= settings.min_shingles, width, 0)
    lead_keys, lead_key_counts = lead_sentence_keys(words, sentence_lengths, sentence_counts)
    return (
        digests,
        word_counts,
        keys[key_lengths > 0],
        key_lengths,
        counts,
        fold32(words),
        sentence_lengths,
        sentence_counts,
        lead_keys,
        lead_key_counts,
        values,
    )


_FORK_TEXTS: list[str] = []
_FORK_SETTINGS: DedupConfig | None = None


def _sign_range(bounds: tuple[int, int]):
    start, end = bounds
    return _sign_chunk((_FORK_TEXTS[start:end], _FORK_SETTINGS))


MIN_SHARED_KEYS = 2
CHUNK_CHARS = 16_000_000  # a chunk's working arrays take about ten bytes per character of text


def _chunks(texts: list[str], size: int) -> list[tuple[int, int]]:
    """(start, end) ranges of at most ``size`` bodies and, unless one body is larger alone, at
    most :data:`CHUNK_CHARS` characters, so a few huge bodies cannot blow up one chunk's memory."""
    bounds, start, chars = [], 0, 0
    for i, text in enumerate(texts):
        if i > start and (i - start >= size or chars + len(text) > CHUNK_CHARS):
            bounds.append((start, i))
            start, chars = i, 0
        chars += len(text)
    if start < len(texts):
        bounds.append((start, len(texts)))
    return bounds


def _list_array(values: np.ndarray, lengths: np.ndarray, type_: pa.DataType) -> pa.Array:
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(values.ravel(), type_.value_type))


def signatures(
    records: Iterable[tuple[str, str, datetime | None]], settings: DedupConfig, workers: int = 1
) -> pa.Table:
    """``(id, text, published_at)`` records to a :data:`SIGNATURES` table, in input order."""
    records = list(records)
    texts = [text or "" for _, text, _ in records]
    size = 4000
    if workers > 1 and len(texts) >= 2000:
        size = max(500, min(2000, len(texts) // (workers * 4)))  # small chunks: no idle worker at the end
    bounds = _chunks(texts, size)
    if workers > 1 and len(bounds) > 1 and "fork" in mp.get_all_start_methods():
        # Forked workers inherit the bodies and the permutations (made once, here, rather than
        # once per worker); only (start, end) pairs and results cross pipes.
        permutations(settings.num_perm, 1)  # the same cache key batch_signatures uses
        global _FORK_TEXTS, _FORK_SETTINGS
        _FORK_TEXTS, _FORK_SETTINGS = texts, settings
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
                parts = list(pool.map(_sign_range, bounds))
        finally:
            _FORK_TEXTS, _FORK_SETTINGS = [], None
    else:
        parts = [_sign_chunk((texts[a:b], settings)) for a, b in bounds]
    if not parts:
        return SIGNATURES.empty_table()
    hashes = [h for part in parts for h in part[0]]
    word_counts = np.concatenate([part[1] for part in parts])
    keys = np.concatenate([part[2].ravel() for part in parts])
    key_lengths = np.concatenate([part[3] for part in parts])
    shingle_counts = np.concatenate([part[4] for part in parts])
    words = np.concatenate([part[5] for part in parts])
    sentence_lengths = np.concatenate([part[6] for part in parts])
    sentence_counts = np.concatenate([part[7] for part in parts])
    lead_keys = np.concatenate([part[8] for part in parts])
    lead_key_counts = np.concatenate([part[9] for part in parts])
    shingles = np.concatenate([part[10] for part in parts])
    return pa.table(
        {
            "id": pa.array([r[0] for r in records], pa.string()),
            "content_hash": pa.array(hashes, pa.string()),
            "n_shingles": pa.array(shingle_counts, pa.int32()),
            "word_count": pa.array(word_counts, pa.int32()),
            "published_at": pa.array([r[2] for r in records], pa.timestamp("us", tz="UTC")),
            "band_keys": _list_array(keys, key_lengths, pa.list_(pa.uint64())),
            "sentence_keys": _list_array(lead_keys, lead_key_counts, pa.list_(pa.uint64())),
            "shingles": _list_array(shingles, shingle_counts, pa.list_(pa.uint32())),
            "words": _list_array(words, word_counts, pa.list_(pa.uint32())),
            "sentences": _list_array(sentence_lengths, sentence_counts, pa.list_(pa.int32())),
        },
        schema=SIGNATURES,
    )


def key_matrix(column: pa.ChunkedArray | pa.Array, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(row numbers, [rows, width] uint64 keys) for the rows that have a full set of keys."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    lengths = column.value_lengths().fill_null(0).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(lengths == width)
    if len(rows) == 0:
        return rows.astype(np.int64), np.empty((0, width), dtype=np.uint64)
    full = column if len(rows) == len(column) else column.take(pa.array(rows))  # no copy when all full
    values = full.flatten().to_numpy(zero_copy_only=False).astype(np.uint64, copy=False)
    return rows.astype(np.int64), values.reshape(len(rows), width)


def gather(values: np.ndarray, offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The list entries of ``rows`` from a list column's (values, offsets), concatenated."""
    first = offsets[rows].astype(np.int64)
    lengths = offsets[rows + 1].astype(np.int64) - first
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    index = np.arange(starts[-1], dtype=np.int64) + np.repeat(first - starts[:-1], lengths)
    return values[index], starts


def _timestamps(column) -> np.ndarray:
    """Microseconds since the epoch; unknown times sort last."""
    return np.asarray(column.cast(pa.int64()).fill_null(np.iinfo(np.int64).max).to_numpy(zero_copy_only=False))


def resolve(
    tonight: pa.Table,
    text_of: Callable[[list[str]], dict[str, str]],
    settings: DedupConfig,
    history: pa.Table | None = None,
    workers: int = 1,
    policy: AlignPolicy | None = DEFAULT_POLICY,
) -> list[Decision]:
    """Decide, for every row of ``tonight``, its cluster, canonical and whether it is dropped.

    ``tonight`` is a :data:`SIGNATURES` table; ``history`` has its columns plus ``run_date``.
    ``text_of(ids)`` returns bodies for ids that need verification; history ids come prefixed
    with :data:`HISTORY_PREFIX`, since a URL fetched again has the same id as its earlier copy.
    ``policy`` is the alignment's (None: shingle overlap alone decides, as before alignment).
    """
    # Rows in id order: buckets, star/chain pairs and tie-breaks then never depend on input order.
    # (The shingle sets stay where they are: only the small columns are reordered.)
    import pyarrow.compute as pc

    order = pc.sort_indices(tonight.column("id"))
    row_of = order.to_numpy()  # sorted position -> row of the table as given
    stored_shingles = tonight.column("shingles") if "shingles" in tonight.column_names else None
    stored_words = tonight.column("words") if "words" in tonight.column_names else None
    stored_sentences = tonight.column("sentences") if "sentences" in tonight.column_names else None
    band_column = tonight.column("band_keys")
    lead_column = tonight.column("sentence_keys") if "sentence_keys" in tonight.column_names else None
    tonight = tonight.select(["id", "content_hash", "word_count", "published_at"]).take(order)
    position_of = np.empty(len(row_of), dtype=np.int64)
    position_of[row_of] = np.arange(len(row_of))
    n = tonight.num_rows
    width = bands_per_row(settings)
    ids = tonight.column("id").to_pylist()
    # Content hashes as small integer codes (the strings are only looked at for history rows).
    encoded_hashes = pc.dictionary_encode(tonight.column("content_hash")).combine_chunks()
    distinct_hashes = encoded_hashes.dictionary
    codes = encoded_hashes.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    published = _timestamps(tonight.column("published_at"))
    words = tonight.column("word_count").to_numpy(zero_copy_only=False)

    uf = NodeUnionFind(n)  # history rows join as nodes n, n + 1, ... once they are known
    # verified links: (a, b) with a < b -> (method, jaccard, containment, measure, score)
    evidence: dict[tuple[int, int], tuple[str, float, float, str, float]] = {}

    def link(a: int, b: int, method: str, jac: float, con: float, measure: str, score: float) -> None:
        uf.union(a, b)
        evidence[(min(a, b), max(a, b))] = (method, jac, con, measure, score)

    # Exact duplicates: the first row (by id; rows are in id order) of each content hash
    # represents it, and only representatives take part in near matching.
    _, first_of_code = np.unique(codes, return_index=True)
    representative = first_of_code[codes]
    for i in np.flatnonzero(representative != np.arange(n)).tolist():
        link(int(representative[i]), i, "exact", 1.0, 1.0, "exact", 1.0)

    rows, keys = key_matrix(band_column, width)
    rows = position_of[rows]
    is_rep = np.zeros(n, dtype=bool)
    is_rep[first_of_code] = True
    by_position = np.argsort(rows, kind="stable")
    chosen = by_position[is_rep[rows[by_position]]]  # one gather of the wide key matrix, not two
    rows, keys = rows[chosen], keys[chosen]
    pairs = band_pairs(keys, rows)
    # Keys of adjacent lead sentences: the heavily edited copies bands miss.
    lead_keys, lead_rows = (np.empty(0, np.uint64), np.empty(0, np.int64))
    if lead_column is not None:
        lead_keys, lead_rows = flatten(lead_column)
        lead_rows = position_of[lead_rows]
        keep = is_rep[lead_rows]
        lead_keys, lead_rows = lead_keys[keep], lead_rows[keep]
        pairs = unique_pairs(
            np.concatenate([pairs, repeated_pairs(shared_key_pairs(lead_keys, lead_rows), MIN_SHARED_KEYS)])
        )

    # History: find the few earlier rows that touch tonight (same hash, or a shared band key)
    # with columnar operations, and materialize only those. History row k becomes node n + k.
    h_ids: list[str] = []
    h_codes: list[int] = []
    if history is not None and history.num_rows:
        exact_rows = np.flatnonzero(
            pc.is_in(history.column("content_hash"), value_set=distinct_hashes)
            .fill_null(False)
            .to_numpy(zero_copy_only=False)
        )
        h_rows, h_keys = key_matrix(history.column("band_keys"), width)
        cross = cross_pairs(keys, rows, h_keys, h_rows)
        del h_keys
        if "sentence_keys" in history.column_names:
            cross = unique_pairs(
                np.concatenate(
                    [cross, cross_key_pairs(lead_keys, lead_rows, history.column("sentence_keys"))]
                ),
                ordered=False,
            )
        involved = np.unique(np.concatenate([exact_rows, cross[:, 1]])).astype(np.int64)
        touched = history.take(pa.array(involved))
        h_ids = [HISTORY_PREFIX + i for i in touched.column("id").to_pylist()]
        uf.grow(n + len(h_ids))
        # code of tonight's equal hash, or -1
        h_codes = pc.index_in(touched.column("content_hash"), value_set=distinct_hashes).fill_null(-1).to_pylist()
        h_published = _timestamps(touched.column("published_at"))
        h_words = touched.column("word_count").to_numpy(zero_copy_only=False)
        h_dates = touched.column("run_date").to_pylist()
        for k, code in enumerate(h_codes):
            if code >= 0:
                link(int(first_of_code[code]), n + k, "exact", 1.0, 1.0, "exact", 1.0)
        if len(cross):
            cross[:, 1] = n + np.searchsorted(involved, cross[:, 1])
            pairs = np.concatenate([pairs, cross])
    node_id = lambda i: ids[i] if i < n else h_ids[i - n]  # noqa: E731
    row_codes = codes.tolist()
    node_code = lambda i: row_codes[i] if i < n else h_codes[i - n]  # noqa: E731

    # Candidates come from exact-duplicate representatives only, so no two are joined yet; the
    # loop below skips any that an earlier link joins.
    needed = _sorted_unique(pairs.ravel()).tolist()
    pairs = pairs.tolist()

    def texts_by_node(nodes: list[int]) -> dict[int, str]:
        found = text_of([node_id(i) for i in nodes])
        return {i: found.get(node_id(i), "") for i in nodes}

    bodies = _Bodies(stored_shingles, stored_words, stored_sentences, row_of, n, texts_by_node, settings.shingle_words)
    bodies.load(needed)
    deferred = []
    for a, b in pairs:
        if uf.find(a) == uf.find(b):
            continue
        verdict = shingle_verdict(bodies, a, b, settings)
        if verdict.same_story:
            link(a, b, "near", verdict.jaccard, verdict.containment, verdict.measure, verdict.score)
        elif policy is not None and verdict.containment >= policy.min_containment:
            deferred.append((a, b, verdict))
    # The alignment costs far more than a shingle comparison: it runs last, on the pairs that
    # the shingle links have not already joined through other copies.
    deferred = [(a, b, v) for a, b, v in deferred if uf.find(a) != uf.find(b)]
    bodies.prepare_sentences(sorted({i for a, b, _ in deferred for i in (a, b)}))
    found = matches_batch([(bodies.sentences_of(a), bodies.sentences_of(b)) for a, b, _ in deferred], policy)
    for (a, b, verdict), matched in zip(deferred, found):
        if matched is None or uf.find(a) == uf.find(b):
            continue  # None: too little matches for a verdict, whatever the order
        aligned = align(bodies.sentences_of(a), bodies.sentences_of(b), policy, matched)
        if aligned.same_story:
            link(a, b, "near", verdict.jaccard, verdict.containment, "alignment", aligned.score)

    def rank(i: int):
        if i >= n:
            j = i - n
            return canonical_rank(True, h_dates[j], int(h_published[j]), int(h_words[j]), h_ids[j])
        return canonical_rank(False, None, int(published[i]), int(words[i]), ids[i])

    components = uf.groups()
    grouped = np.zeros(len(uf.parent), dtype=bool)
    for members in components:
        grouped[members] = True
    decisions: list[Decision] = [
        Decision(ids[i], ids[i], ids[i], False, None, None, None) for i in np.flatnonzero(~grouped[:n]).tolist()
    ]  # rows no link joined: each is its own story
    chained: list[tuple[int, int]] = []
    for members in components:
        canonical = min(members, key=rank)
        for member in members:
            if member >= n:
                continue
            if member == canonical:
                decisions.append(Decision(ids[member], ids[member], ids[member], False, None, None, None))
                continue
            chained.append((member, canonical))
    needs_measure = [
        (a, c) for a, c in chained if (min(a, c), max(a, c)) not in evidence and node_code(a) != node_code(c)
    ]
    bodies.load(sorted({i for pair in needs_measure for i in pair}))
    widest: dict[int, dict[int, float]] = {}
    neighbours: dict[int, list[tuple[int, float]]] = {}  # verified links, made on first need
    for member, canonical in chained:
        key = (min(member, canonical), max(member, canonical))
        if key in evidence:
            method, jac, con, measure, score = evidence[key]
        elif node_code(member) == node_code(canonical):
            method, jac, con, measure, score = "exact", 1.0, 1.0, "exact", 1.0
        else:  # joined through a chain of copies: measure against the canonical itself
            verdict = verify(bodies, member, canonical, settings, policy)
            method, jac, con = "near", verdict.jaccard, verdict.containment
            measure, score = verdict.measure, verdict.score
            if not verdict.same_story:
                if not neighbours:
                    for (a, b), found in evidence.items():
                        neighbours.setdefault(a, []).append((b, found[4]))
                        neighbours.setdefault(b, []).append((a, found[4]))
                if canonical not in widest:
                    widest[canonical] = _widest_paths(canonical, neighbours)
                measure, score = "chain", widest[canonical][member]
        from_history = canonical >= n
        published_id = node_id(canonical).removeprefix(HISTORY_PREFIX)
        decisions.append(
            Decision(
                ids[member],
                published_id,
                published_id,
                True,
                method,
                round(jac, 4),
                round(con, 4),
                from_history,
                h_dates[canonical - n] if from_history else None,
                measure,
                round(score, 4),
            )
        )
    return sorted(decisions, key=lambda d: d.id)


def _widest_paths(canonical: int, neighbours: dict[int, list[tuple[int, float]]]) -> dict[int, float]:
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


class _Bodies:
    """What the verify step knows of each node it looks at, loaded in batches: the sorted
    shingle set and the words (32-bit hashes, text order) with the words per sentence - from
    the sign step's columns for tonight's rows, from the text for history rows - and, made on
    first use, the :class:`~cleaning.dedup.align.Sentences`."""

    def __init__(self, shingles, words, sentences, row_of, n, texts_of, shingle_words):
        self.n, self.row_of, self.texts_of, self.shingle_words = n, row_of, texts_of, shingle_words
        self.words: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.shingles: dict[int, np.ndarray] = {}
        self.sentences: dict = {}
        self.columns = None
        if shingles is not None and words is not None and sentences is not None:
            # one chunk is used as it is: combining would copy every value
            self.columns = tuple(
                (c.values.to_numpy(zero_copy_only=False), c.offsets.to_numpy(zero_copy_only=False))
                for c in (x.chunk(0) if x.num_chunks == 1 else x.combine_chunks() for x in (shingles, words, sentences))
            )

    def load(self, nodes: list[int]) -> None:
        """Shingle sets of ``nodes`` (history rows: their words and sentences too, from the text)."""
        missing = [i for i in nodes if i not in self.shingles]
        if self.columns is not None:
            hv, ho = self.columns[0]
            tonight_rows = [i for i in missing if i < self.n]
            for k in range(0, len(tonight_rows), 2048):  # stored in text order with repeats
                chunk = tonight_rows[k : k + 2048]
                self.shingles.update(zip(chunk, sorted_sets(*gather(hv, ho, self.row_of[np.array(chunk)]))))
            missing = [i for i in missing if i >= self.n]
        if missing:
            texts = self.texts_of(missing)
            hashes, counts, lengths, per_body = words_and_sentences([texts[i] for i in missing])
            words, starts = fold32(hashes), np.concatenate([[0], np.cumsum(counts)])
            sentence_starts = np.concatenate([[0], np.cumsum(per_body)])
            self.shingles.update(zip(missing, sorted_sets(*batch_shingles(hashes, counts, self.shingle_words))))
            for k, node in enumerate(missing):
                self.words[node] = (
                    words[starts[k] : starts[k + 1]],
                    lengths[sentence_starts[k] : sentence_starts[k + 1]],
                )

    def prepare_sentences(self, nodes: list[int]) -> None:
        """Make the :class:`~cleaning.dedup.align.Sentences` of many nodes in one batch (only
        the nodes that reach the alignment: their words are gathered here, not at load)."""
        nodes = [i for i in nodes if i not in self.sentences]
        if not nodes:
            return
        stored = [i for i in nodes if i not in self.words]
        parts = []
        if stored:
            (wv, wo), (sv, so) = self.columns[1], self.columns[2]
            rows = self.row_of[np.array(stored)]
            words, starts = gather(wv, wo, rows)
            lengths, sentence_starts = gather(sv, so, rows)
            parts.append((stored, words, np.diff(starts), lengths, np.diff(sentence_starts)))
        earlier = [i for i in nodes if i in self.words]
        if earlier:
            pieces = [self.words[i] for i in earlier]
            parts.append(
                (
                    earlier,
                    np.concatenate([w for w, _ in pieces]),
                    np.array([len(w) for w, _ in pieces]),
                    np.concatenate([x for _, x in pieces]),
                    np.array([len(x) for _, x in pieces]),
                )
            )
        for chunk, words, word_counts, lengths, sentence_counts in parts:
            self.sentences.update(zip(chunk, sentences_batch(words, word_counts, lengths, sentence_counts)))

    def sentences_of(self, node: int):
        if node not in self.sentences:
            self.prepare_sentences([node])
        return self.sentences[node]


@dataclass(frozen=True)
class Verdict:
    same_story: bool
    jaccard: float
    containment: float
    measure: str  # "jaccard", "containment" or "alignment": what decided (the largest, when none held)
    score: float


def shingle_verdict(bodies: _Bodies, a: int, b: int, settings: DedupConfig) -> Verdict:
    """Shingle overlap: Jaccard >= ``jaccard_threshold``, or the shorter body contained in the
    longer >= ``containment_threshold`` when it has at least ``containment_min_shingles`` shingles."""
    x, y = bodies.shingles[a], bodies.shingles[b]
    jac, con = jaccard_and_containment(x, y)
    if jac >= settings.jaccard_threshold:
        return Verdict(True, jac, con, "jaccard", jac)
    if con >= settings.containment_threshold and min(len(x), len(y)) >= settings.containment_min_shingles:
        return Verdict(True, jac, con, "containment", con)
    return Verdict(False, jac, con, "containment", con)


def verify(bodies: _Bodies, a: int, b: int, settings: DedupConfig, policy: AlignPolicy | None) -> Verdict:
    """Shingle overlap first (:func:`shingle_verdict`), then, for pairs that share enough to be
    worth it, the sentence alignment."""
    verdict = shingle_verdict(bodies, a, b, settings)
    jac, con = verdict.jaccard, verdict.containment
    if verdict.same_story:
        return verdict
    if policy is not None and con >= policy.min_containment:
        aligned = align(bodies.sentences_of(a), bodies.sentences_of(b), policy)
        if aligned.same_story:
            return Verdict(True, jac, con, "alignment", aligned.score)
    return Verdict(False, jac, con, "containment", con)


def dedup_records(
    records: list[dict], settings: DedupConfig, workers: int = 1, policy: AlignPolicy | None = DEFAULT_POLICY
) -> list[Decision]:
    """In-memory convenience: records with ``id`` and ``text`` (``published_at`` optional)."""
    ids = [str(r["id"]) for r in records]
    if len(set(ids)) != len(ids):
        seen, dupes = set(), set()
        for i in ids:
            (dupes if i in seen else seen).add(i)
        raise ValueError(f"ids must be unique; repeated: {sorted(dupes)[:5]}")
    texts = {str(r["id"]): r.get("text") or "" for r in records}
    table = signatures(((str(r["id"]), r.get("text") or "", r.get("published_at")) for r in records), settings, workers)
    return resolve(
        table, lambda wanted: {i: texts[i] for i in wanted if i in texts}, settings, workers=workers, policy=policy
    )
