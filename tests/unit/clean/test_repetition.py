from cleaning.clean.repetition import remove_repeats, split_sentences

BODY = [
    "The council approved the new harbour budget on Tuesday after a long debate in the chamber.",
    "Opponents said the plan would raise fees for small fishing boats by a third next year.",
    "The mayor said the money would pay for a sea wall that engineers have urged for a decade.",
]


def test_body_twice_keeps_first_copy():
    kept, removed = remove_repeats(BODY + BODY)
    assert kept == BODY
    assert removed == sum(len(p.split()) for p in BODY)


def test_body_three_times_and_whitespace_quote_variants():
    variant = [p.replace("'", "’").replace(" ", "  ").upper() for p in BODY]
    kept, _ = remove_repeats(BODY + variant + BODY)
    assert kept == BODY


def test_repeat_with_paragraph_inserted_between():
    inserted = "A separate paragraph about the weather that appears only once in the page text."
    kept, _ = remove_repeats(BODY + [inserted] + BODY)
    assert kept == BODY + [inserted]


def test_updated_stamp_prefix_is_ignored_for_matching():
    stamped = ["Updated Aug 28, 2025 1:11 PM IST " + BODY[0]] + BODY[1:]
    kept, _ = remove_repeats(BODY + stamped)
    assert kept == BODY


def test_short_quote_repeated_is_kept():
    quote = '"We will not back down."'
    paragraphs = [BODY[0], quote, BODY[1], quote]
    kept, removed = remove_repeats(paragraphs, min_words=8)
    assert kept == paragraphs and removed == 0


def test_min_words_is_configurable():
    quote = "We will not back down on the harbour wall, she told the crowd outside."  # 14 words
    paragraphs = [BODY[0], quote, BODY[1], quote]
    assert remove_repeats(paragraphs, min_words=12)[0] == [BODY[0], quote, BODY[1]]
    assert remove_repeats(paragraphs, min_words=20)[0] == paragraphs


def test_repeated_list_items_are_structure_not_scraping():
    menu = ["Breakfast", "Eat within an hour of waking", "Two eggs, toast and fruit", "Lunch"]
    paragraphs = ["Plan A"] + menu + ["Plan B"] + menu
    assert remove_repeats(paragraphs, min_words=8)[0] == paragraphs


def test_sentence_split():
    assert split_sentences("One thing. Two things! “Three?” Four.") == [
        "One thing.",
        "Two things!",
        "“Three?”",
        "Four.",
    ]


def test_seed_body_appears_once():
    from tests.support import SEED_TEXT

    lines = SEED_TEXT.read_text(encoding="utf-8").splitlines()
    kept, _ = remove_repeats([line for line in lines if line.strip()])
    text = "\n".join(kept)
    first = "Japan's leading trade negotiator, Ryosei Akazawa, has cancelled his trip"
    assert text.count(first) == 1
    assert text.count("Akazawa might travel to Washington as early as next week") == 1
