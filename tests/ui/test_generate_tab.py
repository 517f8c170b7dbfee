"""The Generate tab's handlers, called as the page calls them (without a browser): both modes, errors inline."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from pydantic import SecretStr
from sqlmodel import select

from photomaker.core.settings import Settings
from photomaker.startup.runtime import Runtime, start_runtime
from photomaker.store import Generation
from photomaker.ui import build_app
from photomaker.ui.generate_words import cost_text
from photomaker.ui.uploads import REGISTRY
from stand_ins.engine_inputs import FAKE_TOKEN
from stand_ins.inference_server import FakeInferenceServer
from tests.ui.page_events import PageEvents

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _uploaded(upload_dir: Path, name: str) -> str:
    """A fixture uploaded as Gradio's upload route stores it, made private to a browser without cookies."""
    folder = upload_dir / f"tab-{name}"
    folder.mkdir(exist_ok=True)
    return str(REGISTRY.adopt(Path(shutil.copy(FIXTURES / name, folder / name)), owner=None))


@pytest.fixture
def generate(runtime: Runtime) -> Callable[..., dict[str, Any]]:
    events = PageEvents(build_app(runtime))

    def call(photos: list[str], prompt: str = "a professional headshot", count: int = 1) -> dict[str, Any]:
        return events(
            "ui_generate",
            photos=[(path, None) for path in photos],
            subject="woman",
            styles=["Cinematic"],
            prompt=prompt,
            tier="basic",
            style_strength=40,
            num_images=count,
            negative_prompt="",
            steps=30,
            guidance_scale=6.0,
            seed=123,
            randomise=False,
            project="Portraits",
        )

    return call


def test_generate_shows_avatars_details_and_new_balance(
    generate: Callable[..., dict[str, Any]], runtime: Runtime, upload_dir: Path
) -> None:
    photo = _uploaded(upload_dir, "astronaut.png")
    out = generate([photo], count=2)
    gallery, details, details_json, history, cost, seed, photos = (
        out[name] for name in ("results", "details", "details_json", "history", "cost", "seed", "photos")
    )
    rated, stars, invite = out["rating_generation"], out["rating_stars"], out["rating_note"]
    assert gallery["columns"] == 2
    captions = [caption.split(" · ") for _, caption in gallery["value"]]
    assert [parts[:-1] for parts in captions] == [
        [f"Avatar {number} of 2", "Cinematic", "Basic tier", "preview"] for number in (1, 2)
    ]
    assert all(re.fullmatch(r"Likeness \d+% ✓", parts[-1]) for parts in captions)
    assert "Generation #" in details and "**36 credits** charged" in details and "offline previews" in details
    assert re.search(r"\*\*Looks like you\?\*\* 1: Likeness \d+% ✓ · 2: Likeness \d+% ✓\n", details)
    assert details_json["seed"] == 123 == seed
    assert details_json["style_strength"] == 40 and details_json["steps"] == 30
    assert len(history) == 2
    assert "you have **214**" in cost
    assert photos is None, "the upload box is cleared: the photos are gone"
    assert not Path(photo).exists()
    assert [project.name for project in runtime.projects.list("local")] == ["Portraits"]
    assert rated == details_json["generation_id"] and stars["visible"] is True and "Rate them" in invite


def test_a_refusal_is_shown_inline_and_charges_nothing(
    generate: Callable[..., dict[str, Any]], runtime: Runtime, upload_dir: Path
) -> None:
    photo = _uploaded(upload_dir, "chelsea.png")
    outputs = generate([photo])
    said = outputs["details"]
    assert "Refused" in said and "chelsea.png" in said and "Nothing was charged" in said
    assert outputs["details_json"] == {"status": "rejected", "error_code": "NO_FACE"}
    assert "you have **250**" in outputs["cost"]
    assert runtime.accounts.account("local").credits == 250
    assert not Path(photo).exists()
    assert outputs["photos"] is None, "the photo was read and deleted, so the upload box is cleared"
    assert outputs["rating_stars"]["visible"] is False, "no rating is offered for a refusal"


def test_a_prompt_mistake_deletes_the_photos_and_empties_the_upload_box(
    generate: Callable[..., dict[str, Any]], runtime: Runtime, upload_dir: Path
) -> None:
    photo = _uploaded(upload_dir, "astronaut.png")
    outputs = generate([photo], prompt="a woman img and a man img")
    assert "INVALID_PROMPT" in outputs["details"]
    assert not Path(photo).exists(), "a refusal deletes its uploads, whatever the reason"
    assert outputs["photos"] is None, "the upload box no longer shows photos that are gone"
    assert runtime.accounts.account("local").credits == 250
    with runtime.database.session() as session:
        refused = session.exec(select(Generation.status, Generation.error_code)).all()
    assert refused == [("rejected", "INVALID_PROMPT")], "the refusal is recorded once"


def test_cost_text_warns_when_the_balance_is_short(runtime: Runtime) -> None:
    (pro,) = [model for model in runtime.service.models() if model.tier == "pro"]
    assert cost_text(pro, 2, 250) == (
        "**Cost: 50 credits** (2 avatars × 25 credits; from 8 avatars, 20 credits each) · you have **250**"
    )
    assert cost_text(pro, 12, 250).startswith("**Cost: 240 credits** (12 avatars × 20 credits, bundle price from 8)")
    assert cost_text(pro, 4, 60).endswith("· not enough: you can afford 2 avatars")
    assert cost_text(pro, 1, 10).endswith("· not enough for one")
    assert cost_text(pro, 0, 250) == "Choose at least one style · you have **250**"


TEXT_KEY = "text-to-image:flux-schnell"


@pytest.fixture
def events(tmp_path: Path) -> Iterator[PageEvents]:
    """The tab's events, with the text engine on the fake server."""
    with FakeInferenceServer() as server:
        settings = Settings(
            data_dir=tmp_path,
            photomaker_engine="preview",
            hf_token=SecretStr(FAKE_TOKEN),
            text_to_image_endpoint_url=server.url,
        )
        runtime = start_runtime(settings)
        demo = build_app(runtime)
        yield PageEvents(demo)
        runtime.database.dispose()


PHOTO_ONLY = ("photo_inputs", "tier_inputs", "photo_advanced", "generate", "photo_examples")
TEXT_ONLY = ("text_inputs", "generate_text", "text_examples")


def test_the_mode_switch_shows_the_right_controls_and_words(events: PageEvents) -> None:
    out = events("ui_mode", mode="Text to Image", tier="pro", model=TEXT_KEY, num_images=2)
    assert [out[name]["visible"] for name in PHOTO_ONLY + TEXT_ONLY] == [False] * 5 + [True] * 3
    assert "No photos" in out["prompt"]["info"] and "img" not in out["prompt"]["info"]
    assert out["results"]["label"] == "Your images" and out["details"] == "Your images will appear here."
    assert out["cost"].startswith("**Cost: 20 credits** (2 images × 10 credits)")
    out = events("ui_mode", mode="Photo to Avatar", tier="pro", model=TEXT_KEY, num_images=2, details=out["details"])
    assert [out[name]["visible"] for name in PHOTO_ONLY + TEXT_ONLY] == [True] * 5 + [False] * 3
    # The preview engine reads no prompt: the box says so rather than explain the trigger word.
    assert "leaves your prompt's words out" in out["prompt"]["info"] and out["results"]["label"] == "Your avatars"
    assert out["details"] == "Your avatars will appear here."
    assert out["cost"].startswith("**Cost: 50 credits** (2 avatars × 25 credits")


def test_the_mode_switch_leaves_a_generations_summary_alone(events: PageEvents) -> None:
    out = events("ui_mode", mode="Text to Image", tier="pro", model=TEXT_KEY, num_images=1, details="**Generation #7**")
    assert out["details"] == gr.skip()


def test_text_to_image_from_the_page(events: PageEvents) -> None:
    out = events(
        "ui_generate_text",
        mode="Text to Image",
        prompt="a lighthouse",
        model=TEXT_KEY,
        width=512,
        height=768,
        num_images=1,
        seed=3,
        randomise=False,
        project="Posters",
    )
    gallery, summary, details, history = out["results"], out["details"], out["details_json"], out["history"]
    cost, seed, photos, projects = out["cost"], out["seed"], out["photos"], out["project"]
    assert [caption for _, caption in gallery["value"]] == ["Image 1 of 1 · Text to Image"]
    assert gallery["columns"] == 1, "a single result takes the gallery's width"
    assert "Text to Image · seed `3`" in summary and "512×768" in summary
    assert (details["mode"], details["credits_charged"], seed, photos) == ("text", 10, 3, None)
    assert "you have **240**" in cost and history and "Posters" in projects["choices"]


def test_text_errors_reach_the_page(events: PageEvents) -> None:
    outputs = events(
        "ui_generate_text", mode="Text to Image", prompt="a lighthouse", model=TEXT_KEY, width=500, project=None
    )
    assert "Refused" in outputs["details"] and "multiple of 8" in outputs["details"]
    assert outputs["details_json"] == {"status": "rejected", "error_code": "INVALID_PARAMS"}
    assert "you have **250**" in outputs["cost"]


def test_the_engine_note_is_refreshed_on_load(events: PageEvents) -> None:
    out = events("ui_load", mode="Photo to Avatar", tier="pro", model=TEXT_KEY, num_images=1)
    assert "Preview engine (offline)" in out["note"] and "Text to Image: `text-endpoint`" in out["note"]
    assert out["my_data_section"].visible is True, "off a Space everyone has their credits and data"
