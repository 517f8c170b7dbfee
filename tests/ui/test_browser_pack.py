"""A pack in a browser: the style picker with each style's example on a laptop and a phone, and a two-style pack
whose results say which style each avatar is, with its ZIP to download. The setup is `browsing`'s, which skips
this module without Playwright or Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from photomaker.generation.prompts import STYLES
from stand_ins.serving import ServedApp
from tests.ui.browsing import (
    DESKTOP,
    PHONE,
    WAIT_MS,
    Browser,
    expect,
    finished,
    generate,
    shoot,
    visit,
)

PAGE_WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "laptop"])
def test_the_style_picker_shows_every_styles_example(
    browser: Browser, served_app: ServedApp, shots: Path, viewport: dict[str, int]
) -> None:
    with visit(browser, served_app, viewport) as page:
        examples = page.locator("#style-examples figure")
        expect(examples).to_have_count(len(STYLES), timeout=WAIT_MS)
        images = page.locator("#style-examples img")
        for index in range(len(STYLES)):
            expect(images.nth(index)).to_have_js_property("complete", True)
            assert images.nth(index).evaluate("image => image.naturalWidth") > 0
            box = images.nth(index).bounding_box()
            assert box is not None and box["width"] <= 64, "small: an example, not a result"
        expect(page.locator("#styles")).to_contain_text("Photographic (Default)")
        width, screen = page.evaluate(PAGE_WIDTH)
        assert width == screen, f"the page is {width} px wide on a {screen} px screen"
        page.locator("#style-examples").scroll_into_view_if_needed()
        shoot(page, shots, "style-picker")


def test_a_two_style_pack_shows_its_avatars_by_style(browser: Browser, served_app: ServedApp, shots: Path) -> None:
    with visit(browser, served_app, DESKTOP) as page:
        page.locator("#tier").get_by_text(re.compile(r"^Basic ·")).click()
        picker = page.locator("#styles input")
        picker.fill("Enhance")
        picker.press("Enter")
        expect(page.locator("#cost")).to_contain_text("2 avatars ×", timeout=WAIT_MS)
        expect(page.locator("#num-images")).to_contain_text("Images per style")
        generate(page, "astronaut.png")
        finished(page)
        results = page.locator("#results")
        expect(results.locator("img")).to_have_count(2, timeout=WAIT_MS)
        expect(results).to_contain_text(re.compile(r"Avatar 1 of 1 · Photographic \(Default\) · Basic tier"))
        expect(results).to_contain_text(re.compile(r"Avatar 1 of 1 · Enhance · Basic tier"))
        expect(page.locator("#details")).to_contain_text("Styles Photographic (Default) 1 · Enhance 1")
        expect(page.locator("#download-all")).to_be_visible()
        expect(page.locator("#cancel")).to_be_hidden()
        shoot(page, shots, "pack-results")
