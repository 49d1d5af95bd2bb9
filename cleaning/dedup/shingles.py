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
import unicodedata

import numpy as np
import xxhash

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_CACHE_LIMIT = 2_000_000


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
    """Sorted unique uint64 hashes of the word n-grams (the whole body when shorter than n)."""
    return np.unique(shingle_hashes(words, n))


def jaccard_and_containment(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """|A∩B|/|A∪B| and |A∩B|/min(|A|,|B|) for sorted unique arrays."""
    if len(a) == 0 or len(b) == 0:
        return 0.0, 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter), inter / min(len(a), len(b))
