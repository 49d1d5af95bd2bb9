"""The verify stage: is a candidate pair the same story? One part of the pairs at a time.

A pair is the same story when its 4-gram shingle sets overlap enough - Jaccard >=
``jaccard_threshold``, or the shorter body contained in the longer >= ``containment_threshold``
when it has at least ``containment_min_shingles`` shingles (a two-line brief is contained in many
stories) - or, for a pair that fails that but shares at least the policy's ``min_containment``,
when their sentences align as an edited copy's do (:mod:`.align`). Each verified pair becomes an
*edge* carrying what decided it (``measure``) and its value (``score``); exact pairs (equal
content hashes) are edges without any reading.

Every candidate is verified, none is skipped because its two bodies are already joined through
other pairs: the edges of a part are then a function of its pairs alone, so how the pairs were
split across tasks cannot change them. A body's data is read from where its node says it lies
(:class:`Bodies`), in batches, one shard at a time, only the rows it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyarrow as pa

from cleaning.config import DedupConfig
from cleaning.dedup import nodes as node_numbers
from cleaning.dedup.align import DEFAULT_POLICY, AlignPolicy, align, matches_batch, sentences_batch
from cleaning.dedup.buckets import PAIR_EXACT, PAIR_SENTENCE
from cleaning.dedup.shingles import batch_shingles, fold32, jaccard_and_containment, sorted_sets, words_and_sentences

MIN_SHARED_KEYS = 2  # sentence pairs are verified when found through at least this many keys


def gather(values: np.ndarray, offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The list entries of ``rows`` from a list column's (values, offsets), concatenated."""
    first = offsets[rows].astype(np.int64)
    lengths = offsets[rows + 1].astype(np.int64) - first
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    index = np.arange(starts[-1], dtype=np.int64) + np.repeat(first - starts[:-1], lengths)
    return values[index], starts


# columns_of(shard, rows, column) -> (values, starts) of those rows' lists, in the order given
ColumnReader = Callable[[int, np.ndarray, str], tuple[np.ndarray, np.ndarray]]


class Bodies:
    """What verification knows of each node, loaded in batches: the sorted shingle set and, for
    the alignment, the :class:`~cleaning.dedup.align.Sentences`. Tonight's bodies come from the
    sign step's columns (``shingles``, ``words``, ``sentences``) through ``columns_of``; an earlier
    night's from its published text through ``texts_of(nodes) -> {node: text}``."""

    def __init__(self, columns_of: ColumnReader, texts_of: Callable[[list[int]], dict[int, str]], shingle_words: int):
        self.columns_of, self.texts_of, self.shingle_words = columns_of, texts_of, shingle_words
        self.shingles: dict[int, np.ndarray] = {}
        self.words: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # earlier nights': from their text
        self.sentences: dict = {}

    @staticmethod
    def _by_shard(tonight: list[int]):
        nodes = np.array(tonight, dtype=np.int64)
        shards = node_numbers.shard_of(nodes)
        for shard in np.unique(shards).tolist():
            chosen = nodes[shards == shard]
            yield shard, chosen.tolist(), node_numbers.row_of(chosen)

    def load(self, wanted) -> None:
        missing = [int(i) for i in wanted if int(i) not in self.shingles]
        tonight = [i for i in missing if not node_numbers.is_history(i)]
        for shard, chosen, rows in self._by_shard(tonight):
            for k in range(0, len(rows), 4096):
                values, starts = self.columns_of(shard, rows[k : k + 4096], "shingles")
                self.shingles.update(zip(chosen[k : k + 4096], sorted_sets(values, starts)))
        earlier = [i for i in missing if node_numbers.is_history(i)]
        if earlier:
            texts = self.texts_of(earlier)
            hashes, counts, lengths, per_body = words_and_sentences([texts.get(i, "") for i in earlier])
            words, starts = fold32(hashes), np.concatenate([[0], np.cumsum(counts)])
            sentence_starts = np.concatenate([[0], np.cumsum(per_body)])
            self.shingles.update(zip(earlier, sorted_sets(*batch_shingles(hashes, counts, self.shingle_words))))
            for k, node in enumerate(earlier):
                self.words[node] = (
                    words[starts[k] : starts[k + 1]],
                    lengths[sentence_starts[k] : sentence_starts[k + 1]],
                )

    def prepare_sentences(self, wanted) -> None:
        """The alignment's view of many nodes in one batch (only nodes that reach the alignment)."""
        wanted = [int(i) for i in wanted if int(i) not in self.sentences]
        if not wanted:
            return
        self.load([i for i in wanted if node_numbers.is_history(i)])
        parts = []
        for shard, chosen, rows in self._by_shard([i for i in wanted if not node_numbers.is_history(i)]):
            words, starts = self.columns_of(shard, rows, "words")
            lengths, sentence_starts = self.columns_of(shard, rows, "sentences")
            parts.append((chosen, words, np.diff(starts), lengths, np.diff(sentence_starts)))
        earlier = [i for i in wanted if node_numbers.is_history(i)]
        if earlier:
            pieces = [self.words[i] for i in earlier]
            parts.append(
                (
                    earlier,
                    np.concatenate([w for w, _ in pieces]),
                    np.array([len(w) for w, _ in pieces]),
                    np.concatenate([x for _, x in pieces]),
                    np.array([len(x) for _, x in pieces]),
                )
            )
        for chosen, words, word_counts, lengths, sentence_counts in parts:
            self.sentences.update(zip(chosen, sentences_batch(words, word_counts, lengths, sentence_counts)))

    def forget(self) -> None:
        """Drop every body read so far (the next batch reads its own)."""
        self.shingles.clear()
        self.words.clear()
        self.sentences.clear()

    def sentences_of(self, node: int):
        if node not in self.sentences:
            self.prepare_sentences([node])
        return self.sentences[node]


@dataclass(frozen=True)
class Verdict:
    same_story: bool
    jaccard: float
    containment: float
    measure: str  # "jaccard", "containment" or "alignment": what decided (the largest, when none held)
    score: float


def shingle_verdict(bodies: Bodies, a: int, b: int, settings: DedupConfig) -> Verdict:
    x, y = bodies.shingles[a], bodies.shingles[b]
    jac, con = jaccard_and_containment(x, y)
    if jac >= settings.jaccard_threshold:
        return Verdict(True, jac, con, "jaccard", jac)
    if con >= settings.containment_threshold and min(len(x), len(y)) >= settings.containment_min_shingles:
        return Verdict(True, jac, con, "containment", con)
    return Verdict(False, jac, con, "containment", con)


def verify_batch(
    pairs: list[tuple[int, int]],
    bodies: Bodies,
    settings: DedupConfig,
    policy: AlignPolicy | None,
    batch: int = 20_000,
) -> dict[tuple[int, int], Verdict]:
    """Verdicts of many pairs, each as given (first, second): the shingle overlap, then for pairs
    that share enough, the alignment. Bodies are read ``batch`` pairs at a time - all their
    shingle sets, then the sentences of the pairs that reach the alignment - and dropped after
    each batch, so memory follows the batch, not the number of pairs."""
    out: dict[tuple[int, int], Verdict] = {}
    for start in range(0, len(pairs), batch):
        chunk = pairs[start : start + batch]
        bodies.load(sorted({i for pair in chunk for i in pair}))
        verdicts = {pair: shingle_verdict(bodies, *pair, settings) for pair in chunk}
        if policy is not None:
            deferred = [p for p, v in verdicts.items() if not v.same_story and v.containment >= policy.min_containment]
            bodies.prepare_sentences(sorted({i for pair in deferred for i in pair}))
            for a, b in deferred:
                aligned = align(bodies.sentences_of(a), bodies.sentences_of(b), policy)
                if aligned.same_story:
                    verdict = verdicts[(a, b)]
                    verdicts[(a, b)] = Verdict(True, verdict.jaccard, verdict.containment, "alignment", aligned.score)
        out.update(verdicts)
        bodies.forget()
    return out


EDGES = pa.schema(
    [
        ("a", pa.int64()),
        ("b", pa.int64()),
        ("method", pa.string()),
        ("jaccard", pa.float64()),
        ("containment", pa.float64()),
        ("measure", pa.string()),
        ("score", pa.float64()),
    ]
)


@dataclass
class Edges:
    """Verified pairs, ``a < b`` by node number, sorted; ``method`` is "exact" or "near"."""

    a: np.ndarray
    b: np.ndarray
    method: list[str]
    jaccard: list[float]
    containment: list[float]
    measure: list[str]
    score: list[float]

    def table(self) -> pa.Table:
        columns = [self.a, self.b, self.method, self.jaccard, self.containment, self.measure, self.score]
        return pa.table(columns, schema=EDGES)


def _distinct(pairs: np.ndarray) -> np.ndarray:
    if len(pairs) == 0:
        return pairs.reshape(0, 2).astype(np.int64)
    return np.unique(pairs.astype(np.int64), axis=0)


def to_verify(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(exact, candidates)`` from a part's ``(a, b, kind)`` rows: distinct exact pairs, and the
    distinct other pairs that are not exact, sentence pairs only when found through
    :data:`MIN_SHARED_KEYS` keys or more."""
    kind = pairs[:, 2] if len(pairs) else np.empty(0, np.int64)
    exact = _distinct(pairs[kind == PAIR_EXACT, :2])
    sentence = pairs[kind == PAIR_SENTENCE, :2]
    if len(sentence):
        found, counts = np.unique(sentence, axis=0, return_counts=True)
        sentence = found[counts >= MIN_SHARED_KEYS]
    other = pairs[(kind != PAIR_EXACT) & (kind != PAIR_SENTENCE), :2]
    candidates = _distinct(np.concatenate([other.reshape(-1, 2), sentence.reshape(-1, 2)]))
    if len(exact) and len(candidates):
        known = set(map(tuple, exact.tolist()))
        candidates = candidates[[tuple(p) not in known for p in candidates.tolist()]].reshape(-1, 2)
    return exact, candidates


def verify_pairs(
    pairs: np.ndarray,
    bodies: Bodies,
    order: Callable[[int], tuple],
    settings: DedupConfig,
    policy: AlignPolicy | None = DEFAULT_POLICY,
) -> Edges:
    """Edges of a part's pairs (``(a, b, kind)`` rows). ``order(node)`` puts the two bodies of a
    pair in the order the single-task code compared them (tonight's first, then by id)."""
    exact, candidates = to_verify(pairs)
    out: dict[tuple[int, int], tuple] = {(a, b): ("exact", 1.0, 1.0, "exact", 1.0) for a, b in exact.tolist()}
    bodies.load(np.unique(candidates).tolist())
    deferred = []
    for a, b in candidates.tolist():
        x, y = (a, b) if order(a) <= order(b) else (b, a)
        verdict = shingle_verdict(bodies, x, y, settings)
        if verdict.same_story:
            out[(a, b)] = ("near", verdict.jaccard, verdict.containment, verdict.measure, verdict.score)
        elif policy is not None and verdict.containment >= policy.min_containment:
            deferred.append((a, b, x, y, verdict))
    # The alignment costs far more than a shingle comparison: one batch, after every shingle verdict.
    bodies.prepare_sentences(sorted({i for _, _, x, y, _ in deferred for i in (x, y)}))
    found = matches_batch([(bodies.sentences_of(x), bodies.sentences_of(y)) for _, _, x, y, _ in deferred], policy)
    for (a, b, x, y, verdict), matched in zip(deferred, found):
        if matched is None:
            continue  # too little matches for a verdict
        aligned = align(bodies.sentences_of(x), bodies.sentences_of(y), policy, matched)
        if aligned.same_story:
            out[(a, b)] = ("near", verdict.jaccard, verdict.containment, "alignment", aligned.score)
    keys = sorted(out)
    values = [out[k] for k in keys]
    return Edges(
        np.array([k[0] for k in keys], dtype=np.int64),
        np.array([k[1] for k in keys], dtype=np.int64),
        [v[0] for v in values],
        [float(v[1]) for v in values],
        [float(v[2]) for v in values],
        [v[3] for v in values],
        [float(v[4]) for v in values],
    )
