"""The night's HTML health report, opened from the lake in headless Chromium (Debian's
`chromium` package, driven by Playwright, no browser download): the flags are on top, every chart
image loads and draws something, and a screenshot of the page is not blank.

Without a chromium binary the test is skipped with the reason, except under CI (env `CI` set),
where it fails: `.ci/run` installs the package."""

from __future__ import annotations

import io
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from bench.health_sim import FIRST_NIGHT
from cleaning import layout

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def chromium() -> str:
    found = os.environ.get("NEWSCLEAN_CHROMIUM") or next(filter(None, map(shutil.which, CANDIDATES)), None)
    if found and Path(found).exists():
        return found
    message = "no chromium binary (install Debian's package: apt-get install -y chromium, or set NEWSCLEAN_CHROMIUM)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def pixels(png: bytes):
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)


@pytest.mark.slow
def test_report_renders_flags_and_charts(health_nights, tmp_path):
    from playwright.sync_api import sync_playwright

    _, lake, _ = health_nights
    night = FIRST_NIGHT + timedelta(days=7)  # valley-wire-daily answers 403 to every page
    report = lake / layout.health_report(night)
    binary = chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=binary, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(report.as_uri())
            page.wait_for_load_state("load")
            flags = page.locator("#flags li")
            assert flags.count() == 3
            texts = flags.all_inner_texts()
            assert all(t.startswith("valley-wire-daily: ") for t in texts)
            assert {t.split(": ")[1] for t in texts} == {"no_items", "failure_spike", "new_failure_reason"}
            assert page.locator("#flags").bounding_box()["y"] < page.locator("img.chart").first.bounding_box()["y"]
            images = page.eval_on_selector_all(
                "img.chart", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])"
            )
            assert len(images) == 3
            assert all(done and width > 500 and height > 100 for done, width, height in images), images
            shot = page.screenshot(full_page=True)
            (tmp_path / "report.png").write_bytes(shot)
            charts = [page.locator("img.chart").nth(i).screenshot() for i in range(3)]
            flag_box = page.locator("#flags").screenshot()
        finally:
            browser.close()

    whole = pixels(shot)
    assert whole.shape[0] > 900 and whole.std() > 20, "the page screenshot is blank"
    for chart in charts:
        image = pixels(chart)
        assert image.std() > 15, "a chart area is flat: nothing was drawn"
        coloured = (image.max(axis=2) - image.min(axis=2)) > 60  # lines and the flagged night's band
        assert coloured.mean() > 0.003
    box = pixels(flag_box)
    reddish = (box[..., 0] > 150) & (box[..., 0] - box[..., 2] > 60)
    assert reddish.mean() > 0.005, "the flags box is not drawn in red"
