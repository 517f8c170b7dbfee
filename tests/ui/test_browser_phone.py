"""The page on a phone (390x844) and a laptop (1400x900), where it used to hide or cut things: the photos' label
over the face, the credit history's "-72" read as "-7", tables cut at the screen's edge, a *Delete my data* that
looked like any button, headline cards whose values did not line up, and words that promised PhotoMaker V2 while the
preview engine ran.

A headless Chromium opens the offline app of conftest.py's `served_app` (preview engine) and measures what it drew.
Screenshots are left in build/screenshots (see `browsing.screenshots_folder`). The setup is `browsing`'s, which
skips this module without Playwright or Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from photomaker.ui.generate_words import PHOTO_MODE, PROMPT_EXAMPLES
from photomaker.ui.my_data import history_rows
from stand_ins.serving import ServedApp
from tests.conftest import FIXTURES
from tests.ui.browsing import (
    BOTH_SIZES,
    PHONE,
    WAIT_MS,
    Browser,
    Page,
    expect,
    finished,
    generate,
    monitoring_tab,
    shoot,
    visit,
)

CUT_TEXT = """root => {
    // A table wider than its box, or a cell whose text is wider than the cell, hides part of what it says.
    const cut = [];
    for (const box of root.querySelectorAll('.table-scroll')) {
        if (box.scrollWidth > box.clientWidth + 1) cut.push(['a table wider than its box', box.scrollWidth]);
    }
    for (const cell of root.querySelectorAll('th, td')) {
        const right = cell.getBoundingClientRect().right;
        if (cell.scrollWidth > cell.clientWidth + 1 || right > window.innerWidth + 1) {
            cut.push([cell.textContent, cell.scrollWidth, cell.clientWidth, right]);
        }
    }
    return cut;
}"""
"""The cells of the tables under `root` that do not show their whole text, with their widths."""
COLOURS = "button => [getComputedStyle(button).backgroundColor, getComputedStyle(button).color]"
CARD_ROWS = """headline => {
    // The cards' values, by the row of cards they are in (the cards' tops).
    const rows = {};
    for (const card of headline.querySelectorAll('.card')) {
        const top = Math.round(card.getBoundingClientRect().top);
        (rows[top] ??= []).push(Math.round(card.querySelector('.card-value').getBoundingClientRect().top));
    }
    return Object.values(rows);
}"""


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def overlap(one: dict[str, float], other: dict[str, float]) -> float:
    """The area two boxes share, in square pixels."""
    width = min(one["x"] + one["width"], other["x"] + other["width"]) - max(one["x"], other["x"])
    height = min(one["y"] + one["height"], other["y"] + other["height"]) - max(one["y"], other["y"])
    return max(0.0, width) * max(0.0, height)


def open_my_data(page: Page) -> None:
    page.get_by_role("button", name="Your credits and data").click()
    expect(page.locator("#credit-history")).to_contain_text("grant", timeout=WAIT_MS)


@BOTH_SIZES
def test_the_photos_label_and_buttons_never_cover_a_photo(
    browser: Browser, served_app: ServedApp, shots: Path, viewport: dict[str, int]
) -> None:
    with visit(browser, served_app, viewport) as page:
        expect(page.locator("#title")).not_to_contain_text("with PhotoMaker V2")
        expect(page.locator("#title")).to_contain_text("offline previews")
        page.locator("#photos input[type=file]").set_input_files([FIXTURES / "astronaut.png"] * 2)
        photos = page.locator("#photos .thumbnail-item img")
        expect(photos).to_have_count(2, timeout=WAIT_MS)
        for index in range(2):
            expect(photos.nth(index)).to_have_js_property("complete", True, timeout=WAIT_MS)
        label, buttons = box(page, "#photos [data-testid=block-label]"), box(page, "#photos .icon-button-wrapper")
        for index in range(2):
            photo = photos.nth(index).bounding_box()
            assert photo is not None and photo["width"] > 80, "each photo shows, big enough to recognise"
            assert overlap(label, photo) == 0, ("the label covers a photo", label, photo)
            assert overlap(buttons, photo) == 0, ("the buttons cover a photo", buttons, photo)
        expect(page.locator("#prompt")).to_contain_text("leaves your prompt's words out")
        for example in PROMPT_EXAMPLES[PHOTO_MODE]:  # whole, not cut short with "..."
            expect(page.get_by_text(example, exact=True)).to_be_visible()
        shoot(page, shots, "phone-fixes-photos")


@BOTH_SIZES
def test_the_credit_history_reads_whole(
    browser: Browser, served_app: ServedApp, shots: Path, viewport: dict[str, int]
) -> None:
    runtime = served_app.runtime
    username = runtime.settings.local_username
    with visit(browser, served_app, viewport) as page:
        runtime.accounts.grant(username, 1000, reason="a long-awaited thank-you", by="carol")
        generate(page, "astronaut.png")
        finished(page)
        open_my_data(page)
        history = page.locator("#credit-history")
        expect(history).to_contain_text("+1000", timeout=WAIT_MS)
        expected = history_rows(runtime.accounts.credit_history(username))
        cells = history.locator("tbody td")
        shown = [text.strip() for text in cells.all_inner_texts()]
        assert shown == [value for row in expected for value in row], "every value as the ledger has it"
        assert re.fullmatch(r"-\d+", shown[2]) and "+1000" in shown, shown[:8]
        assert history.evaluate(CUT_TEXT) == []
        history.scroll_into_view_if_needed()
        shoot(page, shots, "phone-fixes-credit-history")


@BOTH_SIZES
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_delete_my_data_looks_dangerous(
    browser: Browser, served_app: ServedApp, shots: Path, viewport: dict[str, int], theme: str
) -> None:
    with visit(browser, served_app, viewport, theme=theme) as page:
        open_my_data(page)
        delete = page.locator("#delete-my-data")
        delete.scroll_into_view_if_needed()
        colours = delete.evaluate(COLOURS)
        red, green, blue = (int(part) for part in re.findall(r"\d+", colours[0])[:3])
        assert red > 150 and green < 80 and blue < 80, f"{colours[0]} is not red"
        assert colours[1] == "rgb(255, 255, 255)", colours
        shoot(page, shots, f"phone-fixes-delete-{theme}")


@BOTH_SIZES
def test_no_table_cuts_its_text_and_the_headline_cards_line_up(
    browser: Browser, with_history: ServedApp, shots: Path, viewport: dict[str, int]
) -> None:
    with visit(browser, with_history, viewport) as page:
        monitoring_tab(page).click()
        recent = page.locator("#recent")
        expect(recent).to_contain_text("synthetic", timeout=WAIT_MS)
        expect(page.locator("#monitoring-headline")).to_contain_text("Credits spent", timeout=WAIT_MS)
        assert recent.locator("tbody tr").count() > 10
        assert recent.evaluate(CUT_TEXT) == []
        rows: list[list[Any]] = page.locator("#headline").evaluate(CARD_ROWS)
        assert len(rows) > 1 and all(max(values) - min(values) <= 1 for values in rows), rows
        shoot(page, shots, "phone-fixes-monitoring")


def test_text_to_image_has_its_own_empty_state(browser: Browser, served_app: ServedApp) -> None:
    with visit(browser, served_app, PHONE) as page:
        details = page.locator("#details")
        expect(details).to_have_text("Your avatars will appear here.")
        page.locator("#mode").get_by_text("Text to Image").click()
        expect(details).to_have_text("Your images will appear here.", timeout=WAIT_MS)
        page.locator("#mode").get_by_text("Photo to Avatar").click()
        expect(details).to_have_text("Your avatars will appear here.", timeout=WAIT_MS)
