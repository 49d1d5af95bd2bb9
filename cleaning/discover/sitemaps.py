"""Sitemaps, news sitemaps and sitemap indexes to URLs (sitemaps.org protocol, Google News extension).

Parsing only: :mod:`cleaning.discover` fetches the documents and walks an index to its children.
Documents may be gzipped (``sitemap.xml.gz``, unzipped under a cap) or plain text (one URL a line,
which the protocol also allows). XML goes through defusedxml with every DTD refused, so a
billion-laughs sitemap costs nothing. Namespaces are ignored on purpose: real sitemaps get them
wrong often enough that matching on local names finds more and risks nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from cleaning.discover.xmlsafe import DocumentError, gunzip_capped, parse_tree


@dataclass
class SitemapEntry:
    loc: str
    lastmod: datetime | None = None
    title: str | None = None  # news:title
    published_at: datetime | None = None  # news:publication_date, else lastmod


@dataclass
class Sitemap:
    is_index: bool
    entries: list[SitemapEntry] = field(default_factory=list)


def parse_w3c_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _child_text(element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name and child.text and child.text.strip():
            return child.text.strip()
    return None


def _news_of(element):
    return next((child for child in element if _local(child.tag) == "news"), None)


def parse_sitemap(data: bytes, where: str, max_bytes: int) -> Sitemap:
    """A sitemap or sitemap index from raw bytes; raises :class:`DocumentError`."""
    data = gunzip_capped(data, max_bytes, where)
    text_start = data.lstrip()[:64].lstrip(b"\xef\xbb\xbf")
    if not text_start:
        raise DocumentError("empty_sitemap", f"{where} is empty")
    if not text_start.startswith(b"<"):
        lines = data.decode("utf-8", errors="replace").splitlines()
        return Sitemap(
            False, [SitemapEntry(line.strip()) for line in lines if line.strip().startswith(("http://", "https://"))]
        )
    root = parse_tree(data, where)
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise DocumentError("bad_sitemap", f"{where}: root element <{kind}> is neither <urlset> nor <sitemapindex>")
    item_tag = "sitemap" if kind == "sitemapindex" else "url"
    entries = []
    for item in root:
        if _local(item.tag) != item_tag:
            continue
        loc = _child_text(item, "loc")
        if not loc:
            continue
        lastmod = parse_w3c_datetime(_child_text(item, "lastmod"))
        news = _news_of(item)
        title = _child_text(news, "title") if news is not None else None
        published = parse_w3c_datetime(_child_text(news, "publication_date")) if news is not None else None
        entries.append(SitemapEntry(loc, lastmod, title, published or lastmod))
    return Sitemap(kind == "sitemapindex", entries)
