"""Fault injection: runs killed at every step boundary, a failed night, two writers of one date.

The invariant, over every scenario: each URL a feed named ends on a *published* night (one whose
manifest checks out) as an article, a duplicate or a failure with a reason; a story is published
on exactly one night (a URL that failed is offered again the next night, so its failure may
recur until it succeeds); nothing published is cut short. A site on loopback serves the stories; the runs are the real
`cleaning run` command in a subprocess (so SIGKILL is a real crash) and, for the steps an operator
takes afterwards, the same pipeline in-process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from cleaning.config import load_config
from cleaning.crash import CRASH_ENV
from cleaning.pipeline import run_night
from cleaning.publish import check_night, read_night
from cleaning.store import Lake
from tests.support import Reply, Site, page

pytestmark = pytest.mark.slow

NIGHT = date(2025, 9, 10)
NEXT = NIGHT + timedelta(days=1)
FIRST = [f"story-{i}" for i in range(6)]
SECOND = [f"later-{i}" for i in range(3)]
WORDS = 60  # every story page holds this many body words


def feed(site: Site, names: list[str]) -> bytes:
    items = "".join(f"<item><title>{n}</title><link>{site.url(f'/a/{n}.html')}</link></item>" for n in names)
    items += "<item><title>A story with no link at all</title></item>"
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{items}</channel></rss>'.encode()


@pytest.fixture
def world(tmp_path):
    site = Site()
    for name in FIRST + SECOND:
        site.routes[f"/a/{name}.html"] = Reply(body=page(name.title(), words=WORDS))
    body = page("Cut", words=WORDS)  # the server closes after half the body it announced
    site.routes["/a/cut.html"] = Reply(
        body=body[: len(body) // 2],
        headers={"Content-Type": "text/html", "Content-Length": str(len(body))},
        length=False,
    )
    site.routes["/rss.xml"] = Reply(body=feed(site, FIRST + ["cut"]), headers={"Content-Type": "application/rss+xml"})
    config_file = tmp_path / "sources.toml"
    config_file.write_text(
        f"""
[pipeline]
lake = "lake"
shards = 2
max_failure_share = 0.5

[fetch]
allow_networks = ["127.0.0.0/8"]
delay_seconds = 0.0
retries = 0
obey_robots = false
timeout_seconds = 5.0

[[sources]]
name = "wire"
kind = "feed"
url = "{site.url("/rss.xml")}"
"""
    )
    yield site, config_file
    site.close()


def cli_run(config_file: Path, day: date, crash_after: str | None = None, **popen) -> subprocess.Popen:
    env = {**os.environ, "NEWSCLEAN_WORKERS": "1"}
    env.pop(CRASH_ENV, None)
    if crash_after:
        env[CRASH_ENV] = crash_after
    command = [sys.executable, "-m", "cleaning.cli", "run", "--config", str(config_file), "--date", day.isoformat()]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def published_nights(lake: Lake, days: list[date]) -> dict[date, dict]:
    """Tables of the nights that are completely published."""
    out = {}
    for day in days:
        if check_night(lake, day) == []:
            out[day] = rows_of(lake, day)
    return out


def rows_of(lake: Lake, day: date) -> dict[str, list[dict]]:
    """Each table's rows of a published night: the parts its manifest lists, checked."""
    return {t: table.to_pylist() for t, table in read_night(lake, day)[1].items()}


def assert_each_story_once(lake: Lake, days: list[date], site: Site, expected: list[str]) -> None:
    nights = published_nights(lake, days)
    ends: dict[str, list] = {}
    for day, tables in nights.items():
        for table, rows in tables.items():
            for row in rows:
                if table == "failures" and row["stage"] == "discover":
                    continue  # sources and link-less items, not stories
                ends.setdefault(row["url"], []).append((day, table, row.get("reason")))
    wanted = {site.url(f"/a/{name}.html") for name in expected}
    assert set(ends) == wanted, (sorted(set(ends) ^ wanted), nights.keys())
    for url, found in ends.items():
        stories = [e for e in found if e[1] != "failures"]
        assert len({e[0] for e in found}) == len(found), (url, found)  # once per night at most
        # a story is published once; a URL that failed is offered again the next night, so it
        # may fail on several nights, but never after it was published
        assert len(stories) <= 1 and (not stories or stories[0] == max(found)), (url, found)
        assert stories or all(e[1] == "failures" for e in found), (url, found)
    cut = site.url("/a/cut.html")
    if cut in ends:
        assert ends[cut][0][1:] == ("failures", "truncated")
    for tables in nights.values():
        for row in tables["articles"]:
            assert row["word_count"] == WORDS, row["url"]  # whole bodies only
        unlinked = {f["source"] for f in tables["failures"] if f["reason"] == "feed_item_without_link"}
        assert "wire" in unlinked  # the item with no link is accounted for on each night


STEPS = [
    "discover",
    "fetch",
    "clean",
    "furniture",
    "sign",
    "bucket",
    "verify",
    "cluster",
    "measure",
    "staged",
    "articles",
    "duplicates",
    "history",
    "state",
    "manifest",
]


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_at_any_step_loses_no_story(world, step):
    """Killed after `step`; the operator re-runs the date (docs/operations.md), then the next night runs."""
    site, config_file = world
    crashed = cli_run(config_file, NIGHT, crash_after=step)
    crashed.communicate(timeout=120)
    assert crashed.returncode == -9, f"the run was not killed after {step}"
    config = load_config(config_file)
    lake = Lake(config.lake)

    run_night(config, NIGHT)  # the operator's step: run the crashed date again
    site.routes["/rss.xml"] = Reply(
        body=feed(site, FIRST + ["cut"] + SECOND), headers={"Content-Type": "application/rss+xml"}
    )
    run_night(config, NEXT)
    assert_each_story_once(lake, [NIGHT, NEXT], site, FIRST + ["cut"] + SECOND)
    first = published_nights(lake, [NIGHT])[NIGHT]
    assert len(first["articles"]) == len(FIRST)  # the crashed night's stories are on their own night


@pytest.mark.parametrize("step", ["fetch", "state"])
def test_a_crashed_night_never_rerun_hides_nothing_from_the_next(world, step):
    site, config_file = world
    crashed = cli_run(config_file, NIGHT, crash_after=step)
    crashed.communicate(timeout=120)
    assert crashed.returncode == -9
    config = load_config(config_file)
    site.routes["/rss.xml"] = Reply(
        body=feed(site, FIRST + ["cut"] + SECOND), headers={"Content-Type": "application/rss+xml"}
    )
    manifest = run_night(config, NEXT)
    assert manifest["accounting"]["published"] == len(FIRST) + len(SECOND)  # D's stories on D+1
    assert_each_story_once(Lake(config.lake), [NIGHT, NEXT], site, FIRST + ["cut"] + SECOND)


def test_a_failed_night_hides_nothing_from_the_next(world):
    site, config_file = world
    for name in FIRST[:5]:
        site.routes[f"/a/{name}.html"] = Reply(503, b"down", {"Content-Type": "text/plain"})
    failed = cli_run(config_file, NIGHT)
    _, err = failed.communicate(timeout=120)
    assert failed.returncode == 3 and "failure share" in err
    for name in FIRST[:5]:
        site.routes[f"/a/{name}.html"] = Reply(body=page(name.title(), words=WORDS))
    config = load_config(config_file)
    manifest = run_night(config, NEXT)
    assert manifest["accounting"]["published"] == len(FIRST)  # none of them was marked as seen
    assert_each_story_once(Lake(config.lake), [NIGHT, NEXT], site, FIRST + ["cut"])


def test_two_runs_of_one_date_one_writes_the_other_stops(world):
    site, config_file = world
    site.routes["/a/story-0.html"] = Reply(body=page("Story-0", words=WORDS), delay=1.5)  # keep the first run busy
    first = cli_run(config_file, NIGHT)
    time.sleep(0.05)
    second = cli_run(config_file, NIGHT)
    outs = [p.communicate(timeout=120) for p in (first, second)]
    codes = sorted(p.returncode for p in (first, second))
    assert codes == [0, 4], outs
    loser = outs[[first.returncode, second.returncode].index(4)][1]
    assert "another run is writing 2025-09-10" in loser
    lake = Lake(load_config(config_file).lake)
    assert check_night(lake, NIGHT) == []
    assert_each_story_once(lake, [NIGHT], site, FIRST + ["cut"])
    assert lake.list_files("_leases", ".json") == []  # the winner gave the date back


def test_a_run_of_some_sources_on_a_published_date_is_refused(world):
    site, config_file = world
    site.routes["/other.xml"] = Reply(body=feed(site, SECOND), headers={"Content-Type": "application/rss+xml"})
    config_file.write_text(
        config_file.read_text() + f'\n[[sources]]\nname = "other"\nkind = "feed"\nurl = "{site.url("/other.xml")}"\n'
    )
    config = load_config(config_file)
    run_night(config, NIGHT)
    lake = Lake(config.lake)
    before = rows_of(lake, NIGHT)
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "cleaning.cli",
            "run",
            "--config",
            str(config_file),
            "--date",
            NIGHT.isoformat(),
            "--source",
            "wire",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "already published" in refused.stderr, refused.stderr
    assert rows_of(lake, NIGHT) == before
    assert_each_story_once(lake, [NIGHT], site, FIRST + ["cut"] + SECOND)


def test_pages_that_share_a_canonical_url_stay_distinct(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    for i in range(5):
        html = page(f"Distinct-{i}", words=WORDS).replace(
            b"<head>", b"<head><link rel='canonical' href='https://news.example/one'>"
        )
        (folder / f"p{i}.html").write_bytes(html)
    (tmp_path / "sources.toml").write_text(
        f'[pipeline]\nlake = "lake"\nshards = 1\n\n[[sources]]\nname = "saved"\nkind = "local"\npath = "{folder}"\n'
    )
    config = load_config(tmp_path / "sources.toml")
    manifest = run_night(config, NIGHT)
    assert manifest["accounting"] == {"discovered": 5, "published": 5, "duplicates": 0, "failed": 0, "unaccounted": 0}
    articles = rows_of(Lake(config.lake), NIGHT)["articles"]
    assert len({a["id"] for a in articles}) == 5 and {a["canonical_url"] for a in articles} == {
        "https://news.example/one"
    }
