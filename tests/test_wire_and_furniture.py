from cleaning.clean.furniture import is_generic_furniture, learn_site_furniture, strip_learned
from cleaning.clean.wire import strip_wire_furniture

TEXT = "The central bank held its main rate at 4.5 percent on Thursday, citing sticky services inflation."


def test_seed_stamps_become_metadata():
    body, info = strip_wire_furniture(["- Aug 28, 2025,", "- Updated Aug 28, 2025 1:11 PM IST", TEXT, "(With Reuters inputs)"])
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


def test_learned_furniture_needs_share_and_page_floor():
    promo = "Get the Ledger Daily every morning"
    pages = [("ledger", f"Story number {i} text.\n{promo}") for i in range(6)] + [("tiny", f"x {i}\n{promo}") for i in range(3)]
    learned = learn_site_furniture(pages, min_pages=5, min_share=0.4)
    assert "tiny" not in learned  # below the page floor
    assert learned["ledger"] == {"gettheledgerdailyeverymorning"}
    assert strip_learned(f"Body line.\n{promo}", learned["ledger"]) == ("Body line.", 1)
