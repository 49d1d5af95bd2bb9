"""Candidate pairs from shared keys, one key range at a time: the bucket stage.

Every body contributes *entries* ``(key, kind, node, rank, hash)``: one per LSH band key
(:data:`BAND`), one per key of adjacent lead sentences (:data:`SENTENCE`) and one for its content
hash (:data:`HASH`). ``node`` says where the body lies (:mod:`.nodes`), ``rank`` orders bodies as
their ids do (the first 64 bits of the hexadecimal id) and ``hash`` is the first 64 bits of the
content hash (for :data:`HASH` entries, whose key is those bits, the next 64).

Keys are uniform 64-bit hashes, so the key space cuts into ``2^k`` ranges by its top bits
(:func:`key_range`), and all entries of one key, tonight's and the history's, fall in one range.
Each range is therefore decided on its own, by a task that reads only that range of every shard
and of every earlier night, and the union of the ranges' pairs is the same whatever the number
of ranges: the decisions cannot depend on how the work was cut.

Inside a range, per key (a *bucket*):

- bodies with the same content hash are one body, represented by its smallest id (the others are
  its exact duplicates, and they share all keys with it, so they meet in every bucket it is in);
- tonight's representatives, in id order, give a star (the first with each other) and a chain
  (each with the next): ``2m`` pairs that keep a bucket of ``m`` connected instead of
  ``m(m - 1)/2``. A bucket holding more than ``max_bucket`` representatives keeps its first
  ``max_bucket`` (counted as capped): a key so common says nothing about any one pair;
- an earlier night's body holding the key is paired with the bucket's first body;
- for content hashes, each body is paired with its representative (:data:`EXACT`), tonight's and
  the earlier nights' alike.

Pairs keep their kind: band and cross pairs are verified whenever found, sentence pairs only when
found through at least two keys (a single shared sentence pair is not enough evidence to spend a
verification on), which the verify stage counts, since one pair's keys can lie in several ranges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cleaning.dedup import nodes as node_numbers
from cleaning.dedup.shingles import fmix64

BAND, SENTENCE, HASH = 0, 1, 2  # kinds of entries
PAIR_BAND, PAIR_SENTENCE, PAIR_EXACT, PAIR_CROSS = 0, 1, 2, 3  # kinds of pairs
MAX_BUCKET = 10_000


@dataclass
class Entries:
    key: np.ndarray  # uint64
    kind: np.ndarray  # uint8
    node: np.ndarray  # int64
    rank: np.ndarray  # uint64
    hash: np.ndarray  # uint64

    @classmethod
    def empty(cls) -> Entries:
        return cls(*(np.empty(0, t) for t in (np.uint64, np.uint8, np.int64, np.uint64, np.uint64)))

    @classmethod
    def concat(cls, parts: list[Entries]) -> Entries:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("key", "kind", "node", "rank", "hash")))

    def take(self, index) -> Entries:
        return Entries(self.key[index], self.kind[index], self.node[index], self.rank[index], self.hash[index])

    def __len__(self) -> int:
        return len(self.key)


def hex64(values: list[str], start: int = 0) -> np.ndarray:
    """Hex digits ``start .. start + 16`` of each string as uint64 (shorter strings: zero-padded)."""
    return np.array([int((v[start : start + 16] or "0").ljust(16, "0"), 16) for v in values], dtype=np.uint64)


def id_ranks(ids: list[str]) -> np.ndarray:
    """Ranks that order bodies as their ids do: the ids' first 64 bits for the hexadecimal ids the
    pipeline makes, else (ids of any other form) their position in sorted order."""
    try:
        if ids and all(len(i) >= 16 for i in ids):
            return hex64(ids)
    except ValueError:
        pass
    order = sorted(range(len(ids)), key=ids.__getitem__)
    ranks = np.empty(len(ids), dtype=np.uint64)
    ranks[order] = np.arange(len(ids), dtype=np.uint64)
    return ranks


def prefix_ranks(ids: list[str]) -> np.ndarray:
    """Ranks from each id alone (the same in every shard): the first 64 bits of a hexadecimal id,
    else the first 8 bytes of its UTF-8 (ids sharing those tie, and ties are broken by node)."""
    try:
        return hex64(ids)
    except ValueError:
        return np.array([int.from_bytes(i.encode("utf-8")[:8].ljust(8, b"\0"), "big") for i in ids], dtype=np.uint64)


def key_range(keys: np.ndarray, ranges: int) -> np.ndarray:
    """The range (0 .. ranges - 1) of each key: its top log2(ranges) bits."""
    bits = ranges.bit_length() - 1
    if bits == 0:
        return np.zeros(len(keys), dtype=np.int64)
    return (np.asarray(keys, dtype=np.uint64) >> np.uint64(64 - bits)).astype(np.int64)


def check_ranges(ranges: int) -> None:
    if ranges < 1 or ranges & (ranges - 1):
        raise ValueError(f"key ranges must be a power of two, got {ranges}")


def covering(written: int, wanted: int, index: int) -> list[int]:
    """Ranges of a ``written``-way split that overlap range ``index`` of a ``wanted``-way split
    (both powers of two), so history written with another split is still read by range."""
    if written <= wanted:
        return [index // (wanted // written)]
    per = written // wanted
    return list(range(index * per, (index + 1) * per))


def pair_part(pairs: np.ndarray, parts: int) -> np.ndarray:
    """The verify part of each pair, a function of the pair alone so all findings of a pair meet.

    A pair with an earlier night's body goes by that body's history part (its node without the
    row bits): every body of one published part is then verified by one task, which reads the
    part's text once, instead of every task reading most parts. Tonight's pairs go by a hash of
    both nodes."""
    if parts == 1 or len(pairs) == 0:
        return np.zeros(len(pairs), dtype=np.int64)
    a = pairs[:, 0].astype(np.uint64)
    b = pairs[:, 1].astype(np.uint64)
    earlier = node_numbers.is_history(pairs[:, 1])
    with np.errstate(over="ignore"):
        mixed = np.where(
            earlier,
            fmix64(b >> np.uint64(24)),  # the night and the part
            fmix64(a * np.uint64(0x9E3779B97F4A7C15) ^ fmix64(b)),
        )
    return (mixed % np.uint64(parts)).astype(np.int64)


def _star_chain(keys: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Star and chain pairs of each run of equal ``keys`` (sorted), members in their given order."""
    if len(keys) < 2:
        return np.empty((0, 2), dtype=np.int64)
    opens = np.concatenate([[True], keys[1:] != keys[:-1]])
    first = np.flatnonzero(opens)[np.cumsum(opens) - 1]
    tail = ~opens
    star = np.stack([members[first[tail]], members[tail]], axis=1)
    chain_at = np.flatnonzero(tail & ~np.concatenate([[False], opens[:-1]]))  # not a bucket's second entry
    chain = np.stack([members[chain_at - 1], members[chain_at]], axis=1)
    return np.concatenate([star, chain]).astype(np.int64)


def _first_of_runs(*columns: np.ndarray) -> np.ndarray:
    """Mask of the first position of each run of equal values across ``columns`` (sorted)."""
    n = len(columns[0])
    change = np.zeros(n, dtype=bool)
    if n:
        change[0] = True
    for c in columns:
        change[1:] |= c[1:] != c[:-1]
    return change


def candidate_pairs(tonight: Entries, earlier: Entries, max_bucket: int = MAX_BUCKET) -> tuple[np.ndarray, dict]:
    """``([m, 3] int64 (a, b, kind) with a < b, counts)`` for one key range's entries."""
    found = []
    counts = {"buckets_capped": 0, "entries_capped": 0}
    for kind, pair_kind in ((BAND, PAIR_BAND), (SENTENCE, PAIR_SENTENCE)):
        e = tonight.take(tonight.kind == kind)
        order = np.lexsort((e.node, e.rank, e.hash, e.key))
        e = e.take(order)
        e = e.take(_first_of_runs(e.key, e.hash))  # one entry per content in each bucket
        e = e.take(np.lexsort((e.node, e.rank, e.key)))
        opens = _first_of_runs(e.key)
        starts = np.flatnonzero(opens)
        position = np.arange(len(e)) - starts[np.cumsum(opens) - 1]
        over = position >= max_bucket
        if over.any():
            counts["buckets_capped"] += int(np.count_nonzero(position == max_bucket))
            counts["entries_capped"] += int(np.count_nonzero(over))
            e = e.take(~over)
            opens = _first_of_runs(e.key)
        pairs = _star_chain(e.key, e.node)
        found.append(np.column_stack([pairs, np.full(len(pairs), pair_kind, np.int64)]))
        h = earlier.take(earlier.kind == kind)
        if len(h) and len(e):
            heads = np.flatnonzero(opens)
            head_keys = e.key[heads]
            at = np.minimum(np.searchsorted(head_keys, h.key), len(head_keys) - 1)
            hit = head_keys[at] == h.key
            cross = np.stack([e.node[heads[at[hit]]], h.node[hit]], axis=1)
            found.append(np.column_stack([cross, np.full(len(cross), PAIR_CROSS, np.int64)]))
    e = tonight.take(tonight.kind == HASH)
    e = e.take(np.lexsort((e.node, e.rank, e.hash, e.key)))
    opens = _first_of_runs(e.key, e.hash)
    representative = e.node[np.flatnonzero(opens)[np.cumsum(opens) - 1]] if len(e) else e.node
    exact = np.stack([representative[~opens], e.node[~opens]], axis=1)
    found.append(np.column_stack([exact, np.full(len(exact), PAIR_EXACT, np.int64)]))
    h = earlier.take(earlier.kind == HASH)
    if len(h) and len(e):
        heads = np.flatnonzero(opens)
        # one sortable value per content: the two 64-bit halves compared as a pair
        head_pairs = np.stack([e.key[heads], e.hash[heads]], axis=1)
        at = np.minimum(np.searchsorted(e.key[heads], h.key), len(heads) - 1)
        hit = np.zeros(len(h), dtype=bool)
        # several contents may share the top 64 bits: walk forward while the key still matches
        probe = at.copy()
        pending = np.ones(len(h), dtype=bool)
        while pending.any():
            same_key = pending & (head_pairs[probe, 0] == h.key)
            match = same_key & (head_pairs[probe, 1] == h.hash)
            hit |= match
            pending = same_key & ~match & (probe + 1 < len(heads))
            probe = np.where(pending, probe + 1, probe)
        exact = np.stack([e.node[heads[probe[hit]]], h.node[hit]], axis=1)
        found.append(np.column_stack([exact, np.full(len(exact), PAIR_EXACT, np.int64)]))
    pairs = np.concatenate(found) if found else np.empty((0, 3), dtype=np.int64)
    pairs[:, :2] = np.sort(pairs[:, :2], axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return pairs, counts


def entries_from_columns(
    nodes: np.ndarray,
    ids: list[str],
    content_hashes: list[str],
    band_keys,
    sentence_keys,
    width: int | None,
    ranks: np.ndarray | None = None,
) -> Entries:
    """Entries of a signature table's rows (``band_keys`` and ``sentence_keys`` list columns;
    rows without a full set of band keys contribute no band entries, as they are too short)."""
    from cleaning.dedup.sentence_keys import flatten

    rank = id_ranks(ids) if ranks is None else ranks
    top, low = hex64(content_hashes), hex64(content_hashes, 16)
    parts = []
    if band_keys is not None:
        keys, rows = flatten(band_keys)
        if width is not None:
            lengths = np.bincount(rows, minlength=len(nodes)) if len(rows) else np.zeros(len(nodes), np.int64)
            full = lengths[rows] == width
            keys, rows = keys[full], rows[full]
        parts.append(Entries(keys, np.full(len(keys), BAND, np.uint8), nodes[rows], rank[rows], top[rows]))
    if sentence_keys is not None:
        keys, rows = flatten(sentence_keys)
        parts.append(Entries(keys, np.full(len(keys), SENTENCE, np.uint8), nodes[rows], rank[rows], top[rows]))
    parts.append(Entries(top, np.full(len(nodes), HASH, np.uint8), np.asarray(nodes, np.int64), rank, low))
    return Entries.concat(parts)
