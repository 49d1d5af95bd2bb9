"""Discovery from every source kind, against a loopback server: feeds, sitemaps, lists, WARC.

Includes the hostile documents: malformed and empty feeds, entity declarations, a billion-laughs
sitemap, a feed whose body is a local path, and a feed whose items point at private addresses.
"""

from __future__ import annotations

import gzip
import socket
import time
from pathlib import Path

import pytest

from cleaning.config import Config, Source, load_config
from cleaning.discover import discover_night, discover_source
from cleaning.fetch import fetch_shard
from cleaning.fetch.state import HttpCache
from tests.support import Reply, Site, fake_dns, loopback_fetcher, loopback_settings, page

XML = {"Content-Type": "application/rss+xml"}


def rss(items: list[tuple[str, str]], encoding: str = "utf-8") -> bytes:
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><pubDate>Thu, 28 Aug 2025 06:00:00 GMT</pubDate></item>"
        for t, link in items
    )
    return f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>T</title>{body}</channel></rss>'.encode(
        encoding
    )


def urlset(locs: list[str], news: bool = False) -> bytes:
    def one(loc):
        extra = (
            "<news:news><news:publication><news:name>W</news:name><news:language>en</news:language></news:publication>"
            f"<news:publication_date>2025-08-28T06:00:00+01:00</news:publication_date><news:title>Title of {loc[-6:]}</news:title></news:news>"
            if news
            else "<lastmod>2025-08-27</lastmod>"
        )
        return f"<url><loc>{loc}</loc>{extra}</url>"

    return (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + "".join(one(loc) for loc in locs) + "</urlset>"
    ).encode()


def index(locs: list[str]) -> bytes:
    return (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
        + "</sitemapindex>"
    ).encode()


@pytest.fixture
def site():
    server = Site()
    yield server
    server.close()


def config_for(*sources: Source, **fetch) -> Config:
    return Config(path=Path("sources.toml"), lake="", sources=sources, fetch=loopback_settings(**fetch))


def run(config: Config, **kwargs):
    return discover_night(
        config, fetcher=loopback_fetcher(**{k: getattr(config.fetch, k) for k in ("max_sitemaps", "retries")}), **kwargs
    )


def test_feed_items_resolved_and_capped(site):
    site.routes["/rss"] = Reply(
        body=rss(
            [("One", "/a/1.html"), ("Two", "https://news.example/a/2.html#top"), ("Three", "/a/3.html?utm_source=x")]
        ),
        headers=XML,
    )
    source = Source(name="wire", kind="feed", url=site.url("/rss", "news.example"), max_items=2)
    night = run(config_for(source))
    assert [c.url for c in night.candidates] == [site.url("/a/1.html", "news.example"), "https://news.example/a/2.html"]
    assert (
        night.candidates[0].title == "One"
        and night.candidates[0].published_at.isoformat() == "2025-08-28T06:00:00+00:00"
    )
    assert night.over_limit == 1


def test_seen_and_too_old_network_urls_are_dropped_before_the_cap(site):
    from datetime import datetime, timezone

    site.routes["/rss"] = Reply(
        body=rss([("Old", "/a/old.html"), ("Seen", "/a/seen.html"), ("New", "/a/new.html")]), headers=XML
    )
    source = Source(name="wire", kind="feed", url=site.url("/rss", "news.example"), max_items=1)
    seen = {site.url("/a/seen.html", "news.example")}
    night = run(config_for(source), seen=seen, published_before=datetime(2025, 8, 28, 12, tzinfo=timezone.utc))
    # every item is dated 06:00 on the 28th, before the cut: only the seen one is counted as seen
    assert (night.already_seen, night.too_old, night.candidates) == (1, 2, [])
    night = run(config_for(source), seen=seen, published_before=datetime(2025, 8, 1, tzinfo=timezone.utc))
    assert [c.url.rsplit("/", 1)[1] for c in night.candidates] == ["old.html"] and night.over_limit == 1


@pytest.mark.parametrize(
    "body,reason",
    [
        (b"", "empty_feed"),
        (b"   \n", "empty_feed"),
        (b"<rss><channel><item><title>broken", "bad_feed"),
        (b"this is not a feed at all", "bad_feed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><rss><channel><item><link>&b;</link></item></channel></rss>',
            "unsafe_xml",
        ),
        (
            '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><rss/>'.encode(
                "utf-16"
            ),
            "unsafe_xml",
        ),
    ],
    ids=["empty", "blank", "truncated", "not-xml", "entities", "utf16-external-entity"],
)
def test_malformed_empty_and_unsafe_feeds(site, body, reason):
    site.routes["/rss"] = Reply(body=body, headers=XML)
    ok = Source(name="ok", kind="feed", url=site.url("/ok", "news.example"))
    site.routes["/ok"] = Reply(body=rss([("Fine", "/a/fine.html")]), headers=XML)
    night = run(config_for(Source(name="bad", kind="feed", url=site.url("/rss", "news.example")), ok))
    assert [(f.source, f.stage, f.reason) for f in night.failures] == [("bad", "discover", reason)]
    assert [c.source for c in night.candidates] == ["ok"]  # one bad feed does not stop the others


def test_unparseable_item_links_fail_alone(site):
    links = ["http://[::1/broken", "http://news.example:99999/port", "/a/fine.html"]
    site.routes["/rss"] = Reply(body=rss([(f"T{i}", link) for i, link in enumerate(links)]), headers=XML)
    config = config_for(Source(name="wire", kind="feed", url=site.url("/rss", "news.example")))
    night = run(config)
    # feedparser drops the first link: the item is still accounted for
    assert [(f.url.split("#")[-1], f.reason) for f in night.failures] == [
        ("item-1", "feed_item_without_link"),
        ("http://news.example:99999/port", "bad_url"),
    ]
    assert [c.url.rsplit("/", 1)[1] for c in night.candidates] == ["fine.html"]
    result = fetch_shard(night.candidates, config, loopback_fetcher())
    assert [f.reason for f in result.failures] == ["http_404"]
    from cleaning.models import Candidate

    odd = [
        Candidate(u, "wire", "test")
        for u in ("http://[::1/broken", "http://news.example:99999/port", site.url("/%zz", "news.example"))
    ]
    result = fetch_shard(odd, config, loopback_fetcher())
    assert [f.reason for f in result.failures] == ["bad_url", "bad_url", "http_404"]  # each accounted, none lost


def test_old_rss_091_doctype_is_still_read(site):
    body = b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel><title>T</title><item><title>Old</title><link>http://news.example/old.html</link></item></channel></rss>'
    site.routes["/rss"] = Reply(body=body, headers=XML)
    night = run(config_for(Source(name="old", kind="feed", url=site.url("/rss", "news.example"))))
    assert [c.url for c in night.candidates] == ["http://news.example/old.html"]


def test_feed_body_that_names_a_local_file_is_not_opened(site, tmp_path):
    secret = tmp_path / "secret-feed.xml"
    secret.write_bytes(rss([("Secret", "http://news.example/secret.html")]))
    site.routes["/rss"] = Reply(body=str(secret).encode(), headers=XML)
    night = run(config_for(Source(name="sly", kind="feed", url=site.url("/rss", "news.example"))))
    assert night.candidates == [] and [f.reason for f in night.failures] == ["bad_feed"]


@pytest.mark.parametrize(
    "content_type,encoding",
    [
        ("application/rss+xml; charset=utf-8", "windows-1252"),
        ("text/xml", "iso-8859-1"),
        ("application/xml; charset=iso-8859-1", "utf-8"),
    ],
)
def test_feed_charsets(site, content_type, encoding):
    site.routes["/rss"] = Reply(
        body=rss([("Café au lait à la une", "/a/cafe.html")], encoding=encoding), headers={"Content-Type": content_type}
    )
    night = run(config_for(Source(name="fr", kind="feed", url=site.url("/rss", "news.example"))))
    assert [c.title for c in night.candidates] == ["Café au lait à la une"]


def test_feed_items_pointing_at_private_addresses_are_refused(site, monkeypatch):
    """The feed host is loopback (allowed here); its items resolve to private ranges: no socket to them."""
    targets = [
        "http://intranet.test/admin",  # -> 10.20.30.40
        "http://169.254.169.254/latest/meta-data/iam/",  # cloud metadata, as a literal
        "http://metadata.test/computeMetadata/v1/",  # -> fd00:ec2::254
        "http://[::ffff:192.168.1.1]/router",
        "http://router.test:8080/",  # -> 192.168.0.1
        "file:///etc/passwd",
    ]
    site.routes["/rss"] = Reply(body=rss([(f"T{i}", t) for i, t in enumerate(targets)]), headers=XML)
    dns = fake_dns({"intranet.test": "10.20.30.40", "metadata.test": "fd00:ec2::254", "router.test": "192.168.0.1"})
    real = socket.create_connection
    opened = []
    monkeypatch.setattr(
        socket, "create_connection", lambda address, *a, **k: opened.append(address[0]) or real(address, *a, **k)
    )
    source = Source(name="evil", kind="feed", url=site.url("/rss", "feeds.example"))
    config = config_for(source)
    fetcher = loopback_fetcher(dns=dns)
    night = discover_night(config, fetcher=fetcher)
    assert len(night.candidates) == len(targets)
    result = fetch_shard(night.candidates, config, fetcher)
    assert result.captures == []
    reasons = [f.reason for f in result.failures]
    # the IPv4-mapped IPv6 literal carries a private address: refused like the others
    assert reasons == ["blocked_address"] * 5 + ["bad_url"]
    assert set(opened) == {"127.0.0.1"}  # only the feed host was ever connected to


def test_billion_laughs_sitemap_is_refused_fast(site):
    lol = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10))
    bomb = f'<?xml version="1.0"?><!DOCTYPE urlset [{lol}]><urlset><url><loc>&lol9;</loc></url></urlset>'.encode()
    site.routes["/sitemap.xml"] = Reply(body=bomb, headers={"Content-Type": "application/xml"})
    started = time.monotonic()
    night = run(config_for(Source(name="maps", kind="sitemap", url=site.url("/sitemap.xml", "news.example"))))
    assert [f.reason for f in night.failures] == ["unsafe_xml"] and night.candidates == []
    assert time.monotonic() - started < 1


def test_sitemap_index_with_gzip_news_and_broken_children(site):
    host = "maps.example"
    site.routes["/index.xml"] = Reply(
        body=index(["/news.xml", "/old.xml.gz", "/missing.xml", "/news.xml"]),
        headers={"Content-Type": "application/xml"},
    )
    site.routes["/news.xml"] = Reply(
        body=urlset([site.url(f"/n/{i}.html", host) for i in range(3)], news=True),
        headers={"Content-Type": "application/xml"},
    )
    site.routes["/old.xml.gz"] = Reply(
        body=gzip.compress(urlset(["/o/1.html"])), headers={"Content-Type": "application/x-gzip"}
    )
    night = run(config_for(Source(name="maps", kind="sitemap", url=site.url("/index.xml", host))))
    urls = [c.url for c in night.candidates]
    assert urls == [site.url(f"/n/{i}.html", host) for i in range(3)] + [site.url("/o/1.html", host)]
    assert night.candidates[0].title == "Title of 0.html" and night.candidates[0].published_at.hour == 5
    assert night.candidates[-1].published_at.date().isoformat() == "2025-08-27"
    assert [(f.url.rsplit("/", 1)[1], f.reason) for f in night.failures] == [("missing.xml", "sitemap_http_404")]
    assert site.paths(host).count("/news.xml") == 1  # a repeated child is read once


def test_sitemap_child_limit_and_plain_text_sitemaps(site):
    host = "maps.example"
    site.routes["/index.xml"] = Reply(
        body=index([f"/s{i}.txt" for i in range(4)]), headers={"Content-Type": "application/xml"}
    )
    for i in range(4):
        site.routes[f"/s{i}.txt"] = Reply(
            body=f"https://news.example/{i}.html\n# not a url\n".encode(), headers={"Content-Type": "text/plain"}
        )
    night = run(config_for(Source(name="maps", kind="sitemap", url=site.url("/index.xml", host)), max_sitemaps=2))
    assert [c.url for c in night.candidates] == ["https://news.example/0.html", "https://news.example/1.html"]
    assert [f.reason for f in night.failures] == ["sitemap_skipped", "sitemap_skipped"]


def test_urls_local_and_warc_sources(tmp_path, site):
    from cleaning.fetch import fetch_one
    from cleaning.fetch.warc import build_warc

    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "one.html").write_bytes(page("Local"))
    site.routes["/w.html"] = Reply(body=page("Warc"))
    captured = fetch_one(
        loopback_fetcher(), site.url("/w.html", "archive.example"), Source(name="x", kind="urls", path="l")
    )
    response = loopback_fetcher().get(site.url("/w.html", "archive.example"))
    (tmp_path / "night.warc.gz").write_bytes(build_warc([(captured, response)]))
    (tmp_path / "list.txt").write_text(f"# comment\n{site.url('/w.html', 'archive.example')}\n\n")
    sources = (
        Source(name="list", kind="urls", path=str(tmp_path / "list.txt")),
        Source(name="disk", kind="local", path=str(tmp_path / "pages")),
        Source(name="archive", kind="warc", path=str(tmp_path)),
    )
    config = config_for(*sources)
    night = run(config)
    assert [(c.source, c.url.rsplit("/", 1)[1]) for c in night.candidates] == [("list", "w.html"), ("disk", "one.html")]
    # the WARC offers the same URL as the list; listed alone it is read from the file, not the network
    alone = discover_night(config_for(sources[2]), fetcher=loopback_fetcher())
    before = len(site.hits)
    result = fetch_shard(alone.candidates, config_for(sources[2]), loopback_fetcher())
    assert [c.body for c in result.captures] == [page("Warc")] and len(site.hits) == before
    assert result.exchanges[0][1].from_network is False


def test_config_accepts_new_kinds(tmp_path):
    (tmp_path / "a.warc.gz").write_bytes(b"")
    (tmp_path / "sitemap.xml").write_bytes(urlset(["https://news.example/a.html"]))
    (tmp_path / "sources.toml").write_text(
        "[fetch]\nper_host_concurrency = 2\nobey_robots = true\nskip_seen = false\n\n"
        '[[sources]]\nname = "maps"\nkind = "sitemap"\nurl = "https://news.example/sitemap.xml"\ndelay_seconds = 2\n\n'
        '[[sources]]\nname = "disk-map"\nkind = "sitemap"\nurl = "sitemap.xml"\n\n'
        '[[sources]]\nname = "archive"\nkind = "warc"\npath = "a.warc.gz"\n'
    )
    config = load_config(tmp_path / "sources.toml")
    assert [s.kind for s in config.sources] == ["sitemap", "sitemap", "warc"]
    assert config.fetch.per_host_concurrency == 2 and config.fetch.skip_seen is False
    found = discover_source(config.source("disk-map"), loopback_fetcher(), config, HttpCache())
    assert [c.url for c in found.found] == ["https://news.example/a.html"]


def test_config_rejects_bad_fetch_values(tmp_path):
    from cleaning.config import ConfigError

    (tmp_path / "sources.toml").write_text("[fetch]\nper_host_concurrency = 0\n")
    with pytest.raises(ConfigError, match="per_host_concurrency"):
        load_config(tmp_path / "sources.toml")
    (tmp_path / "sources.toml").write_text('[[sources]]\nname = "m"\nkind = "sitemap"\n')
    with pytest.raises(ConfigError, match="needs 'url'"):
        load_config(tmp_path / "sources.toml")
