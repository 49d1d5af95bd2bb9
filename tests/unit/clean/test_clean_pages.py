"""The clean stage on good, odd and hostile pages: every page gives an article or a reason."""

from __future__ import annotations

import time

import pytest

from cleaning.clean import clean_one
from cleaning.config import CleanConfig

PARAS = [
    "The regional transport authority approved a new timetable on Monday that adds late-night trains on three "
    "suburban lines.",
    "Officials said the change, which starts in October, follows two years of complaints from shift workers and "
    "hospital staff.",
    "Opposition councillors welcomed the plan but said the authority had still not explained how it would pay for "
    "extra crews.",
    "The authority's chair said ticket revenue had recovered faster than expected and would cover the first year of "
    "the trial.",
]


def page(body_html: str, head: str = "", charset: str = "utf-8") -> bytes:
    html = (
        f"<html lang='en'><head><meta charset='{charset}'><title>Late trains approved</title>"
        "<meta property='article:published_time' content='2025-08-28T07:00:00+01:00'>"
        f"{head}</head><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<article><h1>Late trains approved</h1>{body_html}</article>"
        "<footer>Copyright 2025 Example Media. All rights reserved.</footer></body></html>"
    )
    return html.encode(charset)


ARTICLE = "".join(f"<p>{p}</p>" for p in PARAS)
SETTINGS = CleanConfig()


def test_good_page_gives_body_and_metadata():
    result, reason, _ = clean_one(page(ARTICLE), "https://news.example/a", None, SETTINGS)
    assert reason is None
    assert all(p in result.text for p in PARAS)
    assert "Copyright" not in result.text and "Home" not in result.text
    assert result.meta.published_at.isoformat() == "2025-08-28T06:00:00+00:00"


@pytest.mark.parametrize(
    "body,reason",
    [
        (b"", "empty"),
        (b"   \n ", "empty"),
        (bytes(range(256)) * 50, "not_html"),
        (b"just some words, no markup at all, " * 50, "not_html"),
        (b"<html><body><p>Short.</p></body></html>", "empty"),
    ],
)
def test_junk_pages_have_reasons(body, reason):
    result, got, _ = clean_one(body, None, None, SETTINGS)
    assert result is None and got in (reason, "too_short", "empty")
    if reason != "empty":
        assert got == reason


def test_fifty_megabyte_page_is_refused_before_parsing():
    big = b"<html><body>" + b"<p>word</p>" * (50_000_000 // 11) + b"</body></html>"
    started = time.monotonic()
    result, reason, detail = clean_one(big, None, None, SETTINGS)
    assert result is None and reason == "too_large" and "bytes" in detail
    assert time.monotonic() - started < 5


def test_deeply_nested_markup_does_not_crash():
    nested = "<div>" * 100_000 + ARTICLE + "</div>" * 100_000
    result, reason, _ = clean_one(page(nested), None, None, SETTINGS)
    assert (result is not None and PARAS[0] in result.text) or reason in (
        "too_deep",
        "extract_error",
        "unparseable",
        "empty",
        "too_short",
    )


def test_time_limit_per_page(monkeypatch):
    import cleaning.clean.page as page_module

    def slow(*args, **kwargs):
        time.sleep(5)

    monkeypatch.setattr(page_module, "extract_main_text", slow)
    started = time.monotonic()
    result, reason, _ = clean_one(page(ARTICLE), None, None, CleanConfig(page_timeout_seconds=0.2))
    assert result is None and reason == "timeout"
    assert time.monotonic() - started < 2


def test_encodings_from_meta_header_and_broken_declarations():
    text = "Café owners in Zürich said the naïve plan would cost €2 million."
    body = ARTICLE + f"<p>{text} " + PARAS[0] + "</p>"
    # declared in a meta tag
    result, _, _ = clean_one(page(body, charset="cp1252"), None, None, SETTINGS)
    assert text in result.text
    # declared in the HTTP header, not in the page
    raw = page(body, charset="cp1252").replace(b"<meta charset='cp1252'>", b"")
    result, _, _ = clean_one(raw, None, "text/html; charset=windows-1252", SETTINGS)
    assert text in result.text
    # the page lies (says utf-8, is cp1252): decoded by detection, not garbage
    lying = page(body, charset="cp1252").replace(b"charset='cp1252'", b"charset='utf-8'")
    result, _, _ = clean_one(lying, None, None, SETTINGS)
    assert "Zürich" in result.text and "\ufffd" not in result.text


def test_mojibake_is_repaired():
    broken = "Officials said the plan â€” first floated in 2023 â€” would go ahead, the cafÃ© owners said on Monday afternoon."
    result, _, _ = clean_one(page(ARTICLE + f"<p>{broken}</p>"), None, None, SETTINGS)
    assert "— first floated in 2023 —" in result.text and "café owners" in result.text


def test_error_page_and_paywall_stub():
    error = (
        b"<html><head><title>404 Page not found</title></head><body><h1>Page not found</h1><p>Sorry.</p></body></html>"
    )
    assert clean_one(error, None, None, SETTINGS)[1] == "error_page"
    stub = page("<p>" + PARAS[0] + "</p><p>Subscribe to continue reading.</p>")
    assert clean_one(stub, None, None, SETTINGS)[1] == "paywall"


def test_index_page_is_not_an_article():
    teasers = "".join(
        f"<li><a href='/s{i}'>Story {i} headline here</a> A teaser that stops mid-way through…</li>" for i in range(12)
    )
    html = f"<html><head><title>Latest</title><meta property='og:type' content='website'></head><body><ul>{teasers}</ul></body></html>"
    result, reason, _ = clean_one(html.encode(), None, None, SETTINGS)
    assert result is None and reason in ("not_article", "too_short", "empty")


def test_comments_inside_paragraphs_cost_no_words():
    # Server-rendered React pages put empty comments between text pieces ("suffered<!-- --> months");
    # with a link in the same paragraph, comment nodes left in the parsed tree cost whole paragraphs.
    def rendered(p):
        w = p.split(" ")
        link = f"<span><a href='https://data.example/report'>{w[2]}</a></span>"
        return f"<p class='sc-1 a'>{' '.join(w[:2])} {link} {' '.join(w[3:8])}<!-- --> {' '.join(w[8:])}</p>"

    body = "<div class='js_expandable-container'>" + "".join(rendered(p) for p in PARAS) + "</div>"
    result, reason, _ = clean_one(page(body), "https://news.example/a", None, SETTINGS)
    assert reason is None
    for p in PARAS:
        assert p in result.text


@pytest.mark.parametrize("stray", ["\x01", "\x1f", "\ufffe", "\x0b"])
def test_stray_control_characters_do_not_lose_the_page(stray):
    body = "".join(f"<p>{p}</p>" for p in PARAS).replace("October", f"October{stray}")
    result, reason, _ = clean_one(page(body), "https://news.example/a", None, SETTINGS)
    assert reason is None
    assert all(p in result.text for p in PARAS[2:]) and "starts in October" in result.text


def test_a_tiny_precision_result_is_checked_against_the_default_mode(monkeypatch):
    """Precision mode settling on a reprint notice must not cost the story (seen on a real page)."""
    from cleaning.clean import page as page_module

    notice = "This copy is for your personal, non-commercial use only. To order presentation-ready copies visit our reprints desk."
    real = page_module.extract_main_text
    calls = []

    def narrow_first(tree, url, favor_precision=True):
        calls.append(favor_precision)
        return (notice, None) if favor_precision else real(tree, url, favor_precision=False)

    monkeypatch.setattr(page_module, "extract_main_text", narrow_first)
    result, reason, _ = clean_one(page("".join(f"<p>{p}</p>" for p in PARAS)), "https://news.example/a", None, SETTINGS)
    assert reason is None and calls == [True, False]
    assert all(p in result.text for p in PARAS) and "reprints" not in result.text

    def recorded(tree, url, favor_precision=True):
        calls.append(favor_precision)
        return real(tree, url, favor_precision=favor_precision)

    monkeypatch.setattr(page_module, "extract_main_text", recorded)
    calls.clear()  # a brief both modes agree on stays as precision mode found it
    brief = "".join(f"<p>{p}</p>" for p in PARAS[:2])
    result, reason, _ = clean_one(page(brief), "https://news.example/b", None, SETTINGS)
    assert reason is None and calls == [True, False] and PARAS[0] in result.text


def test_control_characters_go_whatever_the_charset():
    from cleaning.clean.decode import decode_html

    assert decode_html(b'<meta charset="utf-7"><p>Hello +AAc- world</p>') == '<meta charset="utf-7"><p>Hello  world</p>'
    utf16 = "\ufeff<p>Hello\x01 world\x0b again</p>".encode("utf-16-le")
    assert decode_html(utf16) == "<p>Hello world  again</p>"
