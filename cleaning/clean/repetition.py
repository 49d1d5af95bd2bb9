"""Remove text repeated inside one page, keeping the first occurrence.

Scraped pages often carry the body twice (an AMP copy, a print copy, a lazy-load duplicate) or
repeat a run of paragraphs. The page is cut into sentences; each sentence gets a comparison key
(case, punctuation, quotes and spacing folded, a leading "Updated ..." stamp dropped). Scanning
left to right, at each sentence that has been seen before we measure the longest run of
consecutive sentences equal to a run that starts at an earlier occurrence. If that run holds at
least ``min_words`` words and contains at least one prose sentence (``PROSE_WORDS`` words or more,
ending in sentence punctuation) it is a repeat and is dropped whole. Otherwise it is kept: a short
line an article legitimately quotes twice survives, and so do labels and list items that a page
repeats on purpose (the same meal in two menus, "Key facts" boxes). Scraping duplicates are
copies of prose, which is what the rule looks for. Nothing is shared between calls.

Cost: O(n * r) sentence comparisons for n sentences and r earlier occurrences of a key, which is
tiny for articles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cleaning.clean.text import comparison_key, word_count

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|(?<=[。！？])[」』）]*")
_UPDATED_STAMP = re.compile(
    r"^\s*[-–—•]?\s*(updated|last updated|published|posted)\b[^A-Za-z]{0,3}"
    r"((on|at)\s+)?[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4},?(\s+\d{1,2}:\d{2}\s*([AaPp][Mm])?\s*[A-Z]{0,4})?[\s:,-]*",
    re.IGNORECASE,
)


PROSE_WORDS = 12
JOIN_WIDTHS = (2, 3, 4, 5, 6)  # how many short units (a heading, list items) a copy may run together
_ENDS_SENTENCE = re.compile(r"[.!?…。！？][\"'”’)\]」』）]*$")


def split_sentences(paragraph: str) -> list[str]:
    """Split after ., !, ?, … (and closing quotes) before whitespace, or after 。！？, except where
    the next word starts in lower case ("e.g. this", "3 p.m. on"), in any script."""
    parts, start = [], 0
    for match in _SENTENCE_END.finditer(paragraph):
        following = paragraph[match.end() : match.end() + 1]
        if following.islower():
            continue
        end = match.start() + len(match.group(0).rstrip())
        if end > start:
            parts.append(paragraph[start:end].strip())
            start = match.end()
    parts.append(paragraph[start:].strip())
    return [p for p in parts if p]


def _key(sentence: str) -> str:
    return comparison_key(_UPDATED_STAMP.sub("", sentence, count=1))


@dataclass
class _Units:
    """The page as sentences, with what the scan needs of each."""

    where: list[tuple[int, str]]  # (paragraph index, sentence)
    keys: list[str]
    ends: list[bool]  # ends in sentence punctuation
    words: list[int]
    prose: list[bool]

    @classmethod
    def of(cls, paragraphs: list[str]) -> _Units:
        where = [
            (index, sentence) for index, paragraph in enumerate(paragraphs) for sentence in split_sentences(paragraph)
        ]
        keys = [_key(sentence) for _, sentence in where]
        ends = [bool(_ENDS_SENTENCE.search(sentence)) for _, sentence in where]
        words = [word_count(sentence) for _, sentence in where]
        return cls(where, keys, ends, words, [w >= PROSE_WORDS and e for w, e in zip(words, ends)])

    def cannot_repeat(self) -> bool:
        """No sentence repeats, and no unit runs together units kept apart earlier (such a unit's
        key starts with an unterminated unit's key)."""
        if len(set(self.keys)) != len(self.keys):
            return False
        opens = [k for k, e in zip(self.keys, self.ends) if k and not e]
        return not any(len(k) > len(o) and k.startswith(o) for o in opens for k in self.keys)


def _earlier_starts(units: _Units) -> dict[str, list[int]]:
    """Key -> the units where text with that key starts, in order.

    A copy may join what the original kept apart (a heading run into the next sentence when
    paragraphs are merged): since keys drop all spacing, the joined unit's key is exactly the
    concatenation of the earlier units' keys, so windows of a few earlier units are indexed too.
    Only units that do not end a sentence can run into the next one when joined, so windows start
    at such units and grow while the units before their last stay unterminated.
    """
    keys, starts = units.keys, {}
    for j, key in enumerate(keys):
        if not key:
            continue
        starts.setdefault(key, []).append(j)
        joined = key
        for width in JOIN_WIDTHS:
            last = j + width - 1
            if last >= len(keys) or units.ends[last - 1] or not keys[last]:
                break
            joined += keys[last]
            starts.setdefault(joined, []).append(j)
    return starts


def _run_from(units: _Units, i: int, j: int) -> tuple[int, int, bool]:
    """Units from i that repeat the text from j on: (count, words, any prose?)."""
    keys = units.keys
    a, b, total, has_prose = i, j, 0, False
    while a < len(keys) and b < i and keys[a]:
        if keys[a] == keys[b]:
            step = 1
        else:
            step = 0
            if not units.ends[b]:
                step = next((w for w in JOIN_WIDTHS if b + w <= i and keys[a] == "".join(keys[b : b + w])), 0)
            if not step:
                break
        total += units.words[a]
        has_prose = has_prose or units.prose[a] or any(units.prose[b : b + step])
        a, b = a + 1, b + step
    return a - i, total, has_prose


def _repeated(units: _Units, min_words: int) -> list[bool]:
    """Left to right, the longest earlier run each position repeats, dropped when it is long and
    holds prose."""
    starts = _earlier_starts(units)
    drop = [False] * len(units.keys)
    i = 0
    while i < len(units.keys):
        best_len, best_words, best_prose = 0, 0, False
        for j in starts.get(units.keys[i], ()) if units.keys[i] else ():
            if j >= i:
                break
            length, total, has_prose = _run_from(units, i, j)
            if total > best_words:
                best_len, best_words, best_prose = length, total, has_prose
        if best_len and best_words >= min_words and best_prose:
            drop[i : i + best_len] = [True] * best_len
            i += best_len
            continue
        i += 1
    return drop


def remove_repeats(paragraphs: list[str], min_words: int = 8) -> tuple[list[str], int]:
    """Drop repeated runs of at least ``min_words`` words; returns (paragraphs, words removed)."""
    units = _Units.of(paragraphs)
    if units.cannot_repeat():
        return list(paragraphs), 0
    drop = _repeated(units, min_words)
    kept: dict[int, list[str]] = {}
    touched: set[int] = set()
    removed = 0
    for (index, sentence), dropped, count in zip(units.where, drop, units.words):
        if dropped:
            removed += count
            touched.add(index)
        else:
            kept.setdefault(index, []).append(sentence)
    # untouched paragraphs are returned exactly as given; cut ones are rejoined from sentences
    return [paragraphs[i] if i not in touched else " ".join(kept[i]) for i in sorted(kept)], removed
