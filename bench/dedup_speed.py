"""Dedup throughput and memory: our dedup stage against datasketch's out-of-the-box recipe.

Corpus: ``--docs`` news-length bodies built from real text. Distinct stories are assembled from
the sentences of the gold bodies in ``--gold`` (8-40 sentences each, so lengths and vocabulary are
those of news); ``--copy-share`` of the records are syndicated copies made with the syndication
simulator's edits (cleaning/evaluate/syndication.py). Deterministic for a given ``--rng``.
Sentences are cut at terminal punctuation followed by a space in any script, or after an
ideographic full stop (the simulator's splitter only cuts before an ASCII capital, which left
Cyrillic and Japanese paragraphs whole, so hundreds of "distinct" stories shared the same run of
sentences); ``--ascii-sentences`` builds the corpus as before, for comparison.

Ours: the dedup stage as the night runs it - signatures (with ``--workers`` processes), candidate
pairs, verification on real shingle sets, clustering and canonicals - i.e. ``dedup_records``.
Baseline: ``datasketch.MinHashLSH(threshold=0.8, num_perm=128)`` over word 5-gram shingles with
datasketch's default hashing, one query + insert per record (single process, as shipped).

    python bench/dedup_speed.py --gold ../shared/eval/aeb --docs 100000 --workers 2

Each system runs in its own child process so its peak RSS (``ru_maxrss`` of that process and
its own workers) is measured separately.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import os
import random
import re
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import provenance, write_report  # noqa: E402
from cleaning.evaluate.syndication import (  # noqa: E402
    EDIT_KINDS,
    EditContext,
    SimSettings,
    SourceStory,
    load_gold_stories,
    make_copy,
    split_sentences,
)

_WORDS = re.compile(r"\w+", re.UNICODE)
# The tokenizer's sentence rule (cleaning.dedup.shingles): a terminal mark, any closing quotes or
# brackets, then a space; or an ideographic full stop. The ellipsis and full-width marks count
# as terminals, as they do after NFKC.
_SENTENCE = re.compile(r"(?<=[.!?…！？．])[.!?…\"'”’»)\]]*\s+|(?<=。)")


def any_script_sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(paragraph) if s.strip()]


def build_corpus(gold: str, docs: int, copy_share: float, seed: int, ascii_sentences: bool = False) -> list[dict]:
    rng = random.Random(seed)
    stories = load_gold_stories(gold)
    split = split_sentences if ascii_sentences else any_script_sentences
    sentences = [s for story in stories for p in story.paragraphs for s in split(p) if len(s.split()) >= 5]
    originals: list[SourceStory] = []
    records: list[dict] = []
    n_copies = int(docs * copy_share)
    for i in range(docs - n_copies):
        paragraphs = []
        for _ in range(rng.randint(3, 10)):
            paragraphs.append(" ".join(rng.choice(sentences) for _ in range(rng.randint(2, 4))))
        story = SourceStory(f"s{i}", tuple(paragraphs))
        originals.append(story)
        records.append({"id": f"d{i:07d}", "text": "\n\n".join(paragraphs), "published_at": None})
    settings = SimSettings()
    for k in range(n_copies):
        story = rng.choice(originals)
        donors = [rng.choice(originals).paragraphs for _ in range(3)]
        ctx = EditContext(first_sentence=split_sentences(story.paragraphs[0])[0], donors=donors, settings=settings)
        kinds = rng.sample(EDIT_KINDS, rng.choice((1, 1, 2, 2, 3)))
        records.append({"id": f"c{k:07d}", "text": make_copy(story, kinds, rng, ctx), "published_at": None})
    rng.shuffle(records)
    return records


def run_ours(records: list[dict], workers: int, queue) -> None:
    import datasketch  # noqa: F401  (imported before the clock starts, as the baseline does)

    from cleaning.config import DedupConfig
    from cleaning.dedup import dedup_records

    started = time.perf_counter()
    decisions = dedup_records(records, DedupConfig(), workers=workers)
    elapsed = time.perf_counter() - started
    dropped = sum(d.is_duplicate for d in decisions)
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    queue.put({"seconds": elapsed, "duplicates": dropped, "peak_rss_mb": round(peak / 1024, 1)})


def run_baseline(records: list[dict], queue) -> None:
    from datasketch import MinHash, MinHashLSH

    started = time.perf_counter()
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    matched = 0
    for record in records:
        words = _WORDS.findall(record["text"].lower())
        shingles = {" ".join(words[i : i + 5]).encode("utf-8") for i in range(max(1, len(words) - 4))}
        m = MinHash(num_perm=128)
        m.update_batch(shingles)
        if lsh.query(m):
            matched += 1
        lsh.insert(record["id"], m)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put({"seconds": elapsed, "duplicates": matched, "peak_rss_mb": round(peak / 1024, 1)})


def in_child(target, *args) -> dict:
    # The corpus builder leaves a large heap behind. Freezing it keeps the children's garbage
    # collector from walking it (and copying its pages after the fork), which slowed whichever
    # system ran first by a second or more; both systems are measured this way.
    gc.collect()
    gc.freeze()
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", required=True)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--copy-share", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rng", type=int, default=1)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--ascii-sentences",
        action="store_true",
        help="build the corpus with the simulator's sentence splitter, as before",
    )
    parser.add_argument("--out", default="bench/results/dedup_speed_run1.json")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    records = build_corpus(args.gold, args.docs, args.copy_share, args.rng, args.ascii_sentences)
    words = sum(len(r["text"].split()) for r in records) / len(records)
    print(
        f"corpus: {len(records)} records, {words:.0f} words on average, built in {time.perf_counter() - started:.1f}s",
        flush=True,
    )

    results = {"ours": in_child(run_ours, records, args.workers)}
    print(f"ours:     {results['ours']}", flush=True)
    if not args.skip_baseline:
        results["datasketch"] = in_child(run_baseline, records)
        print(f"baseline: {results['datasketch']}", flush=True)
    for r in results.values():
        r["docs_per_second"] = round(len(records) / r["seconds"], 1)
    if "datasketch" in results:
        results["speedup"] = round(results["ours"]["docs_per_second"] / results["datasketch"]["docs_per_second"], 2)
        print(f"speedup: {results['speedup']}x")
    report = {
        **provenance("dedup_speed.py", argv),
        "docs": len(records),
        "mean_words": round(words, 1),
        "copy_share": args.copy_share,
        "sentences": "ascii" if args.ascii_sentences else "any-script",
        "workers": args.workers,
        "results": results,
    }
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
