"""The preview engine: how fast, how distinct its images are, how much each style shows, and likeness.

Prints JSON:
- `seconds_4_images_1024`: median time for 4 images at 1024 px, per style (one photo, seed 42);
- `min_pairwise_difference`: the smallest mean absolute pixel difference (0-255) between two images
  of one request, over three seeds: for 1-4 different photos (two close crops among them) and 2-4
  images, and for four copies of one photo cut close around the face (a selfie), the hardest case:
  every difference comes from the image's own framing and light, and wide framings run off the photo;
- `style_difference`: per style, the mean absolute difference from the unstyled framed photo (the
  "(No style)" image with the same seed) at the default style strength, 25, and at 100;
- `likeness`: per style, the lowest likeness of 4 preview avatars at strength 25 to the astronaut,
  and to Newton from his two portraits (`photomaker.faces.likeness`: 0.5 is dlib's same-person
  threshold), and how many of the 4 are `ok`.

    python -m benchmarks.preview
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

from benchmarks.timing import median_ms
from photomaker.engines.base import GenerationRequest
from photomaker.faces import matching as face_match
from photomaker.faces.likeness import Likeness
from photomaker.generation.prompts import NO_STYLE, STYLES
from stand_ins.engine_inputs import located_face, request_for
from stand_ins.preview_cases import difference, preview, smallest_difference, tight_crop, with_photos

ROOT = Path(__file__).parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
PHOTO = FIXTURES / "astronaut.png"
NEWTON = (FIXTURES / "newton-1689.jpg", FIXTURES / "newton-1702.jpg")
DEFAULT_STRENGTH = 25
ROUNDS = 3
SEEDS = (1, 42, 2024)


def seconds(request: GenerationRequest) -> float:
    return round(median_ms(preview, request, rounds=ROUNDS) / 1000, 3)


def min_pairwise(photos: list[Path], count: int) -> float:
    return round(
        min(
            smallest_difference(preview(with_photos(request_for(PHOTO, num_images=count, seed=seed), photos)))
            for seed in SEEDS
        ),
        1,
    )


def style_difference(style: str, strength: int) -> float:
    plain = preview(request_for(PHOTO, style=NO_STYLE, num_images=4))
    styled = preview(request_for(PHOTO, style=style, strength=strength, num_images=4))
    return round(statistics.mean(difference(a, b) for a, b in zip(plain, styled, strict=True)), 1)


def style_likeness(style: str, photos: tuple[Path, ...]) -> dict[str, object]:
    scores = face_match.measure(
        preview(with_photos(request_for(PHOTO, style=style, strength=DEFAULT_STRENGTH, num_images=4), photos)),
        face_match.reference([located_face(photo) for photo in photos]),
    )
    found = [score for score in scores if score is not None]
    return {
        "lowest": min(found, default=None),
        "ok": sum(Likeness(score).ok for score in found),
        "faces_found": len(found),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        selfie = tight_crop(PHOTO, Path(folder))
        pool = [NEWTON[0], selfie, NEWTON[1], PHOTO]  # Newton 1689 is a close crop too
        pairwise = {
            f"{photos} photos, {count} images": min_pairwise(pool[:photos], count)
            for photos in range(1, 5)
            for count in range(2, 5)
        }
        pairwise["4 copies of a close crop, 4 images"] = min_pairwise([selfie] * 4, 4)
    figures = {
        "seconds_4_images_1024": {
            style.name: seconds(request_for(PHOTO, style=style.name, side=1024, num_images=4)) for style in STYLES
        },
        "min_pairwise_difference": pairwise,
        "style_difference": {
            style.name: {str(strength): style_difference(style.name, strength) for strength in (DEFAULT_STRENGTH, 100)}
            for style in STYLES
        },
        "likeness": {
            style.name: {
                "astronaut": style_likeness(style.name, (PHOTO,)),
                "newton": style_likeness(style.name, NEWTON),
            }
            for style in STYLES
        },
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
