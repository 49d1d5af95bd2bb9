"""Candidate pairs from LSH band keys, computed column-wise with numpy.

Rows sharing a key in any band are candidates. Inside one bucket of m rows we emit a star (the
bucket's first row with every other) plus a chain (each row with the next): 2m pairs that keep
the bucket connected, instead of m(m-1)/2. A story in 500 copies therefore costs about a thousand
verifications per band, not 125,000, and since clusters are connected components the verified
star and chain edges are enough to join every true copy that verifies against its neighbours.

Because each band is processed on its own, bands can be split across tasks and the pair lists
concatenated, which is how the reduce step can shard when one task is not enough.
"""

from __future__ import annotations

import numpy as np

from cleaning.dedup.shingles import _sorted_unique


def _bucket_pairs(column: np.ndarray, rows: np.ndarray) -> np.ndarray:
    order = np.argsort(
        column
    )  # quicksort: 5x faster than stable here; rows arrive in id order, so ties are still deterministic
    keys, members = column[order], rows[order]
    if len(keys) < 2:
        return np.empty((0, 2), dtype=np.int64)
    same = keys[1:] == keys[:-1]
    if not same.any():
        return np.empty((0, 2), dtype=np.int64)
    # start index of each position's bucket
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    bucket_of = np.cumsum(np.concatenate(([True], ~same))) - 1
    first = members[starts[bucket_of]]
    position = np.arange(len(keys))
    is_tail = position != starts[bucket_of]  # not the first of its bucket
    star = np.stack([first[is_tail], members[is_tail]], axis=1)
    chain_mask = np.concatenate(([False], same)) & (position - 1 != starts[bucket_of])
    chain = np.stack([members[np.flatnonzero(chain_mask) - 1], members[chain_mask]], axis=1)
    return np.concatenate([star, chain])


def band_pairs(keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Unique ``(i, j)`` pairs with i < j (row numbers from ``rows``) sharing a key in any band."""
    if len(rows) < 2:
        return np.empty((0, 2), dtype=np.int64)
    found = [_bucket_pairs(keys[:, band], rows) for band in range(keys.shape[1])]
    pairs = np.concatenate(found) if found else np.empty((0, 2), dtype=np.int64)
    return unique_pairs(pairs)


def cross_pairs(keys: np.ndarray, rows: np.ndarray, other_keys: np.ndarray, other_rows: np.ndarray) -> np.ndarray:
    """Pairs ``(row, other_row)`` where a row of ``other`` shares a band key with a row of ``keys``.

    Used against the history index: each matching history row is paired with the first of
    tonight's rows holding that key (tonight's own buckets are already connected).
    """
    if len(rows) == 0 or len(other_rows) == 0:
        return np.empty((0, 2), dtype=np.int64)
    found = []
    for band in range(keys.shape[1]):
        order = np.argsort(keys[:, band])
        sorted_keys = keys[order, band]
        wanted = other_keys[:, band]
        at = np.searchsorted(sorted_keys, wanted)
        hit = at < len(sorted_keys)
        hit[hit] = sorted_keys[at[hit]] == wanted[hit]
        if hit.any():
            found.append(np.stack([rows[order[at[hit]]], other_rows[hit]], axis=1))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(found), axis=0)


def unique_pairs(pairs: np.ndarray, ordered: bool = True) -> np.ndarray:
    """Distinct pairs, sorted; with ``ordered`` each pair is first put as (smaller, larger) and
    self-pairs dropped (tonight's pairs), else kept as given (tonight row, history row)."""
    if len(pairs) == 0:
        return pairs.reshape(0, 2).astype(np.int64)
    pairs = pairs.astype(np.int64)
    if ordered:
        pairs = np.sort(pairs, axis=1)
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        if len(pairs) == 0:
            return pairs
    # one int64 per pair sorts far faster than np.unique(axis=0)'s row-wise comparison
    span = np.int64(pairs.max() + 1)
    codes = _sorted_unique(pairs[:, 0] * span + pairs[:, 1])
    return np.stack([codes // span, codes % span], axis=1)
