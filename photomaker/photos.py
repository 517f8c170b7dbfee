"""Check and normalise uploaded photos before anything else happens.

Everything that can be wrong with a file is refused here, with the file's name in the message,
before any credit moves. What comes out is an RGB image of at most `max_side` pixels on its long
side, upright as the camera meant it, with no metadata.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from photomaker.errors import RefusedError

MAX_PHOTOS = 4
MAX_SIDE = 1024
MAX_PIXELS = 50_000_000
"""A bound on decoded size: a small file that claims more pixels is a decompression bomb."""
MAX_ASPECT_RATIO = 4
"""The longest side at most this many times the shortest: a narrower strip holds no usable face."""

ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}


@dataclass(frozen=True)
class PhotoUpload:
    """A file the user sent: where it is now and the name they know it by."""

    path: Path
    name: str

    @classmethod
    def from_path(cls, path: str | Path, *, name: str | None = None) -> PhotoUpload:
        return cls(Path(path), name or Path(path).name)


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo ready for face detection and the engines."""

    name: str
    image: Image.Image
    original_size: tuple[int, int]
    bytes_in: int


def _megabytes(size: int, *, up: bool) -> str:
    """A byte count in MB to two decimals: files round up and limits down, so a file over a limit reads as more."""
    hundredths = size * 100 / 1_048_576
    return f"{(math.ceil(hundredths) if up else math.floor(hundredths)) / 100:g}"


def _refuse_invalid(name: str, why: str) -> RefusedError:
    return RefusedError("INVALID_PHOTO", f"{name} {why}; upload a JPEG, PNG or WebP photo instead.")


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any mode to 8-bit RGB: transparency onto white, 16-bit and float scaled, CMYK converted."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float32)
        top = 65535.0 if image.mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        image = Image.fromarray(np.clip(values * (255.0 / top), 0, 255).astype(np.uint8), "L")
    if image.mode == "P" or "A" in image.mode or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _shrink(image: Image.Image, max_side: int) -> Image.Image:
    """Fit the long side into `max_side`; area averaging is sharp when shrinking and fast."""
    long_side = max(image.size)
    if long_side <= max_side:
        return image
    size = (max(1, round(image.width * max_side / long_side)), max(1, round(image.height * max_side / long_side)))
    return Image.fromarray(cv2.resize(np.asarray(image), size, interpolation=cv2.INTER_AREA))


def prepare_one(upload: PhotoUpload, *, max_bytes: int, max_side: int = MAX_SIDE) -> PreparedPhoto:
    """One upload, checked and normalised, or a RefusedError naming the file."""
    name = upload.name
    try:
        size = upload.path.stat().st_size
    except OSError as exc:
        raise RefusedError("INVALID_PHOTO", f"{name} could not be read; upload it again.") from exc
    if size == 0:
        raise _refuse_invalid(name, "is empty (0 bytes)")
    if size > max_bytes:
        raise RefusedError(
            "PHOTO_TOO_LARGE",
            f"{name} is {_megabytes(size, up=True)} MB; the limit is {_megabytes(max_bytes, up=False)} MB per photo. "
            "Resize or compress it and upload it again.",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(upload.path)
            if image.format not in ACCEPTED_FORMATS:
                raise _refuse_invalid(name, f"is a {image.format} file")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise RefusedError(
                    "PHOTO_TOO_LARGE",
                    f"{name} is {width}x{height} pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels. "
                    "Resize it and upload it again.",
                )
            long_side = max(width, height)
            if long_side > MAX_ASPECT_RATIO * min(width, height):
                raise RefusedError(
                    "INVALID_PHOTO",
                    f"{name} is {width}x{height} pixels, too long and thin to hold a face; "
                    f"crop it to at most {MAX_ASPECT_RATIO}:1 around your face and upload it again.",
                )
            if image.format == "JPEG" and long_side > max_side:
                image.draft("RGB", (width * max_side // long_side, height * max_side // long_side))
            image.load()
            image = ImageOps.exif_transpose(image)
            rgb = _to_rgb(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RefusedError(
            "PHOTO_TOO_LARGE", f"{name} has too many pixels to open safely; resize it and upload it again."
        ) from exc
    except UnidentifiedImageError as exc:
        raise _refuse_invalid(name, "is not an image we can read") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise _refuse_invalid(name, "is damaged or incomplete") from exc
    rgb = _shrink(rgb, max_side)
    rgb.info = {}
    return PreparedPhoto(name=name, image=rgb, original_size=(width, height), bytes_in=size)


def prepare(uploads: Sequence[PhotoUpload], *, max_bytes: int, max_side: int = MAX_SIDE) -> list[PreparedPhoto]:
    """All uploads of one request: 1 to `MAX_PHOTOS` photos, each checked and normalised."""
    if not uploads:
        raise RefusedError("NO_PHOTOS", f"Upload 1 to {MAX_PHOTOS} photos of your face to make avatars.")
    if len(uploads) > MAX_PHOTOS:
        raise RefusedError(
            "TOO_MANY_PHOTOS",
            f"You uploaded {len(uploads)} photos; use at most {MAX_PHOTOS} photos of the same person.",
        )
    return [prepare_one(upload, max_bytes=max_bytes, max_side=max_side) for upload in uploads]
