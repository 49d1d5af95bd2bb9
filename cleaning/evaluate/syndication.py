"""Duplicate detection quality on simulated wire syndication, built from real article bodies.

The simulator takes real stories (gold bodies) and re-runs them the way newsrooms re-run wire
copy. Every story has a "wire original" (the gold body as is); some stories also get copies, each
copy edited by 1-3 edit kinds; some get a hard negative ("follow-up"). Everything is drawn from
one ``random.Random(seed)``, so a seed and the same input stories always give the same corpus.

Nominal rates (the defaults of :class:`SimSettings`; the realized counts are in ``corpus.stats``):

* copies per story: none for 50% of stories (singletons); otherwise 1-6 copies with weights
  1: 35%, 2: 25%, 3: 15%, 4: 12%, 5: 8%, 6: 5% (mean 2.4).
* edit kinds per copy: 1 (50%), 2 (35%) or 3 (15%) distinct kinds, chosen uniformly without
  replacement from the seven kinds below, so each kind is in about 1.65 / 7 = 23.6% of copies.
  Edits are applied in the fixed order abridge, local_paragraphs, word_substitutions, dateline,
  headline, retypeset, repeat, whatever order they were drawn in.

  1. ``headline``: a headline line prepended, made from 4-10 words of the first sentence, with
     some function words dropped and, half of the time, the word order rotated.
  2. ``dateline``: a non-empty subset (each part with p=0.5) of: ``CITY, Mon DD (Reuters) - ``
     prefixed to the first paragraph; a byline line (``By Staff Writer`` ...) on top; a trailer
     line at the end (``(With Reuters inputs)``, ``(Reporting by X; Editing by Y)``, ``-- AFP``).
  3. ``abridge``: cut to the first k paragraphs holding 40%-80% of the words (target drawn
     uniformly); when no paragraph boundary falls in that range the cut is at a sentence, then a
     word boundary, so at least 40% of the words are always kept.
  4. ``local_paragraphs``: 1 or 2 paragraphs (20-150 words, and at most 25% of their own
     story, so no whole short story is pasted in) from a *different* source story, inserted
     after the first paragraph: real prose, unrelated to the story.
  5. ``word_substitutions``: in every paragraph of 4+ words, 1-3 changes, each one of: a word
     swapped for a near-synonym from a small built-in list, a word deleted, a word doubled.
  6. ``retypeset``: a non-empty subset (each with p=0.5) of: straight <-> curly quotes,
     ``-`` <-> ``—``, doubled spaces after sentences, paragraphs merged or split at a sentence,
     and the paragraph separator switched between blank line and newline. Words never change.
  7. ``repeat``: the whole copy twice, as scraped pages sometimes hold it.

* hard negatives: for 20% of stories (among those with a paragraph of 15+ words, not the first,
  holding at most 25% of the story's words) a "follow-up" is made: a different real body, not
  otherwise used, with that one background paragraph of the original inserted after its first
  paragraph. It shares a paragraph but is another article, and so its own story. The bodies are
  themselves different stories (natural negatives).

Ids are ``s012-c0`` for the original of story ``s012``, ``s012-c1``... for its copies; a
follow-up is story of its own (``s151-c0``) whose ``follow_up_of`` names the story it quotes.
The final record list is shuffled with the same generator.

Scoring is over all pairs of records: a pair is predicted positive when both records share a
predicted cluster, truly positive when they share a story. Precision, recall, F1 and the
Adjusted Rand Index come from the contingency table (counts of records per predicted cluster,
per story, and per (cluster, story) cell) via sums of C(n, 2); no pair is enumerated.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Hashable, Iterable, Mapping

EDIT_KINDS = (
    "headline",
    "dateline",
    "abridge",
    "local_paragraphs",
    "word_substitutions",
    "retypeset",
    "repeat",
)
# Edits are applied in this order, whatever order they were drawn in.
APPLY_ORDER = ("abridge", "local_paragraphs", "word_substitutions", "dateline", "headline", "retypeset", "repeat")

_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(r"^(\W*)(\w+)(\W*)$", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“‘(]?[A-Z])|(?<=[.!?][\"”’])\s+(?=[\"“‘(]?[A-Z])")
_PARAGRAPH_SPLIT = re.compile(r"\n+")

SYNONYMS = {
    "said": ("stated", "told reporters", "added"),
    "says": ("states", "added"),
    "announced": ("declared", "unveiled"),
    "government": ("administration",),
    "officials": ("authorities",),
    "company": ("firm", "group"),
    "firm": ("company",),
    "people": ("residents", "citizens"),
    "country": ("nation",),
    "nation": ("country",),
    "big": ("large",),
    "large": ("big",),
    "major": ("key", "significant"),
    "important": ("key",),
    "however": ("but",),
    "but": ("however", "yet"),
    "also": ("too",),
    "about": ("around", "roughly"),
    "around": ("about",),
    "more": ("further",),
    "new": ("fresh",),
    "expected": ("forecast", "likely"),
    "help": ("assist",),
    "show": ("indicate",),
    "shows": ("indicates",),
    "began": ("started",),
    "start": ("begin",),
    "end": ("finish",),
    "week": ("weeks",),
    "year": ("years",),
    "after": ("following",),
    "before": ("ahead of",),
    "while": ("whereas",),
    "because": ("as",),
    "many": ("numerous",),
    "very": ("highly",),
    "buy": ("purchase",),
    "use": ("employ",),
    "asked": ("requested",),
}
_FUNCTION_WORDS = {
    "the", "a", "an", "of", "to", "has", "have", "had", "was", "were", "is", "are", "be", "been",
    "that", "which", "its", "their", "his", "her", "and", "in", "on", "at", "for", "with", "by",
}
CITIES = ("LONDON", "NEW YORK", "WASHINGTON", "TOKYO", "PARIS", "BERLIN", "NEW DELHI", "SYDNEY",
          "SINGAPORE", "HONG KONG", "BRUSSELS", "NAIROBI", "SAO PAULO", "TORONTO", "MUMBAI")
MONTHS = ("Jan", "Feb", "March", "April", "May", "June", "July", "Aug", "Sept", "Oct", "Nov", "Dec")
BYLINES = ("By Staff Writer", "By Our Correspondent", "By Wire Staff", "By News Desk")
NAMES = ("Anna Lee", "Tom Hals", "Sakura Murakami", "David Ljunggren", "Maria Ponnezhath",
         "Kevin Buckland", "Chris Reese", "Jan Harvey", "Mark Potter", "Leika Kihara")


@dataclass(frozen=True)
class SimSettings:
    singleton_share: float = 0.5
    copies_weights: tuple[tuple[int, float], ...] = ((1, 0.35), (2, 0.25), (3, 0.15), (4, 0.12), (5, 0.08), (6, 0.05))
    edits_weights: tuple[tuple[int, float], ...] = ((1, 0.5), (2, 0.35), (3, 0.15))
    follow_up_share: float = 0.2
    abridge_keep: tuple[float, float] = (0.4, 0.8)
    local_paragraphs: tuple[int, int] = (1, 2)
    local_paragraph_words: tuple[int, int] = (20, 150)
    word_changes_per_paragraph: tuple[int, int] = (1, 3)
    background_max_share: float = 0.25
    background_min_words: int = 15

    def describe(self) -> dict:
        """The nominal rates, plus the derived share of copies that carry each edit kind."""
        out = asdict(self)
        mean_edits = sum(n * w for n, w in self.edits_weights) / sum(w for _, w in self.edits_weights)
        mean_copies = sum(n * w for n, w in self.copies_weights) / sum(w for _, w in self.copies_weights)
        out["mean_edit_kinds_per_copy"] = round(mean_edits, 4)
        out["mean_copies_when_copied"] = round(mean_copies, 4)
        out["share_of_copies_per_edit_kind"] = {k: round(mean_edits / len(EDIT_KINDS), 4) for k in EDIT_KINDS}
        out["edit_kinds"] = list(EDIT_KINDS)
        out["apply_order"] = list(APPLY_ORDER)
        return out


@dataclass(frozen=True)
class SourceStory:
    name: str  # where it came from (a gold file stem, or "seed")
    paragraphs: tuple[str, ...]

    @property
    def words(self) -> int:
        return sum(word_count(p) for p in self.paragraphs)


@dataclass
class SimRecord:
    id: str
    story: str
    text: str
    role: str  # "original" | "copy" | "follow_up"
    source: str
    edits: tuple[str, ...] = ()
    original_id: str | None = None  # for copies: the wire original of their story
    follow_up_of: str | None = None  # for follow-ups: the story whose paragraph they quote
    published_at: datetime | None = None

    def as_input(self) -> dict:
        return {"id": self.id, "text": self.text, "published_at": self.published_at}


@dataclass
class Corpus:
    records: list[SimRecord]
    seed: int
    settings: SimSettings
    stats: dict = field(default_factory=dict)

    def truth(self) -> dict[str, str]:
        return {r.id: r.story for r in self.records}


@dataclass
class Draft:
    """A copy being edited: paragraphs and the separator they are joined with."""

    paragraphs: list[str]
    separator: str = "\n\n"

    def text(self) -> str:
        return self.separator.join(self.paragraphs)


@dataclass
class EditContext:
    first_sentence: str
    donors: list[tuple[str, ...]]  # paragraphs of other source stories
    settings: SimSettings = field(default_factory=SimSettings)


# --------------------------------------------------------------------------- helpers


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def split_sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(paragraph) if s.strip()]


def split_paragraphs(body: str) -> list[str]:
    return [p.strip() for p in _PARAGRAPH_SPLIT.split(body or "") if p.strip()]


def _weighted(rng: random.Random, weights: tuple[tuple[int, float], ...]) -> int:
    values, probs = zip(*weights)
    return rng.choices(values, probs)[0]


def _match_case(template: str, word: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


# --------------------------------------------------------------------------- edit kinds


def edit_headline(draft: Draft, rng: random.Random, ctx: EditContext) -> Draft:
    words = re.findall(r"\w[\w'’-]*", ctx.first_sentence)
    content = [w for w in words if w.lower() not in _FUNCTION_WORDS or rng.random() < 0.4]
    content = content or words or ["Update"]
    n = rng.randint(min(4, len(content)), min(10, len(content)))
    start = rng.randint(0, len(content) - n)
    picked = content[start : start + n]
    if len(picked) > 2 and rng.random() < 0.5:
        cut = rng.randint(1, len(picked) - 1)
        picked = picked[cut:] + picked[:cut]
    headline = " ".join(picked)
    headline = headline[:1].upper() + headline[1:]
    return Draft([headline] + draft.paragraphs, draft.separator)


def edit_dateline(draft: Draft, rng: random.Random, ctx: EditContext) -> Draft:
    parts = [p for p in ("dateline", "byline", "trailer") if rng.random() < 0.5] or [rng.choice(("dateline", "byline", "trailer"))]
    paras = list(draft.paragraphs)
    if "dateline" in parts:
        line = f"{rng.choice(CITIES)}, {rng.choice(MONTHS)} {rng.randint(1, 28)} (Reuters) - "
        paras[0] = line + paras[0]
    if "byline" in parts:
        paras.insert(0, rng.choice(BYLINES))
    if "trailer" in parts:
        a, b = rng.sample(NAMES, 2)
        paras.append(rng.choice(("(With Reuters inputs)", f"(Reporting by {a}; Editing by {b})", "-- AFP")))
    return Draft(paras, draft.separator)


def edit_abridge(draft: Draft, rng: random.Random, ctx: EditContext) -> Draft:
    low, high = ctx.settings.abridge_keep
    paras = draft.paragraphs
    counts = [word_count(p) for p in paras]
    total = sum(counts)
    if total == 0:
        return Draft(list(paras), draft.separator)
    target = rng.uniform(low, high)
    # 1. paragraph boundaries inside [low, high]
    options, running = [], 0
    for k, c in enumerate(counts[:-1], start=1):
        running += c
        if low <= running / total <= high:
            options.append((abs(running / total - target), k))
    if options:
        return Draft(list(paras[: min(options)[1]]), draft.separator)
    # 2. sentence boundaries inside [low, high], keeping the paragraph structure
    units = [(i, s) for i, p in enumerate(paras) for s in split_sentences(p)]
    best, running = None, 0
    for u, (_, sentence) in enumerate(units[:-1], start=1):
        running += word_count(sentence)
        if low <= running / total <= high and (best is None or abs(running / total - target) < best[0]):
            best = (abs(running / total - target), u)
    if best is None:
        # 3. a word boundary: the first ceil(target * total) words
        kept = []
        budget = max(1, math.ceil(target * total))
        for p, c in zip(paras, counts):
            if c <= budget:
                kept.append(p)
                budget -= c
                continue
            tokens, out, n = p.split(), [], 0
            for t in tokens:
                if n >= budget:
                    break
                out.append(t)
                n += word_count(t)
            if out:
                kept.append(" ".join(out))
            break
        return Draft(kept, draft.separator)
    grouped: dict[int, list[str]] = {}
    for i, sentence in units[: best[1]]:
        grouped.setdefault(i, []).append(sentence)
    return Draft([" ".join(grouped[i]) for i in sorted(grouped)], draft.separator)


def _pick_donor_paragraph(rng: random.Random, ctx: EditContext) -> str:
    lo, hi = ctx.settings.local_paragraph_words
    for _ in range(50):
        donor = rng.choice(ctx.donors)
        cap = ctx.settings.background_max_share * sum(word_count(p) for p in donor)
        fitting = [p for p in donor if lo <= word_count(p) <= min(hi, cap)]
        if fitting:
            return rng.choice(fitting)
    donor = rng.choice(ctx.donors)
    return min(donor, key=lambda p: abs(word_count(p) - lo))


def edit_local_paragraphs(draft: Draft, rng: random.Random, ctx: EditContext) -> Draft:
    paras = list(draft.paragraphs)
    if not ctx.donors:
        return Draft(paras, draft.separator)
    for _ in range(rng.randint(*ctx.settings.local_paragraphs)):
        paras.insert(rng.randint(min(1, len(paras)), len(paras)), _pick_donor_paragraph(rng, ctx))
    return Draft(paras, draft.separator)


def _change_words(paragraph: str, rng: random.Random, changes: int) -> str:
    tokens = paragraph.split()
    if len(tokens) < 4:
        return paragraph
    for _ in range(changes):
        op = rng.choice(("swap", "delete", "duplicate"))
        if op == "swap":
            swappable = [i for i, t in enumerate(tokens) if (m := _TOKEN.match(t)) and m.group(2).lower() in SYNONYMS]
            if swappable:
                i = rng.choice(swappable)
                pre, word, post = _TOKEN.match(tokens[i]).groups()
                tokens[i] = pre + _match_case(word, rng.choice(SYNONYMS[word.lower()])) + post
                continue
            op = rng.choice(("delete", "duplicate"))
        i = rng.randrange(len(tokens))
        if op == "delete" and len(tokens) > 3:
            del tokens[i]
        else:
            m = _TOKEN.match(tokens[i])
            tokens.insert(i, m.group(2) if m else tokens[i])
    return " ".join(tokens)


def edit_word_substitutions(draft: Draft, rng: random.Random, ctx: EditContext) -> Draft:
    lo, hi = ctx.settings.word_changes_per_paragraph
    return Draft([_change_words(p, rng, rng.randint(lo, hi)) for p in draft.paragraphs], draft.separator)


def _swap_quotes(text: str) -> str:
    if any(c in text for c in "\"'"):
        out, open_double = [], True
        for c in text:
            if c == '"':
                out.append("“" if open_double else "”")
                open_double = not open_double
            elif c == "'":
                out.append("’")
            else:
                out.append(c)
        return "".join(out)
    return text.translate(str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"}))


def _swap_dashes(text: str) -> str:
    return text.translate(str.maketrans({"-": "—", "—": "-"}))


def edit_retypeset(draft: Draft, rng: random.Random, ctx: EditContext) -> Draft:
    ops = [o for o in ("quotes", "dashes", "spaces", "paragraphs", "separator") if rng.random() < 0.5]
    ops = ops or [rng.choice(("quotes", "dashes", "spaces", "paragraphs", "separator"))]
    paras, sep = list(draft.paragraphs), draft.separator
    if "quotes" in ops:
        paras = [_swap_quotes(p) for p in paras]
    if "dashes" in ops:
        paras = [_swap_dashes(p) for p in paras]
    if "spaces" in ops:
        paras = [re.sub(r"(?<=[.,;:!?]) (?=\S)", lambda m: "  " if rng.random() < 0.5 else " ", p) for p in paras]
    if "paragraphs" in ops:
        for _ in range(rng.randint(1, 3)):
            if len(paras) > 1 and rng.random() < 0.5:
                i = rng.randrange(len(paras) - 1)
                paras[i : i + 2] = [paras[i] + " " + paras[i + 1]]
            else:
                splittable = [i for i, p in enumerate(paras) if len(split_sentences(p)) > 1]
                if splittable:
                    i = rng.choice(splittable)
                    sentences = split_sentences(paras[i])
                    cut = rng.randint(1, len(sentences) - 1)
                    paras[i : i + 1] = [" ".join(sentences[:cut]), " ".join(sentences[cut:])]
    if "separator" in ops:
        sep = "\n" if sep == "\n\n" else "\n\n"
    return Draft(paras, sep)


def edit_repeat(draft: Draft, rng: random.Random, ctx: EditContext) -> Draft:
    return Draft(list(draft.paragraphs) * 2, draft.separator)


EDITS: dict[str, Callable[[Draft, random.Random, EditContext], Draft]] = {
    "headline": edit_headline,
    "dateline": edit_dateline,
    "abridge": edit_abridge,
    "local_paragraphs": edit_local_paragraphs,
    "word_substitutions": edit_word_substitutions,
    "retypeset": edit_retypeset,
    "repeat": edit_repeat,
}


def make_copy(story: SourceStory, kinds: Iterable[str], rng: random.Random, ctx: EditContext) -> str:
    chosen = set(kinds)
    draft = Draft(list(story.paragraphs))
    for kind in APPLY_ORDER:
        if kind in chosen:
            draft = EDITS[kind](draft, rng, ctx)
    return draft.text()


# --------------------------------------------------------------------------- corpus


def load_gold_stories(folder: str | Path, min_words: int = 80) -> list[SourceStory]:
    """Gold bodies from ``<id>.json`` files (field ``body``), skipping those under ``min_words``."""
    stories = []
    for path in sorted(Path(folder).glob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8")).get("body") or ""
        paras = split_paragraphs(body)
        if sum(word_count(p) for p in paras) >= min_words:
            stories.append(SourceStory(path.stem, tuple(paras)))
    return stories


def load_seed_story(path: str | Path) -> SourceStory:
    """The seed page's body, once: non-blank lines 5-11 (0-based, after title, standfirst and
    two date lines). The "(With Reuters inputs)" trailer is left out; the dateline edit adds such
    lines."""
    lines = [l.strip() for l in Path(path).read_text(encoding="utf-8").splitlines() if l.strip()]
    return SourceStory("seed", tuple(lines[4:11]))


def _background_paragraph(story: SourceStory, settings: SimSettings) -> list[int]:
    total = story.words
    return [
        i
        for i, p in enumerate(story.paragraphs)
        if i >= 1 and settings.background_min_words <= word_count(p) <= settings.background_max_share * total
    ]


def simulate(stories: list[SourceStory], seed: int = 7, settings: SimSettings = SimSettings()) -> Corpus:
    """A labeled corpus of originals, edited copies and follow-ups (see the module docstring)."""
    rng = random.Random(seed)
    pool = list(stories)
    rng.shuffle(pool)
    share = settings.follow_up_share
    n_follow = round(len(pool) * share / (1 + share)) if share > 0 else 0
    follow_bodies = pool[len(pool) - n_follow :] if n_follow else []
    sources = pool[: len(pool) - n_follow]
    eligible = [i for i, s in enumerate(sources) if _background_paragraph(s, settings)]
    quoted = sorted(rng.sample(eligible, min(n_follow, len(eligible))))
    sources += follow_bodies[len(quoted) :]  # bodies without a story to follow stay plain stories
    follow_bodies = follow_bodies[: len(quoted)]

    base = datetime(2025, 8, 1, tzinfo=timezone.utc)
    records: list[SimRecord] = []
    kind_counts: Counter = Counter()
    n_edits_counts: Counter = Counter()
    copies_per_story: Counter = Counter()
    for s, story in enumerate(sources):
        label = f"s{s:03d}"
        published = base + timedelta(hours=s)
        original_id = f"{label}-c0"
        text = "\n\n".join(story.paragraphs)
        records.append(SimRecord(original_id, label, text, "original", story.name, published_at=published))
        n_copies = 0 if rng.random() < settings.singleton_share else _weighted(rng, settings.copies_weights)
        copies_per_story[n_copies] += 1
        if not n_copies:
            continue
        first = split_sentences(story.paragraphs[0])
        ctx = EditContext(first[0] if first else story.paragraphs[0],
                          [o.paragraphs for o in sources if o is not story], settings)
        for c in range(1, n_copies + 1):
            kinds = tuple(sorted(rng.sample(EDIT_KINDS, _weighted(rng, settings.edits_weights)), key=EDIT_KINDS.index))
            kind_counts.update(kinds)
            n_edits_counts[len(kinds)] += 1
            records.append(
                SimRecord(
                    f"{label}-c{c}", label, make_copy(story, kinds, rng, ctx), "copy", story.name, kinds,
                    original_id, published_at=published + timedelta(minutes=rng.randint(5, 600)),
                )
            )
    for f, (s, body) in enumerate(zip(quoted, follow_bodies)):
        label = f"s{len(sources) + f:03d}"
        original = sources[s]
        paragraph = original.paragraphs[rng.choice(_background_paragraph(original, settings))]
        paras = list(body.paragraphs)
        paras.insert(rng.randint(1, len(paras)), paragraph)
        records.append(
            SimRecord(f"{label}-c0", label, "\n\n".join(paras), "follow_up", body.name, follow_up_of=f"s{s:03d}",
                      published_at=base + timedelta(days=2, hours=f))
        )
    rng.shuffle(records)
    stories_sizes = Counter(r.story for r in records)
    stats = {
        "source_bodies": len(stories),
        "records": len(records),
        "stories": len(stories_sizes),
        "true_pairs": sum(n * (n - 1) // 2 for n in stories_sizes.values()),
        "originals": len(sources),
        "copies": sum(1 for r in records if r.role == "copy"),
        "follow_ups": len(quoted),
        "singleton_stories": sum(1 for n in stories_sizes.values() if n == 1),
        "copies_per_story": {str(k): v for k, v in sorted(copies_per_story.items())},
        "edit_kinds_per_copy": {str(k): v for k, v in sorted(n_edits_counts.items())},
        "copies_with_edit_kind": {k: kind_counts[k] for k in EDIT_KINDS},
    }
    return Corpus(records, seed, settings, stats)


# --------------------------------------------------------------------------- scoring


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_scores(predicted: Mapping[str, Hashable], truth: Mapping[str, Hashable]) -> dict:
    """Pair precision, recall, F1 and ARI of a clustering (id -> cluster) against labels (id -> story).

    With n_ij records in predicted cluster i and story j, a_i = sum_j n_ij, b_j = sum_i n_ij:
    TP = sum C(n_ij, 2), predicted pairs = sum C(a_i, 2), true pairs = sum C(b_j, 2).
    ARI = (TP - E) / (M - E) with E = (sum C(a_i,2)) (sum C(b_j,2)) / C(n, 2) and
    M = (sum C(a_i,2) + sum C(b_j,2)) / 2 (Hubert and Arabie). When M == E (both clusterings
    trivial, or n < 2) the index is 1. Precision is 1 when nothing is paired (no claim is wrong).
    """
    if set(predicted) != set(truth):
        missing = set(truth) ^ set(predicted)
        raise ValueError(f"predicted and truth cover different ids, e.g. {sorted(map(str, missing))[:3]}")
    cells = Counter((predicted[i], truth[i]) for i in truth)
    tp = sum(_pairs(n) for n in cells.values())
    pred_pairs = sum(_pairs(n) for n in Counter(predicted.values()).values())
    true_pairs = sum(_pairs(n) for n in Counter(truth.values()).values())
    all_pairs = _pairs(len(truth))
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    expected = pred_pairs * true_pairs / all_pairs if all_pairs else 0.0
    maximum = (pred_pairs + true_pairs) / 2
    ari = 1.0 if maximum == expected else (tp - expected) / (maximum - expected)
    return {
        "records": len(truth),
        "predicted_clusters": len(set(predicted.values())),
        "true_stories": len(set(truth.values())),
        "true_pairs": true_pairs,
        "predicted_pairs": pred_pairs,
        "true_positive_pairs": tp,
        "false_positive_pairs": pred_pairs - tp,
        "false_negative_pairs": true_pairs - tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "ari": ari,
    }


def edit_kind_recall(records: Iterable[SimRecord], predicted: Mapping[str, Hashable]) -> dict:
    """For each edit kind: of the copies carrying it, the share found in their original's cluster;
    ``alone`` counts only copies whose single edit was that kind."""
    out = {k: {"copies": 0, "found": 0, "alone_copies": 0, "alone_found": 0} for k in EDIT_KINDS}
    for r in records:
        if r.role != "copy":
            continue
        found = predicted[r.id] == predicted[r.original_id]
        for kind in r.edits:
            row = out[kind]
            row["copies"] += 1
            row["found"] += found
            if len(r.edits) == 1:
                row["alone_copies"] += 1
                row["alone_found"] += found
    for row in out.values():
        row["recall"] = row["found"] / row["copies"] if row["copies"] else None
        row["alone_recall"] = row["alone_found"] / row["alone_copies"] if row["alone_copies"] else None
    return out


def follow_up_merges(records: list[SimRecord], predicted: Mapping[str, Hashable]) -> dict:
    """Hard negatives: follow-ups put in a cluster with any record of the story they quote."""
    clusters_of: dict[str, set] = {}
    for r in records:
        clusters_of.setdefault(r.story, set()).add(predicted[r.id])
    follow = [r for r in records if r.role == "follow_up"]
    merged = sorted(r.id for r in follow if predicted[r.id] in clusters_of[r.follow_up_of])
    return {"follow_ups": len(follow), "merged": len(merged), "merged_ids": merged}


def impure_clusters(predicted: Mapping[str, Hashable], truth: Mapping[str, Hashable]) -> list[list[str]]:
    """Predicted clusters holding more than one story, as sorted lists of record ids."""
    members: dict[Hashable, list[str]] = {}
    for i, c in predicted.items():
        members.setdefault(c, []).append(i)
    return sorted(sorted(m) for m in members.values() if len({truth[i] for i in m}) > 1)


def missed_copies(records: Iterable[SimRecord], predicted: Mapping[str, Hashable]) -> list[dict]:
    return [
        {"id": r.id, "edits": list(r.edits)}
        for r in sorted(records, key=lambda r: r.id)
        if r.role == "copy" and predicted[r.id] != predicted[r.original_id]
    ]


def score(corpus: Corpus, predicted: Mapping[str, Hashable]) -> dict:
    """Everything the report needs for one system's clustering of ``corpus``."""
    truth = corpus.truth()
    return {
        **pairwise_scores(predicted, truth),
        "edit_kinds": edit_kind_recall(corpus.records, predicted),
        "hard_negatives": follow_up_merges(corpus.records, predicted),
        "impure_clusters": impure_clusters(predicted, truth),
        "missed_copies": missed_copies(corpus.records, predicted),
    }
