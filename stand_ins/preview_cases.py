"""Photos and measures shared by the preview engine's tests and its benchmark (benchmarks/preview.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import combinations
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from photomaker.engines.base import GenerationRequest, no_progress
from photomaker.engines.preview.engine import PreviewEngine
from photomaker.faces.analysis import detect_faces
from stand_ins.engine_inputs import located_face


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute pixel difference, 0-255."""
    return float(np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32)).mean())


def smallest_difference(images: Sequence[Image.Image]) -> float:
    """How alike the two most alike images are."""
    return min(difference(a, b) for a, b in combinations(images, 2))


def tight_crop(photo: Path, folder: Path) -> Path:
    """`photo` cut close around its face, as a selfie is: wider framings reach past its edges."""
    with Image.open(photo) as image:
        face = detect_faces(image)[0]
        cx, cy = face.center
        half = 1.1 * face.w
        path = folder / f"tight-{photo.stem}.png"
        image.crop((round(cx - half), round(cy - half), round(cx + half), round(cy + half))).save(path)
    return path


def mirrored(photo: Path, folder: Path) -> Path:
    """`photo` flipped left to right: the same person, lit from the other side."""
    path = folder / f"mirrored-{photo.stem}.png"
    with Image.open(photo) as image:
        ImageOps.mirror(image).save(path)
    return path


def with_photos(request: GenerationRequest, photos: Sequence[Path]) -> GenerationRequest:
    """`request` made from `photos` instead of its own."""
    return replace(request, photos=tuple(located_face(photo) for photo in photos))


def preview(request: GenerationRequest) -> list[Image.Image]:
    return PreviewEngine().generate(request, no_progress).images
