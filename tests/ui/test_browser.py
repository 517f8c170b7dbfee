"""The hosted app as a browser sees it: who the header says is signed in, and who sees Monitoring.

test_hosting.py calls the page's handlers directly and the API through gradio_client; neither runs
the page's load event the way Gradio's front end does, with the visitor's `session` cookie. Here a
headless Chromium (the system one, driven by Playwright) opens the simulated Space as bob (signed
in), carol (signed in, an operator) and an anonymous visitor, and checks the header and the tabs.
Full-page screenshots go to a pytest tmp folder, and also to $PHOTOMAKER_SCREENSHOTS when it is set,
for a person to look at. Skips when Playwright or Chromium is missing (`pip install -e ".[test]"`,
`apt-get install -y chromium`; never `playwright install`).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fakes.hub import FakeHub
from tests.serving import ServedApp, serve
from tests.signin import session_cookie, space_settings

try:
    from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
except ImportError:
    pytest.skip(
        'Playwright is not installed: .venv/bin/pip install -e ".[test]" (uses the system Chromium)',
        allow_module_level=True,
    )

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
if CHROMIUM is None:
    pytest.skip("no Chromium found: apt-get install -y chromium (not `playwright install`)", allow_module_level=True)

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 20_000
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
LOADED = re.compile(r"Signed in as|Not signed in")


@pytest.fixture(scope="module")
def space(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """The simulated Space of test_hosting.py, on SQLite; carol operates it."""
    hub = FakeHub({}).start()
    folder = tmp_path_factory.mktemp("browser-space")
    settings = space_settings(folder, database_url=f"sqlite:///{folder / 'test.db'}", hub_url=hub.url)
    try:
        with serve(settings) as app:
            yield app
    finally:
        hub.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@contextmanager
def visit(browser: Browser, app: ServedApp, username: str | None, viewport: dict[str, int]) -> Iterator[Page]:
    """The app's page as `username` (None: not signed in) sees it, once its load event has run."""
    context = browser.new_context(viewport=viewport)
    if username:
        # The cookie Gradio sets is Secure and SameSite=None; the server only reads it, so a plain one does.
        cookie = session_cookie(app.runtime.settings, username)
        context.add_cookies([{"name": "session", "value": cookie, "domain": "127.0.0.1", "path": "/", "secure": False}])
    try:
        page = context.new_page()
        page.goto(app.url)
        expect(page.locator("#who")).to_contain_text(LOADED, timeout=WAIT_MS)
        yield page
    finally:
        context.close()


def shoot(page: Page, folder: Path, name: str) -> None:
    """A full-page screenshot in `folder`, copied to $PHOTOMAKER_SCREENSHOTS when that is set."""
    size = page.viewport_size or {}
    path = folder / f"{name}-{size.get('width')}x{size.get('height')}.png"
    page.screenshot(path=path, full_page=True, animations="disabled")
    if target := os.environ.get("PHOTOMAKER_SCREENSHOTS"):
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)


def monitoring_tab(page: Page) -> Locator:
    return page.get_by_role("tab", name="Monitoring")


def open_accordion(page: Page, label: str) -> None:
    page.get_by_role("button", name=label).click()


def shoot_my_data(page: Page, folder: Path, name: str) -> None:
    """The Generate tab with "Your credits and data" open, once its credit history (the starting grant) is in."""
    open_accordion(page, "Your credits and data")
    expect(page.locator("#credit-history")).to_contain_text("grant", timeout=WAIT_MS)
    shoot(page, folder, f"{name}-my-data")


def test_a_signed_in_user_is_greeted_and_sees_no_monitoring(browser: Browser, space: ServedApp, shots: Path) -> None:
    with visit(browser, space, "bob", PHONE) as page:
        shoot(page, shots, "bob")
    with visit(browser, space, "bob", DESKTOP) as page:
        shoot(page, shots, "bob")
        expect(page.locator("#who")).to_contain_text("Signed in as bob", timeout=WAIT_MS)
        expect(page.get_by_role("tab", name="Generate")).to_be_visible(timeout=WAIT_MS)
        expect(monitoring_tab(page)).to_be_hidden(timeout=WAIT_MS)
        expect(page.get_by_text("Monitoring", exact=True)).to_have_count(0, timeout=WAIT_MS)
        shoot_my_data(page, shots, "bob")


def test_the_operator_sees_and_opens_monitoring(browser: Browser, space: ServedApp, shots: Path) -> None:
    with visit(browser, space, "carol", DESKTOP) as page:
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
    with visit(browser, space, None, DESKTOP) as page:
        shoot(page, shots, "anonymous")
        expect(page.locator("#who")).to_contain_text("Not signed in", timeout=WAIT_MS)
        expect(page.get_by_role("tab", name="Generate")).to_be_visible(timeout=WAIT_MS)
        expect(monitoring_tab(page)).to_be_hidden(timeout=WAIT_MS)
        expect(page.get_by_role("button", name="Your credits and data")).to_be_hidden(timeout=WAIT_MS)
