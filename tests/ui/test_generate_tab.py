"""The Generate tab's handlers, called as the page calls them (without a browser): both modes, errors inline."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from pydantic import SecretStr
from sqlmodel import select

from photomaker.runtime import Runtime, start_runtime
from photomaker.settings import Settings
from photomaker.store import Generation
from photomaker.ui import build_app
from photomaker.ui.generate_tab import cost_text
from photomaker.ui.uploads import REGISTRY
from tests.fakes.inference_server import FakeInferenceServer
from tests.helpers import FAKE_TOKEN

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _no_progress(*args: object, **kwargs: object) -> None:
    """Stands in for gr.Progress outside a request."""


def _handler(demo: gr.Blocks, api_name: str) -> Callable[..., Any]:
    return next(fn.fn for fn in demo.fns.values() if fn.api_name == api_name)


def _uploaded(upload_dir: Path, name: str) -> str:
    """A fixture uploaded as Gradio's upload route stores it, made private to a browser without cookies."""
    folder = upload_dir / f"tab-{name}"
    folder.mkdir(exist_ok=True)
    return str(REGISTRY.adopt(Path(shutil.copy(FIXTURES / name, folder / name)), owner=None))


@pytest.fixture
def generate(runtime: Runtime) -> Callable[..., tuple[Any, ...]]:
    handler = _handler(build_app(runtime), "ui_generate")

    def call(photos: list[str], prompt: str = "a professional headshot", count: int = 1) -> tuple[Any, ...]:
        return handler(
            [(path, None) for path in photos],
            "woman",
            "Cinematic",
            prompt,
            "basic",
            40,
            count,
            "",
            30,
            6.0,
            123,
            False,
            "Portraits",
            progress=_no_progress,
        )

    return call


def test_generate_shows_avatars_details_and_new_balance(
    generate: Callable[..., tuple[Any, ...]], runtime: Runtime, upload_dir: Path
) -> None:
    photo = _uploaded(upload_dir, "astronaut.png")
    gallery, details, details_json, history, cost, seed, photos, _, rated, stars, invite = generate([photo], count=2)
    assert len(gallery) == 2 and all(caption.endswith("(preview)") for _, caption in gallery)
    assert "Generation #" in details and "**36 credits** charged" in details and "offline previews" in details
    assert details_json["seed"] == 123 == seed
    assert details_json["style_strength"] == 40 and details_json["steps"] == 30
    assert len(history) == 2
    assert "you have **214**" in cost
    assert photos is None, "the upload box is cleared: the photos are gone"
    assert not Path(photo).exists()
    assert runtime.service.projects("local") == ["Portraits"]
    assert rated == details_json["generation_id"] and stars["visible"] is True and "Rate them" in invite


def test_a_refusal_is_shown_inline_and_charges_nothing(
    generate: Callable[..., tuple[Any, ...]], runtime: Runtime, upload_dir: Path
) -> None:
    photo = _uploaded(upload_dir, "chelsea.png")
    outputs = generate([photo])
    assert "Not generated" in outputs[1] and "chelsea.png" in outputs[1] and "Nothing was charged" in outputs[1]
    assert outputs[2] == {"status": "rejected", "error_code": "NO_FACE"}
    assert "you have **250**" in outputs[4]
    assert runtime.service.account("local").credits == 250
    assert not Path(photo).exists()
    assert outputs[6] is None, "the photo was read and deleted, so the upload box is cleared"
    assert outputs[-3:][1]["visible"] is False, "no rating is offered for a refusal"


def test_a_prompt_mistake_keeps_the_photos_for_the_next_try(
    generate: Callable[..., tuple[Any, ...]], runtime: Runtime, upload_dir: Path
) -> None:
    photo = _uploaded(upload_dir, "astronaut.png")
    outputs = generate([photo], prompt="a woman img and a man img")
    assert "INVALID_PROMPT" in outputs[1]
    assert Path(photo).exists(), "the photos were not read, so they stay for the corrected try"
    assert isinstance(outputs[6], type(gr.skip())), "the upload box keeps showing them"
    assert runtime.service.account("local").credits == 250
    with runtime.database.session() as session:
        refused = session.exec(select(Generation.status, Generation.error_code)).all()
    assert refused == [("rejected", "INVALID_PROMPT")], "the refusal is recorded once"
    retried = generate([photo])
    assert "Generation #" in retried[1]
    assert not Path(photo).exists()


def test_cost_text_warns_when_the_balance_is_short(runtime: Runtime) -> None:
    (pro,) = [model for model in runtime.service.models() if model.tier == "pro"]
    assert cost_text(pro, 2, 250).startswith("**Cost: 50 credits** (2 × 25) · you have **250**")
    assert "not enough" in cost_text(pro, 4, 60)


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


def test_the_mode_switch_shows_the_right_controls_and_words(handlers: dict[str, Any]) -> None:
    *visibility, prompt, results, cost = handlers["ui_mode"]("Text to Image", "pro", TEXT_KEY, 2)
    assert [update["visible"] for update in visibility] == [False] * 5 + [True] * 3
    assert "No photos" in prompt["info"] and "img" not in prompt["info"]
    assert results["label"] == "Your images"
    assert cost.startswith("**Cost: 20 credits** (2 × 10)")
    *visibility, prompt, results, cost = handlers["ui_mode"]("Photo to Avatar", "pro", TEXT_KEY, 2)
    assert [update["visible"] for update in visibility] == [True] * 5 + [False] * 3
    assert "trigger word" in prompt["info"] and results["label"] == "Your avatars"
    assert cost.startswith("**Cost: 50 credits** (2 × 25)")


def test_text_to_image_from_the_page(handlers: dict[str, Any]) -> None:
    gallery, summary, details, history, cost, seed, photos, projects, *_ = handlers["ui_generate_text"](
        "a lighthouse", TEXT_KEY, 512, 768, 1, "", 3, False, "Posters", progress=_no_progress
    )
    assert [caption for _, caption in gallery] == ["Image 1"]
    assert "Text to Image · seed `3`" in summary and "512×768" in summary
    assert (details["mode"], details["credits_charged"], seed, photos) == ("text", 10, 3, None)
    assert "you have **240**" in cost and history and "Posters" in projects["choices"]


def test_text_errors_reach_the_page(handlers: dict[str, Any]) -> None:
    outputs = handlers["ui_generate_text"](
        "a lighthouse", TEXT_KEY, 500, 512, 1, "", -1, True, None, progress=_no_progress
    )
    assert "Not generated" in outputs[1] and "multiple of 8" in outputs[1]
    assert outputs[2] == {"status": "rejected", "error_code": "INVALID_PARAMS"}
    assert "you have **250**" in outputs[4]


def test_the_engine_note_is_refreshed_on_load(handlers: dict[str, Any]) -> None:
    *_, note, my_data = handlers["ui_load"]("Photo to Avatar", "pro", TEXT_KEY, 1)
    assert "Preview engine (offline)" in note and "Text to Image: `text-endpoint`" in note
    assert my_data.visible is True, "off a Space everyone has their credits and data"
