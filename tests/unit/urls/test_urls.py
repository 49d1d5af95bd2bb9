import pytest

from cleaning.urls import request_url, url_key

# URLs from real feeds whose servers answered 404 once the query was sorted or re-encoded.
AS_PUBLISHED = [
    "http://www.example.com/index.ssf?/base/news/1199.xml&coll=3",
    "http://www.example.org/apps/news/story.asp?NewsID=25318&Cr=kosovo&Cr1=",
    "http://www.example.com/cgi-bin/article.cgi?f=/c/a/2008/01/19/X.DTL",
    "https://example.net/a;jsessionid=ABC?x=1&x=2",
    "https://example.net/search?q=a%20b&lang=en",
    "https://example.net/search?q=a+b",
    "https://example.net/Path/With/Case.HTML?ID=Ab",
    "https://example.net/p?flag",
    "https://example.net/p?a=%2F&b=/",
    "https://example.net/news/2008/01/19/story.php?id=42&page=2&utm_x=",
]


@pytest.mark.parametrize("url", AS_PUBLISHED)
def test_request_url_sends_path_and_query_as_published(url):
    assert request_url(url) == url


@pytest.mark.parametrize("url", AS_PUBLISHED)
def test_key_keeps_what_selects_content(url):
    key = url_key(url)
    assert key.split("?", 1)[0] == url.split("?", 1)[0]
    if "?" in url and "utm_" not in url:
        assert key.split("?", 1)[1] == url.split("?", 1)[1]


def test_request_url_drops_fragment_and_writes_host_in_idna():
    assert request_url("https://news.example/a?b=1#comments") == "https://news.example/a?b=1"
    assert request_url("https://bücher.example/straße") == "https://xn--bcher-kva.example/stra%C3%9Fe"
    assert request_url("https://news.example/a b") == "https://news.example/a%20b"


def test_request_url_keeps_port_and_tracking_parameters():
    # The server may need them (a tracking parameter can gate a paywall or a redirect); the key drops them.
    url = "https://news.example:443/a?utm_source=rss&id=2"
    assert request_url(url) == url
    assert url_key(url) == "https://news.example/a?id=2"


def test_key_folds_what_cannot_select_content():
    assert url_key("HTTPS://News.Example:443/a/b?utm_source=x&id=2&fbclid=9#top") == "https://news.example/a/b?id=2"
    assert url_key("http://news.example:8080/a") == "http://news.example:8080/a"
    assert url_key("http://news.example") == "http://news.example/"
    assert url_key("http://news.example/a?") == "http://news.example/a"


def test_key_keeps_query_order_and_escapes():
    assert url_key("http://x.example/s?b=2&a=1") != url_key("http://x.example/s?a=1&b=2")
    assert url_key("http://x.example/s?f=/c/a") != url_key("http://x.example/s?f=%2Fc%2Fa")


def test_local_paths_unchanged():
    assert request_url("/data/pages/a.html") == "/data/pages/a.html"
    assert url_key("/data/pages/a.html") == "/data/pages/a.html"
    assert url_key("file:///data/a.html") == "file:///data/a.html"


def test_ipv6_literals_keep_their_brackets():
    assert url_key("http://[::1]:8080/a?utm_medium=x") == "http://[::1]:8080/a"
    assert url_key("https://[2001:DB8::1]:443/") == "https://[2001:db8::1]/"
    assert url_key(url_key("http://[fe80::1]/x")) == "http://[fe80::1]/x"
    assert request_url("http://[::1]:8080/a#x") == "http://[::1]:8080/a"


def test_bad_ports_raise():
    with pytest.raises(ValueError):
        request_url("http://news.example:99999/a")
