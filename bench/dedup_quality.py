"""Duplicate detection quality on a simulated syndication corpus built from real gold bodies.

    python bench/dedup_quality.py --gold ../shared/eval/aeb --seed-file tests/fixtures/seed.txt \
        [--rng 7] [--out bench/results/dedup_quality.json] [--sweep]
    python bench/dedup_quality.py --gold ../shared/eval/aeb --seed-file tests/fixtures/seed.txt \
        --wide --seeds 101-110 [--before DIR] [--out bench/results/dedup_quality_wide_report.json]

``--wide`` runs the wide simulator (``simulate_wide``: heavy copies, copies of copies, follow-ups,
same-event stories, roundups, template genres) over several seeds and reports the pooled pair
scores, recall per class and per edit and strength, and merges per hard-negative kind. Besides
ours and datasketch it runs ``ours, no alignment`` (the same candidates, shingle overlap alone
deciding) and, with ``--before DIR``, the dedup code of another source tree (e.g. ``git archive``
of an earlier commit into DIR), in a child process on the same corpora.

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

from bench.report import provenance, write_report  # noqa: E402
from cleaning.config import DedupConfig  # noqa: E402
from cleaning.dedup import dedup_records  # noqa: E402
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


class UnionFind:
    """Clusters of the baseline's matches, over any hashable names; the smaller name is the root."""

    def __init__(self):
        self.parent: dict = {}

    def find(self, x):
        root = self.parent.setdefault(x, x)
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a, b) -> None:
        ra, rb = sorted((self.find(a), self.find(b)))
        self.parent[rb] = ra

    def components(self) -> dict:
        groups: dict = {}
        for x in list(self.parent):
            groups.setdefault(self.find(x), []).append(x)
        return groups


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
    print(
        f"{'system':<11} | {'prec':>5} | {'rec':>5} | {'F1':>5} | {'ARI':>5} | {'FP prs':>6} | {'FN prs':>6} | "
        f"{'hard-neg merged':>15} | {'sec':>5}"
    )
    for name, r in results.items():
        hn = r["hard_negatives"]
        print(
            f"{name:<11} | {_fmt(r['precision'])} | {_fmt(r['recall'])} | {_fmt(r['f1'])} | {_fmt(r['ari'])} | "
            f"{r['false_positive_pairs']:>6} | {r['false_negative_pairs']:>6} | "
            f"{hn['merged']:>7} of {hn['follow_ups']:<4} | {r['seconds']:5.2f}"
        )
    names = list(results)
    print()
    print("recall of copy->original pairs by edit kind (all copies with the kind | copies with only that kind)")
    head = " | ".join(f"{n:>10}" for n in names)
    print(f"{'edit kind':<18} | {'n':>3} | {head} | {'n alone':>7} | {head}")
    for kind in EDIT_KINDS:
        rows = [results[n]["edit_kinds"][kind] for n in names]
        print(
            f"{kind:<18} | {rows[0]['copies']:>3} | "
            + " | ".join(f"{_fmt(r['recall']):>10}" for r in rows)
            + f" | {rows[0]['alone_copies']:>7} | "
            + " | ".join(f"{_fmt(r['alone_recall']):>10}" for r in rows)
        )


def sweep(corpus: Corpus, base: DedupConfig) -> list[dict]:
    print()
    print(
        f"sweep of ours (lsh_threshold={base.lsh_threshold}); "
        f"targets: precision >= {TARGETS['precision']}, F1 >= {TARGETS['f1']}"
    )
    print(
        f"{'jaccard':>7} {'contain':>7} | {'prec':>5} | {'rec':>5} | {'F1':>5} | {'ARI':>5} | {'hard-neg':>8} | meets"
    )
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
                    **{
                        k: r[k]
                        for k in ("precision", "recall", "f1", "ari", "false_positive_pairs", "false_negative_pairs")
                    },
                    "hard_negatives_merged": r["hard_negatives"]["merged"],
                    "edit_kind_recall": {k: v["recall"] for k, v in r["edit_kinds"].items()},
                }
            )
            print(
                f"{j:>7} {c:>7} | {_fmt(r['precision'])} | {_fmt(r['recall'])} | {_fmt(r['f1'])} | {_fmt(r['ari'])} | "
                f"{r['hard_negatives']['merged']:>8} | {'yes' if meets else 'no'}"
            )
    return rows


# --------------------------------------------------------------------------- the wide simulator


def _seed_list(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds.extend(range(int(low), int(high or low) + 1))
    return seeds


def run_before(corpus: Corpus, tree: str) -> tuple[dict[str, str], float]:
    """Ours as another source tree has it: its ``dedup_records`` in a child process."""
    import pickle
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "in.pickle").write_bytes(pickle.dumps([r.as_input() for r in corpus.records]))
        code = (
            "import pickle, sys, time\n"
            f"sys.path.insert(0, {tree!r})\n"
            "from cleaning.config import DedupConfig\n"
            "from cleaning.dedup import dedup_records\n"
            f"records = pickle.load(open({tmp + '/in.pickle'!r}, 'rb'))\n"
            "t = time.perf_counter()\n"
            "d = dedup_records(records, DedupConfig())\n"
            "clusters = {x.id: x.cluster_id for x in d}\n"
            f"pickle.dump((clusters, time.perf_counter() - t), open({tmp + '/out.pickle'!r}, 'wb'))\n"
        )
        subprocess.run([sys.executable, "-c", code], check=True, cwd=tree)
        return pickle.loads(Path(tmp, "out.pickle").read_bytes())


def _pool(rows: list[dict]) -> dict:
    tp = sum(r["true_positive_pairs"] for r in rows)
    predicted = sum(r["predicted_pairs"] for r in rows)
    true = sum(r["true_pairs"] for r in rows)
    precision = tp / predicted if predicted else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_pairs": true,
        "predicted_pairs": predicted,
        "false_positive_pairs": predicted - tp,
        "false_negative_pairs": true - tp,
    }


def _sum_tables(rows: list[dict], key: str) -> dict:
    out: dict[str, dict] = {}
    for r in rows:
        for name, cell in r["copy_recall"][key].items():
            acc = out.setdefault(name, {"copies": 0, "found": 0})
            acc["copies"] += cell["copies"]
            acc["found"] += cell["found"]
    for cell in out.values():
        cell["recall"] = cell["found"] / cell["copies"] if cell["copies"] else None
    return out


def _sum_negatives(rows: list[dict]) -> dict:
    out: dict[str, dict] = {}
    for r in rows:
        for kind, cell in r["negatives"].items():
            acc = out.setdefault(kind, {"negatives": 0, "merged": 0, "false_pairs": 0, "merged_ids": []})
            for k in ("negatives", "merged", "false_pairs"):
                acc[k] += cell[k]
            acc["merged_ids"] += [f"{r['rng']}:{i}" for i in cell["merged_ids"]]
    for cell in out.values():
        cell["kept_apart"] = 1 - cell["merged"] / cell["negatives"] if cell["negatives"] else None
    return out


def wide(args, stories: list) -> dict:
    from cleaning.evaluate.syndication import WideSettings, simulate_wide, wide_score

    seeds = _seed_list(args.seeds)
    systems: dict = {
        "ours": lambda c: run_ours(c, DedupConfig()),
        "ours, no alignment": lambda c: _run_without_alignment(c),
        "datasketch": run_datasketch,
    }
    if args.before:
        systems["before"] = lambda c: run_before(c, args.before)
    per_seed: dict[str, list[dict]] = {name: [] for name in systems}
    corpora = {}
    for rng in seeds:
        corpus = simulate_wide(stories, rng)
        corpora[rng] = corpus.stats
        for name, run in systems.items():
            clusters, elapsed = run(corpus)
            result = {**wide_score(corpus, clusters), "seconds": elapsed, "rng": rng}
            per_seed[name].append(result)
        ours = per_seed["ours"][-1]
        heavy = ours["copy_recall"]["by_class"]["heavy"]
        merged = " ".join(f"{k}:{v['merged']}/{v['negatives']}" for k, v in ours["negatives"].items())
        print(
            f"rng {rng:>4}: {corpus.stats['records']} records | ours P {ours['precision']:.4f} R {ours['recall']:.4f} "
            f"F1 {ours['f1']:.4f} | heavy {heavy['found']}/{heavy['copies']} | negatives merged {merged}",
            flush=True,
        )
    summary = {
        name: {
            "pooled": _pool(rows),
            "by_class": _sum_tables(rows, "by_class"),
            "by_edit": _sum_tables(rows, "by_edit"),
            "negatives": _sum_negatives(rows),
            "per_seed": [
                {k: r[k] for k in ("rng", "precision", "recall", "f1", "ari", "false_positive_pairs", "seconds")}
                for r in rows
            ],
            "missed_copies": [dict(m, rng=r["rng"]) for r in rows for m in r["missed_copies"]],
            "impure_clusters": [[f"{r['rng']}:{i}" for i in c] for r in rows for c in r["impure_clusters"]],
        }
        for name, rows in per_seed.items()
    }
    print_wide(summary)
    return {"seeds": seeds, "simulator": WideSettings().describe(), "corpora": corpora, "systems": summary}


def _run_without_alignment(corpus: Corpus) -> tuple[dict[str, str], float]:
    start = time.perf_counter()
    decisions = dedup_records([r.as_input() for r in corpus.records], DedupConfig(), policy=None)
    return {d.id: d.cluster_id for d in decisions}, time.perf_counter() - start


def print_wide(summary: dict) -> None:
    names = list(summary)
    cell = lambda r: "-" if r is None else f"{r:.3f}"  # noqa: E731
    print("\npooled over seeds (pairs of records)")
    print("| system | precision | recall | F1 | false pairs | missed pairs |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in names:
        p = summary[name]["pooled"]
        print(
            f"| {name} | {p['precision']:.4f} | {p['recall']:.4f} | {p['f1']:.4f} | "
            f"{p['false_positive_pairs']} | {p['false_negative_pairs']} |"
        )
    print("\ncopies found with their original, by class")
    print("| class | copies | " + " | ".join(names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for cls, row in summary["ours"]["by_class"].items():
        values = " | ".join(cell(summary[n]["by_class"][cls]["recall"]) for n in names)
        print(f"| {cls} | {row['copies']} | {values} |")
    print("\ncopies found with their original, by edit and strength (a copy counts under each of its edits)")
    print("| edit | copies | " + " | ".join(names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for edit, row in summary["ours"]["by_edit"].items():
        values = " | ".join(cell(summary[n]["by_edit"].get(edit, {}).get("recall")) for n in names)
        print(f"| {edit} | {row['copies']} | {values} |")
    print("\nhard negatives merged with a story they resemble (negatives merged / negatives; false pairs)")
    print("| negative | negatives | " + " | ".join(names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for kind, row in summary["ours"]["negatives"].items():
        values = " | ".join(
            f"{summary[n]['negatives'][kind]['merged']} ({summary[n]['negatives'][kind]['false_pairs']})" for n in names
        )
        print(f"| {kind} | {row['negatives']} | {values} |")


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
    p.add_argument("--wide", action="store_true", help="the wide simulator over --seeds (see the docstring)")
    p.add_argument("--seeds", default="101-110", help="wide: simulator seeds, e.g. 1-6 or 101,102")
    p.add_argument("--before", help="wide: also run the dedup code of this source tree")
    args = p.parse_args(argv)

    stories = load_gold_stories(args.gold, args.min_words)
    if args.seed_file:
        seed_path = Path(args.seed_file)
        if not seed_path.exists() and (ROOT / seed_path).exists():
            seed_path = ROOT / seed_path
        stories.append(load_seed_story(seed_path))
    if len(stories) < 3:
        p.error(f"need at least 3 source stories, found {len(stories)} in {args.gold}")
    if args.wide:
        report = {**provenance("dedup_quality.py", argv), "gold": str(args.gold), **wide(args, stories)}
        out = args.out if args.out != "bench/results/dedup_quality.json" else "bench/results/dedup_quality_wide.json"
        write_report(out, report)
        print(f"\nwrote {out}")
        return 0
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
