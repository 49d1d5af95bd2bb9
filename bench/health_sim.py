"""Simulated breakages over many nights of the sample outlets, to choose and check the source
health flags (``cleaning.health``).

Each outlet of ``data/samples`` is served over HTTP on its own loopback address (127.0.0.2,
127.0.0.3, ...). Every night gets a new feed: the outlet's wire stories and its two special
items (a broken link, a section page) always, and each unique story with probability
``keep_share``, under URLs prefixed ``/n<night>/`` so every night's pages are new to the
seen-URL state. Cross-night dedup is off (``history_days = 0``): each night replays the same
stories, which would otherwise all be duplicates of the first night.

Breakages, injected on chosen nights for one outlet (``wire_gone``: for all outlets):

- ``template``: the outlet's pages become navigation-only pages (the article body is gone from
  the HTML, as after a redesign that loads it by script): menus, headline lists, footer;
- ``feed_404``: the outlet's feed answers 404;
- ``forbidden``: every article page answers 403 (the feed still works);
- ``wire_gone``: no outlet lists any story of one wire agency (AP, carried by two outlets).

A night's flags are scored against what was injected: every (night, outlet) breakage must be
flagged on that outlet on its first night (detection), and no flag may be raised on a healthy
(night, outlet) (false flags)::

    .venv/bin/python -m bench.health_sim --seeds 1 2 3            # the nights used to choose defaults
    .venv/bin/python -m bench.health_sim --seeds 11 12 13 14 15   # reported in bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
OUTLETS = ("northgate-herald", "coastal-ledger", "valley-wire-daily")
BREAKAGES = ("template", "feed_404", "forbidden", "wire_gone")
WIRE_GONE_AGENCY = "AP"
FIRST_NIGHT = date(2025, 9, 1)
# What each breakage is expected to raise on the outlet it hits (the test asserts exactly these).
EXPECTED = {
    "template": {"no_items", "failure_spike", "new_failure_reason"},
    "feed_404": {"no_items", "failure_spike", "new_failure_reason"},
    "forbidden": {"no_items", "failure_spike", "new_failure_reason"},
    "wire_gone": {"wire_agency_gone"},
}


@dataclass
class Outlet:
    name: str
    site: str  # the sample's site root, e.g. https://www.northgate-herald.example/
    feed: str  # the sample feed's text
    items: list[dict]  # truth.json pages of this outlet
    address: str = ""
    port: int = 0

    @property
    def root(self) -> str:
        return f"http://{self.address}:{self.port}/"


def load_outlets() -> dict[str, Outlet]:
    truth = json.loads((SAMPLES / "truth.json").read_text(encoding="utf-8"))
    outlets = {}
    for name in OUTLETS:
        info = truth["outlets"][name]
        feed = (SAMPLES / info["feed"]).read_text(encoding="utf-8")
        items = [p for p in truth["pages"] if p["outlet"] == name]
        outlets[name] = Outlet(name, info["site"], feed, items)
    return outlets


def nav_only_page(original: str) -> str:
    """The page after a redesign whose article body is drawn by script: the head survives (title,
    metadata), the body holds navigation, headline lists and a footer only."""
    head = re.search(r"<head>.*?</head>", original, re.S | re.I)
    sections = ["News", "Business", "Politics", "Science", "Sport", "Weather", "Opinion", "Culture", "Travel"]
    nav = "".join(f"<li><a href='/{s.lower()}/'>{s}</a></li>" for s in sections)
    lists = "".join(
        f"<li><a href='/{s.lower()}/latest.html'>Latest {s.lower()} headlines and analysis from our newsroom</a></li>"
        for s in sections
    )
    return (
        f"<!DOCTYPE html><html lang='en'>{head.group(0) if head else '<head><title>News</title></head>'}<body>"
        f"<header><nav><ul>{nav}</ul></nav></header><main><div id='app' data-loading='true'></div>"
        f"<section class='most-read'><h2>Most read</h2><ul>{lists}</ul></section></main>"
        f"<footer><ul>{nav}</ul><p>Sign up for our newsletter. Follow us on social media.</p>"
        f"<p>Copyright 2025. All rights reserved.</p></footer></body></html>"
    )


@dataclass
class Night:
    index: int
    keep: dict[str, set[str]] = field(default_factory=dict)  # outlet -> kept item URLs (sample URLs)
    broken: dict[str, str] = field(default_factory=dict)  # outlet -> breakage


class Web:
    """The outlets on loopback; ``night`` says what they serve."""

    def __init__(self, outlets: dict[str, Outlet]):
        self.outlets = outlets
        self.night: Night | None = None
        self.servers = []

    def feed_for(self, outlet: Outlet) -> str:
        night = self.night
        kept = night.keep[outlet.name]

        # RSS items or Atom entries whose link is not kept tonight are dropped
        def keep_block(match: re.Match) -> str:
            link = re.search(r"<link>([^<]+)</link>|<link [^>]*href=\"([^\"]+)\"", match.group(0))
            url = (link.group(1) or link.group(2)) if link else ""
            return match.group(0) if url in kept else ""

        text = re.sub(r"\s*<(item|entry)>.*?</\1>", keep_block, outlet.feed, flags=re.S)
        return text.replace(outlet.site, f"{outlet.root}n{night.index}/")

    def handler(self, outlet: Outlet):
        web = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send(self, status: int, body: bytes, kind: str = "text/html; charset=utf-8") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                night = web.night
                broken = night.broken.get(outlet.name)
                path = self.path.split("?", 1)[0]
                if path == "/feed.xml":
                    if broken == "feed_404":
                        return self.send(404, b"<h1>Not found</h1>")
                    return self.send(200, web.feed_for(outlet).encode(), "application/xml; charset=utf-8")
                match = re.fullmatch(rf"/n{night.index}/(.+)", path)
                file = SAMPLES / outlet.name / match.group(1) if match else None
                if file is None or ".." in path or not file.is_file():
                    return self.send(404, b"<h1>Not found</h1>")
                if broken == "forbidden":
                    return self.send(403, b"<h1>Access denied</h1>")
                body = file.read_text(encoding="utf-8")
                if broken == "template":
                    body = nav_only_page(body)
                return self.send(200, body.encode())

        return Handler

    def start(self) -> None:
        for number, outlet in enumerate(self.outlets.values(), 2):
            outlet.address = f"127.0.0.{number}"
            server = ThreadingHTTPServer((outlet.address, 0), self.handler(outlet))
            server.daemon_threads = True
            outlet.port = server.server_address[1]
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def plan_nights(
    outlets: dict[str, Outlet], nights: int, schedule: dict[int, dict[str, str]], seed: int, keep_share: float
):
    rng = random.Random(seed)
    planned = []
    for index in range(nights):
        night = Night(index, broken=dict(schedule.get(index, {})))
        gone = WIRE_GONE_AGENCY if "wire_gone" in night.broken.values() else None
        for name, outlet in outlets.items():
            kept = set()
            for item in outlet.items:
                if gone and item["wire_agency"] == gone:
                    continue
                if item["kind"] != "article" or item["wire_agency"] or rng.random() < keep_share:
                    kept.add(item["url"])
            night.keep[name] = kept
        planned.append(night)
    return planned


def random_schedule(seed: int, nights: int, first: int) -> dict[int, dict[str, str]]:
    """Each breakage once, on its own night from ``first`` on, on a random outlet; ``forbidden``
    lasts two nights; healthy nights between."""
    rng = random.Random(seed * 7919)
    kinds = list(BREAKAGES)
    rng.shuffle(kinds)
    free = list(range(first, nights))
    schedule: dict[int, dict[str, str]] = {}
    for kind in kinds:
        length = 2 if kind == "forbidden" else 1
        starts = [n for n in free if all(m in free for m in range(n, n + length))]
        start = rng.choice(starts)
        outlet = "*" if kind == "wire_gone" else rng.choice(OUTLETS)
        for n in range(start, start + length):
            schedule.setdefault(n, {})[outlet if outlet != "*" else OUTLETS[0]] = kind
            free.remove(n)
    return schedule


def write_config(path: Path, lake: Path, outlets: dict[str, Outlet], health: dict | None = None) -> Path:
    lines = [
        "[pipeline]",
        f'lake = "{lake}"',
        "shards = 1",
        "max_failure_share = 0.9",
        "[fetch]",
        "delay_seconds = 0.0",
        "retries = 0",
        "obey_robots = false",
        'allow_networks = ["127.0.0.0/8"]',
        "[dedup]",
        "history_days = 0",
        "[health]",
    ]
    lines += [f"{k} = {json.dumps(v)}" for k, v in (health or {}).items()]
    for outlet in outlets.values():
        lines += ["[[sources]]", f'name = "{outlet.name}"', 'kind = "feed"', f'url = "{outlet.root}feed.xml"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def affected(night: Night, outlets: dict[str, Outlet]) -> dict[str, str]:
    """Outlet -> breakage for the outlets a night's breakages hit; ``wire_gone`` hits every
    outlet that carries the agency."""
    out = {}
    for name, kind in night.broken.items():
        if kind == "wire_gone":
            for other, outlet in outlets.items():
                if any(item["wire_agency"] == WIRE_GONE_AGENCY for item in outlet.items):
                    out[other] = kind
        else:
            out[name] = kind
    return out


def simulate(
    workdir: Path,
    nights: int = 12,
    seed: int = 1,
    schedule: dict[int, dict[str, str]] | None = None,
    keep_share: float = 0.8,
    health: dict | None = None,
    progress=None,
) -> list[dict]:
    """Run the nights; returns per night its date, breakages, the outlets they hit and the flags
    (``{source: [flag names]}``) with their evidence."""
    from cleaning.config import load_config
    from cleaning.health import read_night
    from cleaning.pipeline import run_night
    from cleaning.store import Lake

    outlets = load_outlets()
    web = Web(outlets)
    web.start()
    try:
        if schedule is None:
            schedule = random_schedule(seed, nights, load_config_min_history(health))
        planned = plan_nights(outlets, nights, schedule, seed, keep_share)
        config = load_config(write_config(workdir / "health-sim.toml", workdir / "lake", outlets, health))
        results = []
        for night in planned:
            web.night = night
            run_date = FIRST_NIGHT + timedelta(days=night.index)
            started = time.monotonic()
            run_night(config, run_date)
            rows = read_night(Lake(config.lake), run_date)
            results.append(
                {
                    "night": night.index,
                    "run_date": run_date.isoformat(),
                    "broken": dict(night.broken),
                    "affected": affected(night, outlets),
                    "flags": {r["source"]: sorted({f["flag"] for f in r["flags"]}) for r in rows if r["flags"]},
                    "evidence": {r["source"]: [f"{f['flag']}: {f['evidence']}" for f in r["flags"]] for r in rows},
                    "seconds": round(time.monotonic() - started, 2),
                }
            )
            if progress:
                progress(results[-1])
        return results
    finally:
        web.stop()


def load_config_min_history(health: dict | None) -> int:
    from cleaning.config import HealthConfig

    return int((health or {}).get("min_history", HealthConfig.min_history))


def score(results: list[dict]) -> dict:
    """Detection of each breakage on its first night, and flags on healthy (night, outlet) pairs."""
    first_seen: dict[tuple[str, str], int] = {}
    detected, missed, false_flags, healthy_pairs, broken_pairs = [], [], [], 0, 0
    for result in results:
        for source in OUTLETS:
            kind = result["affected"].get(source)
            flags = result["flags"].get(source, [])
            if kind is None:
                healthy_pairs += 1
                if flags:
                    false_flags.append((result["run_date"], source, flags))
                continue
            broken_pairs += 1
            key = (kind, source)
            previous = first_seen.get(key)
            is_first = previous is None or previous != result["night"] - 1
            first_seen[key] = result["night"]
            if is_first:
                (detected if flags else missed).append((result["run_date"], source, kind, flags))
    return {
        "breakages": len(detected) + len(missed),
        "detected_first_night": len(detected),
        "missed": missed,
        "healthy_pairs": healthy_pairs,
        "broken_pairs": broken_pairs,
        "false_flags": false_flags,
        "detected": detected,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--nights", type=int, default=12)
    parser.add_argument("--keep-share", type=float, default=0.8)
    parser.add_argument("--health", default="{}", help="[health] overrides as JSON, e.g. '{\"z_threshold\": 3}'")
    parser.add_argument("--out", help="write all results as JSON here")
    args = parser.parse_args(argv)
    health = json.loads(args.health)
    everything = {}
    totals = {"breakages": 0, "detected_first_night": 0, "healthy_pairs": 0, "false_flags": 0}
    for seed in args.seeds:
        with tempfile.TemporaryDirectory(prefix="health-sim-") as tmp:
            results = simulate(Path(tmp), args.nights, seed, keep_share=args.keep_share, health=health)
        scored = score(results)
        everything[seed] = {"results": results, "score": scored}
        print(f"seed {seed}:")
        for r in results:
            broken = ", ".join(f"{s}={k}" for s, k in r["affected"].items()) or "healthy"
            flags = "; ".join(f"{s}: {','.join(f)}" for s, f in r["flags"].items()) or "-"
            print(f"  night {r['night']:2d} {r['run_date']}  {broken:<60} flags: {flags}  ({r['seconds']:.1f}s)")
        print(
            f"  detected on first night {scored['detected_first_night']}/{scored['breakages']}, "
            f"false flags {len(scored['false_flags'])} on {scored['healthy_pairs']} healthy (night, outlet) pairs"
        )
        for item in scored["missed"] + scored["false_flags"]:
            print(f"  ! {item}")
        totals["breakages"] += scored["breakages"]
        totals["detected_first_night"] += scored["detected_first_night"]
        totals["healthy_pairs"] += scored["healthy_pairs"]
        totals["false_flags"] += len(scored["false_flags"])
    print(
        f"all seeds: detected on first night {totals['detected_first_night']}/{totals['breakages']}, "
        f"false flags {totals['false_flags']}/{totals['healthy_pairs']} healthy (night, outlet) pairs"
    )
    if args.out:
        Path(args.out).write_text(json.dumps(everything, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
