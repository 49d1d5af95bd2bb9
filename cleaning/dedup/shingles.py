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
    width: np.array(
        sorted(int.from_bytes(s.encode(), "big") for s in _SEPARATORS if len(s.encode()) == width), np.uint32
    )
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
    hashes, counts, _ = _tokenize(texts, sentences=False)
    return hashes, counts


def words_and_sentences(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(hashes, counts, sentence_lengths, sentence_counts)``: :func:`word_hashes` plus every
    body's sentences as word counts in text order (concatenated; body d has
    ``sentence_counts[d]`` of them, summing to its word count). See :func:`sentence_lengths`."""
    hashes, counts, breaks = _tokenize(texts, sentences=True)
    return hashes, counts, *_split_at(breaks, counts)


# Sentence boundaries. A sentence ends after a word when the characters between it and the next
# word (after NFKC) hold a line break or an ideographic full stop, or hold a full stop,
# exclamation or question mark followed - past any further marks and closing quotes or brackets
# - by a space: "said. The", "2.8%. The", "? (", ".\u201d He". Decimals, initials and compounds
# ("3.5", "U.S.-backed", "example.com") do not end one. Abbreviations followed by a space
# ("Mr. Smith") do: the split is the same in every copy of a text, which is all the alignment needs.
_LINE_BREAKS = "\n\r\u3002"
_TERMINALS = ".!?"
_CLOSERS = "\"')]\u201d\u2019\u00bb"
_SPACES = " \t\x0b\x0c\n\r"


def sentence_lengths(text: str) -> list[int]:
    """Words per sentence of one body (the reference definition; :func:`words_and_sentences`
    computes the same for many bodies at once, and a test holds them equal)."""
    text = unicodedata.normalize("NFKC", text)
    lengths: list[int] = []
    words, gap, in_word = 0, "", False
    for c in text + " ":
        if (c.isascii() and c.isalnum()) or (not c.isascii() and c not in _SEPARATORS):
            if not in_word and words and _ends_sentence(gap):
                lengths.append(words)
                words = 0
            if not in_word:
                words += 1
                gap = ""
            in_word = True
        else:
            gap += c
            in_word = False
    if words:
        lengths.append(words)
    return lengths


def _ends_sentence(gap: str) -> bool:
    if any(c in gap for c in _LINE_BREAKS):
        return True
    for k, c in enumerate(gap):
        if c in _TERMINALS:
            rest = gap[k + 1 :].lstrip(_TERMINALS + _CLOSERS)
            if rest[:1] and rest[0] in _SPACES:
                return True
    return False


def _tokenize(texts: list[str], sentences: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Word hashes, word counts and, when asked, a flag per word: does a sentence end after it."""
    encoded = [_nfkc(text).encode("utf-8", "surrogatepass") for text in texts]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    # A space before, between and after the bodies: every word then starts after a space and
    # ends before one, and no word runs from one body into the next.
    raw = b" " + b" ".join(encoded) + b"  "
    joined = bytearray(raw.translate(_ASCII_FOLD))
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
    hashes = distinct_hashes[encoded_words.indices.to_numpy()]
    breaks = None
    if sentences:
        breaks = _sentence_breaks(raw, starts, ends, counts)
    return hashes, counts.astype(np.int64), breaks


_IS_SPACE = np.zeros(256, dtype=bool)
_IS_SPACE[list(b" \t\x0b\x0c\n\r")] = True
_IS_TERMINAL = np.zeros(256, dtype=bool)
_IS_TERMINAL[list(b".!?")] = True
_ASCII_CLOSER = np.zeros(256, dtype=bool)
_ASCII_CLOSER[list(b"\"')]")] = True
# Punctuation for the sentence rule, by a byte table: 1 a terminal, 2 a line break, 3 the first
# byte of a possible ideographic full stop (E3 80 82).
_MARKS = bytes(1 if b in b".!?" else 2 if b in b"\n\r" else 3 if b == 0xE3 else 0 for b in range(256))


def _closer_width(raw: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Bytes of the closing quote or bracket starting at each position (0 if none): ASCII ones,
    and in UTF-8 \u201d, \u2019 = E2 80 9D/99 and \u00bb = C2 BB."""
    first = raw[at]
    width = _ASCII_CLOSER[first].astype(np.int64)
    wide = np.flatnonzero(first >= 0xC2)  # only these can start a multi-byte closer
    if len(wide):
        w = at[wide]
        three = (raw[w] == 0xE2) & (raw[w + 1] == 0x80) & ((raw[w + 2] == 0x9D) | (raw[w + 2] == 0x99))
        two = (raw[w] == 0xC2) & (raw[w + 1] == 0xBB)
        width[wide] = np.where(three, 3, np.where(two, 2, 0))
    return width


def _step_over(raw: np.ndarray, at: np.ndarray, terminals: bool) -> np.ndarray:
    """From each position, the first one past a run of closers (and terminals, if asked)."""
    limit = len(raw) - 3
    at = np.minimum(at, limit)
    moving = np.arange(len(at))
    while len(moving):  # each round steps only the positions still inside a run
        here = at[moving]
        step = _closer_width(raw, here)
        if terminals:
            step = np.where(_IS_TERMINAL[raw[here]], 1, step)
        moved = step > 0
        if not moved.any():
            break
        moving = moving[moved]
        at[moving] = np.minimum(here[moved] + step[moved], limit)
    return at


def _nonzero_bytes(marks: np.ndarray) -> np.ndarray:
    """np.flatnonzero for a sparse byte array, eight bytes at a time: the few 64-bit words that
    hold a mark are found first, then the bytes inside them."""
    padded = np.zeros(-(-len(marks) // 8) * 8, dtype=np.uint8)
    padded[: len(marks)] = marks
    words = np.flatnonzero(padded.view(np.uint64))
    row, column = np.nonzero(padded.reshape(-1, 8)[words])
    return words[row] * 8 + column


def _sentence_breaks(raw: bytes, starts: np.ndarray, ends: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per word: does a sentence end after it (always after a body's last word). ``raw`` is the
    joined bodies before separators were blanked, with the same offsets as the word spans.

    One byte-table pass finds the few punctuation positions; each is placed in its gap by a
    binary search over the word ends (punctuation never lies inside a word)."""
    breaks = np.zeros(len(starts), dtype=bool)
    if len(starts) == 0:
        return breaks
    buffer = np.frombuffer(raw, dtype=np.uint8)
    marks = np.frombuffer(raw.translate(_MARKS), dtype=np.uint8)
    at = _nonzero_bytes(marks)
    kind = marks[at]
    stop = np.flatnonzero(kind == 3)
    if len(stop):  # an E3 byte: an ideographic full stop only if 80 82 follow
        lead = at[stop]
        real = (lead + 2 < len(buffer)) & (buffer[np.minimum(lead + 1, len(buffer) - 1)] == 0x80)
        real &= buffer[np.minimum(lead + 2, len(buffer) - 1)] == 0x82
        kind[stop] = np.where(real, 2, 0)
    gap = np.searchsorted(ends, at, side="right") - 1  # gap k lies between word k and word k + 1
    inside = (gap >= 0) & (gap < len(starts) - 1)
    at, gap, kind = at[inside], gap[inside], kind[inside]
    breaks[gap[kind == 2]] = True
    gap, at = gap[kind == 1], _step_over(buffer, at[kind == 1] + 1, terminals=True)
    breaks[gap[_IS_SPACE[buffer[at]] & (at < starts[gap + 1])]] = True
    last = np.cumsum(counts) - 1
    breaks[last[counts > 0]] = True
    return breaks


def _split_at(breaks: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sentence word counts and sentences per body from per-word end-of-sentence flags."""
    ends = np.flatnonzero(breaks)
    lengths = np.diff(np.concatenate([[-1], ends]))
    body_end = np.cumsum(counts)
    per_body = np.diff(np.concatenate([[0], np.searchsorted(ends, body_end - 1, side="right")]))
    return lengths.astype(np.int32), per_body.astype(np.int64)


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
    inter = int(np.count_nonzero(b.take(b.searchsorted(a), mode="clip") == a))  # methods: no dispatch wrappers
    return inter / (len(a) + len(b) - inter), inter / len(a)


def batch_shingles(
    words: np.ndarray, counts: np.ndarray, n: int, digests: list | None = None
) -> tuple[np.ndarray, np.ndarray]:
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
    index = np.concatenate(
        [np.arange(s, s + k) for s, k in zip(starts[:-1].tolist(), lengths.tolist())] or [np.empty(0, np.int64)]
    )
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
