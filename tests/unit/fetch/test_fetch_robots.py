"""robots.txt: the RFC 9309 rules, and the fetcher honouring them against a loopback server."""

from __future__ import annotations

import pytest

from cleaning.fetch import FetchError
from cleaning.fetch.robots import Robots, agent_token
from tests.support import Reply, Site, loopback_fetcher, page

ROBOTS = """\
# comments and stray lines are ignored
Sitemap: https://news.example/sitemap.xml

User-agent: *
Disallow: /
Allow: /news/
Disallow: /news/drafts/
Disallow: /*.pdf$
Allow: /search?q=*&page=1$

User-agent: NewsClean
User-agent: otherbot
Disallow: /private/
Crawl-delay: 2.5
"""


def test_agent_token():
    assert agent_token("newsclean/0.1 (+https://example.org; ops@example.org)") == "newsclean"
    assert agent_token("Mozilla/5.0 (compatible)") == "mozilla"


@pytest.mark.parametrize(
    "agent,path,allowed",
    [
        ("somebot", "/", False),
        ("somebot", "/news/today.html", True),  # the longer Allow beats "Disallow: /"
        ("somebot", "/news/drafts/x.html", False),  # the longer Disallow beats the Allow
        ("somebot", "/news/report.pdf", False),  # "*" and "$"
        ("somebot", "/news/report.pdf?x=1", True),  # "$" anchors the end
        ("somebot", "/search?q=rain&page=1", True),
        ("somebot", "/robots.txt", True),  # always
        ("newsclean", "/", True),  # our own group replaces "*"
        ("newsclean", "/private/x", False),
        ("otherbot", "/private/", False),
    ],
)
def test_longest_match_wins(agent, path, allowed):
    assert Robots.parse(ROBOTS).allows(agent, path) is allowed


def test_crawl_delay_and_status_meanings():
    robots = Robots.parse(ROBOTS)
    assert robots.crawl_delay("newsclean") == 2.5 and robots.crawl_delay("somebot") is None
    assert Robots.from_fetch(404, b"").allows("newsclean", "/anything")  # unavailable: no rules
    assert Robots.from_fetch(403, b"").allows("newsclean", "/anything")
    for status in (429, 500, 503, None):  # unreachable: nothing tonight
        assert not Robots.from_fetch(status, b"").allows("newsclean", "/anything"), status
    assert Robots.parse("User-agent: *\nAllow: /\nDisallow:\n").allows("x", "/a")


@pytest.fixture
def site():
    server = Site()
    server.routes["/news/a.html"] = Reply(body=page("A"))
    server.routes["/news/b.html"] = Reply(body=page("B"))
    server.routes["/news/c.html"] = Reply(body=page("C"))
    server.routes["/private/secret.html"] = Reply(body=page("Secret"))
    yield server
    server.close()


def robots_reply(text: str) -> Reply:
    return Reply(body=text.encode(), headers={"Content-Type": "text/plain"})


def test_disallowed_path_is_never_requested(site):
    site.routes["/robots.txt"] = robots_reply("User-agent: *\nDisallow: /private/\n")
    fetcher = loopback_fetcher()
    with pytest.raises(FetchError) as info:
        fetcher.get(site.url("/private/secret.html", "news.example"))
    assert info.value.reason == "robots_disallowed"
    assert fetcher.get(site.url("/news/a.html", "news.example")).status == 200
    assert fetcher.get(site.url("/news/b.html", "news.example")).status == 200
    assert site.paths() == ["/robots.txt", "/news/a.html", "/news/b.html"]  # robots.txt read once


def test_crawl_delay_spaces_requests(site):
    site.routes["/robots.txt"] = robots_reply("User-agent: newsclean\nCrawl-delay: 0.15\n")
    fetcher = loopback_fetcher(delay_seconds=0.0)
    for name in "abc":
        fetcher.get(site.url(f"/news/{name}.html", "slow.example"))
    times = [h.at for h in site.hits if h.path.startswith("/news/")]
    assert all(b - a >= 0.13 for a, b in zip(times, times[1:]))


def test_crawl_delay_over_the_limit_skips_the_host(site):
    site.routes["/robots.txt"] = robots_reply("User-agent: *\nCrawl-delay: 3600\n")
    with pytest.raises(FetchError) as info:
        loopback_fetcher(max_crawl_delay_seconds=30).get(site.url("/news/a.html", "glacial.example"))
    assert info.value.reason == "crawl_delay_too_long"
    assert site.paths() == ["/robots.txt"]


def test_unreachable_robots_means_nothing_is_fetched(site):
    site.routes["/robots.txt"] = Reply(503, b"down", {"Content-Type": "text/plain"})
    with pytest.raises(FetchError) as info:
        loopback_fetcher(retries=1).get(site.url("/news/a.html", "down.example"))
    assert info.value.reason == "robots_unavailable"
    assert "/news/a.html" not in site.paths()


def test_missing_robots_allows_everything_and_the_switch_turns_it_off(site):
    assert loopback_fetcher().get(site.url("/private/secret.html", "open.example")).status == 200  # 404 robots.txt
    before = len(site.hits)
    loopback_fetcher(obey_robots=False).get(site.url("/news/a.html", "other.example"))
    assert [h.path for h in site.hits[before:]] == ["/news/a.html"]
