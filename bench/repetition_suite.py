"""Repetition removal on generated cases (cleaning/evaluate/repetition.py) built from real bodies.

    python bench/repetition_suite.py --gold ../shared/eval/aeb --per-kind 5

Sources: the gold bodies of ``--gold`` (real pages, many languages) and the bundled sample
corpus. A case passes when the cleaned text holds every original sentence once, in order, and
nothing repeated.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cleaning.evaluate.repetition import make_cases, run_case  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def gold_bodies(folder: str) -> list[list[str]]:
    bodies = []
    for path in sorted(Path(folder).glob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8")).get("body") or ""
        bodies.append([p.strip() for p in body.split("\n") if p.strip()])
    return bodies


def sample_bodies() -> list[list[str]]:
    truth = json.loads((ROOT / "data" / "samples" / "truth.json").read_text(encoding="utf-8"))
    return [p["paragraphs"] for p in truth["pages"] if p["kind"] == "article"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", required=True)
    parser.add_argument("--per-kind", type=int, default=5)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--min-words", type=int, default=8)
    parser.add_argument("--out", default="bench/results/repetition_suite.json")
    args = parser.parse_args(argv)
    report = {
        "command": "python bench/repetition_suite.py " + " ".join(argv or sys.argv[1:]),
        "date": date.today().isoformat(),
        "sources": {},
    }
    for name, bodies in (("aeb_gold", gold_bodies(args.gold)), ("samples", sample_bodies())):
        results = [run_case(c, args.min_words) for c in make_cases(bodies, args.per_kind, args.seed)]
        by_kind = Counter(r["kind"] for r in results if r["passed"])
        summary = {
            "cases": len(results),
            "passed": sum(r["passed"] for r in results),
            "lost_sentences": sum(r["lost_sentences"] for r in results),
            "repeated_sentences_left": sum(r["extra_sentences"] for r in results),
            "passed_by_kind": dict(sorted(by_kind.items())),
            "failed": [r for r in results if not r["passed"]],
        }
        report["sources"][name] = summary
        print(
            f"{name}: {summary['passed']}/{summary['cases']} passed, {summary['lost_sentences']} sentences lost, "
            f"{summary['repeated_sentences_left']} repeats left"
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
