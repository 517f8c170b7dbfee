"""The page's "Your credits and data": where photos go, the credit history, download and delete."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.startup.runtime import Runtime
from photomaker.ui import build_app
from photomaker.ui.cache import cache_dir
from tests.ui.page_events import PageEvents

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture
def handlers(runtime: Runtime) -> dict[str, Callable[..., Any]]:
    return {fn.api_name: fn.fn for fn in build_app(runtime).fns.values()}


@pytest.fixture
def generation_id(runtime: Runtime) -> int:
    photo = PhotoUpload.from_path(FIXTURES / "astronaut.png")
    return runtime.service.generate_avatar("local", [photo], {"prompt": "a headshot", "tier": "basic"}).generation_id


def test_the_credit_history_table(handlers: dict[str, Callable[..., Any]], generation_id: int) -> None:
    table = handlers["ui_credit_history"]()
    assert list(table.columns) == ["when (UTC)", "kind", "change", "balance", "generation", "note"]
    assert table.iloc[0]["kind"] == "charge" and table.iloc[0]["generation"] == generation_id
    assert table.iloc[-1]["note"] == "starting credits" and "T" not in table.iloc[0]["when (UTC)"]


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
