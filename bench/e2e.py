"""End-to-end benchmark: the real nightly pipeline over a synthetic news web on loopback.

    python bench/e2e.py --gold ../shared/eval/aeb --articles 10000 --hosts 40 --shards 16

Serves ``--articles`` pages over ``--hosts`` outlets (bench/news_site.py), writes a config whose
sources are their RSS feeds (politeness delay 0, two requests per host at once, one quick retry
for the deliberate 500s, loopback allowed), and runs
``cleaning.pipeline.run_night`` for one date in a fresh lake, as ``cleaning run`` does. Recorded:
wall time per stage (from the night's manifest), articles per second, peak RSS of the pipeline
process and its workers, and CPU utilisation (user+sys CPU seconds / wall seconds / cores).

For the clean stage's ratio, the same run also times plain single-process
``trafilatura.extract`` on a sample of the same pages.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.news_site import NewsWeb  # noqa: E402
from bench.report import provenance, write_report  # noqa: E402

RUN_DATE = date(2025, 8, 28)


def serve_elsewhere(web: NewsWeb):
    """Run the servers in a child process, so page generation does not share the pipeline's GIL."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()

    def run():
        stop = web.serve()
        ready.set()
        done.wait()
        stop()

    child = ctx.Process(target=run, daemon=True)
    child.start()
    if not ready.wait(60):
        raise RuntimeError("bench servers did not start")

    def stop():
        done.set()
        child.join(10)
        if child.is_alive():
            child.kill()

    return stop


def write_config(folder: Path, web: NewsWeb, shards: int) -> Path:
    lines = [
        "[pipeline]",
        f'lake = "{folder / "lake"}"',
        f"shards = {shards}",
        "max_failure_share = 0.5",
        "",
        "[fetch]",
        "delay_seconds = 0.0",
        "per_host_concurrency = 2",
        "retries = 1  # the bench serves a few 500s on purpose; production keeps 3 with 1 s backoff",
        "backoff_seconds = 0.2",
        'allow_networks = ["127.0.0.0/8"]',
        "",
    ]
    for host in range(web.hosts):
        lines += ["[[sources]]", f'name = "outlet-{host:03d}"', 'kind = "feed"', f'url = "{web.feed_url(host)}"', ""]
    path = folder / "sources.toml"
    path.write_text("\n".join(lines))
    return path


def cpu_seconds() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def plain_trafilatura_rate(web: NewsWeb, sample: int) -> float:
    import trafilatura

    items = [i for i in web.items if i.kind in ("article", "copy")][:sample]
    pages = [web.page(i) for i in items]
    for page in pages[:5]:
        trafilatura.extract(page)
    started = time.perf_counter()
    for page in pages:
        trafilatura.extract(page)
    return len(pages) / (time.perf_counter() - started)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", required=True)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=40)
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--plain-sample", type=int, default=1000)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)

    from cleaning.config import load_config
    from cleaning.pipeline import run_night

    web = NewsWeb(args.articles, args.hosts, args.gold, port=args.port)
    stop = serve_elsewhere(web)
    try:
        with tempfile.TemporaryDirectory(prefix="e2e-bench-") as tmp:
            config = load_config(write_config(Path(tmp), web, args.shards))
            cpu0, started = cpu_seconds(), time.perf_counter()
            manifest = run_night(config, RUN_DATE)
            wall = time.perf_counter() - started
            cpu = cpu_seconds() - cpu0
            lake_bytes = sum(f.stat().st_size for f in Path(config.lake).rglob("*") if f.is_file())
    finally:
        stop()
    peak = (
        max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        / 1024
    )

    stages: dict[str, float] = {}
    for stat in manifest["stages"]:
        stages[stat["stage"]] = round(stages.get(stat["stage"], 0.0) + stat.get("seconds", 0.0), 2)
    stages["publish"] = manifest.get("publish_seconds", 0.0)
    clean_seconds = stages.get("clean", 0.0)
    cleaned = sum(s.get("cleaned", 0) + s.get("rejected", 0) for s in manifest["stages"] if s["stage"] == "clean")
    plain_rate = plain_trafilatura_rate(web, args.plain_sample)
    result = {
        **provenance("e2e.py", argv),
        "articles": args.articles,
        "hosts": args.hosts,
        "shards": args.shards,
        "wall_seconds": round(wall, 1),
        "articles_per_second": round(args.articles / wall, 1),
        "stage_seconds": stages,
        "rows": manifest["rows"],
        "totals": manifest["summary"]["totals"],
        "peak_rss_mb": round(peak, 1),
        "cpu_utilisation": round(cpu / wall / (os.cpu_count() or 1), 3),
        "lake_mb": round(lake_bytes / 1e6, 1),
        "clean_pages_per_second": round(cleaned / clean_seconds, 1) if clean_seconds else None,
        "plain_trafilatura_pages_per_second_single_process": round(plain_rate, 1),
        "clean_speedup_vs_plain": round(cleaned / clean_seconds / plain_rate, 2) if clean_seconds else None,
        "wall_over_clean": round(wall / clean_seconds, 2) if clean_seconds else None,
    }
    print(json.dumps(result, indent=1))
    write_report(args.out or f"bench/results/e2e-{args.articles}.json", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
