from cleaning.urls import normalize_url


def test_tracking_fragments_ports_and_case():
    assert normalize_url("HTTPS://News.Example:443/a/b?utm_source=x&id=2&fbclid=9#top") == "https://news.example/a/b?id=2"
    assert normalize_url("http://news.example:8080/a") == "http://news.example:8080/a"
    assert normalize_url("http://news.example") == "http://news.example/"


def test_local_paths_unchanged():
    assert normalize_url("/data/pages/a.html") == "/data/pages/a.html"


def test_ipv6_literals_keep_their_brackets():
    assert normalize_url("http://[::1]:8080/a?utm_medium=x") == "http://[::1]:8080/a"
    assert normalize_url("https://[2001:DB8::1]:443/") == "https://[2001:db8::1]/"
    assert normalize_url(normalize_url("http://[fe80::1]/x")) == "http://[fe80::1]/x"
