from cleaning.clean.furniture import is_generic_furniture, learn_site_furniture, strip_learned
from cleaning.clean.wire import strip_wire_furniture

TEXT = "The central bank held its main rate at 4.5 percent on Thursday, citing sticky services inflation."


def test_seed_stamps_become_metadata():
    body, info = strip_wire_furniture(
        ["- Aug 28, 2025,", "- Updated Aug 28, 2025 1:11 PM IST", TEXT, "(With Reuters inputs)"]
    )
    assert body == [TEXT]
    assert info.wire_agency == "Reuters"
    assert info.attribution == "(With Reuters inputs)"
    assert [label for label, _ in info.stamps] == ["published", "updated"]


def test_lead_dateline_and_reporting_trailer():
    lead = "LISBON, Aug 27 (Reuters) - " + TEXT
    body, info = strip_wire_furniture([lead, "(Reporting by Ana Ferreira; Editing by Mark Doyle)"])
    assert body == [TEXT]
    assert info.wire_agency == "Reuters"
    assert info.attribution.startswith("(Reporting by Ana Ferreira")


def test_ap_dateline_and_afp_trailer():
    body, info = strip_wire_furniture(["WASHINGTON (AP) — " + TEXT, "-- AFP"])
    assert body == [TEXT] and info.wire_agency == "AP"
    body, info = strip_wire_furniture([TEXT, "-- AFP"])
    assert info.wire_agency == "AFP"


def test_prose_mentioning_agencies_is_untouched():
    prose = ["Reuters reported on Monday that the talks had stalled over fishing quotas and port access."]
    body, info = strip_wire_furniture(prose)
    assert body == prose and info.wire_agency is None


def test_byline_line_is_removed():
    body, info = strip_wire_furniture(["By Jane Doe and Tom Roe", TEXT])
    assert body == [TEXT] and info.bylines == ["By Jane Doe and Tom Roe"]


def test_generic_furniture_lines():
    assert is_generic_furniture("Also read: Port strike enters third week")
    assert is_generic_furniture("Follow us on Facebook and Instagram for more updates")
    assert is_generic_furniture("Sign up for the Morning Briefing newsletter")
    assert not is_generic_furniture("Watchdogs said the merger would raise prices for millions of households.")
    assert not is_generic_furniture(TEXT)
    for label in (
        "Tags",
        "Tags: economy, rates",
        "12 Comments",
        "Comments (3)",
        "Leave a comment",
        "Tell us what you think...",
    ):
        assert is_generic_furniture(label), label
    for prose in ("Tags are small labels that shops attach to clothes.", "Comments from the minister were sharp."):
        assert not is_generic_furniture(prose), prose


def test_learned_furniture_needs_share_and_page_floor():
    promo = "Get the Ledger Daily every morning"
    pages = [("ledger", f"Story number {i} text.\n{promo}") for i in range(6)] + [
        ("tiny", f"x {i}\n{promo}") for i in range(3)
    ]
    learned = learn_site_furniture(pages, min_pages=5, min_share=0.4)
    assert "tiny" not in learned  # below the page floor
    assert learned["ledger"] == {"gettheledgerdailyeverymorning"}
    assert strip_learned(f"Body line.\n{promo}", learned["ledger"]) == ("Body line.", 1)


def test_the_headline_at_the_top_of_the_body_is_dropped_and_only_it():
    from cleaning.clean.headline import strip_headline

    title = "Late trains approved for three suburban lines"
    body = [
        "Late trains approved for three suburban lines",
        "The regional transport authority approved a new timetable.",
    ]
    assert strip_headline(body, title) == (body[1:], True)
    assert strip_headline(
        ["Politics", "Late trains approved for three suburban lines", body[1]], title + " | Northgate Herald"
    )[0] == ["Politics", body[1]]
    assert strip_headline(["“Late trains approved” for three suburban lines"], title)[1]  # quotes folded
    lede = "Late trains approved for three suburban lines will run from October, the authority said on Monday after a long debate."
    assert strip_headline([lede], title) == ([lede], False)  # a lede that opens with the headline's words stays
    one_sentence = ["Japan's economy shrank 0.4% in the second quarter.", "More text."]  # the title only adds words
    assert strip_headline(one_sentence, "Japan's economy shrank 0.4% in the second quarter, data show")[1] is False
    labelled = ["‘The Medium is the Message’: the 7th Light Festival", "More text."]
    assert strip_headline(labelled, "'The Medium is the Message': the 7th Light Festival | Inexhibit")[1]
    assert strip_headline(["Intro", "Other", title], title) == (["Intro", "Other", title], False)  # only near the top
    assert strip_headline(body, None) == (body, False)


def test_clean_keeps_the_headline_in_the_title_not_the_body():
    from cleaning.clean import clean_one
    from cleaning.config import CleanConfig

    paras = [
        "The regional transport authority approved a new timetable on Monday that adds late-night trains on three "
        "suburban lines.",
        "Officials said the change, which starts in October, follows two years of complaints from shift workers and "
        "hospital staff.",
    ]
    html = (
        "<html><head><title>Late trains approved - Northgate Herald</title></head><body><article>"
        "<h1>Late trains approved</h1>" + "".join(f"<p>{p}</p>" for p in paras) + "</article></body></html>"
    ).encode()
    page, reason, _ = clean_one(html, "https://news.example/a", None, CleanConfig())
    assert reason is None
    assert page.text.split("\n\n")[0] == paras[0]


def test_labelled_time_stamps_leave_the_body():
    body, info = strip_wire_furniture(
        ["Updated at 1:23 p.m. EDT", TEXT, "Posted 9:05am", "Updated at 1:23 p.m. the council met again."]
    )
    assert body == [TEXT, "Updated at 1:23 p.m. the council met again."]
    assert info.stamps == []  # no date to keep


def test_the_reporters_address_at_the_foot_is_a_trailer():
    body, info = strip_wire_furniture([TEXT, "Write to Al Root at allen.root@example.com"])
    assert body == [TEXT] and info.attribution == "Write to Al Root at allen.root@example.com"
    mid = [TEXT, "Contact the clinic at help@clinic.example for an appointment, the council said.", TEXT]
    assert strip_wire_furniture(mid)[0] == mid  # only at the foot, and only a line that ends with the address
    assert strip_wire_furniture([TEXT, "Contact the reporter at jdoe@example.com."])[0] == [TEXT]
    closing = [TEXT, "Contact the council at info@council.example."]
    assert strip_wire_furniture(closing)[0] == closing  # the story's own last sentence
