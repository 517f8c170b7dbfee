"""The offline preview engine: real sizes, deterministic, every style its own look, labelled."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from photomaker.engines.base import no_progress
from photomaker.engines.preview import PreviewEngine, style_weight
from photomaker.prompts import STYLES
from tests.helpers import request_for


def _pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32)


def _difference(a, b) -> float:
    return float(np.abs(_pixels(a) - _pixels(b)).mean())


@pytest.mark.parametrize("side", [512, 1024, 1536])
def test_outputs_have_the_tier_resolution(face_photo: Path, side: int) -> None:
    result = PreviewEngine().generate(request_for(face_photo, side=side), no_progress)
    assert [image.size for image in result.images] == [(side, side)]
    assert result.preview is True and result.engine == "preview"


def test_same_seed_same_pixels_other_seed_other_pixels(face_photo: Path) -> None:
    engine = PreviewEngine()
    first = engine.generate(request_for(face_photo, style="Cinematic", seed=1), no_progress).images[0]
    again = engine.generate(request_for(face_photo, style="Cinematic", seed=1), no_progress).images[0]
    other = engine.generate(request_for(face_photo, style="Cinematic", seed=2), no_progress).images[0]
    assert np.array_equal(_pixels(first), _pixels(again))
    assert _difference(first, other) > 0.5


def test_four_outputs_are_distinct(face_photo: Path) -> None:
    result = PreviewEngine().generate(request_for(face_photo, num_images=4), no_progress)
    assert len(result.images) == 4
    for a, b in combinations(result.images, 2):
        assert _difference(a, b) > 3


def test_every_style_looks_different(face_photo: Path) -> None:
    engine = PreviewEngine()
    images = {
        style.name: engine.generate(request_for(face_photo, style=style.name, strength=100), no_progress).images[0]
        for style in STYLES
    }
    for (name_a, a), (name_b, b) in combinations(images.items(), 2):
        assert _difference(a, b) > 4, f"{name_a} and {name_b} look alike"


def test_style_strength_blends_visibly(face_photo: Path) -> None:
    engine = PreviewEngine()
    plain = engine.generate(request_for(face_photo, style="(No style)"), no_progress).images[0]
    weak, strong = (
        engine.generate(request_for(face_photo, style="Neonpunk", strength=s), no_progress).images[0] for s in (15, 90)
    )
    assert _difference(plain, strong) > _difference(plain, weak) * 1.8
    assert style_weight(0) < style_weight(50) < style_weight(100) == 1.0


def test_progress_is_reported(face_photo: Path) -> None:
    seen: list[tuple[float, str]] = []
    PreviewEngine().generate(request_for(face_photo, num_images=2), lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("preview" in message.lower() for _, message in seen)


def test_images_carry_a_preview_badge(face_photo: Path) -> None:
    image = PreviewEngine().generate(request_for(face_photo, style="(No style)", strength=0), no_progress).images[0]
    corner = _pixels(image)[-40:, -120:]
    assert (corner < 20).mean() > 0.3, "a dark badge sits in the bottom-right corner"
    assert (corner > 235).mean() > 0.02, "with white text on it"
