"""Body normalization, the exact-duplicate hash, and word shingles.

Normalization (for both exact and near matching): Unicode NFKC, case-folded, every run of
non-word characters (punctuation, quotes, dashes, whitespace) folded to one space. Two bodies
with the same normalized form are exact duplicates. A shingle is a run of ``n`` consecutive
normalized words, hashed with 64-bit xxh3; a body's shingle set is the sorted unique hashes.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import xxhash

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalized_words(text: str) -> list[str]:
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).split()


def content_hash(words: list[str]) -> str:
    return xxhash.xxh3_128_hexdigest(" ".join(words).encode("utf-8"))


def shingle_set(words: list[str], n: int) -> np.ndarray:
    """Sorted unique uint64 hashes of the word n-grams (the whole body when shorter than n)."""
    if not words:
        return np.empty(0, dtype=np.uint64)
    if len(words) < n:
        grams = [" ".join(words)]
    else:
        grams = [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    hashes = np.fromiter((xxhash.xxh3_64_intdigest(g.encode("utf-8")) for g in grams), dtype=np.uint64, count=len(grams))
    return np.unique(hashes)


def jaccard_and_containment(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """|A∩B|/|A∪B| and |A∩B|/min(|A|,|B|) for sorted unique arrays."""
    if len(a) == 0 or len(b) == 0:
        return 0.0, 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter), inter / min(len(a), len(b))
