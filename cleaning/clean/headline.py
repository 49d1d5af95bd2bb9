"""The headline repeated at the top of the body: it is the ``title``, not body text.

Extractors often return the page's ``<h1>`` as the first line of the main text. Left there it
doubles the title in every row, and it hurts duplicate detection, since syndicated copies are
re-headlined. A leading line (one of the first two, at most 40 words) is dropped when it reads
the same as the title (comparison keys: case, quotes, dashes and punctuation folded), or as a run
of the parts of the title, or the title as a run of the line's parts, cut at separators such as
" | " or " - " (a site name or a section label beside the headline). A line that only starts
like the title is kept: a lede may open with the headline's words.
"""

from __future__ import annotations

import re

from cleaning.clean.text import comparison_key

_MAX_WORDS = 40
_LOOK_AT = 2
# " | Site", " - Site", " — Site", " · Site", " / Site", " :: Site", "Label: Headline"
_SEPARATOR = re.compile(r"\s*[|·•»/]\s*|\s+[-–—:]{1,2}\s+|:\s+")


def _part_keys(text: str) -> set[str]:
    """Keys of every run of consecutive parts of ``text`` cut at separators ("A: B | Site" gives
    A, B, Site, A: B, B | Site and the whole)."""
    keys = [comparison_key(part) for part in _SEPARATOR.split(text)][:8]
    return {"".join(keys[i:j]) for i in range(len(keys)) for j in range(i + 1, len(keys) + 1)} - {""}


def is_headline(line: str, title: str | None) -> bool:
    if not title or len(line.split()) > _MAX_WORDS:
        return False
    line_key, title_key = comparison_key(line), comparison_key(title)
    if not line_key or not title_key:
        return False
    return line_key == title_key or line_key in _part_keys(title) or title_key in _part_keys(line)


def strip_headline(paragraphs: list[str], title: str | None) -> tuple[list[str], bool]:
    """The paragraphs without a leading copy of the title, and whether one was dropped."""
    for index, paragraph in enumerate(paragraphs[:_LOOK_AT]):
        if is_headline(paragraph, title):
            return paragraphs[:index] + paragraphs[index + 1 :], True
    return paragraphs, False
