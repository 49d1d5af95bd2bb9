"""A suite of pages with repeated text, and the check that repetition removal got each right.

Each case starts from a real article body (a list of paragraphs with no internal repeats) and
repeats part of it the way scraped pages do. The expected output is known exactly: the original
sentences, each once, in their order, plus any unique paragraph the case inserted. A case passes
when the cleaned sentence sequence (compared by comparison key) equals the expected one - so no
repeated block survives, no unique sentence is lost, and the order holds.

Kinds: body twice; body three times; a run of paragraphs repeated; a copy with different
whitespace; with straight/curly quotes and dashes swapped and punctuation dropped; with an
"Updated ..." stamp in front; a repeated block with a new paragraph in between; a copy whose
paragraph breaks differ (merged into one); and a legitimately repeated short quote, which must
stay twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cleaning.clean.repetition import remove_repeats, split_sentences
from cleaning.clean.text import comparison_key

KINDS = (
    "twice",
    "three_times",
    "paragraph_run",
    "whitespace",
    "punctuation_quotes",
    "updated_stamp",
    "inserted_between",
    "merged_paragraphs",
    "short_quote_kept",
)


@dataclass
class Case:
    name: str
    kind: str
    paragraphs: list[str]
    expected: list[str]  # sentence comparison keys, in order


def _retype(text: str) -> str:
    return (
        text.replace('"', "\u201c").replace("'", "\u2019").replace(" - ", " \u2014 ").replace(",", "").replace(";", "")
    )


def _keys(paragraphs: list[str]) -> list[str]:
    return [comparison_key(s) for p in paragraphs for s in split_sentences(p) if comparison_key(s)]


def make_cases(bodies: list[list[str]], per_kind: int = 3, seed: int = 0) -> list[Case]:
    """``per_kind`` cases of every kind, drawn from ``bodies`` (lists of paragraphs)."""
    rng = random.Random(seed)
    usable = [b for b in bodies if len(b) >= 4 and len(set(_keys(b))) == len(_keys(b))]
    cases: list[Case] = []
    for kind in KINDS:
        for k in range(per_kind):
            body = list(rng.choice(usable))
            expected = _keys(body)
            if kind == "twice":
                paragraphs = body + body
            elif kind == "three_times":
                paragraphs = body * 3
            elif kind == "paragraph_run":
                start = rng.randrange(0, len(body) - 2)
                run = body[start : start + rng.randint(2, 3)]
                at = rng.randrange(start + len(run), len(body) + 1)
                paragraphs = body[:at] + run + body[at:]
            elif kind == "whitespace":
                paragraphs = body + [p.replace(" ", "  ").replace(". ", ".\t ") + "  " for p in body]
            elif kind == "punctuation_quotes":
                paragraphs = body + [_retype(p) for p in body]
            elif kind == "updated_stamp":
                paragraphs = body + ["Updated Aug 28, 2025 1:11 PM IST " + body[0]] + body[1:]
            elif kind == "inserted_between":
                other = rng.choice([b for b in usable if b is not body])
                inserted = other[rng.randrange(len(other))]
                paragraphs = body + [inserted] + body
                expected = expected + _keys([inserted])
            elif kind == "merged_paragraphs":
                paragraphs = body + [" ".join(body)]
            else:  # short_quote_kept
                quote = '"We are not going anywhere," she said.'
                paragraphs = body[:2] + [quote] + body[2:] + [quote]
                expected = _keys(body[:2] + [quote] + body[2:] + [quote])
            cases.append(Case(f"{kind}-{k}", kind, paragraphs, expected))
    return cases


def run_case(case: Case, min_words: int = 8) -> dict:
    kept, removed = remove_repeats(case.paragraphs, min_words)
    got = _keys(kept)
    lost = [k for k in case.expected if k not in got]
    surplus = len(got) - len(case.expected)
    return {
        "name": case.name,
        "kind": case.kind,
        "passed": got == case.expected,
        "lost_sentences": len(lost),
        "extra_sentences": max(0, surplus),
        "words_removed": removed,
    }
