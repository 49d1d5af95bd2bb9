"""Bytes to text before parsing: BOM, then the HTTP header's charset, then the page's meta tag."""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        found = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    # Browsers read latin-1 and ascii labels as windows-1252; so do we.
    return "cp1252" if found in ("latin-1", "iso8859-1", "ascii") else found


def header_charset(content_type: str | None) -> str | None:
    match = re.search(r"charset\s*=\s*([^\s;]+)", content_type or "", re.IGNORECASE)
    return _codec(match.group(1)) if match else None


def decode_html(body: bytes, content_type: str | None = None) -> str:
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(name, errors="replace")
    declared = header_charset(content_type)
    if declared is None:
        match = _META_CHARSET.search(body[:4096])
        declared = _codec(match.group(1).decode("ascii", "ignore")) if match else None
    if declared:
        try:
            return body.decode(declared)
        except UnicodeDecodeError:
            pass  # the declaration lied; fall through to detection
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
        if best is not None and best.encoding:
            return body.decode(best.encoding, errors="replace")
    except ImportError:
        pass
    return body.decode("cp1252", errors="replace")
