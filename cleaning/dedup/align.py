"""Sentence alignment: is one body an edited copy of the other?

Shingle overlap breaks under the edits copy desks make all at once: cut to a third of the
paragraphs, a paragraph or two of local copy, a few per cent of the words changed throughout.
Each 4-gram dies with any of its words, so a copy can keep under half of its shingles while
every sentence it kept is still recognizably the same sentence. This module compares bodies
sentence by sentence, and then asks what shape the shared part has, because that shape - not
its size - is what tells a copy from a story that reuses some of another's text.

Sentences (:func:`cleaning.dedup.shingles.words_and_sentences`) are compared by the Jaccard
similarity of their word-bigram sets, G(s) = {(w_k, w_k+1)} within the sentence (a one-word
sentence is its word): sentence a of body A matches sentence b of body B when
|G(a) ∩ G(b)| / |G(a) ∪ G(b)| >= ``sentence_similarity``. One changed word of a 20-word sentence
removes two of its 19 bigrams (similarity 17/21 = 0.81); a template sentence with its figures
and names changed keeps far less.

The alignment is the heaviest chain of matches (a_1, b_1), ..., (a_k, b_k) with a and b both
strictly increasing - the shared sentences in the same order - where each match weighs the words
of its two sentences (a weighted longest common subsequence, by dynamic programming over the
matches with a prefix-maximum tree). With X_m the words of body X's chained sentences:

* coverage(X) = X_m / |X|, and strong coverage: the same counting only matches of similarity
  >= ``strong_similarity`` (a sentence with a word or two changed, not one with its figures
  and names swapped);
* start(X) = words of X before its first chained sentence, not counting lines shorter than
  ``furniture_words`` (headlines, bylines, datelines);
* prefix(X) = X_m / (words of X up to the end of its last chained sentence);
* substitution = the words facing each other unmatched at the same place in both bodies: for the
  gap before the first match and each gap between consecutive matches, the smaller of the two
  bodies' words in it, summed; as a ratio, substitution / (substitution + min(A_m, B_m)).

A copy C of an original O keeps O's lede and cuts from the bottom (news is written to be cut),
so O's chain starts at its top and covers most of O's prefix; what C adds - local paragraphs,
headline, byline, trailer - is inserted, not put in place of O's sentences, so little is
substituted; and most of C is O's sentences, however much of O was cut. The pair is the same
story when the substitution ratio is <= ``substitution`` and, for one of the two ways round
(O, C):

    start(O) <= start_words,  prefix(O) >= prefix_coverage,  coverage(O) >= original_coverage,
    coverage(C) >= copy_coverage,  strong coverage(C) >= strong_coverage,
    and the chain holds at least min_words words of each body, in min_sentences sentences.

The negatives this rejects: a follow-up reusing background paragraphs matches the middle of the
original (start and prefix fail one way) and is mostly its own new story (coverage fails the
other way), and its new top faces the original's lede (substitution); a roundup quoting a
story's lede is mostly other stories; another outlet's story of the same event shares names,
figures and a quote or two, not sentences in order; distinct reports of a template genre match
their boilerplate and, weakly, some sentences whose figures and names differ, while the rest of
their sentences face each other unmatched - substitution, not insertion. The value reported for
a match is coverage(C).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cleaning.dedup.shingles import _sorted_unique, fmix64, fold32

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class AlignPolicy:
    """Thresholds of the alignment verdict (see the module docstring); chosen on the wide
    simulator's tuning seeds (``bench/RESULTS.md``)."""

    sentence_similarity: float = 0.5  # bigram Jaccard of two sentences that match
    strong_similarity: float = 0.65  # a match this close is a copied sentence, not a template's
    furniture_words: int = 12  # shorter lines before the chain do not count in its start
    start_words: int = 30  # the original's chain may start after its first sentence, edited past matching
    prefix_coverage: float = 0.5  # of the original's words up to its last chained sentence
    original_coverage: float = 0.2  # of the original's words: a cut keeps about a third at least
    copy_coverage: float = 0.4  # of the copy's words in chained sentences...
    strong_coverage: float = 0.25  # ...and in strong matches
    min_words: int = 50  # chained words in each body...
    min_sentences: int = 3  # ...in at least this many sentences: one long shared sentence is not a copy
    substitution: float = 0.35  # at most this ratio of the aligned stretch unmatched on both sides
    min_containment: float = 0.25  # 4-gram containment below which no alignment is tried (speed)


DEFAULT_POLICY = AlignPolicy()


@dataclass
class Sentences:
    """One body's sentences, ready for alignment: the bigram hashes of every sentence, sorted
    by hash (``grams``), the sentence each belongs to (``owner``), distinct bigrams per sentence
    (``sizes``) and words per sentence (``lengths``)."""

    grams: np.ndarray
    owner: np.ndarray
    sizes: np.ndarray
    lengths: np.ndarray

    @property
    def words(self) -> int:
        return int(self.lengths.sum())


def sentences_of(words: np.ndarray, lengths: np.ndarray) -> Sentences:
    """:class:`Sentences` from a body's word hashes (text order) and its sentence lengths."""
    return sentences_batch(np.asarray(words), np.array([len(words)]), np.asarray(lengths), np.array([len(lengths)]))[0]


def sentences_batch(
    words: np.ndarray, word_counts: np.ndarray, lengths: np.ndarray, sentence_counts: np.ndarray
) -> list[Sentences]:
    """:class:`Sentences` of many bodies at once: their word hashes and sentence lengths
    concatenated, with each body's number of words and of sentences. One sort serves all."""
    lengths = np.asarray(lengths, dtype=np.int64)
    words = np.asarray(words).astype(np.uint64)
    total = len(lengths)
    owner_of_word = np.repeat(np.arange(total, dtype=np.uint64), lengths)
    with np.errstate(over="ignore"):
        inside = owner_of_word[1:] == owner_of_word[:-1]  # a bigram never spans two sentences
        pairs = fmix64(words[:-1] * _MULTIPLIER + words[1:])[inside]
        singles = np.flatnonzero(lengths == 1)
        first_word = np.cumsum(lengths) - lengths
        alone = fmix64(words[first_word[singles]] ^ _MULTIPLIER)
    hashes = np.concatenate([pairs, alone])
    owners = np.concatenate([owner_of_word[:-1][inside], singles.astype(np.uint64)])
    # distinct (sentence, bigram) keys, then per body in the order of the hash, for joining
    keys = _sorted_unique((owners << np.uint64(32)) | fold32(hashes).astype(np.uint64))
    owner = (keys >> np.uint64(32)).astype(np.int64)
    grams = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    first_sentence = np.concatenate([[0], np.cumsum(sentence_counts)]).astype(np.int64)
    body = np.searchsorted(first_sentence, owner, side="right") - 1
    # per body in the order of the hash: one sort of (body, hash) packed in 64 bits
    order = np.argsort((body.astype(np.uint64) << np.uint64(32)) | grams.astype(np.uint64))
    grams, owner, body = grams[order], owner[order], body[order]
    sizes = np.bincount(owner, minlength=total)
    bounds = np.searchsorted(body, np.arange(len(sentence_counts) + 1))
    out = []
    for d in range(len(sentence_counts)):
        lo, hi = first_sentence[d], first_sentence[d + 1]
        a, b = bounds[d], bounds[d + 1]
        out.append(Sentences(grams[a:b], owner[a:b] - lo, sizes[lo:hi], lengths[lo:hi]))
    return out


def matches(a: Sentences, b: Sentences, similarity: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(i, j, sim)`` for every pair of sentences (i of a, j of b) at or above ``similarity``,
    sorted by i then j."""
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    if len(a.grams) == 0 or len(b.grams) == 0:
        return empty
    low = b.grams.searchsorted(a.grams, side="left")
    high = b.grams.searchsorted(a.grams, side="right")
    hits = high - low
    total = int(hits.sum())
    if total == 0:
        return empty
    # every (a gram, equal b gram) combination: a common bigram in several sentences of each
    # body pairs all of them up, and the per-pair counts below sort it out
    from_a = np.repeat(np.arange(len(a.grams)), hits)
    run_start = np.cumsum(hits) - hits
    from_b = np.repeat(low - run_start, hits) + np.arange(total)
    width = np.int64(len(b.lengths))
    codes = np.sort(a.owner[from_a] * width + b.owner[from_b])
    starts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
    shared = np.diff(np.append(starts, len(codes)))
    codes = codes[starts]
    i, j = codes // width, codes % width
    sim = shared / (a.sizes[i] + b.sizes[j] - shared)
    keep = sim >= similarity
    return i[keep], j[keep], sim[keep]


def matches_batch(pairs: list[tuple[Sentences, Sentences]], policy: AlignPolicy = DEFAULT_POLICY) -> list:
    """:func:`matches` for many pairs at once, and the cheap bound :func:`align` applies first:
    for each pair, its ``(i, j, sim)``, or None when even all its matched sentences fall short of
    the word and sentence counts the verdict needs. Every pair's bigrams are tagged with the
    pair's number in the top 32 bits, so one binary search and one sort serve all of them."""
    out: list = []
    for start in range(0, len(pairs), 2048):  # bounded batches: the combinations array grows with them
        out.extend(_matches_batch(pairs[start : start + 2048], policy))
    return out


def _tagged(bodies: list[Sentences]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pair-tagged grams, global sentence of each gram, sentence offsets, sizes, lengths)."""
    gram_counts = np.array([len(x.grams) for x in bodies], dtype=np.int64)
    sentence_counts = np.array([len(x.lengths) for x in bodies], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sentence_counts)])
    tag = np.repeat(np.arange(len(bodies), dtype=np.uint64), gram_counts)
    grams = (tag << np.uint64(32)) | np.concatenate([x.grams for x in bodies]).astype(np.uint64)
    owner = np.concatenate([x.owner for x in bodies]) + np.repeat(offsets[:-1], gram_counts)
    sizes = np.concatenate([x.sizes for x in bodies])
    lengths = np.concatenate([x.lengths for x in bodies])
    return grams, owner, offsets, sizes, lengths


def _matches_batch(pairs: list[tuple[Sentences, Sentences]], policy: AlignPolicy) -> list:
    if not pairs:
        return []
    count = len(pairs)
    grams_a, owner_a, offsets_a, sizes_a, lengths_a = _tagged([a for a, _ in pairs])
    grams_b, owner_b, offsets_b, sizes_b, lengths_b = _tagged([b for _, b in pairs])  # sorted: pair, then gram
    low = grams_b.searchsorted(grams_a, side="left")
    hits = grams_b.searchsorted(grams_a, side="right") - low
    total = int(hits.sum())
    results: list = [None] * count
    if total == 0:
        return results
    from_a = np.repeat(np.arange(len(grams_a)), hits)
    from_b = np.repeat(low - (np.cumsum(hits) - hits), hits) + np.arange(total)
    width = np.int64(len(lengths_b))
    codes = np.sort(owner_a[from_a] * width + owner_b[from_b])  # global sentence numbers
    firsts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
    shared = np.diff(np.append(firsts, len(codes)))
    codes = codes[firsts]
    ga, gb = codes // width, codes % width
    sim = shared / (sizes_a[ga] + sizes_b[gb] - shared)
    keep = sim >= policy.sentence_similarity
    ga, gb, sim = ga[keep], gb[keep], sim[keep]
    pair = np.searchsorted(offsets_a, ga, side="right") - 1
    # the bound: words and sentences of the distinct matched sentences, per pair and side
    reach, distinct = [], []
    for g, offsets, lengths in ((ga, offsets_a, lengths_a), (gb, offsets_b, lengths_b)):
        unique = _sorted_unique(g)
        owner_pair = np.searchsorted(offsets, unique, side="right") - 1
        reach.append(np.bincount(owner_pair, weights=lengths[unique], minlength=count))
        distinct.append(np.bincount(owner_pair, minlength=count))
    words_a = np.array([max(1, a.words) for a, _ in pairs])
    words_b = np.array([max(1, b.words) for _, b in pairs])
    passing = (
        (np.minimum(reach[0], reach[1]) >= policy.min_words)
        & (np.minimum(distinct[0], distinct[1]) >= policy.min_sentences)
        & (np.maximum(reach[0] / words_a, reach[1] / words_b) >= policy.copy_coverage)
    )
    bounds = np.searchsorted(pair, np.arange(count + 1))
    for k in np.flatnonzero(passing).tolist():
        lo, hi = bounds[k], bounds[k + 1]
        results[k] = (ga[lo:hi] - offsets_a[k], gb[lo:hi] - offsets_b[k], sim[lo:hi])
    return results


def chain(i: np.ndarray, j: np.ndarray, weights: np.ndarray, width: int) -> list[int]:
    """Indices (into the match arrays, sorted by i then j) of the heaviest chain with i and j
    strictly increasing. Matches of one i are scored together against the best chain ending
    at a smaller i (a prefix-maximum Fenwick tree over j), then added to the tree. Ties go to
    the chain ending at the smaller j, so a body repeated twice aligns with its first copy."""
    n = len(i)
    if n == 0:
        return []
    tree: list[tuple[float, int, int]] = [(0.0, 0, -1)] * (width + 1)  # (score, -end j, match)
    best: list[tuple[float, int, int]] = []
    previous = [-1] * n
    score = [0.0] * n
    ii, jj, ww = i.tolist(), j.tolist(), weights.tolist()
    start = 0
    while start < n:
        stop = start
        while stop < n and ii[stop] == ii[start]:
            stop += 1
        for k in range(start, stop):
            q, top = (0.0, 0, -1), jj[k]  # best chain ending at j' < j
            while top > 0:
                if tree[top] > q:
                    q = tree[top]
                top -= top & -top
            score[k] = q[0] + ww[k]
            previous[k] = q[2]
        for k in range(start, stop):
            entry = (score[k], -jj[k], k)
            position = jj[k] + 1
            while position <= width:
                if entry > tree[position]:
                    tree[position] = entry
                position += position & -position
            best.append(entry)
        start = stop
    k = max(best)[2]
    path = []
    while k >= 0:
        path.append(k)
        k = previous[k]
    return path[::-1]


@dataclass(frozen=True)
class Alignment:
    same_story: bool
    score: float  # coverage of the copy's side, for the way round that held (else the larger)
    coverage: tuple[float, float]  # of a, of b
    substitution: float
    chained_sentences: int


def _side(body: Sentences, index: np.ndarray, similar: np.ndarray, policy: AlignPolicy) -> dict:
    lengths = body.lengths
    matched = int(lengths[index].sum())
    before = lengths[: index[0]]
    words = max(1, body.words)
    return {
        "matched": matched,
        "coverage": matched / words,
        "strong": int(lengths[index][similar >= policy.strong_similarity].sum()) / words,
        "start": int(before[before >= policy.furniture_words].sum()),
        "prefix": matched / max(1, int(lengths[: index[-1] + 1].sum())),
    }


def _substituted(a: Sentences, b: Sentences, ia: np.ndarray, jb: np.ndarray) -> int:
    """Words unmatched on both sides at the same place: before the first match and between
    consecutive ones, the smaller side of each gap."""
    before_a = np.concatenate([[0], np.cumsum(a.lengths)])
    before_b = np.concatenate([[0], np.cumsum(b.lengths)])
    gap_a = before_a[ia] - np.concatenate([[0], before_a[ia[:-1] + 1]])
    gap_b = before_b[jb] - np.concatenate([[0], before_b[jb[:-1] + 1]])
    return int(np.minimum(gap_a, gap_b).sum())


def align(a: Sentences, b: Sentences, policy: AlignPolicy = DEFAULT_POLICY, found=None) -> Alignment:
    """The verdict of the module docstring for bodies ``a`` and ``b``; ``found`` is their
    ``(i, j, sim)`` when :func:`matches_batch` has made it already."""
    i, j, sim = found if found is not None else matches(a, b, policy.sentence_similarity)
    if len(i) == 0:
        return Alignment(False, 0.0, (0.0, 0.0), 1.0, 0)
    # Every chained sentence is among the matched ones: when even all of them fall short of the
    # word counts the verdict needs, no chain can meet them (most pairs tried end here).
    distinct_a, distinct_b = _sorted_unique(i), _sorted_unique(j)
    reach_a, reach_b = int(a.lengths[distinct_a].sum()), int(b.lengths[distinct_b].sum())
    if (
        min(reach_a, reach_b) < policy.min_words
        or min(len(distinct_a), len(distinct_b)) < policy.min_sentences
        or max(reach_a / max(1, a.words), reach_b / max(1, b.words)) < policy.copy_coverage
    ):
        return Alignment(False, 0.0, (reach_a / max(1, a.words), reach_b / max(1, b.words)), 1.0, 0)
    path = np.array(chain(i, j, a.lengths[i] + b.lengths[j], len(b.lengths)))
    ia, jb, similar = i[path], j[path], sim[path]
    sides = (_side(a, ia, similar, policy), _side(b, jb, similar, policy))
    substituted = _substituted(a, b, ia, jb)
    shared = min(sides[0]["matched"], sides[1]["matched"])
    substitution = substituted / max(1, substituted + shared)
    verdicts = []
    for original, copy in ((sides[0], sides[1]), (sides[1], sides[0])):
        holds = (
            substitution <= policy.substitution
            and original["start"] <= policy.start_words
            and original["prefix"] >= policy.prefix_coverage
            and original["coverage"] >= policy.original_coverage
            and copy["coverage"] >= policy.copy_coverage
            and copy["strong"] >= policy.strong_coverage
            and shared >= policy.min_words
            and len(path) >= policy.min_sentences
        )
        verdicts.append((holds, copy["coverage"]))
    holds, score = max(verdicts)
    return Alignment(holds, score, (sides[0]["coverage"], sides[1]["coverage"]), substitution, len(path))
