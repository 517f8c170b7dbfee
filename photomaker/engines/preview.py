"""The offline preview engine: the user's own face, framed as a headshot and styled on the CPU.

No weights, no network: it makes the whole product usable offline and in tests. Its output is
a stand-in for PhotoMaker, so every image carries a "PREVIEW" badge and every result says so.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from photomaker.engines.base import GenerationRequest, GenerationResult, ProgressFn
from photomaker.engines.preview_styles import FILTERS
from photomaker.faces import FacePhoto

WORK_SIDE = 768
"""Styles run at most at this size and are then resized: fast on two cores, sharp enough."""

FACE_SHARE = 0.38
"""The face's width as a share of the headshot's width."""

VARIANTS = ((1.0, 0.0), (0.85, -0.06), (1.2, 0.05), (0.93, 0.08))
"""Per output: zoom on the face and a horizontal shift, so that outputs differ."""


def style_weight(strength: int) -> float:
    """How much of the styled image shows over the photo, from style strength 0-100."""
    return 0.25 + 0.75 * max(0, min(100, strength)) / 100


def frame_headshot(source: FacePhoto, *, side: int, zoom: float = 1.0, shift: float = 0.0) -> Image.Image:
    """A square crop around the face (face centre a little above the middle), resized to `side`."""
    image, face = source.photo.image, source.face
    crop = min(face.w / FACE_SHARE / zoom, image.width, image.height)
    cx, cy = face.center
    left = min(max(cx - crop / 2 + shift * crop, 0), image.width - crop)
    top = min(max(cy - crop * 0.45, 0), image.height - crop)
    box = (round(left), round(top), round(left + crop), round(top + crop))
    return image.resize((side, side), Image.Resampling.LANCZOS, box=box)


def add_preview_badge(image: Image.Image) -> Image.Image:
    """Mark an image as a preview, in its corner, legibly at any size."""
    badged = image.copy()
    draw = ImageDraw.Draw(badged)
    size = max(12, image.width // 28)
    font = ImageFont.load_default(size=size)
    text = "PREVIEW"
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = size // 3
    x, y = image.width - (right - left) - 3 * pad, image.height - (bottom - top) - 3 * pad
    draw.rounded_rectangle((x - pad, y - pad, x + right - left + pad, y + bottom + pad), radius=pad, fill=(0, 0, 0))
    draw.text((x - left, y), text, font=font, fill=(255, 255, 255))
    return badged


class PreviewEngine:
    """Stylises the uploaded face; deterministic for a seed; labelled as a preview."""

    name = "preview"
    preview = True

    def check(self) -> None:
        """Nothing to reach: the preview engine runs here."""

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> GenerationResult:
        style_filter = FILTERS[request.style.name]
        weight = style_weight(request.style_strength)
        side = min(request.width, WORK_SIDE)
        images = []
        for index in range(request.num_images):
            progress(index / request.num_images, f"Styling image {index + 1} of {request.num_images} (preview)")
            zoom, shift = VARIANTS[index % len(VARIANTS)]
            source = request.photos[index % len(request.photos)]
            framed = np.asarray(frame_headshot(source, side=side, zoom=zoom, shift=shift))
            styled = style_filter(framed, np.random.default_rng([request.seed, index]))
            blended = (framed * (1 - weight) + styled * weight).round().astype(np.uint8)
            image = Image.fromarray(blended)
            if image.size != (request.width, request.height):
                image = image.resize((request.width, request.height), Image.Resampling.LANCZOS)
            images.append(add_preview_badge(image))
        progress(1.0, "Preview ready")
        return GenerationResult(
            images=images,
            seed=request.seed,
            engine=self.name,
            preview=True,
            effective_params={"style_weight": round(weight, 3), "work_side": side},
        )
