"""The face detector before and after dlib: faces found in the fixtures, false second faces, time.

"Haar alone" is the detector this project used before (OpenCV's cascades); "ours" is
`photomaker.faces.analysis.detect_faces`: dlib's HOG first, the cascades only where HOG finds nothing.
For each fixture it counts the faces each finds; over a grid of square crops of the three clear
portraits (each face once, so any second face is false) it counts the crops where each reports
more than one face. It also times detection, and detection plus the 128-d descriptor, per photo,
and prints the descriptor distances between the fixtures' faces (dlib's threshold is 0.6).

    python -m benchmarks.faces
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.timing import median_ms
from photomaker.core.settings import Settings
from photomaker.faces.analysis import FaceBox, detect_faces, haar_faces, locate
from photomaker.images.decode_budget import DecodeBudget
from photomaker.images.uploaded_photos import PhotoUpload, prepare_one

FIXTURES = Path(__file__).parents[1] / "tests" / "fixtures"
PHOTOS = ("astronaut.png", "camera.png", "chelsea.png", "coffee.png", "newton-1689.jpg", "newton-1702.jpg")
PORTRAITS = ("astronaut.png", "newton-1689.jpg", "newton-1702.jpg")
ROUNDS = 5
BUDGET = DecodeBudget(Settings().decode_budget_bytes)


def haar_alone(image: Image.Image) -> list[FaceBox]:
    return haar_faces(image.convert("L"))


def crops(image: Image.Image) -> list[Image.Image]:
    """Square crops of a portrait, at their own size and enlarged to 1024 px, each holding at most its one face."""
    side = image.width
    found = []
    corners = itertools.product(range(0, side // 2, side // 16), repeat=2)
    for (left, top), width in itertools.product(corners, (side // 2, 3 * side // 4, side)):
        if left + width <= side and top + width <= image.height:
            crop = image.crop((left, top, left + width, top + width))
            found += [crop, crop.resize((1024, 1024), Image.Resampling.BILINEAR)]
    return found


def main() -> None:
    images = {
        name: prepare_one(PhotoUpload.from_path(FIXTURES / name), max_bytes=50 << 20, budget=BUDGET) for name in PHOTOS
    }
    detectors = {"haar_alone": haar_alone, "ours": detect_faces}
    per_photo = {
        name: {
            label: {"faces": len(detect(photo.image)), "detect_ms": median_ms(detect, photo.image, rounds=ROUNDS)}
            for label, detect in detectors.items()
        }
        for name, photo in images.items()
    }
    for name in ("astronaut.png", "camera.png", "newton-1702.jpg"):
        per_photo[name]["ours"]["detect_and_describe_ms"] = median_ms(locate, images[name], rounds=ROUNDS)
    square = [crop for name in PORTRAITS for crop in crops(images[name].image)]
    false_second = {label: sum(len(detect(crop)) > 1 for crop in square) for label, detect in detectors.items()}
    located = {name: locate(images[name]) for name in ("astronaut.png", "camera.png", *PORTRAITS[1:])}
    distances = {
        f"{one} / {other}": round(float(np.linalg.norm(located[one].descriptor - located[other].descriptor)), 3)
        for one, other in itertools.combinations(located, 2)
    }
    print(
        json.dumps(
            {
                "per_photo": per_photo,
                "portrait_crops": len(square),
                "crops_reported_with_2_or_more_faces": false_second,
                "descriptor_distances": distances,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
