"""What the browser tests share: the system Chromium driven by Playwright, opening the served page, generating
through it, screenshots.

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

from photomaker.ui.signin import session_cookie
from stand_ins.serving import ServedApp
from tests.conftest import FIXTURES

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
BOTH_SIZES = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "laptop"])
"""A browser test run on a phone and on a laptop, its viewport in `viewport`."""
LOADED = re.compile(r"Signed in as|Not signed in")
"""What the header says once the page's load event has run."""
GENERATE_MS = 60_000
"""A preview generation takes a few seconds; this leaves room for a busy 2-core machine."""
PROMPT = "a professional headshot, studio lighting"


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
def visit(
    browser: Browser,
    app: ServedApp,
    viewport: dict[str, int],
    *,
    username: str | None = None,
    theme: str | None = None,
) -> Iterator[Page]:
    """The app's page, once its load event has run; on a Space, as `username` (None: not signed in) sees it; in
    Gradio's "light" or "dark" theme, or else the browser's."""
    context = browser.new_context(viewport=viewport)
    if username:
        # The cookie Gradio sets is Secure and SameSite=None; the server only reads it, so a plain one does.
        cookie = session_cookie(app.runtime.settings, username)
        context.add_cookies([{"name": "session", "value": cookie, "domain": "127.0.0.1", "path": "/", "secure": False}])
    try:
        page = context.new_page()
        page.goto(app.url if theme is None else f"{app.url}?__theme={theme}")
        expect(page.locator("#who")).to_contain_text(LOADED, timeout=WAIT_MS)
        yield page
    finally:
        context.close()


def monitoring_tab(page: Page) -> Locator:
    return page.get_by_role("tab", name="Monitoring")


def screenshots_folder() -> Path:
    """Where the browser tests leave their screenshots, for a person to look at: $PHOTOMAKER_SCREENSHOTS, or
    build/screenshots in the repository (ignored by git; CI keeps it as an artefact)."""
    folder = Path(os.environ.get("PHOTOMAKER_SCREENSHOTS") or Path(__file__).parents[2] / "build" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shoot(page: Page, folder: Path, name: str, *, whole: bool = True) -> None:
    """A screenshot in `folder` of the whole page (or, not `whole`, of the screen as a person sees it), named for
    what it shows and the viewport's size."""
    size = page.viewport_size or {}
    page.screenshot(path=folder / f"{name}-{size.get('width')}x{size.get('height')}.png", full_page=whole)


def generate(page: Page, photo: str, *, images: int = 1) -> None:
    """Upload `photo` from tests/fixtures through the page's file input, choose how many images, write the prompt,
    press Generate."""
    page.locator("#photos input[type=file]").set_input_files(FIXTURES / photo)
    expect(page.locator("#photos img")).to_have_count(1, timeout=WAIT_MS)
    count = page.locator("#num-images input[type=number]")
    count.fill(str(images))
    count.press("Enter")
    page.locator("#prompt textarea").fill(PROMPT)
    page.get_by_role("button", name="Generate avatars").click()


def finished(page: Page) -> int:
    """Wait for a generation's summary; the generation's id it names."""
    expect(page.locator("#details")).to_contain_text(re.compile(r"Generation #\d+"), timeout=GENERATE_MS)
    return shown_number(page, "#details", r"Generation #(\d+)")


def shown_number(page: Page, selector: str, pattern: str) -> int:
    """The number in `pattern`'s group, as the element at `selector` shows it."""
    text = page.locator(selector).inner_text()
    found = re.search(pattern, text)
    assert found, text
    return int(found.group(1))
