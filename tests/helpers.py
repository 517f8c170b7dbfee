"""Small builders shared by tests."""

from __future__ import annotations

from pathlib import Path

from photomaker.engines.base import GenerationRequest
from photomaker.faces import locate
from photomaker.photos import PhotoUpload, prepare_one
from photomaker.prompts import build, get_style


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
    located = locate(prepare_one(PhotoUpload.from_path(photo), max_bytes=5 << 20))
    built = build("a professional headshot", style=style)
    return GenerationRequest(
        mode="photo",
        model_key="avatar-creator:photomaker-pro",
        prompt=built.prompt,
        negative_prompt=built.negative_prompt,
        styled_prompt=built.styled_prompt,
        styled_negative_prompt=built.styled_negative_prompt,
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
