"""Prepare four 12-megapixel JPEGs with the project's pipeline and with a plain full decode.

Prints JSON: both times, their ratio, bytes in against bytes out, and how close the two results
are on the face (PSNR; above 35 dB the difference cannot be seen).

    python benchmarks/photos.py
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from photomaker.core.settings import Settings
from photomaker.faces.analysis import detect_faces
from photomaker.images.decode_budget import DecodeBudget
from photomaker.images.uploaded_photos import MAX_SIDE, PhotoUpload, prepare

ROOT = Path(__file__).parents[1]
SIZE = (4000, 3000)
ROUNDS = 5
BUDGET = DecodeBudget(Settings().decode_budget_bytes)


def make_photos(folder: Path) -> list[Path]:
    """Four 12 MP camera-like JPEGs: the test portrait on a textured background, with sensor noise."""
    face = Image.open(ROOT / "tests" / "fixtures" / "astronaut.png").convert("RGB").resize((1800, 1800))
    paths = []
    for index in range(4):
        rng = np.random.default_rng(index)
        background = rng.normal(128, 40, (SIZE[1] // 8, SIZE[0] // 8, 3)).clip(0, 255).astype(np.uint8)
        canvas = Image.fromarray(background).resize(SIZE, Image.Resampling.BICUBIC)
        canvas.paste(face, (1100 + 100 * index, 600))
        noisy = np.asarray(canvas, np.int16) + rng.normal(0, 4, (SIZE[1], SIZE[0], 1)).astype(np.int16)
        path = folder / f"camera-{index}.jpg"
        Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).save(path, "JPEG", quality=92)
        paths.append(path)
    return paths


def plain(paths: list[Path]) -> list[Image.Image]:
    """What a straightforward pipeline does: decode every pixel, then resize."""
    results = []
    for path in paths:
        image = Image.open(path).convert("RGB")
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        results.append(image)
    return results


def ours(paths: list[Path]) -> list[Image.Image]:
    uploads = [PhotoUpload.from_path(path) for path in paths]
    return [photo.image for photo in prepare(uploads, max_bytes=50 << 20, budget=BUDGET)]


def timed(function, paths: list[Path]) -> tuple[float, list[Image.Image]]:
    times, result = [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        result = function(paths)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def face_psnr(a: Image.Image, b: Image.Image) -> float:
    face = detect_faces(b)[0]
    box = (face.x, face.y, face.x + face.w, face.y + face.h)
    x = np.asarray(a.crop(box), np.float64)
    y = np.asarray(b.crop(box), np.float64)
    mse = float(((x - y) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = make_photos(Path(folder))
        bytes_in = sum(path.stat().st_size for path in paths)
        plain_s, plain_images = timed(plain, paths)
        ours_s, our_images = timed(ours, paths)
    print(
        json.dumps(
            {
                "photos": len(paths),
                "megapixels_each": SIZE[0] * SIZE[1] / 1e6,
                "plain_decode_and_resize_s": round(plain_s, 4),
                "photomaker_prepare_s": round(ours_s, 4),
                "speedup": round(plain_s / ours_s, 2),
                "file_bytes_in": bytes_in,
                "decoded_pixel_bytes_plain": 4 * SIZE[0] * SIZE[1] * 3,
                "pixel_bytes_out": sum(len(image.tobytes()) for image in our_images),
                "output_size": list(our_images[0].size),
                "face_psnr_db_vs_plain": round(
                    min(face_psnr(a, b) for a, b in zip(our_images, plain_images, strict=True)), 1
                ),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
