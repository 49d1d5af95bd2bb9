"""XML from strangers: refuse the entity tricks before any parser sees the bytes.

Billion laughs (entities that expand to gigabytes), quadratic blowup and external entities
(which can read local files or reach internal hosts) all need a DOCTYPE with an internal subset
or an ENTITY declaration. News feeds and sitemaps never need either, so a document that carries
one is refused whole (``unsafe_xml``) rather than parsed carefully.

* Sitemaps are parsed with defusedxml, which forbids any DTD at all.
* Feeds go to feedparser, which has no such switch, so :func:`reject_entity_declarations` looks
  at the raw bytes first. A bare ``<!DOCTYPE rss PUBLIC ...>`` (old RSS 0.91 feeds) is let
  through: without an internal subset it cannot declare anything, and feedparser strips it and
  never loads external DTDs.
"""

from __future__ import annotations

import codecs
import re
import zlib

GZIP_MAGIC = b"\x1f\x8b"
_DECLARATION = re.compile(rb"<!\s*ENTITY|<!\s*DOCTYPE[^>\[]*\[", re.IGNORECASE)
_WIDE = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class DocumentError(Exception):
    """A feed or sitemap we will not use; ``reason`` is short and machine-readable."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


def _ascii_view(data: bytes) -> bytes:
    """The bytes as an ASCII-compatible stream, so a UTF-16 document cannot hide a declaration."""
    for bom, name in _WIDE:
        if data.startswith(bom):
            return data.decode(name, errors="ignore").encode("utf-8", errors="ignore")
    head = data[:4]
    if b"\x00" in head:
        name = {b"\x00<": "utf-16-be", b"<\x00": "utf-16-le"}.get(head[:2], "utf-32")
        try:
            return data.decode(name, errors="ignore").encode("utf-8", errors="ignore")
        except (UnicodeError, LookupError):
            return data.replace(b"\x00", b"")
    return data


def reject_entity_declarations(data: bytes, what: str) -> None:
    match = _DECLARATION.search(_ascii_view(data))
    if match:
        kind = "ENTITY declaration" if b"ENTITY" in match.group(0).upper() else "DOCTYPE with an internal subset"
        raise DocumentError("unsafe_xml", f"{what} carries a {kind}")


def gunzip_capped(data: bytes, cap: int, what: str) -> bytes:
    """Unzip a gzipped document (``sitemap.xml.gz``) without ever holding more than ``cap`` bytes."""
    if not data.startswith(GZIP_MAGIC):
        return data
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, cap + 1)
    except zlib.error as exc:
        raise DocumentError("bad_gzip", f"{what}: {exc}") from None
    if len(out) > cap or inflater.unconsumed_tail:
        raise DocumentError("too_large", f"{what} unzips to more than {cap} bytes")
    if not inflater.eof:  # a cut file would be parsed from its partial text
        raise DocumentError("truncated", f"{what}: gzip stream ends early")
    return out


def parse_tree(data: bytes, what: str):
    """An ElementTree root from untrusted bytes: any DTD, entity or external reference is refused."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise DocumentError("unsafe_xml", f"{what}: {type(exc).__name__}") from None
    except ParseError as exc:
        raise DocumentError("bad_xml", f"{what}: {exc}") from None
