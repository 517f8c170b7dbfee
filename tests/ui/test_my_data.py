"""The page's "Your credits and data": where photos go, the credit history, download and delete."""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from photomaker.accounts.account import DeletionSummary
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.startup.runtime import Runtime
from photomaker.ui import build_app
from photomaker.ui.cache import cache_dir
from photomaker.ui.my_data import HISTORY_COLUMNS, deleted_text, history_html, history_rows
from tests.ui.page_events import PageEvents

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture
def handlers(runtime: Runtime) -> dict[str, Callable[..., Any]]:
    return {fn.api_name: fn.fn for fn in build_app(runtime).fns.values()}


@pytest.fixture
def generation_id(runtime: Runtime) -> int:
    photo = PhotoUpload.from_path(FIXTURES / "astronaut.png")
    return runtime.service.generate_avatar("local", [photo], {"prompt": "a headshot", "tier": "basic"}).generation_id


def test_the_credit_history_table(
    handlers: dict[str, Callable[..., Any]], runtime: Runtime, generation_id: int
) -> None:
    rows = history_rows(runtime.accounts.credit_history("local"))
    charge, grant = rows
    assert charge[1:] == [f"charge · generation #{generation_id}", "-18", "232"]
    assert grant[1:] == ["grant · starting credits", "+250", "250"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", charge[0]), "UTC to the second"
    shown = handlers["ui_credit_history"]()
    assert all(f'data-label="{column}"' in shown for column in HISTORY_COLUMNS)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", shown)
    assert cells == [html.escape(value) for row in rows for value in row], "every value whole, newest first"


def test_the_credit_history_escapes_what_operators_wrote(runtime: Runtime) -> None:
    runtime.accounts.sign_in("local")
    runtime.accounts.grant("local", 5, reason="<b>thanks</b>", by="carol")
    shown = history_html(runtime.accounts.credit_history("local"))
    assert "<b>" not in shown and "&lt;b&gt;thanks&lt;/b&gt;" in shown
    assert "No credits have moved yet." in history_html([])


def test_deleting_says_what_went_in_proper_plurals() -> None:
    assert deleted_text(DeletionSummary(generations_anonymised=1, avatars_deleted=1, projects_deleted=2)) == (
        "Deleted 1 avatar and 2 projects; the prompts of 1 generation are gone. Your credits are as they were."
    )


def test_download_serves_a_zip_from_the_cache_alone(
    handlers: dict[str, Callable[..., Any]], runtime: Runtime, generation_id: int
) -> None:
    update = handlers["ui_export_my_data"]()
    served = Path(update["value"])
    assert served.is_relative_to(cache_dir()) and update["visible"] is True
    with zipfile.ZipFile(served) as archive:
        assert f"avatars/generation-{generation_id}-avatar-1.png" in archive.namelist()
    assert not list(Path(runtime.settings.data_dir).rglob("*.zip"))


def test_delete_needs_the_box_ticked(
    handlers: dict[str, Callable[..., Any]], runtime: Runtime, generation_id: int
) -> None:
    _, said = handlers["ui_delete_my_data"](False)
    assert "Tick the box" in said
    assert runtime.gallery.history("local"), "nothing deleted without the tick"
    loaded = PageEvents(build_app(runtime))("ui_load", mode="Photo to Avatar", tier="basic", model=None, num_images=1)
    served = [Path(path) for path, _ in loaded["history"]]
    assert served and all(path.is_relative_to(cache_dir()) and path.exists() for path in served)
    ticked, said = handlers["ui_delete_my_data"](True)
    assert ticked is False and "Deleted 1 avatar(s)" in said
    assert runtime.gallery.history("local") == []
    assert not any(path.exists() for path in served), "the copies served to the page go too"


def test_the_page_says_where_photos_go(runtime: Runtime) -> None:
    config = build_app(runtime).get_config_file()
    texts = str(config)
    assert (
        "nowhere: the offline preview engine" in texts and f"kept for {runtime.settings.retention_days} days" in texts
    )
