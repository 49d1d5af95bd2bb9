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
    "the",
    "a",
    "an",
    "of",
    "to",
    "has",
    "have",
    "had",
    "was",
    "were",
    "is",
    "are",
    "be",
    "been",
    "that",
    "which",
    "its",
    "their",
    "his",
    "her",
    "and",
    "in",
    "on",
    "at",
    "for",
    "with",
    "by",
}
CITIES = (
    "LONDON",
    "NEW YORK",
    "WASHINGTON",
    "TOKYO",
    "PARIS",
    "BERLIN",
    "NEW DELHI",
    "SYDNEY",
    "SINGAPORE",
    "HONG KONG",
    "BRUSSELS",
    "NAIROBI",
    "SAO PAULO",
    "TORONTO",
    "MUMBAI",
)
MONTHS = ("Jan", "Feb", "March", "April", "May", "June", "July", "Aug", "Sept", "Oct", "Nov", "Dec")
BYLINES = ("By Staff Writer", "By Our Correspondent", "By Wire Staff", "By News Desk")
NAMES = (
    "Anna Lee",
    "Tom Hals",
    "Sakura Murakami",
    "David Ljunggren",
    "Maria Ponnezhath",
    "Kevin Buckland",
    "Chris Reese",
    "Jan Harvey",
    "Mark Potter",
    "Leika Kihara",
)


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
    # the wide simulator's fields
    genre: str = "news"  # or a template genre: "weather", "markets", "sports"
    heavy: bool = False  # a copy made by the heavy recipe
    parent_id: str | None = None  # the record a copy was edited from (an earlier copy, for copies of copies)
    resembles: tuple[str, ...] = ()  # for hard negatives: the stories they resemble but are not

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
    parts = [p for p in ("dateline", "byline", "trailer") if rng.random() < 0.5] or [
        rng.choice(("dateline", "byline", "trailer"))
    ]
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
    lines = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
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
        ctx = EditContext(
            first[0] if first else story.paragraphs[0], [o.paragraphs for o in sources if o is not story], settings
        )
        for c in range(1, n_copies + 1):
            kinds = tuple(sorted(rng.sample(EDIT_KINDS, _weighted(rng, settings.edits_weights)), key=EDIT_KINDS.index))
            kind_counts.update(kinds)
            n_edits_counts[len(kinds)] += 1
            records.append(
                SimRecord(
                    f"{label}-c{c}",
                    label,
                    make_copy(story, kinds, rng, ctx),
                    "copy",
                    story.name,
                    kinds,
                    original_id,
                    published_at=published + timedelta(minutes=rng.randint(5, 600)),
                )
            )
    for f, (s, body) in enumerate(zip(quoted, follow_bodies)):
        label = f"s{len(sources) + f:03d}"
        original = sources[s]
        paragraph = original.paragraphs[rng.choice(_background_paragraph(original, settings))]
        paras = list(body.paragraphs)
        paras.insert(rng.randint(1, len(paras)), paragraph)
        records.append(
            SimRecord(
                f"{label}-c0",
                label,
                "\n\n".join(paras),
                "follow_up",
                body.name,
                follow_up_of=f"s{s:03d}",
                published_at=base + timedelta(days=2, hours=f),
            )
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


# --------------------------------------------------------------------------- the wide simulator
#
# The classic simulator above makes each edit gently and rarely combines them at full strength.
# Newsrooms do more, every day: a copy is cut to a third of its paragraphs, a paragraph or two
# of local copy goes in, a few per cent of the words change throughout, and the result is
# re-typeset and wrapped in a dateline, byline and trailer, all at once; a regional paper then
# re-edits another paper's abridged copy. The negatives get harder as well: follow-ups reusing a
# few background paragraphs, other outlets' stories on the same event, roundups of several
# stories' ledes, and template genres whose distinct stories share most of their words.

STRENGTHS = ("light", "medium", "heavy")
WIDE_KINDS = ("headline", "dateline", "abridge", "local_paragraphs", "word_changes", "retypeset", "repeat")
WIDE_APPLY_ORDER = ("abridge", "local_paragraphs", "word_changes", "dateline", "headline", "retypeset", "repeat")
# The heavy copy: every edit a copy desk makes, each at full strength (the headline half the time).
HEAVY_RECIPE = ("abridge", "local_paragraphs", "word_changes", "retypeset", "dateline")
NEGATIVE_KINDS = ("follow_up", "same_event", "roundup", "template")
TEMPLATE_GENRES = ("weather", "markets", "sports")

# US <-> UK spellings a regional desk applies; each pair is used in both directions.
REGIONAL_SPELLINGS = (
    ("percent", "per cent"),
    ("center", "centre"),
    ("program", "programme"),
    ("defense", "defence"),
    ("color", "colour"),
    ("favor", "favour"),
    ("labor", "labour"),
    ("neighbor", "neighbour"),
    ("honor", "honour"),
    ("behavior", "behaviour"),
    ("organization", "organisation"),
    ("organizations", "organisations"),
    ("recognize", "recognise"),
    ("realize", "realise"),
    ("criticized", "criticised"),
    ("authorized", "authorised"),
    ("analyze", "analyse"),
    ("traveled", "travelled"),
    ("license", "licence"),
    ("offense", "offence"),
    ("gray", "grey"),
    ("aluminum", "aluminium"),
    ("theater", "theatre"),
    ("fiber", "fibre"),
    ("tire", "tyre"),
)
_SPELLING = {a: b for a, b in REGIONAL_SPELLINGS} | {b: a for a, b in REGIONAL_SPELLINGS if " " not in b}
# Reported speech moved between past and present, as desks do when they re-run a story.
TENSES = {
    "said": "says",
    "says": "said",
    "told": "tells",
    "added": "adds",
    "adds": "added",
    "warned": "warns",
    "warns": "warned",
    "noted": "notes",
    "explained": "explains",
    "announced": "announces",
    "believes": "believed",
    "expects": "expected",
}
# Words a sub-editor cuts without changing the sense.
DROPPABLE = {
    "also",
    "that",
    "very",
    "just",
    "still",
    "now",
    "already",
    "however",
    "then",
    "recently",
    "currently",
    "really",
    "quite",
    "even",
    "only",
    "both",
    "further",
    "additional",
}
ROUNDUP_HEADINGS = ("News in brief", "Around the region", "The day's main stories", "In other news", "Today's briefing")
TRAILERS = (
    "(With Reuters inputs)",
    "-- AFP",
    "Copyright 2025 The Associated Press. All rights reserved.",
    "This story has been published from a wire agency feed without modifications to the text.",
    "Additional reporting by our regional desk.",
    "This article first appeared on the agency wire.",
)
BYLINE_FORMS = ("By {name}", "By {name}, Staff Writer", "{name} | Regional Correspondent", "By {name} and agencies")


@dataclass(frozen=True)
class WideSettings:
    singleton_share: float = 0.45
    copies_weights: tuple[tuple[int, float], ...] = ((1, 0.35), (2, 0.25), (3, 0.15), (4, 0.12), (5, 0.08), (6, 0.05))
    heavy_share: float = 0.35  # copies made by the heavy recipe
    copy_of_copy_share: float = 0.25  # later copies that re-edit an earlier abridged copy
    edits_weights: tuple[tuple[int, float], ...] = ((1, 0.3), (2, 0.35), (3, 0.25), (4, 0.1))
    strength_weights: tuple[tuple[str, float], ...] = (("light", 0.35), ("medium", 0.35), ("heavy", 0.3))
    repeat_weight: float = 0.25  # "repeat" is drawn this many times less often than other kinds
    # abridge: light and medium keep a share of the words; heavy keeps a share of the paragraphs
    abridge_words: tuple[tuple[str, tuple[float, float]], ...] = (("light", (0.7, 0.9)), ("medium", (0.5, 0.7)))
    abridge_heavy_paragraphs: tuple[float, float] = (1 / 3, 1 / 2)
    abridge_middle_cut: float = 0.35  # medium and heavy cuts also drop paragraphs from the middle
    abridge_min_words: int = 80  # no cut leaves less (a shorter story is not cut at all)
    # local copy: (paragraphs low, high, words low, high) per strength
    local: tuple[tuple[str, tuple[int, int, int, int]], ...] = (
        ("light", (1, 1, 15, 50)),
        ("medium", (1, 1, 20, 70)),
        ("heavy", (1, 2, 25, 90)),
    )
    # share of the copy's words changed or dropped, per strength
    word_change_rate: tuple[tuple[str, tuple[float, float]], ...] = (
        ("light", (0.005, 0.01)),
        ("medium", (0.01, 0.025)),
        ("heavy", (0.025, 0.05)),
    )
    follow_up_share: float = 0.16  # of the source bodies, kept back to become follow-ups
    follow_up_paragraphs: tuple[int, int] = (1, 3)  # background paragraphs reused
    follow_up_max_share: float = 0.4  # of the original's words, reused at most
    same_event_share: float = 0.12  # of the source bodies, kept back to become same-event stories
    roundups_per_100: float = 8.0  # roundups per 100 originals
    roundup_items: tuple[int, int] = (3, 5)
    template_series: int = 2  # per genre: e.g. two markets, each reported on several days
    template_days: tuple[int, int] = (4, 6)
    template_copy_share: float = 0.4  # template stories that are syndicated too

    def strength_range(self, table, strength: str):
        return dict(table)[strength]

    def describe(self) -> dict:
        out = asdict(self)
        out["edit_kinds"] = list(WIDE_KINDS)
        out["apply_order"] = list(WIDE_APPLY_ORDER)
        out["heavy_recipe"] = list(HEAVY_RECIPE)
        out["negative_kinds"] = list(NEGATIVE_KINDS)
        return out


@dataclass
class WideContext:
    first_sentence: str
    donors: list[tuple[str, ...]]
    settings: WideSettings = field(default_factory=WideSettings)


def _paragraph_words(paras: list[str]) -> list[int]:
    return [word_count(p) for p in paras]


def wide_abridge(draft: Draft, rng: random.Random, ctx: WideContext, strength: str) -> Draft:
    """Cut from the bottom, as news is written to be cut; medium and heavy cuts sometimes also
    drop a paragraph or two from the middle. The lede always stays. Heavy keeps a third to a half
    of the paragraphs; light and medium keep a share of the words."""
    s = ctx.settings
    paras = list(draft.paragraphs)
    n = len(paras)
    counts = _paragraph_words(paras)
    total = sum(counts) or 1
    if strength == "heavy":
        low, high = s.abridge_heavy_paragraphs
        keep = rng.randint(max(1, math.ceil(low * n)), max(1, math.floor(high * n)))
    else:
        low, high = s.strength_range(s.abridge_words, strength)
        target, running, keep = rng.uniform(low, high), 0, n
        for k, c in enumerate(counts, start=1):
            running += c
            if running / total >= target:
                keep = k
                break
    if (keep >= n or n < 3) and total > s.abridge_min_words:
        # Too few paragraphs to cut by paragraph: keep a share of the sentences instead.
        sentences = [(i, x) for i, p in enumerate(paras) for x in split_sentences(p)]
        share = (
            rng.uniform(*s.abridge_heavy_paragraphs)
            if strength == "heavy"
            else rng.uniform(*s.strength_range(s.abridge_words, strength))
        )
        cut = max(1, round(share * len(sentences)))
        while cut < len(sentences) and sum(word_count(x) for _, x in sentences[:cut]) < s.abridge_min_words:
            cut += 1
        if cut >= len(sentences):
            return Draft(paras, draft.separator)
        grouped: dict[int, list[str]] = {}
        for i, x in sentences[:cut]:
            grouped.setdefault(i, []).append(x)
        return Draft([" ".join(grouped[i]) for i in sorted(grouped)], draft.separator)
    while keep < n and sum(counts[:keep]) < s.abridge_min_words:
        keep += 1  # a cut copy is still a story, not a two-line brief
    if keep >= n:
        return Draft(paras, draft.separator)
    kept = list(range(keep))
    if strength != "light" and keep >= 3 and rng.random() < s.abridge_middle_cut:
        # drop one or two paragraphs after the lede and take as many further down instead
        reach = min(n, keep + rng.randint(1, 2))
        kept = [0] + sorted(rng.sample(range(1, reach), keep - 1))
    return Draft([paras[i] for i in kept], draft.separator)


def _donor_paragraphs(rng: random.Random, ctx: WideContext, low: int, high: int) -> str:
    for _ in range(50):
        donor = rng.choice(ctx.donors)
        cap = 0.25 * sum(word_count(p) for p in donor)  # never most of a short story
        fitting = [p for p in donor if low <= word_count(p) <= min(high, cap)]
        if fitting:
            return rng.choice(fitting)
    donor = rng.choice(ctx.donors)
    return min(donor, key=lambda p: abs(word_count(p) - low))


def wide_local_paragraphs(draft: Draft, rng: random.Random, ctx: WideContext, strength: str) -> Draft:
    """Local copy (real prose from another story): light adds one short paragraph at the end;
    medium one paragraph after the lede or further down; heavy one or two paragraphs anywhere,
    now and then above the lede (a local top on a wire story)."""
    p_low, p_high, w_low, w_high = ctx.settings.strength_range(ctx.settings.local, strength)
    paras = list(draft.paragraphs)
    if not ctx.donors:
        return Draft(paras, draft.separator)
    # Local copy adds to a story, it does not outweigh it: at most 60% of the kept words.
    budget = 0.6 * sum(_paragraph_words(paras))
    for _ in range(rng.randint(p_low, p_high)):
        if budget < w_low:
            break
        text = _donor_paragraphs(rng, ctx, w_low, min(w_high, int(budget)))
        budget -= word_count(text)
        if strength == "light":
            at = len(paras)
        else:
            where = rng.random()
            if strength == "heavy" and where < 0.1:
                at = 0
            elif where < 0.55:
                at = min(1, len(paras))
            else:
                at = rng.randint(min(1, len(paras)), len(paras))
        paras.insert(at, text)
    return Draft(paras, draft.separator)


def _update_figure(token: str, rng: random.Random) -> str | None:
    digits = re.search(r"\d+", token)
    if not digits:
        return None
    value = int(digits.group())
    if value >= 1900 and value <= 2100 and len(digits.group()) == 4:  # a year: leave it, change nothing
        return None
    new = value + rng.choice((-1, 1)) * rng.randint(1, max(1, value // 8 + 1))
    new = max(0, new) if new != value else value + 1
    return token[: digits.start()] + str(new) + token[digits.end() :]


def _change_token(token: str, rng: random.Random, op: str) -> str | None:
    """The token after one desk edit of kind ``op``; None when the edit does not apply to it."""
    m = _TOKEN.match(token)
    if op == "figure":
        return _update_figure(token, rng)
    if not m:
        return None
    pre, word, post = m.groups()
    lower = word.lower()
    if op == "tense" and lower in TENSES:
        return pre + _match_case(word, TENSES[lower]) + post
    if op == "spelling" and lower in _SPELLING:
        return pre + _match_case(word, _SPELLING[lower]) + post
    if op == "synonym" and lower in SYNONYMS:
        return pre + _match_case(word, rng.choice(SYNONYMS[lower])) + post
    if op == "drop" and (lower in DROPPABLE or rng.random() < 0.3):
        return ""
    return None


def wide_word_changes(draft: Draft, rng: random.Random, ctx: WideContext, strength: str) -> Draft:
    """A share of the words (0.5-1% light, 1-2.5% medium, 2.5-5% heavy) changed or dropped,
    spread over the whole copy: figures updated, reported speech re-tensed ("said" -> "says"),
    regional spellings, near-synonyms, words cut."""
    low, high = ctx.settings.strength_range(ctx.settings.word_change_rate, strength)
    paras = [p.split() for p in draft.paragraphs]
    positions = [(i, j) for i, tokens in enumerate(paras) for j in range(len(tokens))]
    if not positions:
        return Draft(list(draft.paragraphs), draft.separator)
    wanted = max(1, round(rng.uniform(low, high) * len(positions)))
    done, tries = 0, 0
    while done < wanted and tries < wanted * 30:
        tries += 1
        i, j = rng.choice(positions)
        if j >= len(paras[i]):
            continue
        op = rng.choices(("figure", "tense", "spelling", "synonym", "drop"), (0.2, 0.25, 0.15, 0.2, 0.2))[0]
        new = _change_token(paras[i][j], rng, op)
        if new is None or new == paras[i][j]:
            continue
        if new == "":
            if len(paras[i]) <= 4 or j == 0:
                continue
            tail = _TOKEN.match(paras[i][j])
            if tail and tail.group(3):  # the word goes, its punctuation stays (a sentence keeps its full stop)
                paras[i][j - 1] += tail.group(3)
            del paras[i][j]
        else:
            paras[i][j] = new
        done += 1
    return Draft([" ".join(tokens) for tokens in paras], draft.separator)


def wide_dateline(draft: Draft, rng: random.Random, ctx: WideContext, strength: str) -> Draft:
    """Light: one of dateline, byline, trailer; medium: two; heavy: all three."""
    parts = rng.sample(("dateline", "byline", "trailer"), {"light": 1, "medium": 2, "heavy": 3}[strength])
    paras = list(draft.paragraphs)
    if "dateline" in parts:
        agency = rng.choice(("(Reuters)", "(AP)", "(AFP)", ""))
        paras[0] = (
            f"{rng.choice(CITIES)}, {rng.choice(MONTHS)} {rng.randint(1, 28)} {agency} - ".replace("  ", " ") + paras[0]
        )
    if "byline" in parts:
        paras.insert(0, rng.choice(BYLINE_FORMS).format(name=rng.choice(NAMES)))
    if "trailer" in parts:
        a, b = rng.sample(NAMES, 2)
        paras.append(rng.choice(TRAILERS + (f"(Reporting by {a}; Editing by {b})",)))
    return Draft(paras, draft.separator)


def wide_headline(draft: Draft, rng: random.Random, ctx: WideContext, strength: str) -> Draft:
    return edit_headline(draft, rng, EditContext(ctx.first_sentence, []))


def wide_retypeset(draft: Draft, rng: random.Random, ctx: WideContext, strength: str) -> Draft:
    """Characters, never words: quotes, dashes, spaces (doubled, no-break), paragraph breaks.
    Light: one of these; medium: two or three; heavy: quotes, dashes and spaces, and a third to
    a half of the paragraph breaks merged away."""
    ops_all = ("quotes", "dashes", "spaces", "merge", "separator")
    if strength == "heavy":
        ops = {"quotes", "dashes", "spaces", "merge"} | ({"separator"} if rng.random() < 0.5 else set())
    else:
        ops = set(rng.sample(ops_all, 1 if strength == "light" else rng.randint(2, 3)))
    paras, sep = list(draft.paragraphs), draft.separator
    if "quotes" in ops:
        paras = [_swap_quotes(p) for p in paras]
    if "dashes" in ops:
        paras = [_swap_dashes(p) for p in paras]
    if "spaces" in ops:
        paras = [re.sub(r"(?<=[.,;:!?]) (?=\S)", lambda m: rng.choice(("  ", " ", "\u00a0", " ")), p) for p in paras]
    if "merge" in ops and len(paras) > 1:
        share = rng.uniform(1 / 3, 1 / 2) if strength == "heavy" else rng.uniform(0.1, 0.3)
        for _ in range(max(1, round(share * (len(paras) - 1)))):
            if len(paras) < 2:
                break
            i = rng.randrange(len(paras) - 1)
            paras[i : i + 2] = [paras[i] + " " + paras[i + 1]]
    if "separator" in ops:
        sep = "\n" if sep == "\n\n" else "\n\n"
    return Draft(paras, sep)


def wide_repeat(draft: Draft, rng: random.Random, ctx: WideContext, strength: str) -> Draft:
    return Draft(list(draft.paragraphs) * 2, draft.separator)


WIDE_EDITS: dict[str, Callable[[Draft, random.Random, WideContext, str], Draft]] = {
    "headline": wide_headline,
    "dateline": wide_dateline,
    "abridge": wide_abridge,
    "local_paragraphs": wide_local_paragraphs,
    "word_changes": wide_word_changes,
    "retypeset": wide_retypeset,
    "repeat": wide_repeat,
}


def make_wide_copy(
    paragraphs: Iterable[str], edits: Iterable[tuple[str, str]], rng: random.Random, ctx: WideContext
) -> str:
    """Apply ``(kind, strength)`` edits in :data:`WIDE_APPLY_ORDER`."""
    chosen = dict(edits)
    draft = Draft(list(paragraphs))
    for kind in WIDE_APPLY_ORDER:
        if kind in chosen:
            draft = WIDE_EDITS[kind](draft, rng, ctx, chosen[kind])
    return draft.text()


def draw_wide_edits(rng: random.Random, settings: WideSettings) -> tuple[tuple[tuple[str, str], ...], bool]:
    """The edits of one copy: the heavy recipe (``heavy`` True), or 1-4 kinds at drawn strengths."""
    if rng.random() < settings.heavy_share:
        edits = [(k, "heavy") for k in HEAVY_RECIPE]
        if rng.random() < 0.5:
            edits.append(("headline", "heavy"))
        return tuple(sorted(edits, key=lambda e: WIDE_KINDS.index(e[0]))), True
    weights = [settings.repeat_weight if k == "repeat" else 1.0 for k in WIDE_KINDS]
    n = _weighted(rng, settings.edits_weights)
    kinds: list[str] = []
    while len(kinds) < n:
        k = rng.choices(WIDE_KINDS, weights)[0]
        if k not in kinds:
            kinds.append(k)
    strengths, probs = zip(*settings.strength_weights)
    edits = [(k, rng.choices(strengths, probs)[0]) for k in kinds]
    return tuple(sorted(edits, key=lambda e: WIDE_KINDS.index(e[0]))), False


# --------------------------------------------------------------------------- template genres
#
# Weather, markets and sports results are written from templates: two reports of one series
# (one region's forecast, one exchange's close, one league's round) on different days share most
# of their words and all of their structure, and differ in the figures, names and a few verbs.
# Each generator writes one report from a series and a day; the series fixes the places, indices
# or teams, the day draws everything else.

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEATHER_SERIES = (
    ("the North West", ("Manchester", "Liverpool", "Preston", "Carlisle", "Blackpool"), "Irish Sea"),
    ("the South East", ("London", "Brighton", "Canterbury", "Reading", "Guildford"), "Channel"),
    ("Queensland", ("Brisbane", "Cairns", "Townsville", "Mackay", "Toowoomba"), "Coral Sea"),
)
_SKIES = (
    "Sunny spells and scattered showers",
    "Cloudy with outbreaks of rain",
    "Dry and bright with long sunny spells",
    "Mostly cloudy with a few light showers",
    "Heavy rain clearing to sunshine",
    "Mist and fog patches lifting to sunshine",
)
_MARKET_SERIES = (
    (
        "Tokyo",
        "Nikkei share average",
        "broader Topix",
        "yen",
        ("Toyota Motor", "Sony Group", "SoftBank Group", "Fast Retailing", "Tokyo Electron"),
    ),
    ("London", "FTSE 100 index", "midcap FTSE 250", "pound", ("BP", "HSBC", "Unilever", "AstraZeneca", "Rio Tinto")),
    (
        "Mumbai",
        "NSE Nifty 50 index",
        "S&P BSE Sensex",
        "rupee",
        ("Reliance Industries", "Infosys", "HDFC Bank", "Tata Motors", "ITC"),
    ),
)
_SECTORS = (
    "banks",
    "miners",
    "exporters",
    "technology shares",
    "energy stocks",
    "utilities",
    "retailers",
    "automakers",
)
_REASONS = (
    "weighed the outlook for interest rates",
    "digested a batch of corporate earnings",
    "awaited inflation data due later in the week",
    "tracked gains on Wall Street overnight",
    "took profits after a three-day rally",
    "reacted to weaker-than-expected factory data",
)
_LEAGUE_SERIES = (
    (
        "Northern Premier League",
        ("Hartlepool Town", "Ashby United", "Corbridge Rovers", "Westfield Athletic", "Kirkham City", "Dunmore Albion"),
    ),
    (
        "A-League",
        ("Coastal FC", "Harbour City", "Western Rangers", "Riverside United", "Highlands FC", "Bayside Wanderers"),
    ),
    (
        "Eastern Conference",
        ("Lakeshore Lions", "Metro Hawks", "Capital Stars", "Valley Bears", "Bridgeport Kings", "Port Mariners"),
    ),
)
_PLAYERS = (
    "Sam Okafor",
    "Luis Pereira",
    "Tom Whitfield",
    "Jae-won Park",
    "Marco Bianchi",
    "Kofi Mensah",
    "Dan Reilly",
    "Yusuf Demir",
    "Ollie Grant",
    "Ravi Shetty",
    "Alex Novak",
    "Ben Carter",
)


def _signed(rng: random.Random, low: float, high: float) -> tuple[str, float]:
    value = round(rng.uniform(low, high), 2)
    return ("rose" if value >= 0 else "fell"), abs(value)


def weather_report(series: int, day: int, rng: random.Random) -> tuple[str, ...]:
    region, cities, sea = _WEATHER_SERIES[series % len(_WEATHER_SERIES)]
    weekday, tomorrow = WEEKDAYS[day % 7], WEEKDAYS[(day + 1) % 7]
    c = rng.sample(cities, 4)
    high = rng.randint(8, 31)
    # values drawn in the order they appear in the text
    sky, second = rng.choice(_SKIES), high - rng.randint(1, 4)
    low, rural = rng.randint(0, 15), rng.randint(-2, 10)
    strength = rng.choice(("light", "moderate", "fresh", "strong"))
    direction = rng.choice(("westerly", "south-westerly", "northerly", "easterly"))
    slow, fast, gust = rng.randint(5, 25), rng.randint(26, 50), rng.randint(50, 90)
    chance, when = rng.randint(1, 9) * 10, rng.choice(("morning", "afternoon", "evening"))
    rain, uv = rng.randint(1, 30), rng.choice(("low", "moderate", "high", "very high"))
    pollen = rng.choice(("low", "moderate", "high"))
    rise = f"{rng.randint(4, 7)}:{rng.randint(10, 59)}"
    setting = f"{rng.randint(16, 21)}:{rng.randint(10, 59)}"
    outlook, trend = rng.choice(_SKIES).lower(), rng.choice(("rising", "falling", "little changed"))
    later = rng.randint(8, 31)
    return (
        f"Weather forecast for {region}: {weekday}, {MONTHS[day % 12]} {1 + day % 28}",
        f"{sky} across {region} on {weekday}, with highs of {high}C in {c[0]} and {second}C in {c[1]}. "
        f"Overnight temperatures will fall to {low}C, and to {rural}C in rural areas.",
        f"Winds will be {strength} and {direction}, at {slow} to {fast} km/h, "
        f"gusting to {gust} km/h along the {sea} coast.",
        f"There is a {chance}% chance of rain in the {when}, with up to {rain} mm expected around {c[2]}. "
        f"The UV index will be {uv} and pollen levels {pollen}.",
        f"Sunrise in {c[3]} is at {rise} and sunset at {setting}.",
        f"Outlook: {outlook} on {tomorrow}, with temperatures {trend} to around {later}C by the weekend.",
        f"The forecast for {region} is issued by the regional meteorological office and updated every six hours. "
        f"Warnings are published on its website.",
    )


def markets_report(series: int, day: int, rng: random.Random) -> tuple[str, ...]:
    city, index, broad, currency, companies = _MARKET_SERIES[series % len(_MARKET_SERIES)]
    weekday = WEEKDAYS[day % 5]
    move, pct = _signed(rng, -2.5, 2.5)
    bmove, bpct = _signed(rng, -2.0, 2.0)
    up, down = rng.sample(_SECTORS, 2)
    a, b = rng.sample(companies, 2)
    # values drawn in the order they appear in the text
    headline_reason = rng.choice(_REASONS).split(" ", 1)[1]
    level = f"{rng.randint(10000, 40000):,}.{rng.randint(10, 99)}"
    reason = rng.choice(_REASONS)
    broad_level = f"{rng.randint(1000, 90000):,}.{rng.randint(10, 99)}"
    members = rng.randint(40, 95)
    gain, loss = round(rng.uniform(0.2, 4), 1), round(rng.uniform(0.2, 4), 1)
    verb, change = rng.choice(("jumped", "climbed", "slid", "dropped")), round(rng.uniform(0.5, 9), 1)
    news = rng.choice(
        ("raised its annual forecast", "reported quarterly results", "announced a share buyback", "cut its dividend")
    )
    other_verb, other_change = rng.choice(("added", "lost")), round(rng.uniform(0.2, 5), 1)
    fx_move, fx = rng.choice(("strengthened", "weakened")), round(rng.uniform(0.5, 160), 2)
    yield_move, bond = rng.choice(("rose", "fell")), round(rng.uniform(0.1, 5), 3)
    volume, side, average = rng.randint(300, 2500), rng.choice(("above", "below")), rng.randint(300, 2500)
    return (
        f"{city} stocks {'end higher' if move == 'rose' else 'end lower'} as investors {headline_reason}",
        f"{city}, {MONTHS[day % 12]} {1 + day % 28} - The {index} {move} {pct} percent to {level} "
        f"on {weekday}, as investors {reason}.",
        f"The {broad} {bmove} {bpct} percent to {broad_level}, "
        f"with {members} percent of its members {'gaining' if bmove == 'rose' else 'declining'}.",
        f"Among sectors, {up} led gains, up {gain} percent, while {down} fell {loss} percent.",
        f"{a} shares {verb} {change} percent after the company {news}, and {b} {other_verb} {other_change} percent.",
        f"The {currency} {fx_move} to {fx} per dollar, "
        f"and the 10-year government bond yield {yield_move} to {bond} percent.",
        f"Trading volume was {volume} million shares, {side} the 30-day average of {average} million.",
        "Market data are provided by the exchange; closing figures are provisional and may be revised.",
    )


def sports_report(series: int, day: int, rng: random.Random) -> tuple[str, ...]:
    league, teams = _LEAGUE_SERIES[series % len(_LEAGUE_SERIES)]
    weekday = WEEKDAYS[(5 + day) % 7]
    t = rng.sample(teams, 6)
    s1, s2 = rng.randint(0, 4), rng.randint(0, 3)
    verb = "beat" if s1 > s2 else "drew with" if s1 == s2 else "lost to"
    p = rng.sample(_PLAYERS, 3)
    # values drawn in the order they appear in the text
    first = rng.randint(3, 40)
    second = rng.choice(("added a second", "levelled", "scored from the penalty spot", "headed in"))
    minute = rng.randint(41, 90)
    place = rng.choice(("first", "second", "third", "fourth", "fifth", "sixth"))
    points, behind = rng.randint(3, 60), rng.randint(1, 12)
    g = [rng.randint(0, 4) for _ in range(4)]
    attendance = rng.randint(1200, 45000)
    return (
        f"{league} round {day + 1}: {t[0]} {verb} {t[1]}",
        f"{t[0]} {verb} {t[1]} {s1}-{s2} at home on {weekday} in round {day + 1} of the {league}.",
        f"{p[0]} opened the scoring in the {first}th minute, and {p[1]} {second} after {minute} minutes.",
        f"{t[0]} move to {place} in the table on {points} points, {behind} points behind leaders {t[2]}.",
        f"Other results: {t[2]} {g[0]} {t[3]} {g[1]}; {t[4]} {g[2]} {t[5]} {g[3]}.",
        f"The attendance was {attendance:,}. {t[1]} host {t[3]} next {weekday}, while {t[0]} travel to {t[4]}.",
        f"{p[2]} was named player of the match. Results are compiled by the {league} press office.",
    )


_INTROS = {
    "weather": "Here is the latest regional forecast from the meteorological office, with temperatures, winds "
    "and rain for the next 24 hours.",
    "markets": "The following is a summary of trading on the exchange today, with closing levels of the main "
    "indices, currencies and bonds.",
    "sports": "Here are the results, scorers and standings from this round of league matches, as compiled by our "
    "sports desk.",
}


def _with_intro(genre: str, writer: Callable) -> Callable:
    """Odd-numbered series open with the same boilerplate sentence every day, as many desks'
    reports do: distinct stories whose first sentence is identical."""

    def write(series: int, day: int, rng: random.Random) -> tuple[str, ...]:
        paras = writer(series, day, rng)
        return (paras[0], _INTROS[genre] + " " + paras[1]) + paras[2:] if series % 2 else paras

    return write


TEMPLATE_WRITERS = {
    g: _with_intro(g, w)
    for g, w in (("weather", weather_report), ("markets", markets_report), ("sports", sports_report))
}


# --------------------------------------------------------------------------- hard negatives


_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*\b")
_FIGURE = re.compile(r"\b\d[\d,.]*\d\b|\b\d\b")
_QUOTED = re.compile(r"[\"“][^\"“”]{20,}[\"”]")


def _sub_names(paragraph: str, replace: Callable[[re.Match], str]) -> str:
    """Capitalized word runs replaced, except a sentence's first word (capitalized anyway)."""
    out = []
    for sentence in split_sentences(paragraph) or [paragraph]:
        head, _, rest = sentence.partition(" ")
        out.append(head + (" " + _NAME.sub(replace, rest) if rest else ""))
    return " ".join(out)


def _names_and_figures(text: str) -> tuple[list[str], list[str]]:
    names: list[str] = []
    _sub_names(text, lambda m: names.append(m.group(0)) or m.group(0))
    return list(dict.fromkeys(names)), list(dict.fromkeys(_FIGURE.findall(text)))


def same_event_story(original: SourceStory, prose: SourceStory, rng: random.Random) -> tuple[str, ...]:
    """Another outlet's story on the same event: ``prose``'s sentences (a different real body)
    carrying ``original``'s names and figures, and, when the original has them, one or two of
    its quoted sentences (the same press-conference quotes)."""
    names, figures = _names_and_figures(" ".join(original.paragraphs))
    name_map: dict[str, str] = {}
    figure_map: dict[str, str] = {}

    def name_for(m: re.Match) -> str:
        if not names:
            return m.group(0)
        return name_map.setdefault(m.group(0), names[len(name_map) % len(names)])

    def figure_for(m: re.Match) -> str:
        if not figures:
            return m.group(0)
        return figure_map.setdefault(m.group(0), figures[len(figure_map) % len(figures)])

    paras = [_FIGURE.sub(figure_for, _sub_names(p, name_for)) for p in prose.paragraphs]
    quotes = [s for p in original.paragraphs for s in split_sentences(p) if _QUOTED.search(s)]
    for sentence in rng.sample(quotes, min(len(quotes), rng.randint(1, 2))):
        at = rng.randint(1, len(paras)) if len(paras) > 1 else len(paras)
        paras.insert(at, sentence)
    return tuple(paras)


def follow_up_story(
    original: SourceStory, body: SourceStory, rng: random.Random, settings: WideSettings
) -> tuple[str, ...] | None:
    """A later story (``body``, a different real article) that reuses one to three background
    paragraphs of ``original``, never its lede, at most ``follow_up_max_share`` of its words and
    never more than the new story's own words; placed after the new top, sometimes lightly edited."""
    total = original.words
    candidates = [i for i, p in enumerate(original.paragraphs) if i >= 1 and word_count(p) >= 15]
    if not candidates:
        return None
    budget = min(settings.follow_up_max_share * total, body.words)
    wanted = rng.randint(*settings.follow_up_paragraphs)
    start = rng.choice(candidates)
    picked, used = [], 0
    for i in [c for c in candidates if c >= start] + [c for c in candidates if c < start]:
        w = word_count(original.paragraphs[i])
        if len(picked) < wanted and used + w <= budget:
            picked.append(i)
            used += w
    if not picked:
        return None
    background = [original.paragraphs[i] for i in sorted(picked)]
    if rng.random() < 0.5:
        ctx = WideContext("", [], settings)
        background = list(wide_word_changes(Draft(background), rng, ctx, "light").paragraphs)
    paras = list(body.paragraphs)
    at = min(len(paras), rng.randint(1, 3))
    return tuple(paras[:at] + background + paras[at:])


def roundup_story(items: list[SourceStory], rng: random.Random, settings: WideSettings) -> tuple[str, ...]:
    """A digest: a heading, then for each story a short headline and its lede cut to a brief
    (its first sentences: at least 25 words, then up to a drawn 25-70 and at most a third of the
    story), lightly edited half of the time."""
    paras = [rng.choice(ROUNDUP_HEADINGS)]
    ctx = WideContext("", [], settings)
    for story in items:
        sentences = [x for p in story.paragraphs[:2] for x in split_sentences(p)] or [story.paragraphs[0]]
        paras.append(" ".join(re.findall(r"\w[\w'’-]*", sentences[0])[: rng.randint(4, 8)]))
        budget, brief = rng.randint(25, 70), [sentences[0]]
        for x in sentences[1:]:
            words = word_count(" ".join(brief))
            if words >= 25 and word_count(" ".join(brief + [x])) > min(budget, story.words / 3):
                break  # an item is a few sentences, at least 25 words where the lede has them
            brief.append(x)
        lede = [" ".join(brief)]
        if rng.random() < 0.5:
            lede = list(wide_word_changes(Draft(lede), rng, ctx, "light").paragraphs)
        paras.extend(lede)
    return tuple(paras)


def simulate_wide(stories: list[SourceStory], seed: int = 1, settings: WideSettings = WideSettings()) -> Corpus:
    """A labeled corpus for the wide simulator (see the section comment above and
    ``bench/RESULTS.md``): originals of real bodies and of template reports, copies made by
    :func:`draw_wide_edits` (some re-editing an earlier copy), and the four hard negatives."""
    rng = random.Random(seed)
    pool = list(stories)
    rng.shuffle(pool)
    n_follow = round(len(pool) * settings.follow_up_share)
    n_same = round(len(pool) * settings.same_event_share)
    follow_bodies, same_bodies, news = pool[:n_follow], pool[n_follow : n_follow + n_same], pool[n_follow + n_same :]

    sources: list[tuple[str, str, SourceStory]] = [("news", "", s) for s in news]
    for genre in TEMPLATE_GENRES:
        for series in range(settings.template_series):
            first_day = rng.randint(0, 60)
            for d in range(rng.randint(*settings.template_days)):
                paras = TEMPLATE_WRITERS[genre](series, first_day + d, rng)
                sources.append((genre, f"{genre}-{series}", SourceStory(f"{genre}-{series}-{first_day + d}", paras)))

    base = datetime(2025, 8, 1, tzinfo=timezone.utc)
    records: list[SimRecord] = []
    by_story: dict[str, list[SimRecord]] = {}
    label_of: dict[int, str] = {}
    donors_all = [s.paragraphs for s in news]
    for s, (genre, _series, story) in enumerate(sources):
        label = label_of[id(story)] = f"s{s:03d}"
        published = base + timedelta(hours=s)
        original = SimRecord(
            f"{label}-c0",
            label,
            "\n\n".join(story.paragraphs),
            "original",
            story.name,
            published_at=published,
            genre=genre,
        )
        records.append(original)
        by_story[label] = [original]
        if genre == "news":
            n_copies = 0 if rng.random() < settings.singleton_share else _weighted(rng, settings.copies_weights)
        else:
            n_copies = rng.randint(1, 3) if rng.random() < settings.template_copy_share else 0
        first = split_sentences(story.paragraphs[0])
        ctx = WideContext(
            first[0] if first else story.paragraphs[0], [d for d in donors_all if d is not story.paragraphs], settings
        )
        for c in range(1, n_copies + 1):
            edits, heavy = draw_wide_edits(rng, settings)
            parent, role = original, "copy"
            earlier = [r for r in by_story[label][1:] if any(e.startswith("abridge:") for e in r.edits)] or by_story[
                label
            ][1:]
            if earlier and rng.random() < settings.copy_of_copy_share:
                parent, role = rng.choice(earlier), "copy_of_copy"
            text = make_wide_copy(split_paragraphs(parent.text), edits, rng, ctx)
            record = SimRecord(
                f"{label}-c{c}",
                label,
                text,
                role,
                story.name,
                tuple(f"{k}:{v}" for k, v in edits),
                original.id,
                published_at=published + timedelta(minutes=rng.randint(5, 600)),
                genre=genre,
                heavy=heavy,
                parent_id=parent.id,
            )
            records.append(record)
            by_story[label].append(record)

    # Template stories resemble the other stories of their genre.
    for genre in TEMPLATE_GENRES:
        labels = [label_of[id(story)] for g, _, story in sources if g == genre]
        for label in labels:
            by_story[label][0].resembles = tuple(x for x in labels if x != label)

    negatives_made = Counter()
    next_label = len(sources)

    def add_negative(role: str, paras: tuple[str, ...], source: str, resembles: tuple[str, ...], hours: int) -> None:
        nonlocal next_label
        label = f"s{next_label:03d}"
        next_label += 1
        records.append(
            SimRecord(
                f"{label}-c0",
                label,
                "\n\n".join(paras),
                role,
                source,
                resembles=resembles,
                published_at=base + timedelta(hours=hours),
            )
        )
        negatives_made[role] += 1

    news_labels = [(label_of[id(story)], story) for g, _, story in sources if g == "news"]
    for f, body in enumerate(follow_bodies):
        for _ in range(10):
            label, original = rng.choice(news_labels)
            paras = follow_up_story(original, body, rng, settings)
            if paras:
                add_negative("follow_up", paras, body.name, (label,), 48 + f)
                break
    for prose in same_bodies:
        label, original = rng.choice(news_labels)
        add_negative("same_event", same_event_story(original, prose, rng), prose.name, (label,), int(label[1:]) + 1)
    eligible = [
        (label, st)
        for label, st in news_labels
        if len(st.paragraphs) >= 4 and word_count(st.paragraphs[0]) <= 0.35 * st.words
    ]
    for k in range(round(len(news) * settings.roundups_per_100 / 100)):
        items = rng.sample(eligible, min(len(eligible), rng.randint(*settings.roundup_items)))
        add_negative(
            "roundup",
            roundup_story([st for _, st in items], rng, settings),
            "roundup",
            tuple(label for label, _ in items),
            72 + k,
        )

    rng.shuffle(records)
    sizes = Counter(r.story for r in records)
    copies = [r for r in records if r.role in ("copy", "copy_of_copy")]
    edit_counts = Counter(e for r in copies for e in r.edits)
    stats = {
        "source_bodies": len(stories),
        "records": len(records),
        "stories": len(sizes),
        "true_pairs": sum(n * (n - 1) // 2 for n in sizes.values()),
        "originals": sum(1 for r in records if r.role == "original"),
        "template_originals": sum(1 for r in records if r.role == "original" and r.genre != "news"),
        "copies": sum(1 for r in copies if r.role == "copy"),
        "heavy_copies": sum(1 for r in copies if r.role == "copy" and r.heavy),
        "copies_of_copies": sum(1 for r in copies if r.role == "copy_of_copy"),
        "negatives": dict(negatives_made),
        "copies_with_edit": {
            f"{k}:{s}": edit_counts[f"{k}:{s}"] for k in WIDE_KINDS for s in STRENGTHS if edit_counts[f"{k}:{s}"]
        },
    }
    return Corpus(records, seed, settings, stats)


def wide_copy_recall(records: Iterable[SimRecord], predicted: Mapping[str, Hashable]) -> dict:
    """Share of copies found in their original's cluster: per edit kind and strength, and per
    class (all copies, heavy copies, other copies, copies of copies, copies of template reports)."""
    per_edit: dict[str, list[int]] = {}
    classes: dict[str, list[int]] = {
        c: [0, 0] for c in ("all", "heavy", "not_heavy", "copy_of_copy", "copy_of_copy_heavy", "template")
    }
    for r in records:
        if r.role not in ("copy", "copy_of_copy"):
            continue
        found = int(predicted[r.id] == predicted[r.original_id])
        for edit in r.edits:
            row = per_edit.setdefault(edit, [0, 0])
            row[0] += 1
            row[1] += found
        keys = ["all"]
        if r.role == "copy":
            keys.append("heavy" if r.heavy else "not_heavy")
        else:
            keys += ["copy_of_copy"] + (["copy_of_copy_heavy"] if r.heavy else [])
        if r.genre != "news":
            keys.append("template")
        for key in keys:
            classes[key][0] += 1
            classes[key][1] += found
    table = lambda rows: {k: {"copies": n, "found": f, "recall": f / n if n else None} for k, (n, f) in rows.items()}  # noqa: E731
    ordered = {f"{k}:{s}": per_edit[f"{k}:{s}"] for k in WIDE_KINDS for s in STRENGTHS if f"{k}:{s}" in per_edit}
    return {"by_edit": table(ordered), "by_class": table(classes)}


def negative_merges(records: list[SimRecord], predicted: Mapping[str, Hashable]) -> dict:
    """Per negative kind: how many negatives share a cluster with a record of a story they
    resemble (``merged``), and the record pairs so joined (``false_pairs``). Template reports are
    negatives of the other reports of their genre."""
    members: dict[Hashable, list[SimRecord]] = {}
    for r in records:
        members.setdefault(predicted[r.id], []).append(r)
    out = {k: {"negatives": 0, "merged": 0, "false_pairs": 0, "merged_ids": []} for k in NEGATIVE_KINDS}
    for r in records:
        if not r.resembles:
            continue
        kind = "template" if r.role == "original" else r.role
        resembled = set(r.resembles)
        joined = [m for m in members[predicted[r.id]] if m.story in resembled]
        row = out[kind]
        row["negatives"] += 1
        row["false_pairs"] += len(joined)
        if joined:
            row["merged"] += 1
            row["merged_ids"].append(r.id)
    for row in out.values():
        row["kept_apart"] = 1 - row["merged"] / row["negatives"] if row["negatives"] else None
        row["merged_ids"].sort()
    return out


def wide_score(corpus: Corpus, predicted: Mapping[str, Hashable]) -> dict:
    truth = corpus.truth()
    missed = [
        {"id": r.id, "role": r.role, "heavy": r.heavy, "edits": list(r.edits)}
        for r in sorted(corpus.records, key=lambda r: r.id)
        if r.role in ("copy", "copy_of_copy") and predicted[r.id] != predicted[r.original_id]
    ]
    return {
        **pairwise_scores(predicted, truth),
        "copy_recall": wide_copy_recall(corpus.records, predicted),
        "negatives": negative_merges(corpus.records, predicted),
        "impure_clusters": impure_clusters(predicted, truth),
        "missed_copies": missed,
    }
