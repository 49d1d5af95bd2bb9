"""Bytes to text before parsing, with the charset the fetch stage would settle on.

The rules (byte order mark, then the HTTP header, then the page's own declaration, with valid
UTF-8 trusted over a single-byte label) live in :mod:`cleaning.charset`, shared with fetching, so
a page read from disk or a WARC is decoded exactly like one fetched tonight.
"""

from __future__ import annotations

from cleaning.charset import effective_charset


def decode_html(body: bytes, content_type: str | None = None) -> str:
    charset = effective_charset(body, content_type)
    if charset == "utf-8" and body.startswith(b"\xef\xbb\xbf"):
        charset = "utf-8-sig"
    return body.decode(charset, errors="replace")
