"""Site furniture that survives boilerplate removal: promos, follow-us lines, newsletter pitches.

Two rules, both line-based:

* generic patterns that mean the same on any news site ("Also read: ...", "Follow us on ...",
  "Sign up for our newsletter"), limited to short lines so prose that merely starts with the same
  words is kept;
* lines learned within one run: a line (by comparison key) that recurs on at least
  ``min_share`` of one source's pages, when that source has at least ``min_pages`` pages, is that
  site's furniture. The page-count floor keeps a small site from being gutted, and because only
  one night's pages are looked at, the rule follows template changes by itself.

The learned rule needs only counts (:func:`count_lines`), which add up across any split of the
pages: the pipeline counts each clean shard's pages and merges the counts per source
(:func:`select_furniture`), so learning never holds the night's bodies.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from cleaning.clean.text import comparison_key

GENERIC_FURNITURE = re.compile(
    r"^\W*(?:"
    r"also read|read also|read more|more on this|related(?: stories| articles| coverage)?|recommended(?: stories)?"
    r"|must read|don'?t miss|trending now|most read|latest news|top stories|you may also like|what to read next"
    r"|watch|listen|click here|tap here|download (?:the|our) app|story continues below|advertisement|sponsored"
    r"|follow (?:us|\w+ \w+) on|like us on|join (?:us|our \w+) on|share (?:this|on)|get the .{0,40}(?:newsletter|in "
    r"your inbox)"
    r"|sign up (?:for|to)|subscribe (?:to|now|for)|for more (?:news|updates|stories)|catch all the"
    r"|(?:leave|post|add|write) a (?:comment|reply)|tell us what you think|like this (?:story|article)"
    r")\b"
    r"|^\W*tags?\s*(?::|$)|^\W*(?:\d+\s+)?comments?\s*(?:\(\d+\))?\s*$",
    re.IGNORECASE,
)
_MAX_FURNITURE_WORDS = 30


def is_generic_furniture(line: str) -> bool:
    return len(line.split()) <= _MAX_FURNITURE_WORDS and bool(GENERIC_FURNITURE.match(line))


def strip_generic(paragraphs: list[str]) -> tuple[list[str], int]:
    kept = [p for p in paragraphs if not is_generic_furniture(p)]
    return kept, len(paragraphs) - len(kept)


def page_line_keys(text: str) -> set[str]:
    """The distinct non-empty line keys of one page: a line repeated within a page counts once."""
    keys = {comparison_key(line) for line in text.split("\n") if line.strip()}
    keys.discard("")
    return keys


def count_lines(pages: Iterable[tuple[str, str]]) -> tuple[Counter[str], dict[str, Counter[str]]]:
    """From ``(source, text)`` pairs: pages per source, and per source the number of pages each
    line key appears on.

    These counts add up: the counts of a night's pages are the sums of the counts of any split of
    them (a source spread over several shards included), so each shard can count its own pages
    and :func:`select_furniture` can run on the merged sums.
    """
    per_source_pages: Counter[str] = Counter()
    line_pages: dict[str, Counter[str]] = defaultdict(Counter)
    for source, text in pages:
        per_source_pages[source] += 1
        line_pages[source].update(page_line_keys(text))
    return per_source_pages, line_pages


def select_furniture(
    per_source_pages: Mapping[str, int],
    line_pages: Iterable[tuple[str, str, int]],
    min_pages: int = 5,
    min_share: float = 0.4,
) -> dict[str, set[str]]:
    """The rule on (merged) counts: ``(source, line_key, pages)`` rows, one per source and key.

    A key is a source's furniture when the source has at least ``min_pages`` pages and the key is
    on at least ``max(2, min_share * pages)`` of them. Rows seen on fewer than 2 pages can never
    pass, so a caller may leave them out.
    """
    thresholds = {source: max(2, min_share * count) for source, count in per_source_pages.items() if count >= min_pages}
    learned: dict[str, set[str]] = {}
    for source, key, seen in line_pages:
        threshold = thresholds.get(source)
        if threshold is not None and seen >= threshold:
            learned.setdefault(source, set()).add(key)
    return learned


def learn_site_furniture(
    pages: list[tuple[str, str]], min_pages: int = 5, min_share: float = 0.4
) -> dict[str, set[str]]:
    """From ``(source, text)`` pairs, the line keys each source repeats across its pages."""
    per_source_pages, line_pages = count_lines(pages)
    rows = ((source, key, seen) for source, counts in line_pages.items() for key, seen in counts.items())
    return select_furniture(per_source_pages, rows, min_pages, min_share)


def strip_learned(text: str, keys: set[str], separator: str = "\n") -> tuple[str, int]:
    """Drop the parts of ``text`` (split at ``separator``) whose key was learned; returns the
    text and how many parts went."""
    parts = text.split(separator)
    kept = [part for part in parts if comparison_key(part) not in keys]
    return separator.join(kept), len(parts) - len(kept)
