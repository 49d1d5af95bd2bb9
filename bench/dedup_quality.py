"""Duplicate detection quality on a simulated syndication corpus built from real gold bodies.

    python bench/dedup_quality.py --gold ../shared/eval/aeb --seed-file tests/fixtures/seed.txt \
        [--rng 7] [--out bench/results/dedup_quality.json] [--sweep]

Two systems cluster the same corpus (see ``cleaning.evaluate.syndication`` for the simulator and
the metrics):

* ``ours``: ``cleaning.dedup.dedup_records`` with ``DedupConfig`` (thresholds from the flags);
* ``datasketch``: datasketch out of the box, ``MinHashLSH(threshold=0.8, num_perm=128)`` over
  word 5-gram shingles (lowercase ``\\w+`` words joined by spaces, UTF-8) with the default
  ``MinHash`` hashing; each record in corpus order is queried, then inserted, and clusters are
  the connected components of the (record, match) edges.

Prints pairwise precision / recall / F1 / ARI and seconds per system, then recall per edit kind;
writes every number, the configs, the rng seed, the simulator's rates and the command line as JSON.
``--sweep`` also runs ours over jaccard_threshold x containment_threshold, one line per setting.
This measures quality; the seconds are indicative only.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cleaning.config import DedupConfig  # noqa: E402
from cleaning.dedup import dedup_records  # noqa: E402
from cleaning.dedup.clusters import UnionFind  # noqa: E402
from cleaning.evaluate.syndication import (  # noqa: E402
    EDIT_KINDS,
    Corpus,
    load_gold_stories,
    load_seed_story,
    score,
    simulate,
)

_WORDS = re.compile(r"\w+")
BASELINE = {"threshold": 0.8, "num_perm": 128, "shingle_words": 5}
SWEEP_JACCARD = (0.5, 0.6, 0.7, 0.8)
SWEEP_CONTAINMENT = (0.7, 0.8, 0.9)
TARGETS = {"precision": 0.98, "f1": 0.95}


def run_ours(corpus: Corpus, settings: DedupConfig) -> tuple[dict[str, str], float]:
    start = time.perf_counter()
    decisions = dedup_records([r.as_input() for r in corpus.records], settings)
    elapsed = time.perf_counter() - start
    return {d.id: d.cluster_id for d in decisions}, elapsed


def baseline_shingles(text: str, n: int = 5) -> set[bytes]:
    words = _WORDS.findall(text.lower())
    if len(words) < n:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + n]).encode("utf-8") for i in range(len(words) - n + 1)}


def run_datasketch(corpus: Corpus) -> tuple[dict[str, str], float]:
    from datasketch import MinHash, MinHashLSH

    start = time.perf_counter()
    lsh = MinHashLSH(threshold=BASELINE["threshold"], num_perm=BASELINE["num_perm"])
    uf = UnionFind()
    for record in corpus.records:
        m = MinHash(num_perm=BASELINE["num_perm"])
        m.update_batch(baseline_shingles(record.text, BASELINE["shingle_words"]))
        uf.find(record.id)
        for match in lsh.query(m):
            uf.union(record.id, match)
        lsh.insert(record.id, m)
    clusters = {member: root for root, members in uf.components().items() for member in members}
    return clusters, time.perf_counter() - start


def _fmt(x) -> str:
    return "    -" if x is None else f"{x:5.3f}"


def print_tables(corpus: Corpus, results: dict[str, dict]) -> None:
    s = corpus.stats
    print(
        f"corpus: {s['records']} records, {s['stories']} stories ({s['originals']} originals, "
        f"{s['copies']} copies, {s['follow_ups']} follow-ups), {s['true_pairs']} true pairs, rng={corpus.seed}"
    )
    print(f"{'system':<11} | {'prec':>5} | {'rec':>5} | {'F1':>5} | {'ARI':>5} | {'FP prs':>6} | {'FN prs':>6} | {'hard-neg merged':>15} | {'sec':>5}")
    for name, r in results.items():
        hn = r["hard_negatives"]
        print(
            f"{name:<11} | {_fmt(r['precision'])} | {_fmt(r['recall'])} | {_fmt(r['f1'])} | {_fmt(r['ari'])} | "
            f"{r['false_positive_pairs']:>6} | {r['false_negative_pairs']:>6} | {hn['merged']:>7} of {hn['follow_ups']:<4} | {r['seconds']:5.2f}"
        )
    names = list(results)
    print()
    print("recall of copy->original pairs by edit kind (all copies with the kind | copies with only that kind)")
    head = " | ".join(f"{n:>10}" for n in names)
    print(f"{'edit kind':<18} | {'n':>3} | {head} | {'n alone':>7} | {head}")
    for kind in EDIT_KINDS:
        rows = [results[n]["edit_kinds"][kind] for n in names]
        print(
            f"{kind:<18} | {rows[0]['copies']:>3} | " + " | ".join(f"{_fmt(r['recall']):>10}" for r in rows)
            + f" | {rows[0]['alone_copies']:>7} | " + " | ".join(f"{_fmt(r['alone_recall']):>10}" for r in rows)
        )


def sweep(corpus: Corpus, base: DedupConfig) -> list[dict]:
    print()
    print(f"sweep of ours (lsh_threshold={base.lsh_threshold}); targets: precision >= {TARGETS['precision']}, F1 >= {TARGETS['f1']}")
    print(f"{'jaccard':>7} {'contain':>7} | {'prec':>5} | {'rec':>5} | {'F1':>5} | {'ARI':>5} | {'hard-neg':>8} | meets")
    rows = []
    for j in SWEEP_JACCARD:
        for c in SWEEP_CONTAINMENT:
            settings = replace(base, jaccard_threshold=j, containment_threshold=c)
            clusters, elapsed = run_ours(corpus, settings)
            r = score(corpus, clusters)
            meets = r["precision"] >= TARGETS["precision"] and r["f1"] >= TARGETS["f1"]
            rows.append(
                {
                    "jaccard_threshold": j,
                    "containment_threshold": c,
                    "seconds": elapsed,
                    "meets_targets": meets,
                    **{k: r[k] for k in ("precision", "recall", "f1", "ari", "false_positive_pairs", "false_negative_pairs")},
                    "hard_negatives_merged": r["hard_negatives"]["merged"],
                    "edit_kind_recall": {k: v["recall"] for k, v in r["edit_kinds"].items()},
                }
            )
            print(
                f"{j:>7} {c:>7} | {_fmt(r['precision'])} | {_fmt(r['recall'])} | {_fmt(r['f1'])} | {_fmt(r['ari'])} | "
                f"{r['hard_negatives']['merged']:>8} | {'yes' if meets else 'no'}"
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    defaults = DedupConfig()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gold", required=True, help="folder of <id>.json gold files with a 'body' field")
    p.add_argument("--seed-file", help="the seed page text, used as one more source story")
    p.add_argument("--rng", type=int, default=7, help="simulator seed (default 7)")
    p.add_argument("--min-words", type=int, default=80, help="skip gold bodies shorter than this")
    p.add_argument("--out", default="bench/results/dedup_quality.json")
    p.add_argument("--shingle-words", type=int, default=defaults.shingle_words)
    p.add_argument("--num-perm", type=int, default=defaults.num_perm)
    p.add_argument("--lsh-threshold", type=float, default=defaults.lsh_threshold)
    p.add_argument("--jaccard-threshold", type=float, default=defaults.jaccard_threshold)
    p.add_argument("--containment-threshold", type=float, default=defaults.containment_threshold)
    p.add_argument("--sweep", action="store_true", help="also sweep jaccard x containment thresholds for ours")
    args = p.parse_args(argv)

    stories = load_gold_stories(args.gold, args.min_words)
    if args.seed_file:
        seed_path = Path(args.seed_file)
        if not seed_path.exists() and (ROOT / seed_path).exists():
            seed_path = ROOT / seed_path
        stories.append(load_seed_story(seed_path))
    if len(stories) < 3:
        p.error(f"need at least 3 source stories, found {len(stories)} in {args.gold}")
    corpus = simulate(stories, args.rng)

    settings = replace(
        defaults,
        shingle_words=args.shingle_words,
        num_perm=args.num_perm,
        lsh_threshold=args.lsh_threshold,
        jaccard_threshold=args.jaccard_threshold,
        containment_threshold=args.containment_threshold,
    )
    results = {}
    for name, run in (("ours", lambda: run_ours(corpus, settings)), ("datasketch", lambda: run_datasketch(corpus))):
        clusters, elapsed = run()
        results[name] = {**score(corpus, clusters), "seconds": elapsed}
    print_tables(corpus, results)
    sweep_rows = sweep(corpus, settings) if args.sweep else None

    report = {
        "command": shlex.join([Path(sys.executable).name, *sys.argv]) if argv is None else shlex.join(argv),
        "rng": args.rng,
        "gold": str(args.gold),
        "seed_file": args.seed_file,
        "min_words": args.min_words,
        "simulator": corpus.settings.describe(),
        "corpus": corpus.stats,
        "configs": {"ours": asdict(settings), "datasketch": BASELINE},
        "targets": TARGETS,
        "results": results,
        "sweep": sweep_rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
