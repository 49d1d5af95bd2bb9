"""One page in, one article (or a reason it is not one) out: the cleaning rules in order.

1. decode the bytes and read the page's own metadata (:mod:`.metadata`);
2. trafilatura removes the page boilerplate and returns the main text, one paragraph per line;
3. text hygiene: NFC, mojibake repair, whitespace (:mod:`.text`);
4. repeated blocks inside the page removed, first occurrence kept (:mod:`.repetition`);
5. generic site furniture lines dropped (:mod:`.furniture`);
6. the headline repeated at the top of the body dropped: it is the title (:mod:`.headline`);
7. date stamps, bylines and wire trailers moved into metadata (:mod:`.wire`);
8. pages that are not articles rejected with a reason (an index page only on strong evidence,
   :mod:`.index_page`).

Nothing here keeps state between pages, so results never depend on what was cleaned before.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import timezone

from cleaning.charset import replacement_count
from cleaning.clean.decode import decode_html
from cleaning.clean.furniture import strip_generic
from cleaning.clean.headline import strip_headline
from cleaning.clean.index_page import could_be_index, find_cards, index_evidence
from cleaning.clean.metadata import PageMeta, read_meta
from cleaning.clean.repetition import remove_repeats
from cleaning.clean.text import tidy, word_count
from cleaning.clean.wire import parse_stamp, strip_wire_furniture
from cleaning.config import CleanConfig

ERROR_TITLE = re.compile(
    r"\b(404|page not found|not found|access denied|forbidden|server error|error 50\d)\b", re.IGNORECASE
)
PAYWALL = re.compile(
    r"\b(subscribe to (continue|read)|to continue reading"
    r"|this (article|content) is (for|available to) (subscribers|members)"
    r"|already a subscriber|log ?in to (continue|read))\b",
    re.IGNORECASE,
)


PAYWALL_STUB_WORDS = 150
ERROR_PAGE_WORDS = 100  # a teaser and a subscribe prompt; a full story is longer


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
    extraction: str = "precision"  # which step of the extraction chain found the text (see main_text)
    replaced_chars: int = 0  # bytes the declared charset could not decode, now U+FFFD


# The extraction chain. trafilatura's precision mode is the first choice: on the AEB news pages
# it raises precision by 0.013 for 0.008 of recall. It sometimes settles on one block of a longer
# story (a reprint notice, the first section of a guide), so a result under RECALL_CHECK_WORDS is
# checked against the default mode, which wins when it finds WIDER_FACTOR times as many words.
# Chosen on one half of trafilatura's evaluation set and checked on the AEB pages (bench/RESULTS.md):
# 300 words and 2x gained 0.004 F1 on the first and nothing lost on the second, while checking
# every page cost AEB precision. The check costs a second extraction on the pages it runs on.
RECALL_CHECK_WORDS = 300
WIDER_FACTOR = 2


def extract_main_text(page, url: str | None, favor_precision: bool = True, favor_recall: bool = False):
    """trafilatura's main text of a page (markup or a parsed tree, which it may modify)."""
    import trafilatura

    document = trafilatura.bare_extraction(
        page,
        url=url,
        include_comments=False,
        favor_precision=favor_precision,
        favor_recall=favor_recall,
        with_metadata=False,  # our own metadata reader is richer and much faster than htmldate
        deduplicate=False,
    )
    if document is None:
        return None, None
    return document.text, document


def baseline_text(html: str) -> str | None:
    """trafilatura's last resort: JSON-LD ``articleBody``, else the ``<article>`` or paragraph text."""
    import trafilatura

    _, text, _ = trafilatura.baseline(html)
    return text or None


def main_text(html: str, tree, url: str | None, min_words: int) -> tuple[str | None, object, str]:
    """The page's main text, the trafilatura document it came from, and which step found it.

    precision mode -> default mode (when precision found under RECALL_CHECK_WORDS) -> recall mode
    and then the baseline (only when nothing of at least ``min_words`` was found). Each fallback
    runs on pages that would otherwise be lost or cut short, so it costs nothing elsewhere.
    """
    from lxml import html as lxml_html

    def fresh():
        return lxml_html.document_fromstring(html, parser=_parser())

    text, document = extract_main_text(tree, url)  # the tree is not used after this
    method, found = "precision", word_count(text or "")
    if found < RECALL_CHECK_WORDS:
        wider, wider_document = extract_main_text(fresh(), url, favor_precision=False)
        if wider and word_count(wider) >= WIDER_FACTOR * max(found, 1):
            text, document, method, found = wider, wider_document, "default", word_count(wider)
    if found >= min_words:
        return text, document, method
    widest, widest_document = extract_main_text(fresh(), url, favor_precision=False, favor_recall=True)
    if widest and word_count(widest) > found:
        text, document, method, found = widest, widest_document, "recall", word_count(widest)
    if found < min_words:
        last = baseline_text(html)
        if last and word_count(last) >= max(min_words, 2 * found):
            text, document, method = last, None, "baseline"
    return text, document, method


_parsers = threading.local()


def _parser():
    """An HTML parser that drops comments and processing instructions while parsing. Left in the
    tree, a comment inside a paragraph costs the words after it: trafilatura strips comment nodes,
    and an lxml node removed from its parent takes its tail text along (measured on the AEB pages:
    three articles lost 13-46% of their words this way). One parser per thread, as lxml wants."""
    if not hasattr(_parsers, "html"):
        from lxml import html as lxml_html

        _parsers.html = lxml_html.HTMLParser(
            remove_comments=True, remove_pis=True, collect_ids=False, default_doctype=False
        )
    return _parsers.html


def clean_html(body: bytes, url: str | None, content_type: str | None, settings: CleanConfig) -> CleanPage:
    """Raises :class:`Rejected` when the page yields no article."""
    html = _decoded(body, content_type)
    tree = _parsed(html)
    meta = read_meta(tree)

    text, document, method = main_text(html, tree, url, settings.min_words)
    if meta.title and ERROR_TITLE.search(meta.title) and word_count(text or "") < ERROR_PAGE_WORDS:
        # A headline may say "not found" or "404"; an error page also has next to no text.
        raise Rejected("error_page", meta.title)
    if not text:
        raise Rejected("empty", "no main text found")
    _fill_from_document(meta, document)

    paragraphs = tidy(text).split("\n")
    paragraphs, repeated = remove_repeats(paragraphs, settings.repeat_min_words)
    paragraphs, furniture = strip_generic(paragraphs)
    paragraphs, _ = strip_headline(paragraphs, meta.title)
    paragraphs, wire = strip_wire_furniture(paragraphs)
    _fill_from_wire(meta, wire)

    body_text = "\n\n".join(paragraphs)
    _check_is_article(body_text, paragraphs, html, url or meta.canonical_url, settings)
    return CleanPage(
        body_text, meta, wire.wire_agency, wire.attribution, repeated, furniture, method, replacement_count(html)
    )


def _decoded(body: bytes, content_type: str | None) -> str:
    """The page as text; raises :class:`Rejected` for what is not a web page at all."""
    if not body or not body.strip():
        raise Rejected("empty", "no bytes")
    if b"\x00" in body[:2048] and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Rejected("not_html", "binary content")
    html = decode_html(body, content_type)
    if "<" not in html[:5000]:
        raise Rejected("not_html", "no markup in the first 5000 characters")
    if _looks_binary(body[:8192], html[:8192]):
        raise Rejected("not_html", "binary content (control bytes or undecodable characters)")
    return html


def _parsed(html: str):
    from lxml import etree
    from lxml import html as lxml_html

    try:
        return lxml_html.document_fromstring(html, parser=_parser())
    except (etree.ParserError, ValueError) as exc:
        raise Rejected("unparseable", str(exc)) from None


def _fill_from_document(meta: PageMeta, document) -> None:
    """What the page's own metadata left empty, from trafilatura's reading of it."""
    if document is None:
        return
    meta.title = meta.title or document.title
    meta.site_name = meta.site_name or document.sitename
    if not meta.authors and document.author:
        meta.authors = [a.strip() for a in document.author.split(";") if a.strip()]
    meta.language = meta.language or getattr(document, "language", None)


def _fill_from_wire(meta: PageMeta, wire) -> None:
    """Date stamps and bylines the wire rules took out of the body become metadata, when the
    page's own metadata had none."""
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


def _check_is_article(
    body_text: str, paragraphs: list[str], html: str, page_url: str | None, settings: CleanConfig
) -> None:
    """Raises :class:`Rejected` for a paywall stub, a body under the floor, or an index page."""
    words = word_count(body_text)
    if words < PAYWALL_STUB_WORDS and (PAYWALL.search(body_text) or PAYWALL.search(html)):
        raise Rejected("paywall", f"{words} words and a subscription prompt: a paywall stub")
    if words < settings.min_words:
        raise Rejected("too_short", f"{words} words, fewer than {settings.min_words}")
    if not could_be_index(paragraphs):
        return
    # trafilatura has edited the first tree by now: the cards are read from a fresh parse, which
    # only pages with enough short paragraphs pay for
    evidence = index_evidence(paragraphs, find_cards(_parsed(html), page_url))
    if evidence.is_index:
        raise Rejected("not_article", f"a list of teasers, not a story: {evidence.describe()}")


_BINARY_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])


def _looks_binary(head: bytes, text: str) -> bool:
    """More than 5% control bytes, or 10% characters no charset could decode: not a web page."""
    if not head:
        return False
    controls = len(head) - len(head.translate(None, _BINARY_BYTES))
    return controls > 0.05 * len(head) or text.count("\ufffd") > 0.1 * max(len(text), 1)
