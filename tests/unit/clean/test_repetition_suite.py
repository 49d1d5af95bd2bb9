"""The repetition suite on the seed and on article bodies of the bundled samples."""

import json

from cleaning.evaluate.repetition import KINDS, make_cases, run_case
from tests.support import SAMPLES, SEED_TEXT


def sample_bodies() -> list[list[str]]:
    truth = json.loads((SAMPLES / "truth.json").read_text(encoding="utf-8"))
    return [p["paragraphs"] for p in truth["pages"] if p["kind"] == "article" and len(p["paragraphs"]) >= 4]


def test_every_generated_case_passes():
    cases = make_cases(sample_bodies(), per_kind=3, seed=1)
    assert len(cases) >= 20 and {c.kind for c in cases} == set(KINDS)
    results = [run_case(c) for c in cases]
    failed = [r for r in results if not r["passed"]]
    assert failed == []


def test_seed_page_text():
    lines = [line for line in SEED_TEXT.read_text(encoding="utf-8").splitlines() if line.strip()]
    body = lines[4:11]
    from cleaning.evaluate.repetition import Case, _keys

    case = Case("seed", "twice", lines[4:], _keys(body + ["(With Reuters inputs)"]))
    assert run_case(case)["passed"]
