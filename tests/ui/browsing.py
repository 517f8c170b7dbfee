"""What the browser tests share: the system Chromium driven by Playwright, opening the served page, screenshots.

Importing this module skips the importing test module when Playwright or Chromium is missing
(`pip install -e ".[test]"`, `apt-get install -y chromium`; never `playwright install`). The
`browser` and `shots` fixtures (tests/ui/conftest.py) launch Chromium through `chromium()`.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.serving import ServedApp
from tests.signin import session_cookie

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
"""What the header says once the page's load event has run."""


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless system Chromium, closed afterwards."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def visit(browser: Browser, app: ServedApp, viewport: dict[str, int], *, username: str | None = None) -> Iterator[Page]:
    """The app's page, once its load event has run; on a Space, as `username` (None: not signed in) sees it."""
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


def monitoring_tab(page: Page) -> Locator:
    return page.get_by_role("tab", name="Monitoring")


def shoot(page: Page, folder: Path, name: str) -> None:
    """A full-page screenshot in `folder`, copied to $PHOTOMAKER_SCREENSHOTS when that is set, for a person to see."""
    size = page.viewport_size or {}
    path = folder / f"{name}-{size.get('width')}x{size.get('height')}.png"
    page.screenshot(path=path, full_page=True, animations="disabled")
    if target := os.environ.get("PHOTOMAKER_SCREENSHOTS"):
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
