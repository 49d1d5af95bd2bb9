"""Extraction quality against gold article bodies, scored the way the article-extraction benchmark
(Zyte, MIT) scores it, so our numbers can be set beside published ones.

For one page, both texts become multisets of word 4-gram shingles (tokens are ``\\w+`` runs, case
kept). With t(s), p(s) the counts of shingle s in the gold and predicted text:
TP = sum min(t, p), FP = sum max(0, p - t), FN = sum max(0, t - p); the three are divided by their
sum so every page weighs the same. Precision TP/(TP+FP) is averaged over pages that produced some
output, recall TP/(TP+FN) over pages that have gold text, and F1 is the harmonic mean of the two
averages. A 95% interval comes from resampling pages with replacement (percentile bootstrap).

The folder layout is ``<id>.html`` or ``<id>.html.gz`` beside ``<id>.json`` whose ``body`` (or
``articleBody``) holds the gold text.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

_TOKEN = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = 4) -> Counter:
    tokens = _TOKEN.findall(text or "")
    if len(tokens) < n:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def page_counts(gold: str, predicted: str) -> tuple[float, float, float]:
    """Normalized (TP, FP, FN) of one page."""
    truth, guess = shingles(gold), shingles(predicted)
    tp = sum(min(count, guess[s]) for s, count in truth.items())
    fp = sum(guess.values()) - tp
    fn = sum(truth.values()) - tp
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp, fp, fn):
    return 1.0 if fp == fn == 0 else (0.0 if tp == fp == 0 else tp / (tp + fp))


def _recall(tp, fp, fn):
    return 1.0 if fp == fn == 0 else (0.0 if tp == fn == 0 else tp / (tp + fn))


def summarize(pages: list[tuple[float, float, float]]) -> dict[str, float]:
    precisions = [_precision(*p) for p in pages if p[0] + p[1] > 0]
    recalls = [_recall(*p) for p in pages if p[0] + p[2] > 0]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def bootstrap(pages: list[tuple[float, float, float]], rounds: int = 1000, seed: int = 0) -> dict[str, tuple[float, float]]:
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {"precision": [], "recall": [], "f1": []}
    for _ in range(rounds):
        drawn = [pages[rng.randrange(len(pages))] for _ in pages]
        for key, value in summarize(drawn).items():
            samples[key].append(value)
    interval = {}
    for key, values in samples.items():
        values.sort()
        interval[key] = (values[int(0.025 * (rounds - 1))], values[int(0.975 * (rounds - 1))])
    return interval


@dataclass
class GoldPage:
    id: str
    html: bytes
    body: str
    url: str | None


def load_gold(folder: str | Path) -> list[GoldPage]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"gold folder not found: {folder}")
    pages = []
    for meta in sorted(folder.glob("*.json")):
        id_ = meta.stem
        html_path = next((p for p in (folder / f"{id_}.html.gz", folder / f"{id_}.html") if p.exists()), None)
        if html_path is None:
            continue
        data = json.loads(meta.read_text(encoding="utf-8"))
        raw = html_path.read_bytes()
        html = gzip.decompress(raw) if html_path.suffix == ".gz" else raw
        pages.append(GoldPage(id_, html, data.get("body") or data.get("articleBody") or "", data.get("url")))
    if not pages:
        raise FileNotFoundError(f"no <id>.html[.gz] + <id>.json pairs in {folder}")
    return pages


def ours(page: GoldPage) -> str:
    from cleaning.clean import clean_one
    from cleaning.config import CleanConfig

    result, _, _ = clean_one(page.html, page.url, None, CleanConfig())
    return result.text if result is not None else ""


def plain_trafilatura(page: GoldPage) -> str:
    import trafilatura

    return trafilatura.extract(page.html, url=page.url) or ""


SYSTEMS: dict[str, Callable[[GoldPage], str]] = {"newsclean": ours, "trafilatura": plain_trafilatura}


def evaluate(folder: str | Path, systems: dict[str, Callable[[GoldPage], str]] | None = None, rounds: int = 1000) -> dict:
    """Score each system on every page of ``folder``; the same pages, one process, side by side."""
    systems = systems or SYSTEMS
    gold = load_gold(folder)
    results = {"pages": len(gold), "systems": {}}
    for name, extract in systems.items():
        started = time.perf_counter()
        outputs = [extract(page) for page in gold]
        seconds = time.perf_counter() - started
        counts = [page_counts(page.body, out) for page, out in zip(gold, outputs)]
        scores = summarize(counts)
        interval = bootstrap(counts, rounds)
        results["systems"][name] = {
            **{k: round(v, 4) for k, v in scores.items()},
            "ci95": {k: [round(lo, 4), round(hi, 4)] for k, (lo, hi) in interval.items()},
            "seconds": round(seconds, 2),
            "empty_outputs": sum(1 for out in outputs if not out.strip()),
            "per_page": {page.id: [round(x, 4) for x in c] for page, c in zip(gold, counts)},
        }
    return results


def format_results(results: dict) -> str:
    lines = [f"{results['pages']} pages", f"{'system':<14}{'precision':>20}{'recall':>20}{'F1':>20}{'seconds':>9}{'empty':>7}"]
    for name, r in results["systems"].items():
        cells = [f"{r[k]:.3f} [{r['ci95'][k][0]:.3f},{r['ci95'][k][1]:.3f}]" for k in ("precision", "recall", "f1")]
        lines.append(f"{name:<14}" + "".join(f"{c:>20}" for c in cells) + f"{r['seconds']:>9.1f}{r['empty_outputs']:>7}")
    return "\n".join(lines)
