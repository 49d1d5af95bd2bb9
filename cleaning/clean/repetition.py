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


def remove_repeats(paragraphs: list[str], min_words: int = 8) -> tuple[list[str], int]:
    """Drop repeated runs of at least ``min_words`` words; returns (paragraphs, words removed)."""
    units: list[tuple[int, str]] = []  # (paragraph index, sentence)
    for index, paragraph in enumerate(paragraphs):
        units.extend((index, sentence) for sentence in split_sentences(paragraph))
    keys = [_key(sentence) for _, sentence in units]
    ends = [bool(_ENDS_SENTENCE.search(sentence)) for _, sentence in units]
    if len(set(keys)) == len(keys):
        # No sentence repeats. A repeat could still hide in a unit that runs together units
        # kept apart earlier; such a unit's key starts with an unterminated unit's key.
        opens = [k for k, e in zip(keys, ends) if k and not e]
        if not any(len(k) > len(o) and k.startswith(o) for o in opens for k in keys):
            return list(paragraphs), 0
    words = [word_count(sentence) for _, sentence in units]
    prose = [w >= PROSE_WORDS and e for w, e in zip(words, ends)]

    # A copy may join what the original kept apart (a heading run into the next sentence when
    # paragraphs are merged): since keys drop all spacing, the joined unit's key is exactly the
    # concatenation of the earlier units' keys, so windows of a few earlier units are indexed too.
    # Only units that do not end a sentence can run into the next one when joined, so windows
    # start at such units and grow while the units before their last stay unterminated.
    open_ended = [not e for e in ends]
    starts: dict[str, list[int]] = {}
    for j, key in enumerate(keys):
        if not key:
            continue
        starts.setdefault(key, []).append(j)
        joined = key
        for width in JOIN_WIDTHS:
            last = j + width - 1
            if last >= len(keys) or not open_ended[last - 1] or not keys[last]:
                break
            joined += keys[last]
            starts.setdefault(joined, []).append(j)

    def extend(i: int, j: int) -> tuple[int, int, bool]:
        """Units from i that repeat the text from j on: (count, words, any prose?)."""
        a, b, total, has_prose = i, j, 0, False
        while a < len(units) and b < i and keys[a]:
            if keys[a] == keys[b]:
                step = 1
            else:
                step = 0
                if open_ended[b]:
                    step = next((w for w in JOIN_WIDTHS if b + w <= i and keys[a] == "".join(keys[b : b + w])), 0)
                if not step:
                    break
            total += words[a]
            has_prose = has_prose or prose[a] or any(prose[b : b + step])
            a, b = a + 1, b + step
        return a - i, total, has_prose

    drop = [False] * len(units)
    i = 0
    while i < len(units):
        best_len, best_words, best_prose = 0, 0, False
        for j in starts.get(keys[i], ()) if keys[i] else ():
            if j >= i:
                break
            length, total, has_prose = extend(i, j)
            if total > best_words:
                best_len, best_words, best_prose = length, total, has_prose
        if best_len and best_words >= min_words and best_prose:
            for k in range(i, i + best_len):
                drop[k] = True
            i += best_len
            continue
        i += 1

    kept: dict[int, list[str]] = {}
    touched: set[int] = set()
    removed = 0
    for (index, sentence), dropped, count in zip(units, drop, words):
        if dropped:
            removed += count
            touched.add(index)
        else:
            kept.setdefault(index, []).append(sentence)
    # untouched paragraphs are returned exactly as given; cut ones are rejoined from sentences
    return [paragraphs[i] if i not in touched else " ".join(kept[i]) for i in sorted(kept)], removed
