"""Body normalization, the exact-duplicate hash, and word shingles.

Normalization (for both exact and near matching): Unicode NFKC (skipped for pure ASCII, where it
is the identity), case-folded, and split into words at spaces and punctuation, so punctuation,
quotes, dashes and spacing never matter. Two bodies with the same word sequence are exact
duplicates. :func:`normalized_words` states this for one body; :func:`word_hashes` computes the
same words for many bodies at once, which is what the pipeline runs (a test holds them equal).

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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

# Words are runs of ASCII letters and digits and of non-ASCII characters, matched on UTF-8 bytes.
# Non-ASCII punctuation and spaces that news text actually uses count as separators too, so curly
# and straight quotes, dashes and no-break spaces all separate words alike.
_WORD = re.compile(rb"[0-9A-Za-z\x80-\xff]+")
_SEPARATORS = (
    "\u00a0\u2009\u200a\u200b\u202f\u3000"  # spaces
    "\u2018\u2019\u201a\u201c\u201d\u201e\u00ab\u00bb\u2039\u203a"  # quotes
    "\u2010\u2011\u2012\u2013\u2014\u2015\u2026\u2022\u00b7\u00a7\u00b6"  # dashes, ellipsis, bullets, marks
    "\u3001\u3002\u300c\u300d\u300e\u300f\uff08\uff09\uff01\uff1f\uff1a\uff1b\uff0c"  # CJK punctuation
)
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_CACHE_LIMIT = 2_000_000


def _fold_case(word: bytes) -> bytes:
    """ASCII letters arrive lower-cased already; other letters are case-folded here, a word at a
    time (``str.casefold`` is context-free and maps letters to letters, so folding words one by
    one equals folding the body)."""
    if word.isascii():
        return word
    return word.decode("utf-8", "surrogatepass").casefold().encode("utf-8", "surrogatepass")


class _WordHashes(dict):
    """word -> 64-bit xxh3 of its case-folded form, filled on first sight."""

    def __missing__(self, word: bytes) -> int:
        value = self[word] = xxhash.xxh3_64_intdigest(_fold_case(word))
        return value


_word_cache = _WordHashes()


def _nfkc(text: str) -> str:
    """NFKC of a body, normalizing only the lines that need it: normalization never acts across
    a line break (a starter that composes with nothing), and a stray ellipsis or fraction in one
    paragraph should not cost a pass over the whole body."""
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text
    return "\n".join(
        line if line.isascii() or unicodedata.is_normalized("NFKC", line) else unicodedata.normalize("NFKC", line)
        for line in text.split("\n")
    )


def normalized_words(text: str) -> list[bytes]:
    """The body's words, NFKC-normalized and case-folded, as UTF-8 bytes (the reference
    definition; :func:`word_hashes` gives the hashes of these words for many bodies at once)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    for separator in _SEPARATORS:
        if separator in text:
            text = text.replace(separator, " ")
    return _WORD.findall(text.encode("utf-8", "surrogatepass"))


# Byte translation for the columnar tokenizer: ASCII capitals to lower case, every other ASCII
# byte that is not a letter or digit to a space; bytes of non-ASCII characters pass unchanged.
_ASCII_FOLD = bytes(
    b + 32 if 65 <= b <= 90 else b if (48 <= b <= 57 or 97 <= b <= 122 or b >= 128) else 32 for b in range(256)
)
_SEPARATOR_CODES = {
    width: np.array(sorted(int.from_bytes(s.encode(), "big") for s in _SEPARATORS if len(s.encode()) == width), np.uint32)
    for width in (2, 3)
}


def _blank_separators(buffer: np.ndarray) -> None:
    """Overwrite, in place, the UTF-8 bytes of every separator character with spaces (same
    length, so byte offsets stay valid). ``buffer`` must end with two ASCII bytes."""
    lead = np.flatnonzero(buffer[:-2] >= 0xC2)
    if len(lead) == 0:
        return
    code = buffer[lead].astype(np.uint32) << np.uint32(8) | buffer[lead + 1]
    for width, codes in _SEPARATOR_CODES.items():
        if width == 3:
            code = code << np.uint32(8) | buffer[lead + 2]
        hits = lead[np.isin(code, codes)]
        for k in range(width):
            buffer[hits + k] = 32


def word_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(hashes, counts)``: the 64-bit hashes of every body's normalized words, concatenated in
    text order (uint64), and each body's word count.

    Columnar, so no Python object is made per word: the bodies are joined into one byte buffer,
    separators become spaces (a byte table for ASCII, a vectorized match for the rest), word
    boundaries are found with numpy, and Arrow's dictionary encoding reduces the words to the
    chunk's distinct ones, the only ones hashed in Python.
    """
    encoded = [_nfkc(text).encode("utf-8", "surrogatepass") for text in texts]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    # A space before, between and after the bodies: every word then starts after a space and
    # ends before one, and no word runs from one body into the next.
    joined = bytearray((b" " + b" ".join(encoded) + b"  ").translate(_ASCII_FOLD))
    buffer = np.frombuffer(joined, dtype=np.uint8)  # a view: blanking writes through to ``joined``
    if any(not e.isascii() for e in encoded):
        _blank_separators(buffer)
    space = buffer == 32
    edges = np.flatnonzero(space[1:] != space[:-1]) + 1
    starts, ends = edges[0::2], edges[1::2]
    body_starts = np.cumsum(lengths + 1) - lengths  # offset of each body's first byte
    counts = np.diff(np.searchsorted(starts, np.append(body_starts, len(buffer))))
    word_lengths = ends - starts
    offsets = np.concatenate([[0], np.cumsum(word_lengths)]).astype(np.int64)
    words = pa.Array.from_buffers(
        pa.large_binary(), len(starts), [None, pa.py_buffer(offsets), pa.py_buffer(joined.translate(None, b" "))]
    )
    encoded_words = pc.dictionary_encode(words)
    if len(_word_cache) > _CACHE_LIMIT:
        _word_cache.clear()
    distinct = encoded_words.dictionary.to_pylist()
    distinct_hashes = np.fromiter(map(_word_cache.__getitem__, distinct), dtype=np.uint64, count=len(distinct))
    return distinct_hashes[encoded_words.indices.to_numpy()], counts.astype(np.int64)


def fmix64(values: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finalizer: a bijection that spreads every input bit over the output."""
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xFF51AFD7ED558CCD)
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xC4CEB9FE1A85EC53)
    return values ^ (values >> np.uint64(33))


def shingle_set(text: str, n: int) -> np.ndarray:
    """Sorted unique 32-bit hashes of one body's word n-grams (the whole body when shorter)."""
    return sorted_sets(*batch_shingles(*word_hashes([text]), n))[0]


def jaccard_and_containment(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """|A∩B|/|A∪B| and |A∩B|/min(|A|,|B|) for sorted unique arrays."""
    if len(a) == 0 or len(b) == 0:
        return 0.0, 0.0
    if len(a) > len(b):
        a, b = b, a
    # Binary search of the smaller set in the larger: no concatenation, no re-sort. A value past
    # b's end is clipped to b's last element, which it cannot equal.
    inter = int(np.count_nonzero(np.take(b, np.searchsorted(b, a), mode="clip") == a))
    return inter / (len(a) + len(b) - inter), inter / len(a)


def batch_shingles(words: np.ndarray, counts: np.ndarray, n: int, digests: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every body's n-gram hashes in text order, repeats kept: ``(values, starts)``, body d's
    being ``values[starts[d]:starts[d + 1]]`` (uint32), from :func:`word_hashes`' output. A body
    shorter than n has one shingle, itself. When ``digests`` is a list, each body's content hash
    (xxh3-128 of its word hashes, equal exactly when the normalized word sequences are) is
    appended to it.

    One numpy pass over all bodies replaces a dozen small calls per body, whose fixed cost
    dominated at news lengths; nothing is sorted here, since MinHash does not need order and
    only the few bodies that become candidates need sorted sets (:func:`sorted_sets`).
    """
    total = len(words)
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
    values = fold32(acc[keep])
    kept = np.maximum(counts - n + 1, 0)
    short = np.flatnonzero((counts > 0) & (counts < n))
    if len(short):
        whole = [fold32(_whole_body_hash(words[begins[i] : ends[i]])) for i in short]
        values = np.insert(values, np.cumsum(kept)[short] - kept[short], np.array(whole, dtype=np.uint32))
        kept[short] = 1
    return values, np.concatenate([[0], np.cumsum(kept)])


def _whole_body_hash(words: np.ndarray) -> np.uint64:
    with np.errstate(over="ignore"):
        acc = np.uint64(0)
        for w in words:
            acc = acc * _MULTIPLIER + w
        return fmix64(np.array([acc], dtype=np.uint64))[0]


def fold32(values: np.ndarray) -> np.ndarray:
    """64-bit hashes to the 32-bit values datasketch's affine32 scheme takes (high half XOR low
    half); values that are already 32-bit pass unchanged."""
    if values.dtype == np.uint32:
        return values
    return ((values >> np.uint64(32)) ^ values).astype(np.uint32)


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
