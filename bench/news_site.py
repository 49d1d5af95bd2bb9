"""A synthetic news web on loopback, for end-to-end benchmarks.

``NewsWeb(articles, hosts)`` describes ``hosts`` outlets at 127.0.0.2, 127.0.0.3, ... (all of
127.0.0.0/8 is loopback on Linux), each with an RSS feed at ``/feed.xml`` and article pages at
``/news/<n>.html``. Pages are generated on request from a seed, so 100,000 pages need no disk:

* bodies are assembled from the sentences of real article bodies (``--gold``), 3-10 paragraphs;
* markup is that of a real news page: head with metadata and JSON-LD, inline scripts and styles,
  navigation, a cookie banner, share bar, related-links box, newsletter pitch and footer, so a
  page has about 800 elements and 110 KB, like the median page of the article-extraction
  benchmark (785 elements, 115 KB);
* ``copy_share`` of the pages are syndicated copies of another outlet's story, edited with the
  syndication simulator's newsroom edits (cleaning/evaluate/syndication.py);
* ``bad_share`` of the feed items are bad: a 404, a 500, an empty 200, or binary bytes.

``serve()`` starts one threaded HTTP server per host and returns a stop function.
"""

from __future__ import annotations

import html
import json
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cleaning.evaluate.syndication import (
    EDIT_KINDS,
    EditContext,
    SimSettings,
    SourceStory,
    load_gold_stories,
    make_copy,
    split_sentences,
)

SECTIONS = ["World", "Business", "Politics", "Science", "Sport", "Culture", "Opinion", "Weather"]
PUBLISHED = datetime(2025, 8, 28, 6, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Item:
    host: int
    index: int
    kind: str  # "article" | "copy" | "http_404" | "http_500" | "empty" | "binary"
    story: int


def _inline_links(text: str, rng: random.Random) -> str:
    """Real bodies link a few words to other stories."""
    words = text.split(" ")
    for _ in range(min(2, len(words) // 12)):
        k = rng.randrange(len(words) - 2)
        words[k] = f'<a href="/topics/{k}">{words[k]}</a>'
    return " ".join(words)


class NewsWeb:
    def __init__(
        self,
        articles: int,
        hosts: int,
        gold: str,
        seed: int = 11,
        copy_share: float = 0.2,
        bad_share: float = 0.01,
        port: int = 18080,
    ):
        self.hosts, self.port, self.seed = hosts, port, seed
        stories = load_gold_stories(gold)
        self.sentences = [s for st in stories for p in st.paragraphs for s in split_sentences(p) if len(s.split()) >= 5]
        rng = random.Random(seed)
        self.items: list[Item] = []
        originals: list[int] = []
        for n in range(articles):
            host = n % hosts
            roll = rng.random()
            if roll < bad_share:
                kind = rng.choice(["http_404", "http_500", "empty", "binary"])
                self.items.append(Item(host, n, kind, -1))
            elif roll < bad_share + copy_share and originals:
                self.items.append(Item(host, n, "copy", rng.choice(originals)))
            else:
                self.items.append(Item(host, n, "article", n))
                originals.append(n)
        self.by_host: dict[int, list[Item]] = {}
        for item in self.items:
            self.by_host.setdefault(item.host, []).append(item)

    def address(self, host: int) -> str:
        return f"127.0.0.{host + 2}"

    def url(self, item: Item) -> str:
        return f"http://{self.address(item.host)}:{self.port}/news/{item.index}.html"

    def feed_url(self, host: int) -> str:
        return f"http://{self.address(host)}:{self.port}/feed.xml"

    @lru_cache(maxsize=4096)  # noqa: B019 (one site object per benchmark run; the cache dies with it)
    def story(self, n: int) -> SourceStory:
        rng = random.Random(self.seed * 1_000_003 + n)
        paragraphs = tuple(
            " ".join(rng.choice(self.sentences) for _ in range(rng.randint(2, 4))) for _ in range(rng.randint(3, 10))
        )
        return SourceStory(f"s{n}", paragraphs)

    def body(self, item: Item) -> list[str]:
        story = self.story(item.story)
        if item.kind != "copy":
            return list(story.paragraphs)
        rng = random.Random(self.seed * 7919 + item.index)
        donors = [self.story(rng.randrange(len(self.items))).paragraphs for _ in range(2)]
        ctx = EditContext(first_sentence=split_sentences(story.paragraphs[0])[0], donors=donors, settings=SimSettings())
        kinds = rng.sample(EDIT_KINDS, rng.choice((1, 1, 2, 2, 3)))
        return [p for p in make_copy(story, kinds, rng, ctx).split("\n") if p.strip()]

    @lru_cache(maxsize=1024)  # noqa: B019 (as story above)
    def chrome(self, host: int) -> tuple[str, str, str, str, str]:
        """The parts of an outlet's pages that every page repeats: menus, footer, ads, assets."""
        nav = "".join(
            f'<li class="menu-item"><a href="/{s.lower()}/">{s}</a><div class="sub"><ul>'
            + "".join(f'<li><a href="/{s.lower()}/{k}/">{s} topic {k}</a></li>' for k in range(12))
            + "</ul></div></li>"
            for s in SECTIONS
        )
        footer_links = "".join(f'<li><a href="/f/{k}">Footer link {k}</a></li>' for k in range(80))
        ads = "".join(f'<div class="ad-slot" id="ad{k}"><div class="ad-inner"></div></div>' for k in range(20))
        script = (
            "var cfg="
            + json.dumps(
                {"ads": [{"slot": f"s{i}", "sizes": [[300, 250], [728, 90]]} for i in range(60)], "host": host}
            )
            + ";"
        )
        style = "".join(
            f".c{i}{{margin:{i}px;padding:{i % 7}px;color:#{(i + host) * 99991 % 0xFFFFFF:06x}}}" for i in range(1700)
        )
        return nav, footer_links, ads, script, style

    def page(self, item: Item) -> bytes:
        rng = random.Random(self.seed * 31 + item.index)
        outlet = f"Outlet {item.host}"
        paragraphs = self.body(item)
        title = " ".join(paragraphs[0].split()[:9]).rstrip(".,;:")
        when = PUBLISHED + timedelta(minutes=item.index % 1000)
        related = "".join(
            f'<li><a href="/news/{rng.randrange(len(self.items))}.html">{html.escape(" ".join(rng.choice(self.sentences).split()[:8]))}</a></li>'
            for _ in range(6)
        )
        cards = "".join(
            f'<div class="card"><a href="/news/{rng.randrange(len(self.items))}.html"><div class="thumb"><img '
            f'src="/img/{k}.jpg" alt=""></div>'
            f'<h3>{html.escape(" ".join(rng.choice(self.sentences).split()[:9]))}</h3></a><p class="teaser">{html.escape(" ".join(rng.choice(self.sentences).split()[:16]))}…</p>'
            f'<span class="time">{k + 1}h ago</span></div>'
            for k in range(20)
        )
        comments = "".join(
            f'<div class="comment"><div class="who"><span>reader{k}</span><time>{k}m</time></div><p>{html.escape(rng.choice(self.sentences))}</p>'
            '<div class="actions"><a href="#">Reply</a> <a href="#">Like</a></div></div>'
            for k in range(8)
        )
        nav, footer_links, ads, script, style = self.chrome(item.host)
        ld = json.dumps(
            {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": title,
                "datePublished": when.isoformat(),
                "author": {"@type": "Person", "name": f"Reporter {item.index % 97}"},
            }
        )
        body = "".join(
            f'<div class="para-wrap"><p>{_inline_links(html.escape(p), rng)}</p></div>'
            + (f'<div class="inline-ad">{ads[:60]}</div>' if k == 2 else "")
            for k, p in enumerate(paragraphs)
        )
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} | {outlet}</title>
<meta property="og:title" content="{html.escape(title)}"><meta property="og:type" content="article">
<meta property="article:published_time" content="{when.isoformat()}"><meta name="author" content="Reporter {item.index % 97}">
<link rel="canonical" href="{self.url(item)}"><style>{style}</style><script>{script}</script>
<script type="application/ld+json">{ld}</script></head><body>
<div class="cookie">We use cookies to improve your experience on {outlet}. <button>Accept all</button></div>
<header><div class="top"><a href="/">{outlet}</a><form><input name="q"><button>Search</button></form></div><nav><ul>{nav}</ul></nav></header>
<div class="layout">{ads}<main><article><h1>{html.escape(title)}</h1><div class="byline">By <a href="/authors/{item.index % 97}">Reporter {item.index % 97}</a> | <time datetime="{when.isoformat()}">{when:%b %d, %Y}</time></div>
<div class="share"><a href="#">Share on Facebook</a> <a href="#">Share on X</a> <a href="#">Email</a></div><div class="story-body">{body}</div></article>
<section class="comments"><h2>Comments</h2>{comments}</section>
<aside><h2>Related stories</h2><ul>{related}</ul><div class="cards">{cards}</div></aside>
<div class="newsletter">Sign up for the {outlet} Morning Briefing newsletter</div></main></div>
<footer><ul>{footer_links}</ul><p>Copyright 2025 {outlet}. All rights reserved.</p><a href="/about">About us</a> | <a href="/privacy">Privacy policy</a></footer>
<script>{script}</script></body></html>"""
        return page.encode("utf-8")

    def feed(self, host: int) -> bytes:
        items = "".join(
            f"<item><title>Story {it.index}</title><link>{self.url(it)}</link><guid>{self.url(it)}</guid>"
            f"<pubDate>{format_datetime(PUBLISHED + timedelta(minutes=it.index % 1000))}</pubDate></item>"
            for it in self.by_host.get(host, [])
        )
        return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Outlet {host}</title><link>http://{self.address(host)}/</link><description>bench</description>{items}</channel></rss>'.encode()

    def serve(self):
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                host = int(self.server.server_address[0].rsplit(".", 1)[1]) - 2
                if self.path == "/robots.txt":
                    return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
                if self.path == "/feed.xml":
                    return self._send(200, web.feed(host), "application/rss+xml")
                if self.path.startswith("/news/") and self.path.endswith(".html"):
                    try:
                        item = web.items[int(self.path[6:-5])]
                    except (ValueError, IndexError):
                        return self._send(404, b"not found", "text/plain")
                    if item.kind == "http_404":
                        return self._send(404, b"not found", "text/html")
                    if item.kind == "http_500":
                        return self._send(500, b"error", "text/html")
                    if item.kind == "empty":
                        return self._send(200, b"", "text/html")
                    if item.kind == "binary":
                        return self._send(200, bytes(range(256)) * 64, "text/html")
                    return self._send(200, web.page(item), "text/html; charset=utf-8")
                return self._send(404, b"not found", "text/plain")

            def _send(self, status, body, ctype):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        servers = []
        for host in range(self.hosts):
            server = ThreadingHTTPServer((self.address(host), self.port), Handler)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)

        def stop():
            for server in servers:
                server.shutdown()
                server.server_close()

        return stop
