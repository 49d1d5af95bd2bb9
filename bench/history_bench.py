"""History lookup cost: one night checked against a large history index, in a real lake.

Builds a lake whose ``history/`` holds ``--history`` signatures spread over ``--days`` earlier
run dates (band and sentence keys drawn at random, except that ``--repeats`` of tonight's stories are planted
in history so real matches happen), then runs the dedup reduce step's two history parts as the
night does: ``history.load`` for the retention window, and ``resolve`` for ``--night`` signatures.
Peak RSS is that of a child process doing only this.

    python bench/history_bench.py --gold ../shared/eval/aeb --night 50000 --history 1000000
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dedup_speed import build_corpus  # noqa: E402
from bench.report import provenance, write_report  # noqa: E402
from cleaning import layout  # noqa: E402
from cleaning.config import DedupConfig  # noqa: E402
from cleaning.dedup import VERIFY_COLUMNS, bands_per_row, resolve, signatures  # noqa: E402
from cleaning.dedup import history as hist  # noqa: E402
from cleaning.store import Lake  # noqa: E402

NIGHT = date(2025, 9, 30)


def _lists(matrix: np.ndarray) -> pa.ListArray:
    rows, width = matrix.shape
    return pa.ListArray.from_arrays(
        pa.array(np.arange(0, (rows + 1) * width, width, dtype=np.int32)), pa.array(matrix.ravel())
    )


def build_lake(root: str, night_sigs: pa.Table, total: int, days: int, repeats: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    width = bands_per_row(DedupConfig())
    lake = Lake(root)
    per_day = total // days
    planted = night_sigs.slice(0, repeats)
    for d in range(days):
        run_date = NIGHT - timedelta(days=d + 1)
        count = per_day
        keys = rng.integers(0, 2**63, size=(count, width), dtype=np.uint64)
        lead = rng.integers(0, 2**63, size=(count, hist.HISTORY_SENTENCE_KEYS), dtype=np.uint64)
        table = pa.table(
            {
                "id": pa.array([f"h{d:02d}{i:07d}" for i in range(count)]),
                "content_hash": pa.array([f"{x:032x}" for x in rng.integers(0, 2**62, count)]),
                "n_shingles": pa.array(np.full(count, 400, dtype=np.int32)),
                "word_count": pa.array(np.full(count, 420, dtype=np.int32)),
                "published_at": pa.array([None] * count, pa.timestamp("us", tz="UTC")),
                "band_keys": _lists(keys),
                "sentence_keys": _lists(lead),
                "run_date": pa.array([run_date] * count, pa.date32()),
                "url": pa.array([f"https://old.example/{d}/{i}" for i in range(count)]),
            }
        )
        if d == 0 and repeats:
            old = planted.drop_columns(list(VERIFY_COLUMNS))
            old = old.append_column("run_date", pa.array([run_date] * repeats, pa.date32()))
            old = old.append_column("url", pa.array([f"https://old.example/p/{i}" for i in range(repeats)]))
            old = old.set_column(0, "id", pa.array([f"p{i:07d}" for i in range(repeats)]))
            table = pa.concat_tables([table, old.cast(table.schema)])
        hist.save(lake, run_date, table)
        lake.write_json(layout.manifest_file(run_date), {"status": "published"})  # history of published nights only


def check(root: str, queue) -> None:
    """Runs in a freshly spawned process: only what the night's reduce step would hold."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    settings = DedupConfig()
    lake = Lake(root)
    started = time.perf_counter()
    night_sigs = pq.read_table(f"{root}/night-signatures.parquet")
    history = hist.load(lake, NIGHT, settings.history_days)
    loaded = time.perf_counter() - started

    def text_of(wanted):
        plain = pa.array([i.removeprefix("history:") for i in wanted], pa.string())
        t = pq.read_table(f"{root}/texts.parquet")
        t = t.filter(pc.is_in(t.column("id"), value_set=plain))
        found = dict(zip(t.column("id").to_pylist(), t.column("text").to_pylist()))
        return {i: found.get(i.removeprefix("history:"), "") for i in wanted}

    decisions = resolve(night_sigs, text_of, settings, history)
    total = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(
        {
            "history_rows": history.num_rows,
            "load_seconds": round(loaded, 2),
            "total_seconds": round(total, 2),
            "history_duplicates": sum(d.canonical_from_history for d in decisions),
            "peak_rss_mb": round(peak, 1),
        }
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gold", required=True)
    parser.add_argument("--night", type=int, default=50_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2_000)
    parser.add_argument("--out", default="bench/results/history.json")
    parser.add_argument(
        "--ascii-sentences", action="store_true", help="the speed corpus as built before (bench/dedup_speed.py)"
    )
    args = parser.parse_args(argv)

    records = build_corpus(args.gold, args.night, 0.2, 3, args.ascii_sentences)
    sigs = signatures(((r["id"], r["text"], None) for r in records), DedupConfig(), workers=os.cpu_count() or 1)
    texts = {r["id"]: r["text"] for r in records}
    # planted history rows reuse tonight's first bodies under new ids
    texts.update({f"p{i:07d}": records[i]["text"] for i in range(args.repeats)})
    with tempfile.TemporaryDirectory(prefix="history-bench-") as root:
        import pyarrow.parquet as pq

        started = time.perf_counter()
        build_lake(root, sigs, args.history, args.days, args.repeats, 5)
        pq.write_table(sigs, f"{root}/night-signatures.parquet")
        pq.write_table(pa.table({"id": list(texts), "text": list(texts.values())}), f"{root}/texts.parquet")
        del records, texts
        print(f"built history of {args.history} rows in {time.perf_counter() - started:.1f}s", flush=True)
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        child = ctx.Process(target=check, args=(root, queue))
        child.start()
        result = queue.get()
        child.join()
    print(result)
    report = {
        **provenance("history_bench.py", argv),
        "night": args.night,
        "result": result,
    }
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
