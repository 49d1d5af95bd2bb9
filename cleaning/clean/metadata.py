"""Page metadata from the markup itself: headline, authors, timestamps with their zones, etc.

trafilatura's metadata gives dates without times or zones; news pages usually state both in
``article:published_time``, JSON-LD ``datePublished`` or ``<time datetime>``. We read those first
and fall back to trafilatura's fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from lxml import html as lxml_html


@dataclass
class PageMeta:
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    updated_at: datetime | None = None
    site_name: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    is_article: bool | None = None  # og:type / JSON-LD said so, when they say anything


def parse_time(value: str | None) -> datetime | None:
    """ISO 8601 to an aware UTC datetime; a value without a zone is taken as UTC."""
    if not value:
        return None
    value = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _json_ld_objects(scripts) -> list[dict]:
    found = []
    for script in scripts:
        try:
            data = json.loads(script.text or "")
        except (json.JSONDecodeError, TypeError):
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                found.append(item)
                stack.extend(v for k, v in item.items() if k == "@graph")
    return found


def _names(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    return []


ARTICLE_TYPES = {"newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "blogposting", "report"}


def read_meta(tree: lxml_html.HtmlElement) -> PageMeta:
    # One pass over the <meta>, <link> and JSON-LD elements instead of an XPath per name: each
    # "//meta[...]" query walks the whole tree, which cost more than the rest of this function.
    metas: dict[str, str] = {}
    canonical: str | None = None
    scripts = []
    for element in tree.iter("meta", "link", "script"):
        tag = element.tag
        if tag == "meta":
            content = (element.get("content") or "").strip()
            if content:
                for attr in ("property", "name", "itemprop"):
                    key = element.get(attr)
                    if key:
                        metas.setdefault(key, content)
        elif tag == "link":
            if canonical is None and (element.get("rel") or "").lower() == "canonical" and element.get("href"):
                canonical = element.get("href").strip()
        elif element.get("type") == "application/ld+json":
            scripts.append(element)

    def meta(*names: str) -> str | None:
        return next((metas[name] for name in names if name in metas), None)

    page = PageMeta()
    articles = [o for o in _json_ld_objects(scripts) if str(o.get("@type", "")).lower() in ARTICLE_TYPES]
    ld = articles[0] if articles else {}
    page.title = meta("og:title", "twitter:title") or (
        ld.get("headline") if isinstance(ld.get("headline"), str) else None
    )
    if not page.title:
        titles = tree.xpath("//h1//text()") or tree.xpath("//title/text()")
        page.title = " ".join("".join(titles[:1]).split()) or None
    page.authors = _names(ld.get("author")) or ([meta("author")] if meta("author") else [])
    page.published_at = parse_time(meta("article:published_time", "datePublished")) or parse_time(
        ld.get("datePublished")
    )
    page.updated_at = parse_time(meta("article:modified_time", "dateModified")) or parse_time(ld.get("dateModified"))
    if page.published_at is None:
        times = tree.xpath("//article//time/@datetime | //time[@itemprop='datePublished']/@datetime")
        page.published_at = parse_time(times[0]) if times else None
    page.site_name = meta("og:site_name", "application-name")
    lang = tree.get("lang") if tree.tag == "html" else None
    page.language = lang.split("-")[0].lower() if lang and lang.strip() else None
    page.canonical_url = canonical
    og_type = meta("og:type")
    if og_type:
        page.is_article = og_type.lower() == "article"
    if articles:
        page.is_article = True
    return page
