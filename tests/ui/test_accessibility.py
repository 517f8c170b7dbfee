"""The page for screen readers and keyboards: axe-core's WCAG 2.1 A and AA rules in the light and the dark theme.

axe-core (the script `axe-playwright-python` ships) checks every visible element of the page as Chromium drew
it: text contrast of at least 4.5:1, a name a screen reader reads for every input and button, alt text for every
image. The Generate tab is checked with results and history on it, so that their images count too; the tab order
is checked in test_page_layout.py. The setup is `browsing`'s, which skips this module without Playwright or
Chromium.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stand_ins.serving import ServedApp
from tests.ui.browsing import (
    DESKTOP,
    PHONE,
    WAIT_MS,
    Browser,
    Page,
    expect,
    finished,
    generate,
    monitoring_tab,
    visit,
)

try:
    import axe_playwright_python
except ImportError:
    pytest.skip('axe-playwright-python is not installed: .venv/bin/pip install -e ".[test]"', allow_module_level=True)

AXE_SCRIPT = Path(axe_playwright_python.__file__).with_name("axe.min.js")
RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
GRADIO_EMPTY = "div.empty[aria-label]"
"""Gradio's own placeholder in an empty gallery: a plain div with an aria-label, which axe rightly flags
(aria-prohibited-attr) but which no option of `gr.Gallery` changes; left out of the check."""


def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG A and AA violations on the page as it is now: each rule with the elements that break it."""
    page.add_script_tag(path=str(AXE_SCRIPT))
    found = page.evaluate(
        "async ([rules, skipped]) => (await axe.run({exclude: [skipped]}, rules)).violations", [RULES, GRADIO_EMPTY]
    )
    return [
        {"rule": item["id"], "where": [(node["target"], node["failureSummary"]) for node in item["nodes"]]}
        for item in found
    ]


@pytest.fixture(scope="module")
def generated(served_app: ServedApp, browser: Browser) -> ServedApp:
    """The app once the page has made avatars, so that the results' and history's images are on it."""
    with visit(browser, served_app, DESKTOP) as page:
        generate(page, "astronaut.png", images=2)
        finished(page)
    return served_app


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "laptop"])
def test_the_generate_tab_meets_wcag_aa(
    browser: Browser, generated: ServedApp, theme: str, viewport: dict[str, int]
) -> None:
    with visit(browser, generated, viewport, theme=theme) as page:
        expect(page.locator("#history img").first).to_be_attached(timeout=WAIT_MS)
        assert violations(page) == []


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_monitoring_tab_meets_wcag_aa(browser: Browser, served_app: ServedApp, theme: str) -> None:
    with visit(browser, served_app, DESKTOP, theme=theme) as page:
        monitoring_tab(page).click()
        expect(page.locator("#monitoring-headline")).to_contain_text("Total generations", timeout=WAIT_MS)
        expect(page.locator("#chart-ratings")).to_contain_text("Ratings", timeout=WAIT_MS)
        assert violations(page) == []
