"""Body normalization, the exact-duplicate hash, and word shingles.

Normalization (for both exact and near matching): Unicode NFKC (skipped for pure ASCII, where it
is the identity), case-folded, and split into runs of letters and digits, so punctuation, quotes,
dashes and spacing never matter. Two bodies with the same word sequence are exact duplicates.

A shingle is a run of ``n`` consecutive words. Each word is hashed once (64-bit xxh3, cached per
process since news vocabulary repeats), and the n-gram hash is the polynomial
h = w_1 * M^(n-1) + ... + w_n (mod 2^64) passed through the murmur3 64-bit finalizer, computed for
all positions at once with numpy. A body's shingle set is the sorted array of unique hashes; with
64-bit hashes a collision between two different n-grams has probability about 2^-64 per pair.
"""

from __future__ import annotations

import re
from itertools import chain
import unicodedata

import numpy as np
import xxhash

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_CACHE_LIMIT = 2_000_000
# Shingle hashes keep 52 bits, so a batch can sort (body, hash) pairs as one uint64 with the
# body's number in the top 12 bits. Two different n-grams of one body share a 52-bit hash with
# probability about 2^-52: far below anything a Jaccard threshold can notice.
HASH_BITS = 52
HASH_MASK = np.uint64((1 << HASH_BITS) - 1)
BATCH = 1 << (64 - HASH_BITS)


class _WordHashes(dict):
    """word -> 64-bit xxh3, filled on first sight (looked up with C-level ``map``)."""

    def __missing__(self, word: str) -> int:
        value = self[word] = xxhash.xxh3_64_intdigest(word.encode("utf-8"))
        return value


_word_cache = _WordHashes()


def normalized_words(text: str) -> list[str]:
    if text.isascii():
        return _WORD.findall(text.lower())
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return _WORD.findall(text.casefold())


def content_hash(words: list[str]) -> str:
    return xxhash.xxh3_128_hexdigest(" ".join(words).encode("utf-8"))


def word_hashes(words: list[str]) -> np.ndarray:
    if len(_word_cache) > _CACHE_LIMIT:
        _word_cache.clear()
    return np.fromiter(map(_word_cache.__getitem__, words), dtype=np.uint64, count=len(words))


def fmix64(values: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finalizer: a bijection that spreads every input bit over the output."""
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xFF51AFD7ED558CCD)
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xC4CEB9FE1A85EC53)
    return values ^ (values >> np.uint64(33))


def shingle_hashes(words: list[str], n: int) -> np.ndarray:
    """uint64 hash of the n-gram starting at each position, in order (not deduplicated)."""
    if not words:
        return np.empty(0, dtype=np.uint64)
    hashes = word_hashes(words)
    n = min(n, len(hashes))
    count = len(hashes) - n + 1
    with np.errstate(over="ignore"):
        acc = hashes[:count].copy()
        for k in range(1, n):
            acc = acc * _MULTIPLIER + hashes[k : k + count]
        return fmix64(acc)


def shingle_set(words: list[str], n: int) -> np.ndarray:
    """Sorted unique hashes of the word n-grams (the whole body when shorter than n)."""
    return _sorted_unique(shingle_hashes(words, n) & HASH_MASK)


def jaccard_and_containment(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """|A∩B|/|A∪B| and |A∩B|/min(|A|,|B|) for sorted unique arrays."""
    if len(a) == 0 or len(b) == 0:
        return 0.0, 0.0
    if len(a) > len(b):
        a, b = b, a
    # binary search of the smaller set in the larger: no concatenation, no re-sort
    at = np.searchsorted(b, a)
    at[at == len(b)] = 0
    inter = int(np.count_nonzero(b[at] == a))
    return inter / (len(a) + len(b) - inter), inter / len(a)


def batch_shingle_sets(word_lists: list[list[str]], n: int, lead_words: int = 0):
    """Shingle sets of many bodies at once, and of their leads: ``(hashes, starts, lead_hashes,
    lead_starts)``. Body d's sorted unique hashes are ``hashes[starts[d]:starts[d + 1]]``; its
    lead's (the n-grams starting in its first ``lead_words`` words) likewise in the lead arrays.

    One numpy pass over all bodies replaces a dozen small calls per body, whose fixed cost
    dominated at news lengths. Results equal :func:`shingle_set` body by body.
    """
    parts = [_batch(word_lists[i : i + BATCH], n, lead_words) for i in range(0, len(word_lists), BATCH)]
    if not parts:
        empty = np.empty(0, dtype=np.uint64)
        return empty, np.zeros(1, dtype=np.int64), empty, np.zeros(1, dtype=np.int64)
    if len(parts) == 1:
        return parts[0]
    hashes, starts, lead, lead_starts = [], [np.zeros(1, dtype=np.int64)], [], [np.zeros(1, dtype=np.int64)]
    offset = lead_offset = 0
    for h, st, lh, lst in parts:
        hashes.append(h)
        lead.append(lh)
        starts.append(st[1:] + offset)
        lead_starts.append(lst[1:] + lead_offset)
        offset += len(h)
        lead_offset += len(lh)
    return np.concatenate(hashes), np.concatenate(starts), np.concatenate(lead), np.concatenate(lead_starts)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting: numpy 2.x's default unique hashes, which is several times slower
    here and does not promise order."""
    values = np.sort(values)
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _sorted_sets(keys: np.ndarray, bodies: int) -> tuple[np.ndarray, np.ndarray]:
    keys = _sorted_unique(keys)  # by body (top bits), then hash
    body = (keys >> np.uint64(HASH_BITS)).astype(np.int64)
    return keys & HASH_MASK, np.searchsorted(body, np.arange(bodies + 1))


def _batch(word_lists: list[list[str]], n: int, lead_words: int):
    bodies = len(word_lists)
    counts = np.fromiter((len(w) for w in word_lists), dtype=np.int64, count=bodies)
    if len(_word_cache) > _CACHE_LIMIT:
        _word_cache.clear()
    total = int(counts.sum())
    words = np.fromiter(map(_word_cache.__getitem__, chain.from_iterable(word_lists)), dtype=np.uint64, count=total)
    begins = np.cumsum(counts) - counts
    body_of = np.repeat(np.arange(bodies, dtype=np.int64), counts)
    position = np.arange(total, dtype=np.int64) - begins[body_of]
    valid = position + n <= counts[body_of]  # the n-gram starting here ends inside the body
    with np.errstate(over="ignore"):
        padded = np.concatenate([words, np.zeros(n, dtype=np.uint64)])
        acc = words.copy()
        for k in range(1, n):
            acc = acc * _MULTIPLIER + padded[k : k + total]
        acc = fmix64(acc) & HASH_MASK
        keys = acc | (body_of.astype(np.uint64) << np.uint64(HASH_BITS))
    full_keys = keys[valid]
    short = np.flatnonzero((counts > 0) & (counts < n))
    if len(short):  # bodies shorter than n: one shingle, the whole body
        extra = np.array([(int(shingle_set(word_lists[i], n)[0]) | (int(i) << HASH_BITS)) for i in short], dtype=np.uint64)
        full_keys = np.concatenate([full_keys, extra])
    hashes, starts = _sorted_sets(full_keys, bodies)
    if not lead_words:
        return hashes, starts, hashes[:0], np.zeros(bodies + 1, dtype=np.int64)
    lead_keys = keys[valid & (position < max(1, lead_words - n + 1))]
    if len(short):
        lead_keys = np.concatenate([lead_keys, extra])
    lead, lead_starts = _sorted_sets(lead_keys, bodies)
    return hashes, starts, lead, lead_starts


def fold_sets(hashes: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same sets with each hash folded to 32 bits (sorted unique again), as stored and
    verified: half the bytes, and two n-grams of one body collide with probability ~2^-32."""
    bodies = len(starts) - 1
    body_of = np.repeat(np.arange(bodies, dtype=np.uint64), np.diff(starts))
    folded = ((hashes >> np.uint64(32)) ^ hashes) & np.uint64(0xFFFFFFFF)
    keys = _sorted_unique(folded | (body_of << np.uint64(32)))
    body = (keys >> np.uint64(32)).astype(np.int64)
    return (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32), np.searchsorted(body, np.arange(bodies + 1))
