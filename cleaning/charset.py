"""Which character set a fetched document is really in: the header, the page, or the bytes.

The order follows the HTML standard (byte order mark, then the Content-Type header, then the
page's own ``<meta charset>`` or XML declaration), with one correction for the most common lie on
the web: a header or tag claiming a single-byte charset (ISO-8859-1, windows-1252, ASCII) over a
body that is valid UTF-8 with non-ASCII bytes. Such a body is UTF-8 (random Latin-1 text is
almost never valid UTF-8), and reading it as Latin-1 would turn every "é" into "Ã©".

A declared charset is also kept when a few bytes of the body are invalid in it (a CMS pasted one
Latin-1 byte into a UTF-8 page): only those bytes become U+FFFD. Reading the whole page in a
guessed single-byte charset instead would garble every other non-ASCII character. The declaration
is dropped only when the body is mostly invalid in it, as a Latin-1 page labelled UTF-8 is.

The fetch stage writes the answer into the capture's ``content_type`` (``text/html;
charset=utf-8``) so the clean stage decodes what the fetcher decided; the WARC keeps the
server's original headers.
"""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""")
_HEADER = re.compile(r"charset\s*=\s*[\"']?([^\s;\"']+)", re.IGNORECASE)
_SINGLE_BYTE = {"cp1252", "latin-1", "iso8859-1", "ascii", "iso8859-15"}


def codec_name(label: str | None) -> str | None:
    """Python's name for a charset label, or None if unknown. Latin-1 and ASCII read as windows-1252, as browsers do."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name


def header_charset(content_type: str | None) -> str | None:
    match = _HEADER.search(content_type or "")
    return codec_name(match.group(1)) if match else None


def document_charset(body: bytes) -> str | None:
    """The charset the document declares about itself (XML declaration or HTML meta tag)."""
    head = body[:4096]
    match = _XML_DECL.match(head) or _META.search(head)
    return codec_name(match.group(1).decode("ascii", "ignore")) if match else None


def _decodes(body: bytes, name: str) -> bool:
    try:
        body.decode(name)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _mostly_decodes(body: bytes, name: str) -> bool:
    """Strictly decodable, or with fewer undecodable spots than well-formed non-ASCII characters."""
    if _decodes(body, name):
        return True
    try:
        text = body.decode(name, errors="replace")
    except LookupError:
        return False
    bad = text.count("\ufffd")
    good = sum(1 for c in text if c > "\x7f") - bad
    return bad < good


def replacement_count(text: str) -> int:
    """Characters decoding had to replace (U+FFFD), for the clean stage's counts."""
    return text.count("\ufffd")


def effective_charset(body: bytes, content_type: str | None = None) -> str:
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    is_utf8 = _decodes(body, "utf-8")
    has_non_ascii = not body.isascii()
    for declared in (header_charset(content_type), document_charset(body)):
        if declared is None:
            continue
        if declared in _SINGLE_BYTE and is_utf8 and has_non_ascii:
            return "utf-8"
        if declared.startswith(("utf-16", "utf-32")) and b"\x00" not in body[:512]:
            continue  # no BOM and no NUL bytes: a mislabelled ASCII-compatible page
        if _mostly_decodes(body, declared):
            return declared
    if is_utf8:
        return "utf-8"
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
        if best is not None and best.encoding and _decodes(body, best.encoding):
            return codec_name(best.encoding) or "cp1252"
    except ImportError:  # pragma: no cover - it comes with trafilatura
        pass
    return "cp1252"


def with_charset(content_type: str | None, charset: str, default_type: str = "text/html") -> str:
    """``content_type`` with its charset parameter set to ``charset`` (other parameters kept)."""
    parts = [p.strip() for p in (content_type or "").split(";")]
    media = parts[0] or default_type
    params = [p for p in parts[1:] if p and not p.lower().startswith("charset")]
    return "; ".join([media, *params, f"charset={charset}"])
