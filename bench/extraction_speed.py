"""Cleaning speed against plain trafilatura on the same real pages.

Two questions, on the pages of ``--gold`` (``<id>.html[.gz]``), repeated ``--rounds`` times:

1. Overhead: our whole clean step for one page (decode, metadata, trafilatura, repetition,
   furniture, wire rules, checks) against ``trafilatura.extract(html)`` with default settings,
   both in one process, alternating round by round so drift hits both alike.
2. Parallel clean stage: ``clean_captures`` with ``--workers`` processes against the same plain
   single-process trafilatura loop.

    python bench/extraction_speed.py --gold ../shared/eval/aeb --rounds 3 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import provenance, write_report  # noqa: E402
from cleaning.clean import clean_captures, clean_one  # noqa: E402
from cleaning.config import CleanConfig  # noqa: E402
from cleaning.evaluate.extraction import load_gold  # noqa: E402
from cleaning.models import Capture  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", default="bench/results/extraction_speed.json")
    args = parser.parse_args(argv)

    import trafilatura

    pages = load_gold(args.gold)
    settings = CleanConfig()
    # warm both paths (imports, caches) before timing
    for page in pages[:5]:
        trafilatura.extract(page.html, url=page.url)
        clean_one(page.html, page.url, None, settings)

    plain, ours = [], []
    for _ in range(args.rounds):
        started = time.perf_counter()
        for page in pages:
            trafilatura.extract(page.html, url=page.url)
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        for page in pages:
            clean_one(page.html, page.url, None, settings)
        ours.append(time.perf_counter() - started)

    captures = [
        Capture(page.url or page.id, "bench", page.url or "", 200, None, datetime.now(timezone.utc), page.html)
        for page in pages
    ] * args.rounds
    started = time.perf_counter()
    clean_captures(captures, settings, workers=args.workers)
    pooled = time.perf_counter() - started

    plain_best, ours_best = min(plain), min(ours)
    result = {
        **provenance("extraction_speed.py", argv),
        "pages": len(pages),
        "plain_trafilatura_seconds_per_round": [round(x, 3) for x in plain],
        "ours_seconds_per_round": [round(x, 3) for x in ours],
        "overhead_ratio_best_rounds": round(ours_best / plain_best, 3),
        "pool_workers": args.workers,
        "pool_pages": len(captures),
        "pool_seconds": round(pooled, 3),
        "pool_pages_per_second": round(len(captures) / pooled, 1),
        "plain_pages_per_second": round(len(pages) / plain_best, 1),
        "pool_speedup_vs_plain_single_process": round((len(captures) / pooled) / (len(pages) / plain_best), 2),
    }
    print(json.dumps(result, indent=1))
    write_report(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
