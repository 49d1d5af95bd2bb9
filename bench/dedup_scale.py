"""Dedup at scale: every task of the sharded dedup stages in its own process, at a given night size.

A synthetic night of ``--articles`` news-like bodies (300-800 words in sentences of 12-25 words,
words drawn from a Zipf distribution over a large vocabulary) of which about a quarter are copies
- exact, lightly edited (3% of the words changed), abridged (the top 35-70% of the sentences),
heavily edited (the lede's five sentences with 8% of the words changed, then eight sentences of
local copy), and exact or edited copies of stories published on earlier nights - is cut into
sign shards of ``--shard-rows`` rows and run through the stages as the DAG runs them, each task a
fresh ``python`` process (``cleaning.dedup.stages``):

    sign    one per shard       signatures, final (id, url), key entries by range (write_keys)
    bucket  one per key range   candidate pairs of the range, tonight's and the history's
    verify  one per pair part   edges and the facts of the nodes they touch
    cluster once                components, canonicals, decisions per shard, copies to measure
    measure one per pair part   copies without an edge to their canonical, measured against it

Each task's peak RSS, CPU seconds (user + system) and wall seconds come from ``os.wait4`` on that
child. Bodies are generated beforehand by their own processes (one per shard, not measured as a
stage) and written as one Parquet file per shard (id, url, text, published_at), which the sign
task reads as the pipeline's sign task reads its cleaned shard.

History: ``--history-nights`` published nights before tonight, each with ``--history-share``
x ``--articles`` stories written as the publish step writes them (``history.write_shard``, one
part per publish shard - as many parts as tonight has sign shards - split in as many key ranges
as publish splits them: ``--key-ranges``, at least 16), with a manifest so they count as
published. Most history rows have random keys (as ``bench/history_bench.py`` does: they only
cost reading); the stories tonight copies are planted
in them with their real signatures, and their bodies are in ``articles/run_date=D/`` for the
verify task to read.

Everything is deterministic for a given ``--seed``; bodies are a function of (seed, row), so any
shard is generated alone.

    python bench/dedup_scale.py --articles 125000 --key-ranges 4 --out bench/results/dedup_scale_125k.json
    python bench/dedup_scale.py --articles 1000000 --key-ranges 32 --out bench/results/dedup_scale_1m.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cleaning.dedup.shingles import fmix64  # noqa: E402  (the project's 64-bit mixer)

NIGHT = date(2026, 11, 30)
BASE_TIME = datetime(2026, 11, 30, tzinfo=timezone.utc)

# ---------------------------------------------------------------- the synthetic night
VOCABULARY = 200_000
ZIPF_S = 1.05
MAX_SENTENCES = 72  # 72 x 12 words > 800
TAG_LEN, TAG_WORDS, TAG_WORD, TAG_EDIT, TAG_ROLE, TAG_SRC, TAG_CUT, TAG_PUB, TAG_PLANT = range(1, 10)
ORIGINAL, EXACT, LIGHT, ABRIDGED, HEAVY, HIST_EXACT, HIST_LIGHT = range(7)
ROLE_NAMES = ["original", "exact", "light", "abridged", "heavy", "history_exact", "history_light"]
# cumulative shares of the copy kinds (the rest are originals): 25% copies in all
ROLE_CUTS = np.array([0.07, 0.13, 0.18, 0.22, 0.235, 0.25])
PLANTED_SHARE = 0.015  # history stories tonight copies, as a share of tonight's rows
LIGHT_RATE, HEAVY_RATE, LEDE, LOCAL = 0.03, 0.08, 5, 8
_C1 = np.uint64(0x9E3779B97F4A7C15)


def mix(*parts) -> np.ndarray:
    """A 64-bit hash of the parts (arrays broadcast), element-wise."""
    with np.errstate(over="ignore"):
        acc = np.uint64(0x243F6A8885A308D3)
        for part in parts:
            acc = fmix64(acc * _C1 + np.asarray(part, dtype=np.uint64))
    return acc


def unit(h: np.ndarray) -> np.ndarray:
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


class Vocabulary:
    """``size`` made-up lower-case words, short ones most frequent; Zipf-Mandelbrot frequencies."""

    def __init__(self, seed: int, size: int = VOCABULARY):
        rng = np.random.default_rng(seed)
        ranks = np.arange(size)
        lengths = np.clip(np.round(1.0 + 0.5 * np.log2(ranks + 2) + rng.normal(0, 1.2, size)), 1, 16)
        self.lengths = lengths.astype(np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)])
        self.blob = rng.integers(ord("a"), ord("z") + 1, int(self.offsets[-1])).astype(np.uint8)
        weights = 1.0 / (ranks + 2.7) ** ZIPF_S
        self.cdf = np.cumsum(weights) / weights.sum()
        self._pieces = None

    def pieces(self) -> np.ndarray:
        """Each word with each separator (" ", ". ", ".\\n\\n", "."), lower and capitalized:
        word w, separator s, capitalized c at 8 w + 2 s + c."""
        if self._pieces is None:
            words = self.blob.tobytes().decode("ascii")
            bounds = self.offsets.tolist()
            out = []
            for i in range(len(bounds) - 1):
                word = words[bounds[i] : bounds[i + 1]]
                upper = word[0].upper() + word[1:]
                for sep in (" ", ". ", ".\n\n", "."):
                    out += (word + sep, upper + sep)
            self._pieces = np.array(out, dtype=object)
        return self._pieces

    def words(self, h: np.ndarray) -> np.ndarray:
        return np.minimum(np.searchsorted(self.cdf, unit(h)), len(self.cdf) - 1)


def story_layout(stories: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sentences, sentence lengths [n, MAX_SENTENCES], first word of each sentence) per story."""
    lengths = (12 + mix(seed, stories[:, None], np.arange(MAX_SENTENCES)[None, :], TAG_LEN) % np.uint64(14)).astype(
        np.int64
    )
    target = (300 + mix(seed, stories, TAG_WORDS) % np.uint64(501)).astype(np.int64)
    ends = np.cumsum(lengths, axis=1)
    count = np.minimum((ends < target[:, None]).sum(axis=1) + 1, MAX_SENTENCES)
    return count, lengths, ends - lengths


def _ragged(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, position within owner) for runs of the given lengths."""
    lengths = np.asarray(lengths, dtype=np.int64)
    owner = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.cumsum(lengths) - lengths
    return owner, np.arange(int(lengths.sum()), dtype=np.int64) - starts[owner]


def render(segments: dict, bodies: int, vocab: Vocabulary, seed: int) -> list[str]:
    """Texts of ``bodies`` bodies from their segments: arrays ``body``, ``story``, ``first`` and
    ``last`` (sentences; ``last`` -1: to the story's end, capped by it), ``rate`` (share of words
    replaced) and ``salt`` (which), in body order."""
    story = segments["story"]
    unique, row = np.unique(story, return_inverse=True)
    count, lengths, starts = story_layout(unique, seed)
    last = np.where(segments["last"] < 0, count[row], np.minimum(segments["last"], count[row]))
    first = np.minimum(segments["first"], last)
    # sentences
    seg_of, k = _ragged(last - first)
    sentence = first[seg_of] + k
    sentence_len = lengths[row[seg_of], sentence]
    sentence_start = starts[row[seg_of], sentence]
    body_of_sentence = segments["body"][seg_of]
    ordinal = np.arange(len(seg_of)) - np.searchsorted(body_of_sentence, body_of_sentence)
    # words
    sent_of, k = _ragged(sentence_len)
    position = sentence_start[sent_of] + k
    seg_of_word = seg_of[sent_of]
    tokens = vocab.words(mix(seed, story[seg_of_word], position, TAG_WORD))
    edit = mix(seed, segments["salt"][seg_of_word], position, TAG_EDIT)
    changed = unit(edit) < segments["rate"][seg_of_word]
    if changed.any():
        tokens[changed] = vocab.words(mix(edit[changed], TAG_WORD))
    body_of_word = body_of_sentence[sent_of]
    # separators: " " inside a sentence, ". " at its end, ".\n\n" every third sentence, "." last
    sentence_end = np.concatenate([sent_of[1:] != sent_of[:-1], [True]])
    body_end = np.concatenate([body_of_word[1:] != body_of_word[:-1], [True]])
    paragraph_end = sentence_end & (ordinal[sent_of] % 3 == 2)
    separator = np.where(body_end, 3, np.where(paragraph_end, 2, np.where(sentence_end, 1, 0)))
    sentence_first = np.concatenate([[True], sentence_end[:-1]])
    pieces = vocab.pieces()[tokens * 8 + separator * 2 + sentence_first]
    bounds = np.searchsorted(body_of_word, np.arange(bodies + 1)).tolist()
    return ["".join(pieces[bounds[i] : bounds[i + 1]]) for i in range(bodies)]


class Night:
    """Roles and sources of tonight's rows, and the planted history stories; a function of the seed."""

    def __init__(self, articles: int, seed: int, history_nights: int):
        self.n, self.seed, self.history_nights = articles, seed, history_nights
        rows = np.arange(articles, dtype=np.uint64)
        self.role = np.searchsorted(ROLE_CUTS, unit(mix(seed, rows, TAG_ROLE)), side="right").astype(np.int64)
        self.role[self.role == len(ROLE_CUTS)] = -1
        self.role = np.where(self.role < 0, ORIGINAL, self.role + 1)
        self.originals = np.flatnonzero(self.role == ORIGINAL)
        self.planted = max(1, int(articles * PLANTED_SHARE))
        v = unit(mix(seed, rows, TAG_SRC))
        # popular sources: rank ~ U^2 (the first story gets about 0.1% of the copies), spread
        # over the rows by a multiplicative permutation
        rank = np.minimum((v * v * len(self.originals)).astype(np.int64), len(self.originals) - 1)
        self.source = self.originals[(rank * 2654435761) % len(self.originals)]
        rank = np.minimum((v * v * self.planted).astype(np.int64), self.planted - 1)
        self.planted_source = (rank * 2654435761) % self.planted

    def tonight_story(self, rows):
        return np.asarray(rows, dtype=np.uint64) + np.uint64(1 << 40)

    def local_story(self, rows):
        return np.asarray(rows, dtype=np.uint64) + np.uint64(2 << 40)

    def history_story(self, planted):
        return np.asarray(planted, dtype=np.uint64) + np.uint64(3 << 40)

    def planted_night(self, planted: np.ndarray) -> np.ndarray:
        """Nights back (1 = yesterday) of planted stories: half yesterday, the rest spread."""
        h = mix(self.seed, planted, TAG_PLANT)
        back = 1 + (h >> np.uint64(8)) % np.uint64(self.history_nights)
        return np.where(h % np.uint64(2) == 0, 1, back).astype(np.int64)

    def segments(self, rows: np.ndarray) -> dict:
        rows = np.asarray(rows, dtype=np.int64)
        role = self.role[rows]
        src = np.where(role == ORIGINAL, rows, self.source[rows])
        story = self.tonight_story(src)
        hist = (role == HIST_EXACT) | (role == HIST_LIGHT)
        story[hist] = self.history_story(self.planted_source[rows[hist]])
        cut = unit(mix(self.seed, rows, TAG_CUT))
        last = np.full(len(rows), -1, np.int64)
        abridged = role == ABRIDGED
        # the top 35-70% of the sentences: resolved against the story's length below
        n_src, _, _ = story_layout(story[abridged], self.seed)
        last[abridged] = np.maximum(3, np.ceil(n_src * (0.35 + 0.35 * cut[abridged]))).astype(np.int64)
        heavy = role == HEAVY
        last[heavy] = LEDE
        rate = np.select([role == LIGHT, role == HIST_LIGHT, heavy], [LIGHT_RATE, LIGHT_RATE, HEAVY_RATE], 0.0)
        body = np.arange(len(rows), dtype=np.int64)
        seg = {
            "body": body,
            "story": story,
            "first": np.zeros(len(rows), np.int64),
            "last": last,
            "rate": rate,
            "salt": mix(self.seed, rows, TAG_EDIT),
        }
        if heavy.any():  # the local copy after the lede
            k = np.flatnonzero(heavy)
            extra = {
                "body": body[k],
                "story": self.local_story(rows[k]),
                "first": np.zeros(len(k), np.int64),
                "last": np.full(len(k), LOCAL, np.int64),
                "rate": np.zeros(len(k)),
                "salt": np.zeros(len(k), np.uint64),
            }
            order = np.argsort(np.concatenate([body, body[k]]), kind="stable")
            seg = {name: np.concatenate([seg[name], extra[name]])[order] for name in seg}
        return seg

    def planted_segments(self, planted: np.ndarray) -> dict:
        return self.whole_segments(self.history_story(planted))

    def whole_segments(self, stories: np.ndarray) -> dict:
        n = len(stories)
        return {
            "body": np.arange(n, dtype=np.int64),
            "story": np.asarray(stories, dtype=np.uint64),
            "first": np.zeros(n, np.int64),
            "last": np.full(n, -1, np.int64),
            "rate": np.zeros(n),
            "salt": np.zeros(n, np.uint64),
        }


def texts_of(night: Night, vocab: Vocabulary, segments: dict, count: int, batch: int = 4000) -> list[str]:
    out: list[str] = []
    bounds = np.searchsorted(segments["body"], np.arange(0, count + batch, batch))
    for b, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        if lo == hi:
            continue
        part = {name: values[lo:hi] for name, values in segments.items()}
        part["body"] = part["body"] - b * batch
        out += render(part, min(batch, count - b * batch), vocab, night.seed)
    return out


def url_of(rows: np.ndarray) -> list[str]:
    return [f"https://site{(r * 7919) % 3000:04d}.example/news/{r}" for r in rows.tolist()]


def planted_url(planted: np.ndarray) -> list[str]:
    return [f"https://old.example/story/{k}" for k in planted.tolist()]


# ---------------------------------------------------------------- the tasks (each in a child process)
def _settings(spec: dict):
    from cleaning.config import DedupConfig

    return DedupConfig(key_ranges=spec["key_ranges"])


def _vm(field: str) -> float:
    """VmRSS or VmHWM of this process, MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


class _Phases:
    """Wraps stage helpers to time them and note the peak RSS after each (instrumentation only)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.peak_after: dict[str, float] = {}
        self.rss_before: dict[str, float] = {}  # current RSS when the phase is first entered

    def wrap(self, module, name: str, label: str | None = None):
        original = getattr(module, name)
        label = label or name

        def wrapped(*args, **kwargs):
            self.rss_before.setdefault(label, round(_vm("VmRSS"), 1))
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started
                self.calls[label] = self.calls.get(label, 0) + 1
                self.peak_after[label] = round(_vm("VmHWM"), 1)

        setattr(module, name, wrapped)

    def report(self) -> dict:
        return {
            label: {
                "seconds": round(s, 3),
                "calls": self.calls[label],
                "rss_mb_before": self.rss_before[label],
                "peak_rss_mb_after": self.peak_after[label],
            }
            for label, s in self.seconds.items()
        }


def task_gen(spec: dict) -> dict:
    """Write shard ``index``'s bodies: id, url, text, published_at."""
    import pyarrow as pa

    from cleaning.models import article_id
    from cleaning.store import Lake

    lake = Lake(spec["root"])
    night = Night(spec["articles"], spec["seed"], spec["history_nights"])
    vocab = Vocabulary(spec["seed"])
    lo = spec["index"] * spec["shard_rows"]
    rows = np.arange(lo, min(lo + spec["shard_rows"], spec["articles"]))
    texts = texts_of(night, vocab, night.segments(rows), len(rows))
    urls = url_of(rows)
    h = mix(spec["seed"], rows, TAG_PUB)
    micros = (BASE_TIME.timestamp() * 1e6 + (h % np.uint64(900)).astype(np.int64) * 60_000_000).astype(np.int64)
    published = pa.array(micros, pa.int64(), mask=(h >> np.uint64(20)) % np.uint64(100) < 15)
    table = pa.table(
        {
            "id": pa.array([article_id(u) for u in urls], pa.string()),
            "url": pa.array(urls, pa.string()),
            "text": pa.array(texts, pa.string()),
            "published_at": published.cast(pa.timestamp("us", tz="UTC")),
        }
    )
    lake.write_table(f"bodies/shard-{spec['index']:05d}.parquet", table)
    words = np.array([len(t.split()) for t in texts[:2000]])
    roles = np.bincount(night.role[rows], minlength=len(ROLE_NAMES))
    return {
        "rows": len(rows),
        "text_bytes": int(sum(len(t) for t in texts)),
        "mean_words_first_2000": round(float(words.mean()), 1),
        "roles": dict(zip(ROLE_NAMES, roles.tolist())),
    }


def task_history(spec: dict) -> dict:
    """Write published night ``index`` (1 = yesterday): its history parts and the planted bodies."""
    import pyarrow as pa

    from cleaning import layout
    from cleaning.config import DedupConfig
    from cleaning.dedup import VERIFY_COLUMNS, bands_per_row, signatures
    from cleaning.dedup import history as hist
    from cleaning.models import article_id
    from cleaning.store import Lake

    lake = Lake(spec["root"])
    back = spec["index"]
    run_date = NIGHT - timedelta(days=back)
    night = Night(spec["articles"], spec["seed"], spec["history_nights"])
    vocab = Vocabulary(spec["seed"])
    settings = DedupConfig()
    width = bands_per_row(settings)
    parts, per_night = spec["history_parts"], spec["history_rows"]
    planted = np.arange(night.planted)
    planted = planted[night.planted_night(planted) == back]
    planted_part = (mix(spec["seed"], planted, 77) % np.uint64(parts)).astype(np.int64)
    rng = np.random.default_rng([spec["seed"], back])
    directory = layout.history_dir(run_date)
    rows_written, planted_written, files = 0, 0, 0
    article_parts = []
    for part in range(parts):
        count = per_night // parts + (1 if part < per_night % parts else 0)
        mine = planted[planted_part == part]
        count = max(0, count - len(mine))
        keys = rng.integers(0, 2**64, size=(count, width), dtype=np.uint64, endpoint=False)
        lead = rng.integers(0, 2**64, size=(count, hist.HISTORY_SENTENCE_KEYS), dtype=np.uint64)
        hashes = rng.integers(0, 2**63, size=(count, 2), dtype=np.uint64)
        ids = rng.integers(0, 2**63, size=(count, 2), dtype=np.uint64)

        def lists(matrix: np.ndarray) -> pa.ListArray:
            n, w = matrix.shape
            return pa.ListArray.from_arrays(
                pa.array(np.arange(0, (n + 1) * w, w, dtype=np.int32)), pa.array(matrix.ravel())
            )

        filler = pa.table(
            {
                "id": pa.array([f"{a:016x}{b:016x}" for a, b in ids.tolist()], pa.string()),
                "content_hash": pa.array([f"{a:016x}{b:016x}" for a, b in hashes.tolist()], pa.string()),
                "n_shingles": pa.array(np.full(count, 480, np.int32)),
                "word_count": pa.array(np.full(count, 500, np.int32)),
                "published_at": pa.array([None] * count, pa.timestamp("us", tz="UTC")),
                "band_keys": lists(keys),
                "sentence_keys": lists(lead),
                "run_date": pa.array([run_date] * count, pa.date32()),
                "url": pa.array([f"https://old{back:02d}.example/{part}/{i}" for i in range(count)], pa.string()),
            }
        )
        del keys, lead
        tables = [filler]
        article_ids: list[str] = []
        article_texts: list[str] = []
        if spec.get("history_texts"):  # every published story's body, as a real articles part holds
            stories = (
                np.uint64(4 << 40) + np.uint64(back << 30) + np.uint64(part << 22) + np.arange(count, dtype=np.uint64)
            )
            article_ids += filler.column("id").to_pylist()
            article_texts += texts_of(night, vocab, night.whole_segments(stories), count)
        if len(mine):
            texts = texts_of(night, vocab, night.planted_segments(mine), len(mine))
            urls = planted_url(mine)
            ids_ = [article_id(u) for u in urls]
            when = pa.array([BASE_TIME - timedelta(days=back)] * len(mine), pa.timestamp("us", tz="UTC"))
            sigs = signatures(zip(ids_, texts, [None] * len(mine)), settings).drop_columns(list(VERIFY_COLUMNS))
            sigs = sigs.set_column(sigs.schema.get_field_index("published_at"), "published_at", when)
            sigs = sigs.append_column("run_date", pa.array([run_date] * len(mine), pa.date32()))
            sigs = sigs.append_column("url", pa.array(urls, pa.string()))
            tables.append(sigs.cast(filler.schema))
            article_ids += ids_
            article_texts += texts
            planted_written += len(mine)
        if article_ids:
            rel = layout.table_part("articles", run_date, part)
            lake.write_table(
                rel, pa.table({"id": pa.array(article_ids, pa.string()), "text": pa.array(article_texts, pa.string())})
            )
            article_parts.append({"path": rel, "rows": len(article_ids), "bytes": lake.size(rel), "sha256": ""})
        del article_ids, article_texts
        table = pa.concat_tables(tables)
        files += len(hist.write_shard(lake, directory, part, table, hist.ranges_for(spec["key_ranges"])))
        rows_written += table.num_rows
    # published, listing its articles parts (the verify task reads earlier bodies from those)
    manifest = {
        "run_date": run_date.isoformat(),
        "status": "published",
        "files": {"articles": {"parts": article_parts}},
    }
    lake.write_json(layout.manifest_file(run_date), manifest)
    return {"night": run_date.isoformat(), "rows": rows_written, "planted": planted_written, "files": files}


def task_sign(spec: dict) -> dict:
    """The sign task of shard ``index``: read the shard's bodies, write final, signatures, keys."""

    from cleaning import layout
    from cleaning.dedup import signatures, stages
    from cleaning.store import Lake

    lake = Lake(spec["root"])
    settings = _settings(spec)
    run_date, shard = NIGHT, spec["index"]
    started = time.perf_counter()
    table = lake.read_table(f"bodies/shard-{shard:05d}.parquet")
    read_seconds = time.perf_counter() - started
    lake.write_table(layout.work_shard(run_date, "final", shard), table.select(["id", "url"]))
    ids = table.column("id").to_pylist()
    texts = table.column("text").to_pylist()
    published = table.column("published_at").to_pylist()
    del table
    started = time.perf_counter()
    sigs = signatures(zip(ids, texts, published), settings, workers=1)
    sign_seconds = time.perf_counter() - started
    del texts
    stages.write_signatures(lake, run_date, shard, sigs)
    started = time.perf_counter()
    entries = stages.write_keys(lake, run_date, shard, sigs, settings)
    return {
        "rows": sigs.num_rows,
        "key_entries": entries,
        "read_bodies_seconds": round(read_seconds, 3),
        "signatures_seconds": round(sign_seconds, 3),
        "write_keys_seconds": round(time.perf_counter() - started, 3),
        "files_written": 2 + settings.key_ranges,
    }


def task_bucket(spec: dict) -> dict:
    from cleaning.dedup import history as hist
    from cleaning.dedup import stages
    from cleaning.store import Lake

    phases = _Phases()
    phases.wrap(hist, "key_entries", "history_read")
    phases.wrap(stages, "candidate_pairs")
    phases.wrap(Lake, "read_tables", "read_tables")
    stats = stages.bucket(Lake(spec["root"]), NIGHT, spec["index"], _settings(spec))
    return {**stats, "phases": phases.report()}


def _count_reads() -> dict[str, int]:
    """Counts the reads of the sign step's list columns (calls, and rows asked for), and article
    files read."""
    from cleaning.store import Lake

    reads = {"signature_column_reads": 0, "signature_rows_asked": 0, "article_files_read": 0}
    original_read, original_rows = Lake.read_table, Lake.read_rows

    def counting_read(self, relpath, *args, **kwargs):
        columns = kwargs.get("columns") or []
        if "/signatures/" in relpath and columns and columns[0] in ("shingles", "words", "sentences"):
            reads["signature_column_reads"] += 1
        if relpath.startswith("articles/"):
            reads["article_files_read"] += 1
        return original_read(self, relpath, *args, **kwargs)

    def counting_rows(self, relpath, rows, columns):
        if "/signatures/" in relpath and columns[0] in ("shingles", "words", "sentences"):
            reads["signature_column_reads"] += 1
            reads["signature_rows_asked"] += len(rows)
        return original_rows(self, relpath, rows, columns)

    Lake.read_table, Lake.read_rows = counting_read, counting_rows
    return reads


def task_verify(spec: dict) -> dict:
    from cleaning.dedup import history as hist
    from cleaning.dedup import stages
    from cleaning.store import Lake

    phases = _Phases()
    phases.wrap(stages, "node_facts")
    phases.wrap(stages, "verify_pairs")
    phases.wrap(hist, "rows_of", "history_rows_of")
    phases.wrap(stages._ShardColumns, "__call__", "shard_columns")
    reads = _count_reads()
    from cleaning.dedup import verify as verify_module

    candidates: dict[str, int] = {}
    split = verify_module.to_verify

    def counted(pairs):
        exact, found = split(pairs)
        candidates.update(exact_pairs=len(exact), candidate_pairs=len(found), candidate_nodes=len(np.unique(found)))
        return exact, found

    verify_module.to_verify = counted
    stats = stages.verify_part(Lake(spec["root"]), NIGHT, spec["index"], _settings(spec))
    return {**stats, **reads, **candidates, "phases": phases.report()}


def task_cluster(spec: dict) -> dict:
    from cleaning.dedup import stages
    from cleaning.store import Lake

    phases = _Phases()
    phases.wrap(Lake, "read_tables", "read_edges_and_nodes")
    phases.wrap(stages, "plan_decisions")
    reads = _count_reads()
    stats = stages.cluster(Lake(spec["root"]), NIGHT, _settings(spec))
    return {**stats, **reads, "phases": phases.report()}


def task_measure(spec: dict) -> dict:
    """A measure task: one part of the copies without an edge to their canonical."""
    from cleaning.dedup import stages
    from cleaning.store import Lake

    phases = _Phases()
    phases.wrap(stages, "verify_batch", "measure_directly")
    phases.wrap(stages._ShardColumns, "__call__", "shard_columns")
    reads = _count_reads()
    stats = stages.measure_part(Lake(spec["root"]), NIGHT, spec["index"], _settings(spec))
    return {**stats, **reads, "phases": phases.report()}


def task_probe(spec: dict) -> dict:
    """CPU seconds of the whole-shard reads the verify and cluster tasks repeat for every shard (or
    history part): one sign shard's list columns, its small columns, its final URLs, and one
    shard's bodies (id, text) as an articles part holds them. Median of three reads each."""
    import pyarrow.parquet as pq

    from cleaning import layout

    root, shard = spec["root"], 0
    sigs = f"{root}/{layout.work_shard(NIGHT, 'signatures', shard)}"
    reads = {
        "signatures.shingles": (sigs, ["shingles"]),
        "signatures.words": (sigs, ["words"]),
        "signatures.sentences": (sigs, ["sentences"]),
        "signatures.node_info_columns": (sigs, ["id", "content_hash", "word_count", "published_at"]),
        "final.url": (f"{root}/{layout.work_shard(NIGHT, 'final', shard)}", ["url"]),
        "bodies.id_text": (f"{root}/bodies/shard-{shard:05d}.parquet", ["id", "text"]),
    }
    out = {}
    for name, (path, columns) in reads.items():
        cpu, wall = [], []
        for _ in range(3):
            c, w = time.process_time(), time.perf_counter()
            table = pq.read_table(path, columns=columns)
            if len(columns) == 1 and columns[0] in ("shingles", "words", "sentences"):
                column = table.column(columns[0]).combine_chunks()
                column.values.to_numpy(zero_copy_only=False)
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - w)
            nbytes = table.nbytes
            del table
        out[name] = {
            "cpu_s": round(sorted(cpu)[1], 3),
            "wall_s": round(sorted(wall)[1], 3),
            "mb": round(nbytes / 2**20, 1),
        }
    out["rows"] = pq.read_metadata(sigs).num_rows
    return out


def task_histread(spec: dict) -> dict:
    """One bucket task's history read (``history.key_entries`` of range 0) at several key-range
    counts, in fresh processes each (spec ``ranges``): what it reads and keeps, its CPU and peak."""
    from cleaning.dedup import history as hist
    from cleaning.store import Lake

    lake = Lake(spec["root"])
    before = _vm("VmRSS")
    cpu, wall = time.process_time(), time.perf_counter()
    entries = hist.key_entries(lake, NIGHT, spec["history_nights"], 0, spec["ranges"])
    return {
        "ranges": spec["ranges"],
        "kept_entries": len(entries),
        "cpu_s": round(time.process_time() - cpu, 2),
        "wall_s": round(time.perf_counter() - wall, 2),
        "rss_mb_before": round(before, 1),
        "rss_mb_after": round(_vm("VmRSS"), 1),
    }


def task_replica(spec: dict) -> dict:
    """The cluster stage's work on ``copies`` copies of this night's edges and nodes side by side
    (node numbers moved to other shards and history parts, so the copies are disjoint nights in
    one): how its memory and CPU follow the night's duplicate graph beyond the night generated.
    Reads the verify parts' files of every copy, as the stage reads its parts, then plans the
    decisions and fills the canonicals' URLs; writes nothing."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cleaning import layout
    from cleaning.dedup import stages
    from cleaning.store import Lake

    source, copies = Lake(spec["root"]), spec["copies"]
    target = Path(spec["root"]) / "_bench" / f"replica-{copies}"
    shutil.rmtree(target, ignore_errors=True)
    for kind, columns in (("edges", ["a", "b"]), ("nodes", ["node"])):
        (target / kind).mkdir(parents=True)
        for q in range(spec["key_ranges"]):
            rel = layout.work_edges(NIGHT, q) if kind == "edges" else layout.work_nodes(NIGHT, q)
            table = source.read_table(rel)
            for k in range(copies):
                moved = table
                for name in columns:
                    v = table.column(name).to_numpy()
                    shard_step, part_step = np.int64(k * 4096) << 32, np.int64(k * 4096) << 24
                    v = np.where((v >> 62) & 1 == 1, v + part_step, v + shard_step)
                    moved = moved.set_column(moved.schema.get_field_index(name), name, pa.array(v))
                pq.write_table(moved, target / kind / f"copy-{k:03d}-part-{q:05d}.parquet")
    lake = Lake(str(target))
    before = _vm("VmRSS")
    cpu = time.process_time()
    edges, decided, to_measure = stages.plan_night(
        lake, lake.list_files("edges", ".parquet"), lake.list_files("nodes", ".parquet")
    )
    report = {
        "copies": copies,
        "edges": edges,
        "decided": decided.num_rows,
        "to_measure": to_measure.num_rows,
        "cpu_s": round(time.process_time() - cpu, 2),
        "rss_mb_before": round(before, 1),
    }
    shutil.rmtree(target)
    return report


def task_noop(spec: dict) -> dict:
    """The interpreter with the modules every task imports: the floor under every peak RSS."""
    import pyarrow.parquet  # noqa: F401

    from cleaning.dedup import history, stages  # noqa: F401
    from cleaning.store import Lake  # noqa: F401

    return {}


TASKS = {
    "gen": task_gen,
    "history": task_history,
    "sign": task_sign,
    "bucket": task_bucket,
    "verify": task_verify,
    "cluster": task_cluster,
    "measure": task_measure,
    "noop": task_noop,
    "replica": task_replica,
    "probe": task_probe,
    "histread": task_histread,
}


def run_task(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    result = TASKS[spec["task"]](spec)
    result["task_peak_rss_mb_self"] = round(_vm("VmHWM"), 1)
    Path(spec["result"]).write_text(json.dumps(result, default=str))
    return 0


# ---------------------------------------------------------------- the parent: one child per task
def run_children(specs: list[dict], jobs: int, scratch: Path, log) -> list[dict]:
    """Run each spec as ``python bench/dedup_scale.py --task spec.json``, ``jobs`` at a time;
    returns per task its peak RSS, CPU and wall seconds (``os.wait4``) and its own report."""
    pending = list(enumerate(specs))
    running: dict[int, tuple] = {}
    done: list[dict | None] = [None] * len(specs)
    while pending or running:
        while pending and len(running) < jobs:
            k, spec = pending.pop(0)
            path = scratch / f"spec-{spec['task']}-{spec.get('index', 0)}.json"
            spec = {**spec, "result": str(path.with_suffix(".out.json"))}
            path.write_text(json.dumps(spec))
            proc = subprocess.Popen([sys.executable, __file__, "--task", str(path)], cwd=ROOT)
            running[proc.pid] = (k, spec, time.perf_counter(), proc)
        pid, status, usage = os.wait4(-1, 0)
        if pid not in running:
            continue
        k, spec, started, proc = running.pop(pid)
        wall = time.perf_counter() - started
        code = proc.returncode = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise RuntimeError(f"task {spec['task']} {spec.get('index')} failed with exit code {code}")
        report = json.loads(Path(spec["result"]).read_text())
        row = {
            "stage": spec["task"],
            "index": spec.get("index", 0),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "wall_s": round(wall, 2),
            "report": report,
        }
        done[k] = row
        log(
            f"  {row['stage']:8s} {row['index']:4d}  rss {row['peak_rss_mb']:8.1f} MB"
            f"  cpu {row['cpu_s']:7.1f} s  wall {row['wall_s']:7.1f} s"
        )
    return [d for d in done if d is not None]


def summarize(rows: list[dict], elapsed: float) -> dict:
    rss = np.array([r["peak_rss_mb"] for r in rows])
    cpu = np.array([r["cpu_s"] for r in rows])
    wall = np.array([r["wall_s"] for r in rows])
    return {
        "tasks": len(rows),
        "peak_rss_mb_max": round(float(rss.max()), 1),
        "peak_rss_mb_median": round(float(np.median(rss)), 1),
        "peak_rss_mb_min": round(float(rss.min()), 1),
        "cpu_s_total": round(float(cpu.sum()), 1),
        "cpu_s_median": round(float(np.median(cpu)), 2),
        "cpu_s_max": round(float(cpu.max()), 2),
        "task_wall_s_total": round(float(wall.sum()), 1),
        "task_wall_s_max": round(float(wall.max()), 2),
        "stage_wall_s": round(elapsed, 1),
    }


def machine() -> dict:
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        total = int(f.readline().split()[1])
    import pyarrow

    return {
        "nproc": os.cpu_count(),
        "mem_total_gb": round(total / 1024**2, 1),
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pyarrow": pyarrow.__version__,
        "load_average_at_start": list(os.getloadavg()),
    }


def code_version() -> dict:
    """The commit of the code measured: ROOT/COMMIT in a snapshot (``git archive``), else git."""

    marker = ROOT / "COMMIT"
    if marker.exists():
        commit, dirty = marker.read_text().strip(), "snapshot"
    else:
        run = lambda *a: subprocess.run(["git", "-C", str(ROOT), *a], capture_output=True, text=True).stdout.strip()  # noqa: E731
        commit, dirty = run("rev-parse", "HEAD"), run("status", "--porcelain", "cleaning")
    return {
        "commit": commit,
        "uncommitted_cleaning_changes": dirty,
    }


def disk_usage(root: Path) -> dict:
    out: dict[str, int] = {}
    for path in root.rglob("*"):
        if path.is_file():
            rel = path.relative_to(root).parts
            top = f"_work/{rel[2]}" if rel[0] == "_work" else rel[0]
            out[top] = out.get(top, 0) + path.stat().st_size
    return dict(sorted(out.items()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--shard-rows", type=int, default=25_000)
    parser.add_argument("--key-ranges", type=int, default=8, help="[dedup] key_ranges: bucket and verify tasks")
    parser.add_argument("--history-nights", type=int, default=30)
    parser.add_argument("--history-share", type=float, default=0.2, help="stories per history night / articles")
    parser.add_argument(
        "--history-texts",
        action="store_true",
        help="write every history story's body to its night's articles parts "
        "(default: only the stories tonight copies)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2, help="child processes at once")
    parser.add_argument("--root", default=None, help="lake folder (default: a new folder under /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the lake afterwards")
    parser.add_argument("--stages", default="gen,history,sign,bucket,verify,cluster,measure,probe")
    parser.add_argument("--out", default=None)
    parser.add_argument(
        "--replica-copies",
        type=lambda text: [int(x) for x in text.split(",")],
        default=[1, 10],
        help="stage 'replica': cluster's work on this many copies of the night's edges and nodes",
    )
    args = parser.parse_args(argv)
    if args.task:
        return run_task(args.task)

    from bench.report import provenance, write_report
    from cleaning.dedup.history import ranges_for as history_ranges_for

    root = Path(args.root or f"/tmp/dedup-scale-{args.articles}-{args.seed}")
    if root.exists() and not args.keep:
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    scratch = root / "_bench"
    scratch.mkdir(exist_ok=True)
    shards = -(-args.articles // args.shard_rows)
    base = {
        "root": str(root),
        "articles": args.articles,
        "shard_rows": args.shard_rows,
        "key_ranges": args.key_ranges,
        "seed": args.seed,
        "history_nights": args.history_nights,
        "history_rows": int(args.history_share * args.articles),
        "history_parts": shards,
        "history_texts": args.history_texts,
    }
    started_all = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started_all:7.1f}s] {message}", flush=True)

    report = {
        **provenance("dedup_scale.py", argv),
        "machine_detail": machine(),
        "code": code_version(),
        "settings": {
            **{k: v for k, v in base.items() if k != "root"},
            "sign_shards": shards,
            "history_share": args.history_share,
            "history_ranges_written": history_ranges_for(args.key_ranges),  # as publish writes them
            "jobs": args.jobs,
            "sign_workers_per_task": 1,
            "copy_shares": dict(zip(ROLE_NAMES[1:], np.diff(np.concatenate([[0], ROLE_CUTS])).round(3).tolist())),
            "planted_history_stories": max(1, int(args.articles * PLANTED_SHARE)),
        },
        "setup": {},
        "stages": {},
        "tasks": {},
    }
    log(f"lake {root}: {args.articles} articles in {shards} shards, {args.key_ranges} key ranges")
    noop = run_children([{**base, "task": "noop"}], 1, scratch, log)
    report["baseline_rss_mb"] = noop[0]["peak_rss_mb"]
    wanted = args.stages.split(",")
    for name, specs in (
        ("gen", [{**base, "task": "gen", "index": s} for s in range(shards)]),
        ("history", [{**base, "task": "history", "index": d} for d in range(1, args.history_nights + 1)]),
    ):
        if name not in wanted:
            continue
        started = time.perf_counter()
        log(f"setup: {name}")
        rows = run_children(specs, args.jobs, scratch, log)
        report["setup"][name] = summarize(rows, time.perf_counter() - started)
        report["tasks"][name] = rows
    if "sign" in wanted:
        shutil.rmtree(root / "_work", ignore_errors=True)  # another split's pairs must not be read
    for stage in ("sign", "bucket", "verify", "cluster", "measure"):
        if stage not in wanted:
            continue
        ranges = args.key_ranges
        count = {"sign": shards, "bucket": ranges, "verify": ranges, "cluster": 1, "measure": ranges}[stage]
        specs = [{**base, "task": stage, "index": k} for k in range(count)]
        started = time.perf_counter()
        log(f"stage: {stage} ({count} tasks)")
        rows = run_children(specs, args.jobs if stage != "cluster" else 1, scratch, log)
        report["stages"][stage] = summarize(rows, time.perf_counter() - started)
        report["tasks"][stage] = rows
        log(f"  {stage}: {json.dumps(report['stages'][stage])}")
    if "histread" in wanted:
        log("history read of one key range, by the number of key ranges")
        specs = [{**base, "task": "histread", "index": k, "ranges": r} for k, r in enumerate((16, 32, 64, 256))]
        report["history_read"] = run_children(specs, 1, scratch, log)
    if "replica" in wanted:
        log("cluster's work on copies of the night's duplicate graph")
        specs = [{**base, "task": "replica", "index": k, "copies": c} for k, c in enumerate(args.replica_copies)]
        report["cluster_replicas"] = run_children(specs, 1, scratch, log)
    if "probe" in wanted:
        log("probe: whole-shard reads")
        report["probe"] = run_children([{**base, "task": "probe"}], 1, scratch, log)[0]
    report["disk_bytes"] = disk_usage(root)
    report["total_wall_s"] = round(time.perf_counter() - started_all, 1)
    if "cluster" in report["tasks"]:
        report["night"] = {k: v for k, v in report["tasks"]["cluster"][0]["report"].items() if k != "phases"}
    if args.out:
        write_report(args.out, report)
        log(f"wrote {args.out}")
    if not args.keep:
        shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
