"""The hosted app as a browser sees it: who the header says is signed in, and who sees Monitoring.

test_hosting.py calls the page's handlers directly and the API through gradio_client; neither runs
the page's load event the way Gradio's front end does, with the visitor's `session` cookie. Here a
headless Chromium (the system one, driven by Playwright) opens the simulated Space as bob (signed
in), carol (signed in, an operator) and an anonymous visitor, and checks the header and the tabs.
Full-page screenshots go to build/screenshots (or $PHOTOMAKER_SCREENSHOTS), for a person to look at.
The setup is `browsing`'s, which skips this module without Playwright or Chromium.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stand_ins.serving import ServedApp
from tests.signin import served_space
from tests.ui.browsing import DESKTOP, PHONE, WAIT_MS, Browser, Page, expect, monitoring_tab, shoot, visit


@pytest.fixture(scope="module")
def space(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """The simulated Space of test_hosting.py, on SQLite; carol operates it."""
    with served_space(tmp_path_factory.mktemp("browser-space"), tokens={}) as app:
        yield app


def open_accordion(page: Page, label: str) -> None:
    page.get_by_role("button", name=label).click()


def shoot_my_data(page: Page, folder: Path, name: str) -> None:
    """The Generate tab with "Your credits and data" open, once its credit history (the starting grant) is in."""
    open_accordion(page, "Your credits and data")
    expect(page.locator("#credit-history")).to_contain_text("grant", timeout=WAIT_MS)
    shoot(page, folder, f"{name}-my-data")


def test_a_signed_in_user_is_greeted_and_sees_no_monitoring(browser: Browser, space: ServedApp, shots: Path) -> None:
    with visit(browser, space, PHONE, username="bob") as page:
        shoot(page, shots, "bob")
    with visit(browser, space, DESKTOP, username="bob") as page:
        shoot(page, shots, "bob")
        expect(page.locator("#who")).to_contain_text("Signed in as bob", timeout=WAIT_MS)
        expect(page.get_by_role("tab", name="Generate")).to_be_visible(timeout=WAIT_MS)
        expect(monitoring_tab(page)).to_be_hidden(timeout=WAIT_MS)
        expect(page.get_by_text("Monitoring", exact=True)).to_have_count(0, timeout=WAIT_MS)
        shoot_my_data(page, shots, "bob")


def test_the_operator_sees_and_opens_monitoring(browser: Browser, space: ServedApp, shots: Path) -> None:
    with visit(browser, space, DESKTOP, username="carol") as page:
        shoot(page, shots, "carol")
        expect(page.locator("#who")).to_contain_text("Signed in as carol", timeout=WAIT_MS)
        expect(monitoring_tab(page)).to_be_visible(timeout=WAIT_MS)
        shoot_my_data(page, shots, "carol")
        monitoring_tab(page).click()
        expect(page.locator("#monitoring-headline")).to_contain_text("Total generations", timeout=WAIT_MS)
        expect(page.locator("#chart-ratings")).to_contain_text("Ratings", timeout=WAIT_MS)
        open_accordion(page, "Grant or take back credits")
        expect(page.locator("#grant")).to_be_visible(timeout=WAIT_MS)
        shoot(page, shots, "carol-monitoring")


def test_a_visitor_not_signed_in_is_asked_to_sign_in(browser: Browser, space: ServedApp, shots: Path) -> None:
    with visit(browser, space, DESKTOP) as page:
        shoot(page, shots, "anonymous")
        expect(page.locator("#who")).to_contain_text("Not signed in", timeout=WAIT_MS)
        expect(page.get_by_role("tab", name="Generate")).to_be_visible(timeout=WAIT_MS)
        expect(monitoring_tab(page)).to_be_hidden(timeout=WAIT_MS)
        expect(page.get_by_role("button", name="Your credits and data")).to_be_hidden(timeout=WAIT_MS)
