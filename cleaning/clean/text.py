"""Text hygiene shared by the cleaning rules: Unicode form, whitespace, comparison keys."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u00ad\u200c\u200d\u2060\ufeff]")
_KEY_DROP = re.compile(r"[\W_]+", re.UNICODE)

# Byte sequences that UTF-8 text turns into when it is wrongly decoded as cp1252/latin-1.
_MOJIBAKE_MARKERS = ("â€", "Ã©", "Ã¨", "Ã¶", "Ã¼", "Ã¤", "Ã±", "Ã§", "Ã ", "Â ")


def repair_mojibake(text: str) -> str:
    """Undo UTF-8-read-as-cp1252 damage when the round trip is clean; otherwise leave text alone."""
    if not any(marker in text for marker in _MOJIBAKE_MARKERS):
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            repaired = text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        return repaired
    return text


def tidy(text: str) -> str:
    """NFC, no invisible characters, single spaces, no blank runs; paragraphs stay one per line."""
    text = repair_mojibake(text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def comparison_key(text: str) -> str:
    """Case, width, quotes, dashes, punctuation and spacing folded away: equal keys read the same.

    Everything but letters and digits is dropped, not turned into a space, so "41,000" and
    "41000", or "island's" and "island’s", give the same key.
    """
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return _KEY_DROP.sub("", text.casefold())


_UNSPACED_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")


def word_count(text: str) -> int:
    """Whitespace words, plus one word per two characters of scripts written without spaces
    (Chinese, Japanese, Korean, Thai), where splitting on spaces would count a page as a word."""
    if not text or max(text) < "\u0e00":  # no script written without spaces: skip the scan
        return len(text.split())
    return len(text.split()) + len(_UNSPACED_SCRIPT.findall(text)) // 2
