"""Nights in a row over a loopback site, through the pipeline's discover and fetch steps.

Checks what the incremental state promises: a second night over unchanged sources sends
conditional requests for the feed and the sitemap and fetches no article again; a URL that failed
is tried again the next night even though its feed did not change; re-running a date gives that
date's result again; every candidate ends as a capture or a failure; the WARC matches the Parquet.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pyarrow.parquet as pq
import pytest

from cleaning import pipeline
from cleaning.config import load_config
from cleaning.fetch.warc import iter_pages
from tests.support import Reply, Site, fake_dns, page

NIGHT = date(2025, 9, 1)
FEED_HOST, MAP_HOST = "wire.example", "maps.test"


class Document:
    """A feed or sitemap that answers conditional requests like a well-behaved server."""

    def __init__(self, body: bytes, content_type: str, etag: str | None = None, last_modified: str | None = None):
        self.body, self.content_type, self.etag, self.last_modified = body, content_type, etag, last_modified

    def __call__(self, handler) -> Reply:
        validators = {k: v for k, v in (("ETag", self.etag), ("Last-Modified", self.last_modified)) if v}
        if (self.etag and handler.headers.get("If-None-Match") == self.etag) or (
            self.last_modified and not self.etag and handler.headers.get("If-Modified-Since") == self.last_modified
        ):
            return Reply(304, b"", validators)
        return Reply(200, self.body, {"Content-Type": self.content_type, **validators})


def rss(site: Site, names: list[str]) -> bytes:
    items = "".join(
        f"<item><title>{n}</title><link>{site.url(f'/a/{n}.html', FEED_HOST)}?utm_source=rss</link></item>"
        for n in names
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{items}</channel></rss>'.encode()


def sitemap(site: Site, names: list[str]) -> bytes:
    urls = "".join(f"<url><loc>{site.url(f'/s/{n}.html', MAP_HOST)}</loc></url>" for n in names)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()


@pytest.fixture
def world(tmp_path, monkeypatch):
    import cleaning.fetch

    site = Site()
    feed_items = ["one", "two", "three", "flaky"]
    map_items = ["alpha", "beta", "gamma"]
    for name in feed_items:
        site.routes[(FEED_HOST, f"/a/{name}.html")] = Reply(body=page(name.title()))
    for name in map_items:
        site.routes[(MAP_HOST, f"/s/{name}.html")] = Reply(body=page(name.title()))
    site.flaky_up = False
    site.routes[(FEED_HOST, "/a/flaky.html")] = lambda h: (
        Reply(body=page("Flaky")) if site.flaky_up else Reply(503, b"busy", {"Content-Type": "text/plain"})
    )
    site.routes[(FEED_HOST, "/rss.xml")] = Document(rss(site, feed_items), "application/rss+xml", etag='"v1"')
    site.routes[(MAP_HOST, "/sitemap.xml")] = Document(
        sitemap(site, map_items), "application/xml", last_modified="Mon, 01 Sep 2025 05:00:00 GMT"
    )
    (tmp_path / "sources.toml").write_text(
        f"""
[pipeline]
lake = "lake"
shards = 2

[fetch]
allow_networks = ["127.0.0.0/8"]
delay_seconds = 0.0
retries = 1
backoff_seconds = 0.01

[[sources]]
name = "wire"
kind = "feed"
url = "{site.url("/rss.xml", FEED_HOST)}"

[[sources]]
name = "maps"
kind = "sitemap"
url = "{site.url("/sitemap.xml", MAP_HOST)}"
"""
    )
    config = load_config(tmp_path / "sources.toml")
    real = cleaning.fetch.fetcher_for
    monkeypatch.setattr(cleaning.fetch, "fetcher_for", lambda config, resolve=None: real(config, fake_dns()))
    yield site, config
    site.close()


def night(config, day: date) -> dict:
    """The whole night (its seen-URL state commits with its publication); returns the discover
    counts and what each fetch shard left in the work folder."""
    manifest = pipeline.run_night(config, day)
    found = next(s for s in manifest["stages"] if s["stage"] == "discover")
    fetched = [s for s in manifest["stages"] if s["stage"] == "fetch"]
    wd = f"{config.lake}/{pipeline.work_dir(day)}"
    candidates = [
        r["url"] for s in found["shards"] for r in pq.read_table(f"{wd}/candidates/shard-{s:05d}.parquet").to_pylist()
    ]
    failures = [
        r for s in found["shards"] for r in pq.read_table(f"{wd}/failures/fetch-shard-{s:05d}.parquet").to_pylist()
    ]
    captures = [
        r
        for s in found["shards"]
        for r in pq.read_table(f"{config.lake}/raw/run_date={day}/shard-{s:05d}.parquet").to_pylist()
    ]
    return {
        "found": found,
        "fetched": fetched,
        "candidates": sorted(candidates),
        "failures": failures,
        "captures": captures,
    }


def article_requests(site: Site, since: int) -> list[str]:
    return [h.path.split("?")[0] for h in site.hits[since:] if h.path.startswith(("/a/", "/s/"))]


def test_nights_in_a_row(world):
    site, config = world

    # night 1: everything is new; the flaky page fails and every candidate is accounted for
    first = night(config, NIGHT)
    assert first["found"]["candidates"] == 7 and first["found"]["already_seen"] == 0
    assert len(first["captures"]) == 6
    assert [(f["url"].rsplit("/", 1)[1], f["stage"], f["reason"], f["status"]) for f in first["failures"]] == [
        ("flaky.html?utm_source=rss", "fetch", "http_503", 503)
    ]
    assert sorted([c["url"] for c in first["captures"]] + [f["url"] for f in first["failures"]]) == first["candidates"]
    assert all(url.endswith("?utm_source=rss") for url in first["candidates"] if "/a/" in url)  # fetched as published
    wd = f"{config.lake}/{pipeline.work_dir(NIGHT)}"
    shards_of_host = {}
    for shard in first["found"]["shards"]:
        for row in pq.read_table(f"{wd}/candidates/shard-{shard:05d}.parquet").to_pylist():
            shards_of_host.setdefault(row["url"].split("/")[2].split(":")[0], set()).add(shard)
    assert all(len(shards) == 1 for shards in shards_of_host.values())  # one host, one fetch task

    # the WARC of each shard holds the same bodies as the Parquet captures
    warc_bodies = {p.url: p.body for p in iter_pages(f"{config.lake}/raw/run_date={NIGHT}", with_bodies=True)}
    assert {c["final_url"]: c["body"] for c in first["captures"]} == warc_bodies

    # night 2, sources unchanged: conditional requests, 304s, no article again, the failure retried
    site.flaky_up = True
    mark = len(site.hits)
    second = night(config, NIGHT + timedelta(days=1))
    feed_hit = next(h for h in site.hits[mark:] if h.path == "/rss.xml")
    map_hit = next(h for h in site.hits[mark:] if h.path == "/sitemap.xml")
    assert feed_hit.headers.get("if-none-match") == '"v1"'
    assert map_hit.headers.get("if-modified-since") == "Mon, 01 Sep 2025 05:00:00 GMT"
    assert second["found"]["not_modified"] == 2 and second["found"]["already_seen"] == 6
    assert article_requests(site, mark) == ["/a/flaky.html"]
    assert [c["url"].rsplit("/", 1)[1] for c in second["captures"]] == ["flaky.html?utm_source=rss"] and second[
        "failures"
    ] == []

    # re-running night 1 gives night 1's candidates again, after night 2 ran: only earlier nights count as seen
    mark = len(site.hits)
    again = night(config, NIGHT)
    assert again["candidates"] == first["candidates"]
    assert "if-none-match" not in next(h for h in site.hits[mark:] if h.path == "/rss.xml").headers
    assert sorted(c["url"] for c in again["captures"]) == sorted(first["candidates"])  # flaky is up now

    # night 3: nothing new at all, so nothing but the two conditional requests (and robots.txt)
    mark = len(site.hits)
    third = night(config, NIGHT + timedelta(days=2))
    assert third["found"]["candidates"] == 0 and article_requests(site, mark) == []
    assert sorted(h.path for h in site.hits[mark:]) == ["/robots.txt", "/robots.txt", "/rss.xml", "/sitemap.xml"]

    # night 4: the feed gained a story; only that story is fetched
    site.routes[(FEED_HOST, "/a/four.html")] = Reply(body=page("Four"))
    site.routes[(FEED_HOST, "/rss.xml")] = Document(
        rss(site, ["four", "one", "two", "three", "flaky"]), "application/rss+xml", etag='"v2"'
    )
    mark = len(site.hits)
    fourth = night(config, NIGHT + timedelta(days=3))
    assert article_requests(site, mark) == ["/a/four.html"] and fourth["found"]["not_modified"] == 1


def test_raw_captures_still_feed_the_clean_step(world):
    site, config = world
    first = night(config, NIGHT)
    stats = [pipeline.clean(config, NIGHT, shard) for shard in first["found"]["shards"]]
    assert sum(s["cleaned"] + s["rejected"] for s in stats) == len(first["captures"])
    assert all("charset=utf-8" in c["content_type"] for c in first["captures"])


def test_old_state_partitions_are_pruned_but_never_newer_ones(tmp_path):
    from cleaning.fetch import state
    from cleaning.store import Lake

    lake = Lake(str(tmp_path / "lake"))
    for day in (
        NIGHT - timedelta(days=40),
        NIGHT - timedelta(days=20),
        NIGHT - timedelta(days=3),
        NIGHT + timedelta(days=5),
    ):
        row = {"url": f"https://{day}.test/a", "final_url": f"https://{day}.test/a", "source": "s", "status": 200}
        state.write_fetched(lake, day, 0, [{**row, "fetched_at": datetime(2025, 9, 1, tzinfo=timezone.utc)}])
        state.save_http_cache(lake, day, state.HttpCache(), keep_days=30)
        state.commit_night(lake, day)
    state.prune(lake, NIGHT, seen_days=30)
    nights = lambda folder: sorted({rel.split("run_date=")[1][:10] for rel in lake.list_files(folder, ".parquet")})
    assert nights(state.FETCHED_DIR) == [
        str(NIGHT - timedelta(days=20)),
        str(NIGHT - timedelta(days=3)),
        str(NIGHT + timedelta(days=5)),
    ]
    assert nights(state.CACHE_DIR) == [str(NIGHT - timedelta(days=3)), str(NIGHT + timedelta(days=5))]
