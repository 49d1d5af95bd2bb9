"""Sentence alignment, adjacent-sentence keys and the evidence they leave: heavily edited copies
are found, stories that share background, quotes or a template are not."""

import random

import numpy as np
import pyarrow as pa
import pytest

from cleaning.config import DedupConfig
from cleaning.dedup import dedup_records, signatures
from cleaning.dedup.align import DEFAULT_POLICY, align, matches_batch, sentences_of
from cleaning.dedup.clusters import components
from cleaning.dedup.sentence_keys import lead_sentence_keys, shared_key_pairs
from cleaning.dedup.shingles import fold32, sentence_lengths, words_and_sentences

ORIGINAL = [
    "The city council approved a plan on Tuesday to build 1,200 affordable homes on the site of the "
    "former steelworks, ending a dispute that had delayed the project for nearly four years.",
    "The vote passed by 31 to 9 after a six-hour debate in which residents of the eastern districts "
    "warned that roads and schools in the area were already stretched to their limits.",
    "Mayor Helen Ortiz said the decision was the most important the council had taken in a decade "
    "and promised that the first families would move in before the end of 2027.",
    "Under the plan, the developer will also pay for a new primary school, a health centre and a "
    "bus link to the main railway station, at a cost the council put at 48 million dollars.",
    "Opposition councillors said the figures were optimistic and asked the city auditor to review "
    "the contract before any land is sold, a request the mayor said she would support.",
    "The steelworks closed in 2009 with the loss of about 3,000 jobs, and the site has been fenced "
    "off since, apart from a weekend market that will move to the old railway yard.",
    "Groups representing tenants welcomed the vote but said rents on the new homes must be fixed "
    "for at least 25 years, or the scheme would do little for the families most in need.",
    "The developer, Northline Homes, said work on clearing the site would begin in the spring and "
    "that it expected to employ up to 600 people during the busiest phase of construction.",
    "An environmental survey found traces of heavy metals in two parts of the site, which will be "
    "sealed under car parks rather than used for gardens, according to the planning documents.",
    "The council will hold a public meeting next month to explain the timetable to residents, and "
    "the full plans will be published on its website later this week.",
]

# What a regional paper did with it, all at once: a headline, a byline and a dateline; cut to
# the first four paragraphs, one of them dropped from the middle; a paragraph of local copy after
# the lede; figures updated, "said" to "says", regional spellings; paragraphs merged; a trailer.
HEAVY_COPY = "\n".join(
    [
        "Council backs homes on steelworks site",
        "By Anna Lee, Staff Writer",
        "RIVERTON, March 3 (Reuters) - The city council approved a plan on Tuesday to build 1,250 "
        "affordable homes on the site of the former steelworks, ending a dispute that had delayed the "
        "project for nearly four years.",
        "In Riverton, where a similar scheme was rejected last year, local councillors say they will "
        "watch closely how the first phase is handled before backing any plan of their own.",
        "The vote passed by 31 to 9 after a six-hour debate in which residents of the eastern districts "
        "warned that roads and schools in the area were already stretched. Mayor Helen Ortiz says the "
        "decision was the most important the council had taken in a decade and promised that the first "
        "families would move in before the end of 2027.",
        "Opposition councillors said the figures were optimistic and asked the city auditor to review "
        "the contract before any land is sold, a request the mayor says she would support.",
        "(Reporting by Tom Hals; Editing by Jan Harvey)",
    ]
)

# A follow-up, another story that reuses two background paragraphs of the original.
FOLLOW_UP = "\n\n".join(
    [
        "Northline Homes has asked the city for permission to start clearing the old steelworks site a "
        "month early, citing a shortage of building crews later in the year.",
        "The request will be considered by the planning committee on Thursday, a council spokesman said, "
        "adding that no decision had been taken on whether residents would be consulted again.",
        ORIGINAL[5],
        ORIGINAL[8],
        "Residents' groups said they had not been told of the request and would ask to speak at the "
        "meeting, while the company said early clearing would not change the overall timetable.",
        "Northline said it had already hired 150 workers locally and expected most of them to stay on "
        "for the construction phase, which is due to last about three years.",
    ]
)


def _template(day: int, seed: int) -> str:
    rng = random.Random(seed)
    move = rng.choice(("rose", "fell"))
    return "\n\n".join(
        [
            f"Tokyo stocks close on {('Monday', 'Tuesday', 'Wednesday')[day % 3]}",
            f"The Nikkei share average {move} {rng.randint(1, 250) / 100} percent to {rng.randint(20000, 40000)} "
            f"points, as investors {rng.choice(('weighed rate bets', 'digested earnings', 'awaited data'))}.",
            f"The broader Topix {rng.choice(('rose', 'fell'))} {rng.randint(1, 250) / 100} percent, with "
            f"{rng.randint(40, 95)} percent of its members {rng.choice(('gaining', 'declining'))}.",
            f"Among sectors, {rng.choice(('banks', 'miners', 'exporters'))} led gains, up {rng.randint(1, 40) / 10} "
            f"percent, while {rng.choice(('utilities', 'retailers', 'automakers'))} fell {rng.randint(1, 40) / 10} percent.",
            f"The yen traded at {rng.randint(10000, 16000) / 100} per dollar, and the 10-year yield was "
            f"{rng.randint(1, 150) / 100} percent.",
            "Market data are provided by the exchange; closing figures are provisional and may be revised.",
        ]
    )


def _sentences(text: str):
    hashes, _, lengths, _ = words_and_sentences([text])
    return sentences_of(fold32(hashes), lengths)


def test_sentence_rule_columnar_equals_reference():
    cases = [
        "He said. \u201cYes.\u201d Then U.S.-backed rebels took 3.5% of it. Mr. Smith left... ok?! fine.) done",
        "Shares rose 2.8%. Bonds fell.\n\nHeadline without stop\nBody (AP) - text",
        "\u6771\u4eac\u3002\u6b21\u306e\u6587\u3002",
        "x" + "!" * 50 + " y",
        "",
    ]
    rng = random.Random(3)
    pool = list("abc XYZ 12.!?\n\r\t\"')]%-,;:\u201d\u2019\u00bb\u00a0\u3002") + ["U.S.", ". ", ".\u201d "]
    cases += ["".join(rng.choice(pool) for _ in range(rng.randint(0, 60))) for _ in range(500)]
    _, counts, lengths, per_body = words_and_sentences(cases)
    got, k = [], 0
    for n in per_body.tolist():
        got.append(lengths[k : k + n].tolist())
        k += n
    assert got == [sentence_lengths(c) for c in cases]
    assert [sum(g) for g in got] == counts.tolist()
    assert sentence_lengths(cases[0]) == [2, 1, 10, 1, 2, 1, 1, 1]


def test_heavy_copy_aligns_follow_up_and_template_do_not():
    original = _sentences("\n\n".join(ORIGINAL))
    copy = align(original, _sentences(HEAVY_COPY))
    assert copy.same_story and copy.score >= DEFAULT_POLICY.copy_coverage
    assert align(_sentences(HEAVY_COPY), original).same_story  # either order
    assert not align(original, _sentences(FOLLOW_UP)).same_story
    monday, tuesday = _sentences(_template(0, 1)), _sentences(_template(1, 2))
    assert not align(monday, tuesday).same_story
    assert align(monday, _sentences(_template(0, 1))).same_story


def test_batch_matches_equal_single_alignment():
    bodies = [_sentences(t) for t in ("\n\n".join(ORIGINAL), HEAVY_COPY, FOLLOW_UP, _template(0, 1), _template(1, 2))]
    pairs = [(a, b) for a in bodies for b in bodies if a is not b]
    for (a, b), found in zip(pairs, matches_batch(pairs)):
        full = align(a, b)
        if found is None:
            assert not full.same_story
        else:
            assert align(a, b, DEFAULT_POLICY, found) == full


def test_adjacent_sentence_keys_survive_heavy_edits():
    texts = ["\n\n".join(ORIGINAL), HEAVY_COPY, FOLLOW_UP, _template(0, 1)]
    hashes, _, lengths, per_body = words_and_sentences(texts)
    keys, counts = lead_sentence_keys(hashes, lengths, per_body)
    rows = np.repeat(np.arange(len(texts)), counts)
    pairs = {tuple(sorted(p)) for p in shared_key_pairs(keys, rows).tolist()}
    assert (0, 1) in pairs  # the heavy copy keeps consecutive lede sentences
    assert (0, 3) not in pairs and (1, 3) not in pairs


def test_dedup_keeps_the_evidence_of_what_decided():
    from datetime import datetime, timezone

    first = datetime(2025, 8, 28, 6, tzinfo=timezone.utc)
    records = [
        {"id": "original", "text": "\n\n".join(ORIGINAL), "published_at": first},
        {"id": "heavy", "text": HEAVY_COPY},
        {"id": "light", "text": "\n\n".join(ORIGINAL).replace("Tuesday", "Monday")},
        {"id": "retyped", "text": "\n".join(ORIGINAL)},
        {"id": "follow", "text": FOLLOW_UP},
        {"id": "monday", "text": _template(0, 1)},
        {"id": "tuesday", "text": _template(1, 2)},
    ]
    d = {x.id: x for x in dedup_records(records, DedupConfig())}
    assert d["heavy"].is_duplicate and d["heavy"].canonical_id == "original"
    assert d["heavy"].measure == "alignment" and d["heavy"].score >= 0.4
    assert d["heavy"].jaccard < 0.6 and d["heavy"].containment < 0.7  # shingles alone would miss it
    assert d["light"].measure == "jaccard" and d["light"].score == d["light"].jaccard
    assert d["retyped"].method == "exact" and d["retyped"].measure == "exact" and d["retyped"].score == 1.0
    for story in ("follow", "monday", "tuesday", "original"):
        assert not d[story].is_duplicate and d[story].measure is None
    without = {x.id: x for x in dedup_records(records, DedupConfig(), policy=None)}
    assert not without["heavy"].is_duplicate


def test_components_are_the_connected_parts_rooted_at_their_smallest_node():
    import random

    root = components(np.array([4, 2, 7]), np.array([2, 5, 0]), 8)
    assert root.tolist() == [0, 1, 2, 3, 2, 2, 6, 0]
    rng = random.Random(3)
    for size in (1, 10, 300):
        edges = [(rng.randrange(size), rng.randrange(size)) for _ in range(size)]
        edges += [(k, k + 1) for k in range(0, size - 1, 3)]  # chains, hooked in one round
        neighbours = {x: set() for x in range(size)}
        for x, y in edges:
            neighbours[x].add(y)
            neighbours[y].add(x)
        expected = list(range(size))
        for start in range(size):  # a search from each smallest unvisited node labels its component
            if expected[start] == start:
                stack = [start]
                while stack:
                    for other in neighbours[stack.pop()]:
                        if expected[other] > start:
                            expected[other] = start
                            stack.append(other)
        got = components(np.array([x for x, _ in edges]), np.array([y for _, y in edges]), size)
        assert got.tolist() == expected


def test_history_written_before_sentence_keys_still_matches(tmp_path):
    from datetime import date

    from cleaning import layout
    from cleaning.dedup import history as hist
    from cleaning.dedup import resolve
    from cleaning.store import Lake

    lake = Lake(str(tmp_path))
    lake.write_json(layout.manifest_file(date(2025, 8, 1)), {"status": "published"})
    earlier = signatures([("old-1", "\n\n".join(ORIGINAL), None)], DedupConfig())
    earlier = earlier.append_column("run_date", pa.array([date(2025, 8, 1)], pa.date32()))
    earlier = earlier.append_column("url", pa.array(["https://example.test/a"], pa.string()))
    old_schema = [n for n in hist.HISTORY.names if n != "sentence_keys"]
    lake.write_table("history/run_date=2025-08-01/signatures.parquet", earlier.select(old_schema))
    loaded = hist.load(lake, date(2025, 8, 2), 30)
    assert loaded.num_rows == 1 and loaded.column("sentence_keys").to_pylist() == [[]]
    tonight = signatures([("new-1", "\n\n".join(ORIGINAL[:6]).replace("said", "says"), None)], DedupConfig())
    texts = {"history:old-1": "\n\n".join(ORIGINAL)}
    (decision,) = resolve(tonight, lambda ids: {i: texts[i] for i in ids if i in texts}, DedupConfig(), loaded)
    assert decision.is_duplicate and decision.canonical_from_history


@pytest.mark.parametrize("width", [1, 2])
def test_resolve_is_deterministic_across_input_order(width):
    records = [
        {"id": f"r{i}", "text": text}
        for i, text in enumerate(
            ["\n\n".join(ORIGINAL), HEAVY_COPY, FOLLOW_UP, _template(0, 1), _template(1, 2)] * width
        )
    ]
    first = [(d.id, d.cluster_id, d.measure) for d in dedup_records(records, DedupConfig())]
    for seed in range(3):
        shuffled = records[:]
        random.Random(seed).shuffle(shuffled)
        assert [(d.id, d.cluster_id, d.measure) for d in dedup_records(shuffled, DedupConfig())] == first


def test_heavy_copy_of_an_earlier_night_is_found_through_history_keys(tmp_path):
    from datetime import date

    from cleaning import layout
    from cleaning.dedup import history as hist
    from cleaning.dedup import resolve
    from cleaning.store import Lake

    lake = Lake(str(tmp_path))
    lake.write_json(layout.manifest_file(date(2025, 8, 1)), {"status": "published"})
    earlier = signatures([("old-1", "\n\n".join(ORIGINAL), None)], DedupConfig())
    earlier = earlier.append_column("run_date", pa.array([date(2025, 8, 1)], pa.date32()))
    earlier = earlier.append_column("url", pa.array(["https://example.test/a"], pa.string()))
    hist.save(lake, date(2025, 8, 1), earlier)
    loaded = hist.load(lake, date(2025, 8, 2), 30)
    assert [len(k) for k in loaded.column("sentence_keys").to_pylist()] == [hist.HISTORY_SENTENCE_KEYS]
    tonight = signatures([("new-1", HEAVY_COPY, None)], DedupConfig())
    texts = {"history:old-1": "\n\n".join(ORIGINAL)}
    (decision,) = resolve(tonight, lambda ids: {i: texts[i] for i in ids if i in texts}, DedupConfig(), loaded)
    assert decision.canonical_from_history and decision.canonical_id == "old-1"
    assert decision.measure == "alignment"


def test_a_night_without_edges_has_no_decisions_and_nothing_to_measure():
    import pyarrow as pa

    from cleaning.dedup.clusters import NODES, TO_MEASURE, plan_decisions
    from cleaning.dedup.verify import EDGES

    decided, to_measure = plan_decisions(EDGES.empty_table(), NODES.empty_table())
    assert decided.num_rows == 0 and to_measure.schema == TO_MEASURE and to_measure.num_rows == 0
    assert isinstance(decided, pa.Table)
