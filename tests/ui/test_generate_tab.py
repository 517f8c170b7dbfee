"""The Generate tab's handlers, called as Gradio would call them: the mode switch and Text to Image."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from pydantic import SecretStr

from photomaker.runtime import start_runtime
from photomaker.settings import Settings
from photomaker.ui import build_app
from tests.fakes.inference_server import FakeInferenceServer
from tests.helpers import FAKE_TOKEN

TEXT_KEY = "text-to-image:flux-schnell"


@pytest.fixture
def handlers(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The tab's event functions by api_name, with the text engine on the fake server."""
    with FakeInferenceServer() as server:
        settings = Settings(
            data_dir=tmp_path,
            photomaker_engine="preview",
            hf_token=SecretStr(FAKE_TOKEN),
            text_to_image_endpoint_url=server.url,
        )
        runtime = start_runtime(settings)
        demo = build_app(runtime)
        yield {fn.api_name: fn.fn for fn in demo.fns.values() if fn.api_name}
        runtime.database.dispose()


def test_the_mode_switch_shows_the_right_controls(handlers: dict[str, Any]) -> None:
    *visibility, cost = handlers["ui_mode"]("Text to Image", "pro", TEXT_KEY, 2)
    assert [update["visible"] for update in visibility] == [False, False, False, False, True, True]
    assert cost.startswith("**Cost: 20 credits** (2 × 10)")
    *visibility, cost = handlers["ui_mode"]("Photo to Avatar", "pro", TEXT_KEY, 2)
    assert [update["visible"] for update in visibility] == [True, True, True, True, False, False]
    assert cost.startswith("**Cost: 50 credits** (2 × 25)")


def test_text_to_image_from_the_page(handlers: dict[str, Any]) -> None:
    gallery, summary, details, history, cost, seed, photos, projects = handlers["ui_generate_text"](
        "a lighthouse", TEXT_KEY, 512, 768, 1, "", 3, False, "Posters"
    )
    assert [caption for _, caption in gallery] == ["Image 1"]
    assert "Text to Image · seed `3`" in summary and "512×768" in summary
    assert (details["mode"], details["credits_charged"], seed, photos) == ("text", 10, 3, None)
    assert "you have **240**" in cost and history and "Posters" in projects["choices"]


def test_text_errors_reach_the_page(handlers: dict[str, Any]) -> None:
    with pytest.raises(gr.Error, match=r"multiple of 8"):
        handlers["ui_generate_text"]("a lighthouse", TEXT_KEY, 500, 512, 1, "", -1, True, None)


def test_the_engine_note_is_refreshed_on_load(handlers: dict[str, Any]) -> None:
    *_, note = handlers["ui_load"]("Photo to Avatar", "pro", TEXT_KEY, 1)
    assert "Preview engine (offline)" in note and "Text to Image: `text-endpoint`" in note
