"""What tests and benchmarks hand an engine: photos with their faces found and requests built as the service
builds them, and the token they give remote engines."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from photomaker.core.settings import Settings
from photomaker.engines.base import GenerationRequest
from photomaker.faces.analysis import FacePhoto, locate
from photomaker.generation.prompts import NO_STYLE, build, get_style
from photomaker.images.decode_budget import DecodeBudget
from photomaker.images.uploaded_photos import PhotoUpload, prepare_one

DECODE_BUDGET = DecodeBudget(Settings().decode_budget_bytes)
"""The decode budget of an app with the default settings, for tests that prepare photos themselves."""

FAKE_TOKEN = "hf_fake_test_token_6f1c2b"
"""The token tests give the remote engines; it must never show up in a message, a log line or the page."""


@cache
def located_face(photo: Path) -> FacePhoto:
    """A photo prepared and its face found, once per test run (engines only read it)."""
    return locate(prepare_one(PhotoUpload.from_path(photo), max_bytes=5 << 20, budget=DECODE_BUDGET))


def request_for(
    photo: Path,
    *,
    style: str = "Photographic (Default)",
    strength: int = 25,
    side: int = 512,
    num_images: int = 1,
    seed: int = 42,
) -> GenerationRequest:
    """A ready engine request for one photo, as the service would build it."""
    located = located_face(photo)
    built = build("a professional headshot", style=style)
    return GenerationRequest.from_prompts(
        built,
        mode="photo",
        model_key="avatar-creator:photomaker-pro",
        style=get_style(style),
        style_strength=strength,
        width=side,
        height=side,
        num_images=num_images,
        steps=50,
        guidance_scale=7.5,
        seed=seed,
        photos=(located,),
    )


def text_request(
    *, prompt: str = "a lighthouse at dusk", width: int = 1024, height: int = 1024, num_images: int = 1, seed: int = 7
) -> GenerationRequest:
    """A ready Text to Image request, as the service would build it."""
    built = build(prompt, style=NO_STYLE, with_trigger=False)
    return GenerationRequest.from_prompts(
        built,
        mode="text",
        model_key="text-to-image:flux-schnell",
        style=get_style(NO_STYLE),
        style_strength=0,
        width=width,
        height=height,
        num_images=num_images,
        steps=4,
        guidance_scale=0.0,
        seed=seed,
    )
