"""The Generate tab's handlers, called as the page calls them (without a browser)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from photomaker.runtime import Runtime
from photomaker.ui import build_app
from photomaker.ui.generate_tab import cost_text

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _handler(demo: gr.Blocks, api_name: str) -> Callable[..., Any]:
    return next(fn.fn for fn in demo.fns.values() if fn.api_name == api_name)


def _uploaded(upload_dir: Path, name: str) -> str:
    """A copy of a fixture where Gradio would have put the upload."""
    folder = upload_dir / f"tab-{name}"
    folder.mkdir(exist_ok=True)
    return str(shutil.copy(FIXTURES / name, folder / name))


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
            progress=lambda *args, **kwargs: None,
        )

    return call


def test_generate_shows_avatars_details_and_new_balance(
    generate: Callable[..., tuple[Any, ...]], runtime: Runtime, upload_dir: Path
) -> None:
    photo = _uploaded(upload_dir, "astronaut.png")
    gallery, details, details_json, history, cost, seed, photos, _ = generate([photo], count=2)
    assert len(gallery) == 2 and all(caption.endswith("(preview)") for _, caption in gallery)
    assert "Generation #" in details and "**36 credits** charged" in details and "offline previews" in details
    assert details_json["seed"] == 123 == seed
    assert details_json["style_strength"] == 40 and details_json["steps"] == 30
    assert len(history) == 2
    assert "you have **214**" in cost
    assert photos is None, "the upload box is cleared: the photos are gone"
    assert not Path(photo).exists()
    assert runtime.service.projects("local") == ["Portraits"]


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


def test_cost_text_warns_when_the_balance_is_short(runtime: Runtime) -> None:
    (pro,) = [model for model in runtime.service.models() if model.tier == "pro"]
    assert cost_text(pro, 2, 250).startswith("**Cost: 50 credits** (2 × 25) · you have **250**")
    assert "not enough" in cost_text(pro, 4, 60)
