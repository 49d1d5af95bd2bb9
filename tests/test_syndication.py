import random
from difflib import SequenceMatcher
from itertools import combinations

import pytest

from cleaning.dedup.shingles import normalized_words
from cleaning.evaluate.syndication import (
    EDIT_KINDS,
    HEAVY_RECIPE,
    TEMPLATE_WRITERS,
    Draft,
    EditContext,
    SourceStory,
    WideContext,
    WideSettings,
    edit_abridge,
    edit_dateline,
    edit_headline,
    edit_local_paragraphs,
    edit_repeat,
    edit_retypeset,
    edit_word_substitutions,
    load_seed_story,
    pairwise_scores,
    roundup_story,
    same_event_story,
    simulate,
    simulate_wide,
    split_sentences,
    wide_abridge,
    wide_copy_recall,
    wide_dateline,
    wide_local_paragraphs,
    wide_retypeset,
    wide_word_changes,
    word_count,
)
from tests.support import SEED_TEXT

SEED = load_seed_story(SEED_TEXT)
DONOR = SourceStory(
    "donor",
    (
        "Heavy rain flooded the lower town on Sunday as the river rose two metres in six hours, forcing the evacuation of three care homes.",
        "Emergency crews worked through the night to pump water from basements while volunteers filled sandbags at the football ground.",
        "The regional council said damage would run into millions and asked the national government for emergency funds before winter.",
        "Residents of the riverside streets said it was the worst flooding they could remember, and several shops may not reopen.",
    ),
)


def _stories(n: int = 12) -> list[SourceStory]:
    """Distinct little stories: the seed, the donor, and shuffled-word variants of them."""
    stories = [SEED, DONOR]
    rng = random.Random(0)
    for i in range(n - 2):
        paras = []
        for p in SEED.paragraphs + DONOR.paragraphs:
            words = p.split()
            rng.shuffle(words)
            paras.append(" ".join(words))
        stories.append(SourceStory(f"synthetic{i}", tuple(paras)))
    return stories


def _ctx() -> EditContext:
    first = split_sentences(SEED.paragraphs[0])[0]
    return EditContext(first, [DONOR.paragraphs])


def test_seed_story_is_seven_paragraphs():
    assert len(SEED.paragraphs) == 7
    assert SEED.paragraphs[0].startswith("Japan's leading trade negotiator")
    assert not any("With Reuters inputs" in p for p in SEED.paragraphs)


def test_simulator_is_deterministic_for_a_seed():
    stories = _stories()
    a, b, c = simulate(stories, 3), simulate(stories, 3), simulate(stories, 4)
    key = lambda corpus: [(r.id, r.story, r.edits, r.text) for r in corpus.records]
    assert key(a) == key(b)
    assert key(a) != key(c)
    assert a.stats == b.stats
    ids = [r.id for r in a.records]
    assert len(ids) == len(set(ids))
    for r in a.records:
        assert r.id.startswith(r.story + "-c")
        if r.role == "copy":
            assert 1 <= len(r.edits) <= 3 and set(r.edits) <= set(EDIT_KINDS)
            assert r.original_id == r.story + "-c0"


def test_follow_up_shares_one_paragraph_and_is_its_own_story():
    corpus = simulate(_stories(20), 1)
    by_id = {r.id: r for r in corpus.records}
    follow = [r for r in corpus.records if r.role == "follow_up"]
    assert follow
    for r in follow:
        assert r.story != r.follow_up_of
        original = by_id[r.follow_up_of + "-c0"]
        shared = set(r.text.split("\n\n")) & set(original.text.split("\n\n"))
        assert len(shared) == 1


def test_headline_is_a_short_line_from_the_first_sentence():
    rng = random.Random(5)
    out = edit_headline(Draft(list(SEED.paragraphs)), rng, _ctx())
    assert out.paragraphs[1:] == list(SEED.paragraphs)
    head = out.paragraphs[0]
    assert 1 <= len(head.split()) <= 10
    sentence_words = {w.lower() for w in normalized_words(_ctx().first_sentence)}
    assert set(normalized_words(head)) <= sentence_words


def test_dateline_byline_trailer_wrap_the_body():
    for seed in range(20):
        out = edit_dateline(Draft(list(SEED.paragraphs)), random.Random(seed), _ctx()).text()
        assert out != "\n\n".join(SEED.paragraphs)
        assert all(p in out for p in SEED.paragraphs[1:])
        assert SEED.paragraphs[0] in out  # possibly behind a "CITY, Mon DD (Reuters) - " prefix
    texts = [edit_dateline(Draft(list(SEED.paragraphs)), random.Random(s), _ctx()).text() for s in range(40)]
    assert any("(Reuters) - Japan's leading" in t for t in texts)
    assert any(t.startswith("By ") for t in texts)
    assert any(t.endswith(("(With Reuters inputs)", "-- AFP")) or "Editing by" in t for t in texts)


def test_abridge_keeps_a_prefix_of_40_to_80_percent():
    total = sum(word_count(p) for p in SEED.paragraphs)
    for seed in range(20):
        out = edit_abridge(Draft(list(SEED.paragraphs)), random.Random(seed), _ctx())
        k = len(out.paragraphs)
        assert out.paragraphs == list(SEED.paragraphs[:k])
        assert 0.4 <= sum(word_count(p) for p in out.paragraphs) / total <= 0.8
    one = Draft([" ".join(SEED.paragraphs)])  # one paragraph: the cut falls at a sentence
    out = edit_abridge(one, random.Random(1), _ctx())
    share = word_count(out.text()) / word_count(one.text())
    assert 0.4 <= share <= 0.8 and one.text().startswith(out.text())


def test_local_paragraphs_come_from_another_story():
    out = edit_local_paragraphs(Draft(list(SEED.paragraphs)), random.Random(2), _ctx())
    added = [p for p in out.paragraphs if p not in SEED.paragraphs]
    assert 1 <= len(added) <= 2 and all(p in DONOR.paragraphs for p in added)
    assert [p for p in out.paragraphs if p in SEED.paragraphs] == list(SEED.paragraphs)
    assert out.paragraphs[0] == SEED.paragraphs[0]


def test_word_substitutions_change_one_to_three_words_per_paragraph():
    out = edit_word_substitutions(Draft(list(SEED.paragraphs)), random.Random(3), _ctx())
    assert len(out.paragraphs) == len(SEED.paragraphs)
    for before, after in zip(SEED.paragraphs, out.paragraphs):
        assert after != before
        assert abs(len(after.split()) - len(before.split())) <= 3  # each change adds or drops at most one token


def test_retypeset_changes_characters_not_words():
    original = "\n\n".join(SEED.paragraphs)
    changed = 0
    for seed in range(20):
        out = edit_retypeset(Draft(list(SEED.paragraphs)), random.Random(seed), _ctx()).text()
        assert normalized_words(out) == normalized_words(original)
        changed += out != original
    assert changed == 20


def test_repeat_doubles_the_copy():
    draft = Draft(list(SEED.paragraphs), "\n")
    assert edit_repeat(draft, random.Random(0), _ctx()).text() == draft.text() + "\n" + draft.text()


TRUTH = {"1": "a", "2": "a", "3": "a", "4": "b", "5": "b", "6": "c"}


def test_perfect_clustering_scores_one():
    s = pairwise_scores({k: "x" + v for k, v in TRUTH.items()}, TRUTH)
    assert s["precision"] == s["recall"] == s["f1"] == s["ari"] == 1.0
    assert s["true_pairs"] == 4 and s["true_positive_pairs"] == 4


def test_all_singletons_have_zero_recall():
    s = pairwise_scores({k: k for k in TRUTH}, TRUTH)
    assert s["recall"] == 0.0 and s["f1"] == 0.0 and s["ari"] == 0.0
    assert s["predicted_pairs"] == 0 and s["false_negative_pairs"] == 4


def test_hand_example_and_brute_force_agree():
    truth = {"1": "a", "2": "a", "3": "a", "4": "b", "5": "b"}
    pred = {"1": "x", "2": "x", "3": "y", "4": "y", "5": "y"}
    s = pairwise_scores(pred, truth)
    # TP = C(2,2) + C(2,2) = 2 of 4 predicted and 4 true pairs; E = 4*4/10 = 1.6, M = 4.
    assert s["precision"] == s["recall"] == 0.5
    assert s["ari"] == pytest.approx((2 - 1.6) / (4 - 1.6))
    one = pairwise_scores({k: "all" for k in truth}, truth)
    assert one["recall"] == 1.0 and one["precision"] == pytest.approx(4 / 10) and one["ari"] == 0.0
    rng = random.Random(9)
    for _ in range(20):
        ids = [str(i) for i in range(12)]
        t = {i: rng.randrange(4) for i in ids}
        p = {i: rng.randrange(5) for i in ids}
        pairs = list(combinations(ids, 2))
        tp = sum(t[a] == t[b] and p[a] == p[b] for a, b in pairs)
        pp = sum(p[a] == p[b] for a, b in pairs)
        tt = sum(t[a] == t[b] for a, b in pairs)
        s = pairwise_scores(p, t)
        assert s["true_positive_pairs"] == tp and s["predicted_pairs"] == pp and s["true_pairs"] == tt
        # ARI from the pair-counting (Rand) form must match the contingency form.
        n = len(pairs)
        expected = pp * tt / n
        assert s["ari"] == pytest.approx((tp - expected) / ((pp + tt) / 2 - expected))


# --------------------------------------------------------------------------- the wide simulator

LONG = SourceStory(
    "long",
    tuple(
        f"Paragraph {k} of the long story says the council approved {k * 7} new homes on Tuesday, "
        f"officials said, and that the plan will cost about {k * 3} million over the next decade."
        for k in range(1, 13)
    ),
)


def _wide_ctx() -> WideContext:
    return WideContext(split_sentences(LONG.paragraphs[0])[0], [DONOR.paragraphs, LONG.paragraphs])


def test_heavy_abridge_keeps_the_lede_and_a_third_to_a_half_of_the_paragraphs():
    for seed in range(30):
        out = wide_abridge(Draft(list(LONG.paragraphs)), random.Random(seed), _wide_ctx(), "heavy").paragraphs
        assert out[0] == LONG.paragraphs[0]
        assert 4 <= len(out) <= 6 and set(out) <= set(LONG.paragraphs)
        order = [LONG.paragraphs.index(p) for p in out]
        assert order == sorted(order)  # cut, never reordered
    short = Draft(list(DONOR.paragraphs))  # under abridge_min_words: not cut
    assert wide_abridge(short, random.Random(1), _wide_ctx(), "heavy").paragraphs == list(DONOR.paragraphs)


def test_heavy_word_changes_touch_a_few_per_cent_of_the_words():
    before = "\n\n".join(LONG.paragraphs)
    for seed in range(10):
        after = "\n\n".join(wide_word_changes(Draft(list(LONG.paragraphs)), random.Random(seed), _wide_ctx(), "heavy").paragraphs)
        a, b = before.split(), after.split()
        ops = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
        changed = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")
        assert 0.025 * len(a) - 1 <= changed <= 0.06 * len(a)
        assert after.count(".") >= before.count(".") - 1  # a dropped word leaves its full stop


def test_heavy_local_copy_and_furniture():
    for seed in range(20):
        rng = random.Random(seed)
        local = wide_local_paragraphs(Draft(list(SEED.paragraphs)), rng, _wide_ctx(), "heavy").paragraphs
        added = [p for p in local if p not in SEED.paragraphs]
        assert 1 <= len(added) <= 2
        kept_words = sum(word_count(p) for p in SEED.paragraphs)
        assert sum(word_count(p) for p in added) <= 0.6 * kept_words
        wrapped = wide_dateline(Draft(list(SEED.paragraphs)), rng, _wide_ctx(), "heavy").paragraphs
        assert len(wrapped) == len(SEED.paragraphs) + 2  # byline on top, trailer at the end
        assert " - " in wrapped[1] and wrapped[1].endswith(SEED.paragraphs[0])


def test_heavy_retypeset_merges_paragraphs_but_keeps_the_words():
    for seed in range(10):
        out = wide_retypeset(Draft(list(LONG.paragraphs)), random.Random(seed), _wide_ctx(), "heavy")
        assert len(out.paragraphs) < len(LONG.paragraphs)
        assert normalized_words(out.text()) == normalized_words("\n\n".join(LONG.paragraphs))


def test_templates_share_most_words_but_differ_in_figures():
    for genre, write in TEMPLATE_WRITERS.items():
        a, b = write(0, 3, random.Random(1)), write(0, 4, random.Random(2))
        words_a, words_b = set(normalized_words(" ".join(a))), set(normalized_words(" ".join(b)))
        assert len(words_a & words_b) / len(words_a | words_b) > 0.4, genre
        assert a != b
        intro = write(1, 3, random.Random(1))  # odd series open with the same boilerplate sentence
        assert split_sentences(intro[1])[0] == split_sentences(write(1, 9, random.Random(5))[1])[0]


def test_negatives_share_what_they_should_and_no_more():
    stories = _stories(20)
    rng = random.Random(4)
    roundup = roundup_story([SEED, DONOR, LONG], rng, WideSettings())
    for story in (SEED, DONOR, LONG):
        quoted = [p for p in roundup if p in " ".join(story.paragraphs) or p.split(". ")[0] in story.paragraphs[0]]
        assert quoted  # each story's lede is quoted
    event = same_event_story(SEED, stories[3], random.Random(1))
    seed_sentences = {s for p in SEED.paragraphs for s in split_sentences(p)}
    shared = [s for p in event for s in split_sentences(p) if s in seed_sentences]
    assert all("“" in s or '"' in s for s in shared)  # only quotes are shared verbatim


def test_wide_corpus_is_deterministic_and_labels_heavy_copies():
    stories = _stories(30) + [LONG]
    a, b = simulate_wide(stories, 5), simulate_wide(stories, 5)
    key = lambda corpus: [(r.id, r.story, r.edits, r.text, r.resembles) for r in corpus.records]  # noqa: E731
    assert key(a) == key(b) and key(a) != key(simulate_wide(stories, 6))
    heavy = [r for r in a.records if r.heavy]
    assert heavy and all({e.split(":")[0] for e in r.edits} >= set(HEAVY_RECIPE) for r in heavy)
    assert all(e.endswith(":heavy") for r in heavy for e in r.edits)
    assert {r.role for r in a.records} >= {"original", "copy", "follow_up", "same_event", "roundup"}
    assert any(r.genre != "news" for r in a.records)
    for r in a.records:
        if r.role == "copy_of_copy":
            assert r.parent_id != r.original_id and r.parent_id.startswith(r.story + "-c")
    perfect = {r.id: r.story for r in a.records}
    recall = wide_copy_recall(a.records, perfect)
    assert recall["by_class"]["all"]["recall"] == 1.0 and recall["by_class"]["heavy"]["copies"] == len(
        [r for r in heavy if r.role == "copy"]
    )
