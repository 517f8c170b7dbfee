"""A real app served on 127.0.0.1 for API tests, with its own data folder; a browser for the browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from photomaker.core.settings import Settings
from photomaker.monitoring import demo_history
from stand_ins.serving import ServedApp, serve

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(scope="module")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("app") / "data", user_rate_limit_per_min=100, hf_token=None)
    with serve(settings) as app:
        yield app


@pytest.fixture(scope="module")
def with_history(served_app: ServedApp) -> ServedApp:
    """The app with three days of demo history (refusals with long error codes among them), filled once."""
    demo_history.fill(served_app.runtime.database, days=3, per_day=20, seed=0)
    return served_app


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module."""
    # Imported here, not above: importing `browsing` skips a module without Playwright or Chromium, and the other
    # UI tests need neither.
    from tests.ui.browsing import chromium

    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def shots() -> Path:
    """Where the browser tests' screenshots go (see `browsing.screenshots_folder`)."""
    from tests.ui.browsing import screenshots_folder

    return screenshots_folder()
