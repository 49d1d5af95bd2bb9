"""The headline repeated at the top of the body: it is the ``title``, not body text.

Extractors often return the page's ``<h1>`` as the first line of the main text. Left there it
doubles the title in every row, and it hurts duplicate detection, since syndicated copies are
re-headlined. A leading line (one of the first two, at most 40 words) is dropped when its
comparison key (case, quotes, dashes and punctuation folded) equals the title's, or when one
is the other plus a suffix such as " | Site name": the line must cover at least half of the
title, or the title 80% of the line.
"""

from __future__ import annotations

from cleaning.clean.text import comparison_key

_MAX_WORDS = 40
_LOOK_AT = 2


def is_headline(line: str, title: str | None) -> bool:
    if not title or len(line.split()) > _MAX_WORDS:
        return False
    line_key, title_key = comparison_key(line), comparison_key(title)
    if not line_key or not title_key:
        return False
    if line_key == title_key:
        return True
    if title_key.startswith(line_key):  # the title adds the site's name
        return len(line_key) >= 0.5 * len(title_key)
    if line_key.startswith(title_key):  # the line adds a kicker or a label after it
        return len(title_key) >= 0.8 * len(line_key)
    return False


def strip_headline(paragraphs: list[str], title: str | None) -> tuple[list[str], bool]:
    """The paragraphs without a leading copy of the title, and whether one was dropped."""
    for index, paragraph in enumerate(paragraphs[:_LOOK_AT]):
        if is_headline(paragraph, title):
            return paragraphs[:index] + paragraphs[index + 1 :], True
    return paragraphs, False
