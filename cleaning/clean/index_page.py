"""Is the extracted main content a list of teasers (a section front), or a story?

A missing publication date, a link-heavy page or a short body are not evidence: small outlets
publish articles without date metadata, and most article templates carry menus and "related
stories" blocks. What marks an index page is the *main content itself*: a run of cards, each
holding one headline linking to another page of the same site and at most a short teaser.

Cards are found in the page before extraction. A *headline link* is an ``<a>`` of at least three
words pointing to another page of the page's own site. Its *card* is its highest ancestor (at
most ``CARD_LEVELS`` up) that holds no other headline link and at most ``CARD_WORDS`` words (a
story's body that happens to hold one link is not a card). After extraction, with the main text
split into paragraphs p_1..p_n, p_i is a *card line* when its text lies inside one card and is
either the headline itself or text beside it (a teaser): a paragraph that holds the link inside
its own prose is a story paragraph with a link, not a card. The page is an index when

    card lines >= MIN_CARDS,  distinct card links among them >= MIN_CARDS,
    card lines / n >= CARD_SHARE,  median words of the card lines <= TEASER_WORDS.

Each threshold errs towards publishing: a story whose extraction picked up a "related" list still
has prose paragraphs outside cards, and a story that links a page from most of its paragraphs
has paragraphs longer than teasers. The evidence is returned so callers can report it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

CARD_LEVELS = 4
MIN_CARDS = 5
CARD_SHARE = 0.8
TEASER_WORDS = 40
CARD_WORDS = 120
MAX_CARDS = 500  # a page with more headline links is read up to this many
_MIN_HEADLINE_WORDS = 3  # "Read more", "Home" and menu entries are not headlines


@dataclass(frozen=True)
class IndexEvidence:
    paragraphs: int
    card_lines: int
    card_links: int
    median_card_line_words: float

    @property
    def card_share(self) -> float:
        return self.card_lines / self.paragraphs if self.paragraphs else 0.0

    @property
    def is_index(self) -> bool:
        return (
            self.card_lines >= MIN_CARDS
            and self.card_links >= MIN_CARDS
            and self.card_share >= CARD_SHARE
            and self.median_card_line_words <= TEASER_WORDS
        )

    def describe(self) -> str:
        return (
            f"{self.card_lines} of {self.paragraphs} paragraphs sit in cards linking to {self.card_links} other "
            f"pages of the site (median {self.median_card_line_words:g} words)"
        )


def _key(text: str) -> str:
    """Folded for comparison; a list marker the extractor added ("- ") is not page text."""
    return " ".join(text.split()).casefold().removeprefix("- ").removeprefix("• ")


def _site(host: str | None) -> str:
    host = (host or "").lower()
    return host[4:] if host.startswith("www.") else host


def _headline_links(tree, page_url: str | None) -> list[tuple[object, str]]:
    """``(anchor, absolute target)`` of links of three words or more to other pages of the site.

    Relative links always count; absolute ones when their host is the page's (``www.`` aside).
    Without a page URL every http(s) link counts, since the site cannot be told.
    """
    base = page_url if page_url and page_url.startswith(("http://", "https://")) else None
    own = urlsplit(base)._replace(fragment="").geturl() if base else None
    site = _site(urlsplit(base).hostname) if base else None
    found = []
    for anchor in tree.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        if len((anchor.text_content() or "").split()) < _MIN_HEADLINE_WORDS:
            continue
        try:
            parts = urlsplit(urljoin(base, href) if base else href)
        except ValueError:
            continue
        if parts.scheme and parts.scheme not in ("http", "https"):
            continue
        if site is not None and parts.hostname and _site(parts.hostname) != site:
            continue
        target = parts._replace(fragment="").geturl()
        if target != own:
            found.append((anchor, target))
        if len(found) >= MAX_CARDS:
            break
    return found


def find_cards(tree, page_url: str | None) -> list[tuple[str, str, str]]:
    """``(folded card text, folded headline, link target)`` for every headline link's card (read
    before extraction)."""
    links = _headline_links(tree, page_url)
    inside: dict[object, int] = {}
    for anchor, _ in links:
        node = anchor.getparent()
        for _ in range(CARD_LEVELS + 1):
            if node is None:
                break
            inside[node] = inside.get(node, 0) + 1
            node = node.getparent()
    cards = []
    for anchor, target in links:
        headline = _key(anchor.text_content() or "")
        card, node = headline, anchor.getparent()
        for _ in range(CARD_LEVELS):
            if node is None or inside.get(node, 0) > 1:
                break
            text = _key(node.text_content() or "")
            if len(text.split()) > CARD_WORDS:
                break
            card, node = text, node.getparent()
        cards.append((card, headline, target))
    return cards


def could_be_index(paragraphs: list[str]) -> bool:
    """A necessary condition, cheap to test on the extracted text alone: at least ``MIN_CARDS``
    paragraphs, and (since card lines must be ``CARD_SHARE`` of them with a median of at most
    ``TEASER_WORDS`` words) at least ``CARD_SHARE / 2`` of them that short. Pages that fail it
    skip reading cards from the page (one more word is allowed for a list marker)."""
    short = sum(1 for p in paragraphs if len(p.split()) <= TEASER_WORDS + 1)
    return len(paragraphs) >= MIN_CARDS and short >= CARD_SHARE / 2 * len(paragraphs)


def _card_line(key: str, card: str, headline: str) -> bool:
    return key in card and (key == headline or headline not in key)


def index_evidence(paragraphs: list[str], cards: list[tuple[str, str, str]]) -> IndexEvidence:
    lengths, targets = [], set()
    for paragraph in paragraphs:
        key = _key(paragraph)
        if not key:
            continue
        target = next((t for card, headline, t in cards if _card_line(key, card, headline)), None)
        if target is not None:
            lengths.append(len(key.split()))
            targets.add(target)
    median = statistics.median(lengths) if lengths else 0.0
    return IndexEvidence(len(paragraphs), len(lengths), len(targets), float(median))
