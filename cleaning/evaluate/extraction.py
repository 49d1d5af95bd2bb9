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

A second kind of set, trafilatura's own evaluation data, has no gold bodies but snippets: a
folder with ``evaldata.json`` mapping each page's URL to its ``file`` (read ``pages/<file>.gz``),
``with`` (snippets the main text must contain) and ``without`` (snippets it must not contain). It
is scored with that project's metric: texts and snippets are whitespace-normalized; a ``with``
snippet found is a true positive, one missing a false negative, a ``without`` snippet found a
false positive; precision, recall and F1 are computed over all snippets of all pages (so pages
with more snippets weigh more). The interval again resamples pages.

Either set can be cut in two halves by a hash of each page's id (``half="tune"`` or
``"holdout"``), so rules can be chosen on one half and reported on the other.
"""

from __future__ import annotations

import gzip
import hashlib
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


def bootstrap(pages: list[tuple], rounds: int = 1000, seed: int = 0, score=None) -> dict[str, tuple[float, float]]:
    score = score or summarize
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {"precision": [], "recall": [], "f1": []}
    for _ in range(rounds):
        drawn = [pages[rng.randrange(len(pages))] for _ in pages]
        for key, value in score(drawn).items():
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
    must_have: tuple[str, ...] = ()
    must_not_have: tuple[str, ...] = ()


HALVES = ("tune", "holdout")


def half_of(page_id: str) -> str:
    """A fixed, content-independent split of any set into two halves."""
    return HALVES[hashlib.sha256(page_id.encode("utf-8")).digest()[0] & 1]


def is_snippet_set(folder: str | Path) -> bool:
    return (Path(folder) / "evaldata.json").is_file()


def load_snippet_set(folder: str | Path) -> list[GoldPage]:
    """Pages of a ``with``/``without`` snippet set, in file-name order."""
    folder = Path(folder)
    data = json.loads((folder / "evaldata.json").read_text(encoding="utf-8"))
    pages = []
    for url, entry in sorted(data.items(), key=lambda item: item[1]["file"]):
        path = folder / "pages" / f"{entry['file']}.gz"
        if not path.exists():
            path = folder / "pages" / entry["file"]
        if not path.exists():
            continue
        raw = path.read_bytes()
        html = gzip.decompress(raw) if path.suffix == ".gz" else raw
        pages.append(
            GoldPage(entry["file"], html, "", url, tuple(entry.get("with") or ()), tuple(entry.get("without") or ()))
        )
    if not pages:
        raise FileNotFoundError(f"no pages of {folder / 'evaldata.json'} found under {folder / 'pages'}")
    return pages


def _squeezed(text: str) -> str:
    return " ".join(text.split())


def snippet_counts(page: GoldPage, predicted: str) -> tuple[int, int, int, int]:
    """(TP, FP, FN, TN) of one page's snippets against the predicted text."""
    text = _squeezed(predicted or "")
    found = [_squeezed(s) in text for s in page.must_have]
    leaked = [_squeezed(s) in text for s in page.must_not_have]
    return sum(found), sum(leaked), len(found) - sum(found), len(leaked) - sum(leaked)


def summarize_snippets(pages: list[tuple[int, int, int, int]]) -> dict[str, float]:
    tp, fp, fn = (sum(p[i] for p in pages) for i in range(3))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


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


def load_pages(folder: str | Path, half: str | None = None) -> list[GoldPage]:
    pages = load_snippet_set(folder) if is_snippet_set(folder) else load_gold(folder)
    if half is not None:
        if half not in HALVES:
            raise ValueError(f"half must be one of {HALVES}, got {half!r}")
        pages = [p for p in pages if half_of(p.id) == half]
    return pages


def _map(extract: Callable[[GoldPage], str], pages: list[GoldPage], workers: int) -> list[str]:
    if workers <= 1:
        return [extract(page) for page in pages]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(extract, pages, chunksize=4))


def evaluate(
    folder: str | Path,
    systems: dict[str, Callable[[GoldPage], str]] | None = None,
    rounds: int = 1000,
    half: str | None = None,
    workers: int = 1,
) -> dict:
    """Score each system on every page of ``folder`` (or one half of it), the same pages side by side."""
    systems = systems or SYSTEMS
    gold = load_pages(folder, half)
    snippets = is_snippet_set(folder)
    count, score = (
        (snippet_counts, summarize_snippets) if snippets else (lambda p, out: page_counts(p.body, out), summarize)
    )
    results = {"pages": len(gold), "metric": "snippets" if snippets else "aeb-shingles", "half": half, "systems": {}}
    for name, extract in systems.items():
        started = time.perf_counter()
        outputs = _map(extract, gold, workers)
        seconds = time.perf_counter() - started
        counts = [count(page, out) for page, out in zip(gold, outputs)]
        scores = score(counts)
        interval = bootstrap(counts, rounds, score=score)
        results["systems"][name] = {
            **{k: round(v, 4) for k, v in scores.items()},
            "ci95": {k: [round(lo, 4), round(hi, 4)] for k, (lo, hi) in interval.items()},
            "seconds": round(seconds, 2),
            "workers": workers,
            "empty_outputs": sum(1 for out in outputs if not out.strip()),
            "empty_pages": sorted(page.id for page, out in zip(gold, outputs) if not out.strip()),
            "per_page": {page.id: [round(x, 4) for x in c] for page, c in zip(gold, counts)},
        }
    return results


def format_results(results: dict) -> str:
    half = f", {results['half']} half" if results.get("half") else ""
    lines = [
        f"{results['pages']} pages{half}, metric: {results.get('metric', 'aeb-shingles')}",
        f"{'system':<14}{'precision':>20}{'recall':>20}{'F1':>20}{'seconds':>9}{'empty':>7}",
    ]
    for name, r in results["systems"].items():
        cells = [f"{r[k]:.3f} [{r['ci95'][k][0]:.3f},{r['ci95'][k][1]:.3f}]" for k in ("precision", "recall", "f1")]
        lines.append(
            f"{name:<14}" + "".join(f"{c:>20}" for c in cells) + f"{r['seconds']:>9.1f}{r['empty_outputs']:>7}"
        )
    return "\n".join(lines)
