"""Page shapes from real sites that cost stories before: each must give an article, or a sure reason."""

from __future__ import annotations

import random

from cleaning.clean import clean_one
from cleaning.config import CleanConfig
from tests.unit.clean.test_clean_pages import PARAS

SETTINGS = CleanConfig()
STORY = [
    *PARAS,
    "A spokesperson for the drivers' union said members had been consulted and broadly supported the new rota.",
    "The first late services will run on the northern line, with the two other lines following before Christmas.",
]


def undated_page(body: str, extra: str = "") -> str:
    """An older template: no date metadata, navigation and a related-stories list around the story."""
    nav = " ".join(f"<a href='/section/{i}'>Section {i}</a>" for i in range(25))
    related = "".join(
        f"<li><a href='/news/2008/{i}/story-{i}.html'>Council approves plan number {i} for the old harbour</a></li>"
        for i in range(12)
    )
    return (
        "<html><head><title>Late trains approved</title></head><body>"
        f"<div id='nav'>{nav}</div><div id='main'><h1>Late trains approved</h1>{body}</div>"
        f"<div id='related'><h3>More news</h3><ul>{related}</ul></div>{extra}"
        "<div id='footer'><a href='/about'>About us and our team</a></div></body></html>"
    )


INTERVIEW = [
    "The mayor spoke to us on Tuesday about the new timetable and the cost of running trains after midnight.",
    "Why now?",
    "Because the shift workers asked for years.",
    "Who pays?",
    "Ticket revenue, for the first year.",
    "And after that?",
    "The council will decide in spring.",
    "Were the unions consulted?",
    "Yes, twice, in June.",
    "What about the buses?",
    "They follow next year, if the trains work.",
    "The first late services will run on the northern line, with the two other lines following before Christmas.",
]


def test_undated_article_with_link_heavy_template_is_published():
    body = "".join(f"<p>{p}</p>" for p in INTERVIEW)
    result, reason, detail = clean_one(
        undated_page(body).encode(), "http://www.example.com/news/story.asp?id=1", None, SETTINGS
    )
    assert reason is None, detail
    assert all(p in result.text for p in INTERVIEW)
    assert result.meta.published_at is None


def test_article_linking_a_page_from_every_paragraph_is_published():
    body = "".join(
        f"<p>{p} <a href='/news/{i}.html'>Read our earlier report on it</a></p>" for i, p in enumerate(STORY)
    )
    result, reason, detail = clean_one(undated_page(body).encode(), "http://www.example.com/a", None, SETTINGS)
    assert reason is None, detail


def test_section_front_of_teaser_cards_is_rejected_with_evidence():
    cards = "".join(
        f"<li class='card'><h2><a href='https://news.example/local/story-{i}.html'>Headline number {i} about the town</a></h2>"
        f"<div class='teaser'>The council voted on Tuesday to approve plan {i} for the harbour, officials…</div></li>"
        for i in range(10)
    )
    html = f"<html><head><title>Latest news</title></head><body><h1>Latest news</h1><ul>{cards}</ul></body></html>"
    result, reason, detail = clean_one(html.encode(), "https://news.example/latest/", None, SETTINGS)
    assert result is None and reason == "not_article"
    assert "cards linking to 10 other pages" in detail


def test_xhtml_page_with_xml_declaration_parses():
    body = "".join(f"<p>{p}</p>" for p in STORY)
    xhtml = (
        '<?xml version="1.0" encoding="UTF-8"?>\r\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
        f'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Late trains</title></head><body>{body}</body></html>'
    )
    for data in (
        xhtml.encode(),
        b"\xef\xbb\xbf" + xhtml.encode(),
        xhtml.replace("UTF-8", "ISO-8859-1").encode("latin-1"),
    ):
        result, reason, detail = clean_one(data, None, None, SETTINGS)
        assert reason is None, detail
        assert STORY[0] in result.text


def test_declared_utf8_with_one_bad_byte_keeps_utf8():
    body = "".join(
        f"<p>Le café numéro {i} de la gare a fermé, et le café {i + 1} du port aussi, a dit le maire à la presse.</p>"
        for i in range(20)
    ).encode("utf-8")
    body = body.replace("café".encode(), b"caf\xe9", 1)  # one Latin-1 byte pasted in
    html = b"<html><head><meta charset='utf-8'><title>Caf\xc3\xa9s</title></head><body>" + body + b"</body></html>"
    result, reason, detail = clean_one(html, None, "text/html; charset=utf-8", SETTINGS)
    assert reason is None, detail
    assert result.text.count("café") == 39 and "caf\ufffd" in result.text
    assert "Ă" not in result.text and "Ã" not in result.text
    assert result.replaced_chars == 1


def test_latin1_page_labelled_utf8_is_still_read_as_latin1():
    body = "".join(f"<p>Le café {i} de la gare a fermé, a dit le maire à la presse mardi matin.</p>" for i in range(12))
    html = f"<html><head><meta charset='utf-8'></head><body>{body}</body></html>".encode("latin-1")
    result, reason, _ = clean_one(html, None, "text/html; charset=utf-8", SETTINGS)
    assert reason is None and "café 3 de la gare a fermé" in result.text


def test_page_trafilatura_finds_nothing_on_falls_back_to_baseline():
    # Every paragraph inside a form-like widget that trafilatura's extractors discard.
    body = "".join(f"<div class='comment-form'><p>{p}</p></div>" for p in STORY)
    ld = '{"@type": "NewsArticle", "articleBody": "' + " ".join(STORY) + '"}'
    html = f"<html><head><script type='application/ld+json'>{ld}</script></head><body><form>{body}</form></body></html>"
    result, reason, detail = clean_one(html.encode(), None, None, SETTINGS)
    assert reason is None, detail
    assert STORY[0] in result.text


def test_binary_without_nul_bytes_is_not_html():
    rng = random.Random(7)
    blob = b"<" + bytes(rng.choice([*range(1, 9), *range(14, 32), *range(128, 256)]) for _ in range(20_000))
    result, reason, _ = clean_one(blob, None, None, SETTINGS)
    assert result is None and reason == "not_html"


def test_headline_saying_not_found_is_not_an_error_page():
    story = "".join(f"<p>{p}</p>" for p in STORY * 2)
    html = f"<html><head><title>Missing hiker not found after three days</title></head><body><article>{story}</article></body></html>"
    result, reason, detail = clean_one(html.encode(), None, None, SETTINGS)
    assert reason is None, detail
