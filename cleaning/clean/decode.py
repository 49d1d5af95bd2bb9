"""Bytes to text before parsing, with the charset the fetch stage would settle on.

The rules (byte order mark, then the HTTP header, then the page's own declaration, with valid
UTF-8 trusted over a single-byte label) live in :mod:`cleaning.charset`, shared with fetching, so
a page read from disk or a WARC is decoded exactly like one fetched tonight.

Characters XML does not allow (C0 controls other than tab and line breaks, U+FFFE, U+FFFF) are
removed: one stray control byte pasted in by a CMS made the extractor return nothing for the
whole page. Vertical tab and form feed, which word processors use as line breaks, become spaces
so the words on either side stay apart.

A leading XML declaration (XHTML pages start with one) is dropped: once the bytes are text, the
encoding it names has been applied, and lxml refuses to parse text that still declares one.
"""

from __future__ import annotations

import re
from functools import lru_cache

from cleaning.charset import effective_charset

_NOT_XML = re.compile("[\x00-\x08\x0e-\x1f\ufffe\uffff]")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20)])
_BREAKS = str.maketrans({"\x0b": " ", "\x0c": " "})
_XML_DECLARATION = re.compile(r"^\s*<\?xml\b[^>]*\?>", re.IGNORECASE)


@lru_cache(maxsize=64)
def _ascii_compatible(charset: str) -> bool:
    try:
        return "<a\x01>".encode(charset) == b"<a\x01>" and b"<a\x01>".decode(charset) == "<a\x01>"
    except (LookupError, UnicodeError):
        return False


def decode_html(body: bytes, content_type: str | None = None) -> str:
    charset = effective_charset(body, content_type)
    text = body.decode(charset, errors="replace").removeprefix("\ufeff")  # a byte order mark
    # Looking for control bytes with bytes.translate costs a tenth of a regular expression over
    # the text (pages average 170 KB); the expression only runs on pages that have some. The
    # bytes tell only for charsets that write ASCII as ASCII (not UTF-16 or UTF-7).
    suspect = not _ascii_compatible(charset) or len(body.translate(None, _CONTROL_BYTES)) != len(body)
    if suspect or "\ufffe" in text or "\uffff" in text:
        text = _NOT_XML.sub("", text)
    if "\x0b" in text or "\x0c" in text:
        text = text.translate(_BREAKS)
    if text.lstrip()[:5].lower() == "<?xml":
        text = _XML_DECLARATION.sub("", text, count=1)
    return text
