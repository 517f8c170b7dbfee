"""The page's "Your credits and data": where photos go, the credit history, download and delete."""

from __future__ import annotations

import html
import re
import shutil
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
from photomaker.ui.uploads import REGISTRY
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


LOAD = {"mode": "Photo to Avatar", "tier": "basic", "model": None, "num_images": 1}
"""What the page's load event takes (the inputs the price depends on)."""


def test_delete_needs_the_box_ticked(runtime: Runtime, generation_id: int) -> None:
    events = PageEvents(build_app(runtime))
    said = events("ui_delete_my_data", my_data_confirm=False)
    assert said == {"my_data_outcome": "Tick the box first: deleting cannot be undone."}, "the page stays as it was"
    assert runtime.gallery.history("local"), "nothing deleted without the tick"
    loaded = events("ui_load", **LOAD)
    served = [Path(path) for path, _ in loaded["history"]]
    assert served and all(path.is_relative_to(cache_dir()) and path.exists() for path in served)
    out = events("ui_delete_my_data", my_data_confirm=True)
    assert out["my_data_confirm"] is False and "Deleted 1 avatar and" in out["my_data_outcome"]
    assert runtime.gallery.history("local") == []
    assert not any(path.exists() for path in served), "the copies served to the page go too"


def test_what_was_deleted_leaves_the_whole_page_at_once(runtime: Runtime, upload_dir: Path) -> None:
    """The results, their download, details and rating, the history, the picker and the photo box: nothing deleted
    stays on screen until a reload; the credit history is shown as it stands (credits stay)."""
    events = PageEvents(build_app(runtime))
    runtime.projects.create("local", "Holiday")
    folder = upload_dir / "my-data"
    folder.mkdir(exist_ok=True)
    photo = str(REGISTRY.adopt(Path(shutil.copy(FIXTURES / "astronaut.png", folder / "astronaut.png")), owner=None))
    made = events("ui_generate", photos=[(photo, None)], prompt="a headshot", tier="basic", project="Holiday")
    assert made["results"]["value"] and made["history"] and made["rating_stars"]["visible"] is True
    out = events("ui_delete_my_data", my_data_confirm=True)
    assert out["results"] == {"__type__": "update", "value": None, "visible": False}
    assert out["download"]["visible"] is False and out["download"]["value"] is None
    assert out["details"] == "Your avatars will appear here." and out["details_json"] is None
    assert out["rating_generation"] is None and out["rating_stars"]["visible"] is False and out["rating_note"] == ""
    assert out["history"] == [] and out["photos"] is None
    assert out["project"]["choices"] == ["My avatars"] and out["project"]["value"] == "My avatars"
    assert out["confirm_delete_project"] is False and out["project_note"] == ""
    assert out["my_data_history"] == history_html(runtime.accounts.credit_history("local")), "as it stands"
    assert out["my_data_history"].count("<tr") == 3, "the header, the charge and the starting grant"
    assert set(out) == {events.name(widget) for widget in events.functions["ui_delete_my_data"].outputs}


def test_the_page_says_where_photos_go(runtime: Runtime) -> None:
    config = build_app(runtime).get_config_file()
    texts = str(config)
    assert (
        "nowhere: the offline preview engine" in texts and f"kept for {runtime.settings.retention_days} days" in texts
    )
