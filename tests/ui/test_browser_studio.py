"""The studio flow in a browser, on a laptop and a phone: the photos stay in the box through refusals and
successes, the progress and Cancel stay in view while a slow generation runs, and its results (or its refusal)
come into view where the last results were.

The setup is `browsing`'s, which skips this module without Playwright or Chromium; screenshots go to
build/screenshots.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from photomaker.ui.kept_photos import KEPT
from stand_ins.serving import ServedApp
from tests.fakes.held_engine import HeldEngine
from tests.ui.browsing import (
    BOTH_SIZES,
    DESKTOP,
    GENERATE_MS,
    WAIT_MS,
    Browser,
    Locator,
    Page,
    expect,
    finished,
    generate,
    shoot,
    visit,
)

PHOTO_IN_BOX = "#photos img"


def in_view(page: Page, locator: Locator) -> bool:
    """Whether the element is wholly inside the viewport as the page is scrolled now."""
    box, size = locator.bounding_box(), page.viewport_size
    assert box is not None and size is not None, "not on the page"
    return (
        box["y"] >= 0
        and box["x"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and (box["x"] + box["width"] <= size["width"])
    )


def press_generate(page: Page, prompt: str) -> None:
    page.locator("#prompt textarea").fill(prompt)
    page.locator("#generate").click()


def refused(page: Page, code: str) -> None:
    """The refusal is shown where the results go, in view, with no avatar above it."""
    expect(page.locator("#details")).to_contain_text(code, timeout=GENERATE_MS)
    expect(page.locator("#generate")).to_be_enabled(timeout=WAIT_MS)
    expect(page.locator("#results")).to_be_hidden()
    page.wait_for_timeout(300)  # the scroll to the results runs after the event
    assert in_view(page, page.locator("#details"))


def kept_files() -> set[Path]:
    return KEPT.paths()


@BOTH_SIZES
def test_the_photos_stay_and_each_outcome_comes_into_view(
    browser: Browser, served_app: ServedApp, shots: Path, viewport: dict[str, int]
) -> None:
    accounts = served_app.runtime.accounts
    with visit(browser, served_app, viewport) as page:
        generate(page, "astronaut.png")
        finished(page)
        first = page.locator("#results img").first
        expect(first).to_have_js_property("complete", True, timeout=WAIT_MS)
        page.wait_for_timeout(300)
        assert in_view(page, first), "the first new avatar is wholly in view"
        expect(page.locator(PHOTO_IN_BOX)).to_have_count(1)
        shoot(page, shots, "studio-results")

        press_generate(page, "a woman img and a man img")
        refused(page, "INVALID_PROMPT")
        expect(page.locator(PHOTO_IN_BOX)).to_have_count(1)
        shoot(page, shots, "studio-refused")

        balance = accounts.account("local").credits
        accounts.grant("local", -(balance - 5), reason="spent elsewhere", by="test")
        try:
            press_generate(page, "a headshot")
            refused(page, "INSUFFICIENT_CREDITS")
        finally:
            accounts.grant("local", balance - 5, reason="given back", by="test")
        expect(page.locator(PHOTO_IN_BOX)).to_have_count(1)

        press_generate(page, "a headshot, another try")  # the same photos, with no new upload
        finished(page)
        expect(page.locator(PHOTO_IN_BOX)).to_have_count(1)


@pytest.fixture
def held(served_app: ServedApp) -> Iterator[HeldEngine]:
    service = served_app.runtime.service
    own = service.engine
    service.engine = engine = HeldEngine(own)
    try:
        yield engine
    finally:
        engine.go.set()
        service.engine = own


@BOTH_SIZES
def test_the_progress_and_cancel_stay_in_view_while_it_runs(
    browser: Browser, served_app: ServedApp, shots: Path, viewport: dict[str, int], held: HeldEngine
) -> None:
    with visit(browser, served_app, viewport) as page:
        generate(page, "astronaut.png")
        bar, button = page.locator("#working"), page.locator("#generate")
        expect(button).to_be_disabled(timeout=WAIT_MS)
        expect(button).to_have_text("Generating…")
        assert held.making.wait(GENERATE_MS / 1000)
        expect(page.locator("#status")).to_contain_text("Making avatar 1 of 1", timeout=WAIT_MS)
        expect(page.locator("#status")).to_contain_text("left")
        for scrolled in ("0", "document.body.scrollHeight"):
            page.evaluate(f"window.scrollTo(0, {scrolled})")
            page.wait_for_timeout(100)
            assert in_view(page, bar), f"the bar is in view, scrolled to {scrolled}"
            assert in_view(page, page.locator("#cancel"))
        shoot(page, shots, "studio-progress", whole=False)
        held.go.set()
        finished(page)
        expect(bar).to_be_hidden(timeout=WAIT_MS)
        expect(button).to_be_enabled()
        expect(button).to_have_text("Generate avatars")


def test_forget_my_photos_and_closing_the_tab_delete_them(browser: Browser, served_app: ServedApp) -> None:
    with visit(browser, served_app, DESKTOP) as page:
        before = kept_files()
        page.locator("#photos input[type=file]").set_input_files(Path(__file__).parents[1] / "fixtures/astronaut.png")
        expect(page.locator(PHOTO_IN_BOX)).to_have_count(1, timeout=WAIT_MS)
        (kept,) = _eventually(lambda: kept_files() - before)
        page.get_by_role("button", name="Forget my photos").click()
        expect(page.locator(PHOTO_IN_BOX)).to_have_count(0, timeout=WAIT_MS)
        _eventually(lambda: not kept.exists())
        page.locator("#photos input[type=file]").set_input_files(Path(__file__).parents[1] / "fixtures/astronaut.png")
        (again,) = _eventually(lambda: kept_files() - before)
    _eventually(lambda: not again.exists())  # the tab closed: what it kept is deleted


def _eventually(check: Any, *, within_s: float = 15) -> Any:
    """`check()`'s first true answer, asked until `within_s` has passed."""
    deadline = time.monotonic() + within_s
    while not (answer := check()):
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.1)
    return answer
