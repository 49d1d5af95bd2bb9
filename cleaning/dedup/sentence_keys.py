"""Candidate keys from adjacent lead sentences, for copies whole-body and lead bands miss.

A heavily edited copy shares under a third of its shingles with its original, and even its first
hundred words are mostly a headline, a byline, a dateline and local copy; so its MinHash bands
rarely meet the original's. What it keeps is the original's lede, sentence after sentence, each
with a word or two changed. These keys find that.

Take a body's first ``sentences`` sentences of at least ``min_words`` words (shorter lines are
bylines, headings and credits). For each, and for each of ``hashes`` hash functions h_p (an
affine map of the 32-bit bigram hash, as in :mod:`.minhash`), m_p(s) = min over the sentence's
word bigrams g of h_p(g): a one-value MinHash, so two sentences agree on it with probability
equal to the Jaccard similarity J of their bigram sets. A key joins two consecutive sentences,
k_p(s, s') = mix(m_p(s), m_p(s'), p), and two bodies are candidates when they share any key.
For a pair of sentences kept in order with similarities J1 and J2, one of the ``hashes`` keys
agrees with probability 1 - (1 - J1 J2)^hashes: 0.985 at J1 = J2 = 0.8 (a changed word in each
20-word sentence) for four hashes, and a copy keeps several such pairs. Pairing sentences is what
keeps the buckets small: a single sentence (a stock phrase, a quote every outlet ran) recurs in
many unrelated stories, two consecutive ones in the same order rarely do.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from cleaning.dedup.shingles import _sorted_unique, fmix64, fold32

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
SENTENCES = 10  # lead sentences keyed per body
MIN_WORDS = 4  # shorter sentences are skipped (bylines, headings, credits)
HASHES = 6  # keys per pair of sentences
ROWS = 2  # MinHash values of each sentence in a key
GRAM = 2


@lru_cache(maxsize=4)
def _affine(hashes: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(20251)  # fixed: keys must be equal across nights and processes
    a = rng.randint(1, 2**32, size=hashes, dtype=np.uint64).astype(np.uint32) | np.uint32(1)
    b = rng.randint(0, 2**32, size=hashes, dtype=np.uint64).astype(np.uint32)
    return a, b


def lead_sentence_keys(
    words: np.ndarray,
    sentence_lengths: np.ndarray,
    sentence_counts: np.ndarray,
    sentences: int = SENTENCES,
    min_words: int = MIN_WORDS,
    hashes: int = HASHES,
    rows: int = ROWS,
) -> tuple[np.ndarray, np.ndarray]:
    """``(keys, counts)``: every body's keys (uint64, concatenated) and how many each has, from
    the word hashes (any integer width, text order) and sentence lengths of a batch of bodies
    (as :func:`cleaning.dedup.shingles.words_and_sentences` gives them)."""
    bodies = len(sentence_counts)
    lengths = np.asarray(sentence_lengths, dtype=np.int64)
    body_of = np.repeat(np.arange(bodies), sentence_counts)
    first_word = np.cumsum(lengths) - lengths
    # the first `sentences` long-enough sentences of each body
    long_enough = lengths >= min_words
    rank = np.cumsum(long_enough) - 1
    body_first = np.concatenate([[0], np.cumsum(np.bincount(body_of[long_enough], minlength=bodies))])[:-1]
    chosen = np.flatnonzero(long_enough & (rank - body_first[body_of] < sentences))
    if len(chosen) == 0:
        return np.empty(0, np.uint64), np.zeros(bodies, np.int64)
    # word bigrams inside the chosen sentences, grouped by sentence
    per_sentence = lengths[chosen] - 1
    offsets = np.cumsum(per_sentence) - per_sentence
    at = np.repeat(first_word[chosen] - offsets, per_sentence) + np.arange(int(per_sentence.sum()))
    w = np.asarray(words).astype(np.uint64)
    with np.errstate(over="ignore"):
        grams = fold32(fmix64(w[at] * _MULTIPLIER + w[at + 1]))
        if GRAM == 3:  # word trigrams instead, ending one word later (the last bigram repeats)
            nxt = np.minimum(at + 2, np.repeat(first_word[chosen] + lengths[chosen] - 1, per_sentence))
            grams = fold32(fmix64((w[at] * _MULTIPLIER + w[at + 1]) * _MULTIPLIER + w[nxt]))
    a, b = _affine(hashes * rows)
    minima = np.empty((len(chosen), hashes * rows), dtype=np.uint64)
    scratch = np.empty_like(grams)  # one buffer for every hash function
    for p in range(hashes * rows):
        np.multiply(grams, a[p], out=scratch)
        scratch += b[p]
        minima[:, p] = np.minimum.reduceat(scratch, offsets)
    # consecutive chosen sentences of the same body
    owner = body_of[chosen]
    pair = np.flatnonzero(owner[1:] == owner[:-1])
    salt = (np.arange(hashes, dtype=np.uint64) + np.uint64(1)) * _MULTIPLIER
    with np.errstate(over="ignore"):
        keys = salt
        for r in range(rows):
            band = slice(r, hashes * rows, rows)
            keys = fmix64(keys ^ ((minima[pair][:, band] << np.uint64(32)) | minima[pair + 1][:, band]))
    counts = np.bincount(owner[pair], minlength=bodies) * hashes
    return keys.ravel(), counts.astype(np.int64)


_ROW_BITS = 24


def _packed(rows: np.ndarray) -> bool:
    return len(rows) == 0 or int(rows.max()) < (1 << _ROW_BITS)


def _sorted_by_key_then_row(keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(keys, rows) sorted by key, then row, so bucket members come in id order and the pairs
    are the same whatever order the bodies came in. Up to 2^24 rows, the top 40 bits of a key
    and the row share one 64-bit integer and a single sort does it (a 40-bit key still makes
    false collisions vanishingly rare, and one would only add a candidate to verify); the keys
    returned are then those top 40 bits."""
    if _packed(rows):
        packed = np.sort((keys >> np.uint64(_ROW_BITS)) << np.uint64(_ROW_BITS) | rows.astype(np.uint64))
        return packed >> np.uint64(_ROW_BITS), (packed & np.uint64((1 << _ROW_BITS) - 1)).astype(np.int64)
    order = np.lexsort((rows, keys))
    return keys[order], rows[order]


def shared_key_pairs(keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``(i, j)`` pairs (row numbers from ``rows``, one per key) sharing a key: per bucket, its
    first row with each other, and each with the next (as :func:`.candidates.band_pairs` does);
    not deduplicated."""
    if len(keys) < 2:
        return np.empty((0, 2), dtype=np.int64)
    keys, members = _sorted_by_key_then_row(keys, rows)
    same = keys[1:] == keys[:-1]
    # Most keys are held by one body only: keep the entries of shared keys before building pairs.
    shared = np.concatenate([same, [False]]) | np.concatenate([[False], same])
    if not shared.any():
        return np.empty((0, 2), dtype=np.int64)
    keys, members = keys[shared], members[shared]
    opens = np.concatenate([[True], keys[1:] != keys[:-1]])
    bucket_start = np.flatnonzero(opens)[np.cumsum(opens) - 1]  # each entry's bucket's first entry
    tail = ~opens
    star = np.stack([members[bucket_start[tail]], members[tail]], axis=1)
    chain = np.flatnonzero(tail & ~np.concatenate([[False], opens[:-1]]))  # not the bucket's second entry
    return np.concatenate([star, np.stack([members[chain - 1], members[chain]], axis=1)])


def repeated_pairs(pairs: np.ndarray, times: int) -> np.ndarray:
    """The distinct pairs (smaller row first) found at least ``times`` times."""
    if len(pairs) == 0:
        return pairs.reshape(0, 2).astype(np.int64)
    pairs = np.sort(pairs.astype(np.int64), axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    if len(pairs) == 0:
        return pairs
    span = np.int64(pairs.max() + 1)
    codes = np.sort(pairs[:, 0] * span + pairs[:, 1])
    starts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
    counts = np.diff(np.append(starts, len(codes)))
    codes = codes[starts[counts >= times]]
    return np.stack([codes // span, codes % span], axis=1)


def cross_key_pairs(keys: np.ndarray, rows: np.ndarray, other) -> np.ndarray:
    """Unique ``(row, other_row)`` pairs where a key of ``other`` (the history's list column)
    equals one of ``keys`` (tonight's): each matching history row is paired with the first
    (smallest) of tonight's rows holding the key, tonight's own buckets being connected already.

    History holds millions of keys and tonight's match few of them: a bit table of tonight's keys
    (indexed by their top bits) rules most out with one lookup each, and only the rest are
    searched for; history row numbers are found only for the hits, from the list offsets. The
    history's chunks (one per night) are read where they lie, in bounded pieces, never copied."""
    import pyarrow as pa

    chunks = other.chunks if isinstance(other, pa.ChunkedArray) else [other]
    if len(keys) == 0 or sum(len(c) for c in chunks) == 0:
        return np.empty((0, 2), dtype=np.int64)
    bits = _bitset(keys)
    sorted_keys, sorted_rows = _sorted_by_key_then_row(keys, rows)
    shift = np.uint64(_ROW_BITS if _packed(rows) else 0)  # the sorted keys' form
    found = []
    first_row = 0
    for chunk in chunks:
        offsets = chunk.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
        values = chunk.values.to_numpy(zero_copy_only=False)[offsets[0] : offsets[-1]]
        offsets = offsets - offsets[0]
        for start in range(0, len(values), _HISTORY_CHUNK):  # bounded temporaries
            part = values[start : start + _HISTORY_CHUNK].astype(np.uint64, copy=False)
            slot = (part >> np.uint64(64 - _TABLE_BITS)).astype(np.int64)  # the top bits: the low 24 may be packed away
            maybe = np.flatnonzero((bits[slot >> 3] >> (slot & 7).astype(np.uint8)) & 1)
            if len(maybe) == 0:
                continue
            probe = part[maybe] >> shift
            at = np.minimum(np.searchsorted(sorted_keys, probe), len(sorted_keys) - 1)
            hit = sorted_keys[at] == probe
            if hit.any():
                other_rows = first_row + np.searchsorted(offsets, start + maybe[hit], side="right") - 1
                found.append(np.stack([sorted_rows[at[hit]], other_rows], axis=1))
        first_row += len(chunk)
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(found).astype(np.int64), axis=0)


_TABLE_BITS = 28  # 2^28 bits, 32 MB: a night's few million keys fill about 1% of it
_HISTORY_CHUNK = 4_000_000


def _bitset(keys: np.ndarray) -> np.ndarray:
    """A packed bit table with the bit of each key's top ``_TABLE_BITS`` bits set."""
    bits = np.zeros(1 << (_TABLE_BITS - 3), dtype=np.uint8)
    slots = _sorted_unique((keys >> np.uint64(64 - _TABLE_BITS)).astype(np.int64))
    byte = slots >> 3
    values = (np.uint8(1) << (slots & 7).astype(np.uint8)).astype(np.uint8)
    firsts = np.flatnonzero(np.concatenate([[True], byte[1:] != byte[:-1]]))
    bits[byte[firsts]] = np.bitwise_or.reduceat(values, firsts) if len(firsts) else values
    return bits


def flatten(column) -> tuple[np.ndarray, np.ndarray]:
    """A list<uint64> column (Arrow) as ``(values, row of each value)``; null lists are empty."""
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    lengths = column.value_lengths().fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    values = column.flatten().to_numpy(zero_copy_only=False).astype(np.uint64, copy=False)
    return values, np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
