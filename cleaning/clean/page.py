"""One page in, one article (or a reason it is not one) out: the cleaning rules in order.

1. decode the bytes and read the page's own metadata (:mod:`.metadata`);
2. trafilatura removes the page boilerplate and returns the main text, one paragraph per line;
3. text hygiene: NFC, mojibake repair, whitespace (:mod:`.text`);
4. repeated blocks inside the page removed, first occurrence kept (:mod:`.repetition`);
5. generic site furniture lines dropped (:mod:`.furniture`);
6. the headline repeated at the top of the body dropped: it is the title (:mod:`.headline`);
7. date stamps, bylines and wire trailers moved into metadata (:mod:`.wire`);
8. pages that are not articles rejected with a reason.

Nothing here keeps state between pages, so results never depend on what was cleaned before.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import timezone

from cleaning.clean.decode import decode_html
from cleaning.clean.furniture import strip_generic
from cleaning.clean.headline import strip_headline
from cleaning.clean.metadata import PageMeta, read_meta
from cleaning.clean.repetition import remove_repeats
from cleaning.clean.text import tidy, word_count
from cleaning.clean.wire import parse_stamp, strip_wire_furniture
from cleaning.config import CleanConfig

ERROR_TITLE = re.compile(
    r"\b(404|page not found|not found|access denied|forbidden|server error|error 50\d)\b", re.IGNORECASE
)
PAYWALL = re.compile(
    r"\b(subscribe to (continue|read)|to continue reading|this (article|content) is (for|available to) (subscribers|members)"
    r"|already a subscriber|log ?in to (continue|read))\b",
    re.IGNORECASE,
)


PAYWALL_STUB_WORDS = 150  # a teaser and a subscribe prompt; a full story is longer


class Rejected(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


@dataclass
class CleanPage:
    text: str
    meta: PageMeta
    wire_agency: str | None
    attribution: str | None
    repeated_words_removed: int
    furniture_lines_removed: int


# Below this many words (shorter than most wire briefs), a precision-mode result is checked
# against trafilatura's default mode. The check costs a second parse and extraction, so it is
# kept to results this short: at 100 words it ran on 4% of the AEB pages and added 7% to the
# clean step, for the same gain.
RECALL_CHECK_WORDS = 50


def extract_main_text(page, url: str | None, favor_precision: bool = True) -> tuple[str | None, object]:
    """trafilatura's main text of a page (markup or a parsed tree, which it may modify)."""
    import trafilatura

    document = trafilatura.bare_extraction(
        page,
        url=url,
        include_comments=False,
        # Measured on the AEB pages (bench/RESULTS.md): favor_precision raises precision by
        # 0.013 for 0.008 of recall, the best F1 of the settings tried.
        favor_precision=favor_precision,
        with_metadata=False,  # our own metadata reader is richer and much faster than htmldate
        deduplicate=False,
    )
    if document is None:
        return None, None
    return document.text, document


_parsers = threading.local()


def _parser():
    """An HTML parser that drops comments and processing instructions while parsing. Left in the
    tree, a comment inside a paragraph costs the words after it: trafilatura strips comment nodes,
    and an lxml node removed from its parent takes its tail text along (measured on the AEB pages:
    three articles lost 13-46% of their words this way). One parser per thread, as lxml wants."""
    if not hasattr(_parsers, "html"):
        from lxml import html as lxml_html

        _parsers.html = lxml_html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False, default_doctype=False)
    return _parsers.html


def clean_html(body: bytes, url: str | None, content_type: str | None, settings: CleanConfig) -> CleanPage:
    """Raises :class:`Rejected` when the page yields no article."""
    if not body or not body.strip():
        raise Rejected("empty", "no bytes")
    if b"\x00" in body[:2048] and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Rejected("not_html", "binary content")
    html = decode_html(body, content_type)
    if "<" not in html[:5000]:
        raise Rejected("not_html", "no markup in the first 5000 characters")

    from lxml import etree
    from lxml import html as lxml_html

    try:
        tree = lxml_html.document_fromstring(html, parser=_parser())
    except (etree.ParserError, ValueError) as exc:
        raise Rejected("unparseable", str(exc)) from None
    meta = read_meta(tree)

    if meta.title and ERROR_TITLE.search(meta.title) and meta.published_at is None:
        raise Rejected("error_page", meta.title)

    text, document = extract_main_text(tree, url)  # the tree is not used after this
    found = word_count(text or "")
    if found < RECALL_CHECK_WORDS:
        # Precision mode can settle on a small block (a reprint notice) and miss the whole story.
        # When the default mode finds at least three times as much, the story is more likely there.
        wider, wider_document = extract_main_text(lxml_html.document_fromstring(html, parser=_parser()), url, favor_precision=False)
        if wider and word_count(wider) >= 3 * max(found, 1):
            text, document = wider, wider_document
    if not text:
        raise Rejected("empty", "no main text found")
    if document is not None:
        meta.title = meta.title or document.title
        meta.site_name = meta.site_name or document.sitename
        if not meta.authors and document.author:
            meta.authors = [a.strip() for a in document.author.split(";") if a.strip()]
        meta.language = meta.language or getattr(document, "language", None)

    paragraphs = tidy(text).split("\n")
    paragraphs, repeated = remove_repeats(paragraphs, settings.repeat_min_words)
    paragraphs, furniture = strip_generic(paragraphs)
    paragraphs, _ = strip_headline(paragraphs, meta.title)
    paragraphs, wire = strip_wire_furniture(paragraphs)

    for label, date_text in wire.stamps:
        stamp = parse_stamp(date_text)
        if stamp is None:
            continue
        stamp = stamp.replace(tzinfo=timezone.utc)
        if label in ("updated", "last updated", "modified"):
            meta.updated_at = meta.updated_at or stamp
        else:
            meta.published_at = meta.published_at or stamp
    if not meta.authors and wire.bylines:
        meta.authors = [re.sub(r"^(?:by|written by|words by)\s+", "", wire.bylines[0], flags=re.IGNORECASE)]

    body_text = "\n\n".join(paragraphs)
    words = word_count(body_text)
    if words < PAYWALL_STUB_WORDS and (PAYWALL.search(body_text) or PAYWALL.search(html)):
        raise Rejected("paywall", f"{words} words and a subscription prompt: a paywall stub")
    if words < settings.min_words:
        raise Rejected("too_short", f"{words} words, fewer than {settings.min_words}")
    if meta.published_at is None and _looks_like_index(paragraphs, meta.is_article is False):
        raise Rejected("not_article", "a list of links or teasers with no publication date (an index page?)")

    return CleanPage(body_text, meta, wire.wire_agency, wire.attribution, repeated, furniture)


def _looks_like_index(paragraphs: list[str], declared_non_article: bool) -> bool:
    """Most lines are list items, cut-off teasers or fragments: a section front, not a story."""
    if len(paragraphs) < 5:
        return False
    listish = sum(
        1 for p in paragraphs if p.endswith(("…", "...")) or len(p.split()) < 12
    )
    return listish / len(paragraphs) > (0.5 if declared_non_article else 0.7)

