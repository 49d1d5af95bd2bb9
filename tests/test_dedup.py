import random
from datetime import datetime, timezone

import pytest

from cleaning.config import DedupConfig
from cleaning.dedup import dedup_records, signatures
from cleaning.dedup.minhash import signature
from cleaning.dedup.shingles import jaccard_and_containment, normalized_words, shingle_set
from tests.support import SEED_TEXT

SEED = [line for line in SEED_TEXT.read_text(encoding="utf-8").splitlines() if line.strip()]
STORY = "\n".join(SEED[4:11])  # the seed body, once
OTHER = (
    "Heavy rain flooded the lower town on Sunday as the river rose two metres in six hours, "
    "forcing the evacuation of three care homes and closing the main bridge. Emergency crews "
    "worked through the night to pump water from basements while volunteers filled sandbags at "
    "the football ground. The regional council said damage would run into millions and asked the "
    "national government for emergency funds to rebuild the flood barriers before winter."
)


def by_id(decisions):
    return {d.id: d for d in decisions}


def test_exact_near_and_abridged_copies_cluster():
    records = [
        {"id": "orig", "text": STORY, "published_at": datetime(2025, 8, 28, 7, tzinfo=timezone.utc)},
        {"id": "retyped", "text": STORY.replace("'", "’").upper()},
        {"id": "abridged", "text": "\n".join(SEED[4:8])},
        {"id": "edited", "text": STORY.replace("at the last minute", "late on Wednesday").replace("Tokyo", "Japan")},
        {"id": "other", "text": OTHER},
    ]
    d = by_id(dedup_records(records, DedupConfig()))
    assert d["orig"].is_duplicate is False and d["orig"].canonical_id == "orig"  # earliest published
    assert d["retyped"].method == "exact" and d["retyped"].canonical_id == "orig"
    assert d["abridged"].method == "near" and d["abridged"].containment >= 0.8
    assert d["edited"].is_duplicate and d["edited"].jaccard >= 0.7
    assert d["other"].is_duplicate is False and d["other"].cluster_id == "other"


def test_order_does_not_change_clusters_or_canonicals():
    records = [{"id": f"c{i}", "text": STORY if i % 3 else OTHER + f" Copy {i}."} for i in range(12)]
    first = [(d.id, d.cluster_id, d.canonical_id, d.is_duplicate) for d in dedup_records(records, DedupConfig())]
    for seed in range(3):
        shuffled = records[:]
        random.Random(seed).shuffle(shuffled)
        again = [(d.id, d.cluster_id, d.canonical_id, d.is_duplicate) for d in dedup_records(shuffled, DedupConfig())]
        assert again == first


def test_empty_and_short_bodies_and_500_copies():
    records = [
        {"id": "empty", "text": ""},
        {"id": "short", "text": "Two words"},
        {"id": "short2", "text": "two words!"},
    ]
    records += [{"id": f"copy{i:03d}", "text": STORY + (f"\nLocal note {i}." if i % 2 else "")} for i in range(500)]
    d = by_id(dedup_records(records, DedupConfig()))
    assert d["short2"].canonical_id == "short" and d["short2"].method == "exact"
    assert not d["empty"].is_duplicate
    canonicals = {d[f"copy{i:03d}"].canonical_id for i in range(500)}
    assert len(canonicals) == 1
    assert sum(not d[f"copy{i:03d}"].is_duplicate for i in range(500)) == 1


def test_repeated_ids_are_refused():
    with pytest.raises(ValueError, match="ids must be unique"):
        dedup_records([{"id": 1, "text": "a"}, {"id": 1, "text": "b"}], DedupConfig())


def test_minhash_estimates_jaccard():
    a = shingle_set(STORY, 5)
    b = shingle_set(STORY.replace("Akazawa", "Mr Akazawa"), 5)
    true_j, _ = jaccard_and_containment(a, b)
    sa, sb = signature(a, 256), signature(b, 256)
    assert abs((sa == sb).mean() - true_j) < 0.1


def test_signatures_table_has_band_keys():
    table = signatures([("x", STORY, None), ("y", "too short", None)], DedupConfig())
    keys = table.column("band_keys").to_pylist()
    assert len(keys[0]) > 1 and keys[1] == []


def test_signature_is_datasketch_affine32_bit_for_bit():
    from datasketch import MinHash

    from cleaning.dedup.minhash import fold32

    shingles = shingle_set(STORY, 4)
    reference = MinHash(num_perm=128, seed=1, scheme="affine32", hashfunc=int)
    reference.update_batch(fold32(shingles).tolist())
    assert (signature(shingles, 128) == reference.hashvalues).all()


def test_abridged_lead_copy_is_found_through_lead_bands():
    long_story = STORY + "\n" + OTHER.replace("Heavy rain", "Later, heavy rain") * 3
    abridged = "\n".join(STORY.split("\n")[:3])  # well under half of the long story
    records = [{"id": "full", "text": long_story}, {"id": "cut", "text": abridged}]
    with_lead = by_id(dedup_records(records, DedupConfig()))
    assert with_lead["cut"].is_duplicate and with_lead["cut"].containment >= 0.9
    assert with_lead["cut"].jaccard < 0.5  # only containment could have matched it


def _hashes_of_reference(text):
    import xxhash  # hashed here directly, not through the code under test

    return [xxhash.xxh3_64_intdigest(w) for w in normalized_words(text)]


TRICKY = [
    "",
    "   ",
    "—…“”",
    "Plain ASCII, with punctuation: don't-stop! 3.5% of $1,000.",
    "CAPITALS and MiXeD case",
    "“Curly” quotes—dashes – and… ellipses\u00a0with\u202fodd\u2009spaces",
    "Straße STRASSE İstanbul ΣΊΣΥΦΟΣ ﬁnance ½ cup ² ™ ℅ ¨ ´",
    "Ｆｕｌｌｗｉｄｔｈ　ｗｏｒｄｓ！（ｙｅｓ）",
    "東京、３月２日。「記者会見」で発表した。",
    "e\u0301cole <\u0338 a\u0308 \u00a8x",
    "line one…\nline ½ two\r\nline\tthree\n\n",
    "Arabic presentation forms: \ufecb\ufeda \ufe83",
]


def test_columnar_tokenizer_equals_the_reference_definition():
    from cleaning.dedup.shingles import word_hashes

    rng = random.Random(5)
    pool = [chr(c) for c in range(0x09, 0x10000, 7)] + [chr(c) for c in range(0x10000, 0x110000, 997)]  # surrogates too
    pool += list("\n \u2019\u2026\u00a0\u0301\u03a3\u00df\u0130\uff21") + [chr(c) for c in range(0x20, 0x7F)] * 20
    randoms = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 80))) for _ in range(300)]
    bodies = TRICKY + randoms + [STORY, OTHER]
    for chunk in (bodies, bodies[::-1], bodies[:1], bodies[5:6]):
        hashes, counts = word_hashes(chunk)
        assert counts.tolist() == [len(normalized_words(b)) for b in chunk]
        expected = [h for body in chunk for h in _hashes_of_reference(body)]
        assert hashes.tolist() == expected
    assert word_hashes([])[0].tolist() == []


def test_chunking_by_size_and_characters_does_not_change_signatures(monkeypatch):
    import cleaning.dedup as dedup

    bodies = [STORY, OTHER, STORY * 3, "", OTHER.upper(), STORY[:200]] * 3
    records = [(f"r{i}", text, None) for i, text in enumerate(bodies)]
    whole = dedup.signatures(records, DedupConfig())
    monkeypatch.setattr(dedup, "CHUNK_CHARS", 1500)  # several chunks, and bodies larger than one
    assert len(dedup._chunks([t for _, t, _ in records], 4000)) > 5
    assert dedup.signatures(records, DedupConfig()).equals(whole)
    assert dedup._chunks(["x" * 10, "y" * 10, "z"], 2) == [(0, 2), (2, 3)]
