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
from datetime import datetime
from typing import Callable, Iterable

import numpy as np
import pyarrow as pa

from cleaning.config import DedupConfig
from cleaning.dedup import nodes as node_numbers
from cleaning.dedup.align import DEFAULT_POLICY, AlignPolicy
from cleaning.dedup.buckets import MAX_BUCKET, Entries, candidate_pairs, entries_from_columns, id_ranks
from cleaning.dedup.clusters import DECISIONS, HISTORY_PREFIX, NODES, Decision, decide
from cleaning.dedup.minhash import band_keys, band_layout, batch_signatures, permutations
from cleaning.dedup.sentence_keys import lead_sentence_keys
from cleaning.dedup.shingles import batch_shingles, fold32, lead_of, words_and_sentences
from cleaning.dedup.verify import Bodies, Verdict, gather, shingle_verdict, verify_batch, verify_pairs

__all__ = [
    "SIGNATURES",
    "VERIFY_COLUMNS",
    "Decision",
    "Verdict",
    "HISTORY_PREFIX",
    "bands_per_row",
    "dedup_records",
    "resolve",
    "shingle_verdict",
    "signatures",
]


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
    max_bucket: int = MAX_BUCKET,
) -> list[Decision]:
    """Decide, for every row of ``tonight``, its cluster, canonical and whether it is dropped: the
    bucket, verify and cluster stages (:mod:`.buckets`, :mod:`.verify`, :mod:`.clusters`) in one
    process, over one key range and one part - what the sharded stages do over many.

    ``tonight`` is a :data:`SIGNATURES` table; ``history`` has its columns plus ``run_date`` and
    ``url``. ``text_of(ids)`` returns bodies for ids that need verification; history ids come
    prefixed with :data:`HISTORY_PREFIX`, since a URL fetched again has the same id as its earlier
    copy. ``policy`` is the alignment's (None: shingle overlap alone decides).
    """
    n = tonight.num_rows
    ids = tonight.column("id").to_pylist()
    hashes = tonight.column("content_hash").to_pylist()
    width = bands_per_row(settings)
    rows = np.arange(n, dtype=np.int64)  # tonight's row r is node r (shard 0)
    sentence_keys = tonight.column("sentence_keys") if "sentence_keys" in tonight.column_names else None
    entries = entries_from_columns(rows, ids, hashes, tonight.column("band_keys"), sentence_keys, width, id_ranks(ids))
    h_ids: list[str] = []
    earlier = Entries.empty()
    if history is not None and history.num_rows:
        h_ids = history.column("id").to_pylist()
        h_nodes = np.int64(node_numbers.HISTORY_BIT) + np.arange(history.num_rows, dtype=np.int64)
        h_sentences = history.column("sentence_keys") if "sentence_keys" in history.column_names else None
        earlier = entries_from_columns(
            h_nodes,
            h_ids,
            history.column("content_hash").to_pylist(),
            history.column("band_keys"),
            h_sentences,
            width,
            np.zeros(len(h_ids), np.uint64),
        )
    pairs, _ = candidate_pairs(entries, earlier, max_bucket)
    history_row = lambda node: node - node_numbers.HISTORY_BIT  # noqa: E731

    columns = {}
    for name in VERIFY_COLUMNS:
        if name in tonight.column_names:
            column = tonight.column(name)
            column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
            columns[name] = (
                column.values.to_numpy(zero_copy_only=False),
                column.offsets.to_numpy(zero_copy_only=False),
            )
    texts_tonight: dict[int, str] = {}

    def columns_of(shard: int, wanted_rows: np.ndarray, name: str):
        if name in columns:
            return gather(*columns[name], wanted_rows)
        # a table without the verify columns (signed elsewhere): compute them from the text
        missing = [int(r) for r in wanted_rows if int(r) not in texts_tonight]
        texts_tonight.update(zip(missing, (text_of([ids[r] for r in missing]).get(ids[r], "") for r in missing)))
        return _columns_from_text([texts_tonight[int(r)] for r in wanted_rows], name, settings.shingle_words)

    def texts_of(nodes: list[int]) -> dict[int, str]:
        found = text_of([HISTORY_PREFIX + h_ids[history_row(i)] for i in nodes])
        return {i: found.get(HISTORY_PREFIX + h_ids[history_row(i)], "") for i in nodes}

    bodies = Bodies(columns_of, texts_of, settings.shingle_words)
    order = lambda node: (1, h_ids[history_row(node)]) if node >= n else (0, ids[node])  # noqa: E731
    edges = verify_pairs(pairs, bodies, order, settings, policy)

    touched = np.unique(np.concatenate([edges.a, edges.b])) if len(edges.a) else np.empty(0, np.int64)
    mine = touched[touched < n]
    facts = [
        pa.table(
            {
                "node": mine,
                "id": tonight.column("id").take(mine),
                "from_history": np.zeros(len(mine), bool),
                "run_date": pa.nulls(len(mine), pa.date32()),
                "published_us": _timestamps(tonight.column("published_at").take(mine)),
                "word_count": tonight.column("word_count").take(mine),
                "content_hash": tonight.column("content_hash").take(mine),
                "url": pa.nulls(len(mine), pa.string()),
            }
        ).cast(NODES)
    ]
    earlier_rows = touched[touched >= n] - node_numbers.HISTORY_BIT
    if len(earlier_rows):
        part = history.take(pa.array(earlier_rows))
        facts.append(
            pa.table(
                {
                    "node": earlier_rows + node_numbers.HISTORY_BIT,
                    "id": part.column("id"),
                    "from_history": np.ones(len(earlier_rows), bool),
                    "run_date": part.column("run_date"),
                    "published_us": _timestamps(part.column("published_at")),
                    "word_count": part.column("word_count"),
                    "content_hash": part.column("content_hash"),
                    "url": part.column("url"),
                }
            ).cast(NODES)
        )
    decided = decide(
        edges.table(), pa.concat_tables(facts), lambda pairs: verify_batch(pairs, bodies, settings, policy)
    )
    found = [Decision(**row) for row in decided.select(DECISIONS.names).to_pylist()]
    seen = set(decided.column("id").to_pylist())
    alone = [Decision(i, i, i, False, None, None, None, cluster_size=1) for i in ids if i not in seen]
    return sorted(found + alone, key=lambda d: d.id)


def _columns_from_text(texts: list[str], name: str, shingle_words: int) -> tuple[np.ndarray, np.ndarray]:
    hashes, counts, lengths, per_body = words_and_sentences(texts)
    if name == "shingles":
        return batch_shingles(hashes, counts, shingle_words)
    if name == "words":
        return fold32(hashes), np.concatenate([[0], np.cumsum(counts)])
    return lengths, np.concatenate([[0], np.cumsum(per_body)])


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
