"""Body normalization, the exact-duplicate hash, and word shingles.

Normalization (for both exact and near matching): Unicode NFKC (skipped for pure ASCII, where it
is the identity), case-folded, and split into words at spaces and punctuation, so punctuation,
quotes, dashes and spacing never matter. Two bodies with the same word sequence are exact
duplicates.

A shingle is a run of ``n`` consecutive words. Each word is hashed once (64-bit xxh3, cached per
process since news vocabulary repeats), and the n-gram hash is the polynomial
h = w_1 * M^(n-1) + ... + w_n (mod 2^64) passed through the murmur3 64-bit finalizer, computed for
all positions at once with numpy, then folded to 32 bits (the width datasketch's ``affine32``
MinHash takes). A body's shingle set is the sorted array of its unique values; two different
n-grams of one body share a value with probability about 2^-32 per pair, far below anything a
Jaccard threshold can notice.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import chain

import numpy as np
import xxhash

# Words are runs of ASCII letters and digits and of non-ASCII characters, matched on UTF-8 bytes
# (a bytes pattern runs about 1.6x faster than the Unicode one). Non-ASCII punctuation and spaces
# that news text actually uses are turned into spaces first, so curly and straight quotes, dashes
# and no-break spaces all separate words alike.
_WORD = re.compile(rb"[0-9A-Za-z\x80-\xff]+")
_SEPARATORS = (
    "\u00a0\u2009\u200a\u200b\u202f\u3000"  # spaces
    "\u2018\u2019\u201a\u201c\u201d\u201e\u00ab\u00bb\u2039\u203a"  # quotes
    "\u2010\u2011\u2012\u2013\u2014\u2015\u2026\u2022\u00b7\u00a7\u00b6"  # dashes, ellipsis, bullets, marks
    "\u3001\u3002\u300c\u300d\u300e\u300f\uff08\uff09\uff01\uff1f\uff1a\uff1b\uff0c"  # CJK punctuation
)
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_CACHE_LIMIT = 2_000_000


class _WordHashes(dict):
    """word -> 64-bit xxh3, filled on first sight (looked up with C-level ``map``)."""

    def __missing__(self, word: bytes) -> int:
        value = self[word] = xxhash.xxh3_64_intdigest(word)
        return value


_word_cache = _WordHashes()


def normalized_words(text: str) -> list[bytes]:
    """The body's words, NFKC-normalized and case-folded, as UTF-8 bytes."""
    if text.isascii():
        return _WORD.findall(text.lower().encode("ascii"))
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = text.casefold()
    for separator in _SEPARATORS:
        if separator in text:
            text = text.replace(separator, " ")
    return _WORD.findall(text.encode("utf-8"))


def content_hash(words: list[bytes]) -> str:
    """Equal for equal normalized word sequences: xxh3-128 of the words' 64-bit hashes."""
    return xxhash.xxh3_128_hexdigest(word_hashes(words).tobytes())


def word_hashes(words: list[bytes]) -> np.ndarray:
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


def shingle_set(words: list[bytes], n: int) -> np.ndarray:
    """Sorted unique 32-bit hashes of one body's word n-grams (the whole body when shorter)."""
    values, starts = batch_shingles([words], n)
    return sorted_sets(values, starts)[0]


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


def batch_shingles(word_lists: list[list[bytes]], n: int, digests: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every body's n-gram hashes in text order, repeats kept: ``(values, starts)``, body d's
    being ``values[starts[d]:starts[d + 1]]`` (uint32). A body shorter than n has one shingle,
    itself. When ``digests`` is a list, each body's :func:`content_hash` is appended to it.

    One numpy pass over all bodies replaces a dozen small calls per body, whose fixed cost
    dominated at news lengths; nothing is sorted here, since MinHash does not need order and
    only the few bodies that become candidates need sorted sets (:func:`sorted_sets`).
    """
    bodies = len(word_lists)
    counts = np.fromiter((len(w) for w in word_lists), dtype=np.int64, count=bodies)
    if len(_word_cache) > _CACHE_LIMIT:
        _word_cache.clear()
    total = int(counts.sum())
    words = np.fromiter(map(_word_cache.__getitem__, chain.from_iterable(word_lists)), dtype=np.uint64, count=total)
    ends = np.cumsum(counts)
    begins = ends - counts
    if digests is not None:
        digests.extend(xxhash.xxh3_128_hexdigest(words[b:e].tobytes()) for b, e in zip(begins.tolist(), ends.tolist()))
    with np.errstate(over="ignore"):
        padded = np.concatenate([words, np.zeros(n, dtype=np.uint64)])
        acc = words.copy()
        for k in range(1, n):
            acc = acc * _MULTIPLIER + padded[k : k + total]
        acc = fmix64(acc)
    keep = np.ones(total, dtype=bool)
    for k in range(1, n):  # the last n-1 positions of a body start n-grams that run past its end
        keep[(ends - k)[counts >= k]] = False
    values = _fold(acc[keep])
    kept = np.maximum(counts - n + 1, 0)
    short = np.flatnonzero((counts > 0) & (counts < n))
    if len(short):
        whole = [_fold(_whole_body_hash(words[begins[i] : ends[i]])) for i in short]
        values = np.insert(values, np.cumsum(kept)[short] - kept[short], np.array(whole, dtype=np.uint32))
        kept[short] = 1
    return values, np.concatenate([[0], np.cumsum(kept)])


def _whole_body_hash(words: np.ndarray) -> np.uint64:
    with np.errstate(over="ignore"):
        acc = np.uint64(0)
        for w in words:
            acc = acc * _MULTIPLIER + w
        return fmix64(np.array([acc], dtype=np.uint64))[0]


def _fold(values):
    return (((values >> np.uint64(32)) ^ values) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def lead_of(values: np.ndarray, starts: np.ndarray, first: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``first`` shingles of every body (its lead), in the same layout."""
    lengths = np.minimum(np.diff(starts), first)
    index = np.concatenate([np.arange(s, s + k) for s, k in zip(starts[:-1].tolist(), lengths.tolist())] or [np.empty(0, np.int64)])
    return values[index.astype(np.int64)], np.concatenate([[0], np.cumsum(lengths)])


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


def sorted_sets(values: np.ndarray, starts: np.ndarray) -> list[np.ndarray]:
    """Each body's sorted unique shingles, sorting all bodies at once (body number in the top bits)."""
    bodies = len(starts) - 1
    body_of = np.repeat(np.arange(bodies, dtype=np.uint64), np.diff(starts))
    keys = _sorted_unique(values.astype(np.uint64) | (body_of << np.uint64(32)))
    bounds = np.searchsorted((keys >> np.uint64(32)).astype(np.int64), np.arange(bodies + 1))
    sets = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    return [sets[bounds[i] : bounds[i + 1]] for i in range(bodies)]
