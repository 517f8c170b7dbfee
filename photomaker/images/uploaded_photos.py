"""Check and normalise uploaded photos before anything else happens.

Everything that can be wrong with a file is refused here, with the file's name in the message,
before any credit moves. What comes out is an RGB image of at most `max_side` pixels on its long
side, upright as the camera meant it, with no metadata.

Memory is bounded before a pixel is decoded: the header says what decoding will hold
(`photomaker.images.decode_cost`), a photo that needs more than the whole `DecodeBudget` is refused, and the
others wait for room in it. JPEGs are decoded at a reduced scale; other formats are averaged down a
strip at a time as soon as they are decoded, so that their decoded pixels are the only full-size copy.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from photomaker.core.errors import RefusedError
from photomaker.images.decode_budget import DecodeBudget
from photomaker.images.decode_cost import decoding_bytes, pixel_bytes

MAX_PHOTOS = 4
MAX_SIDE = 1024
MAX_PIXELS = 50_000_000
"""A bound on decoded size: a small file that claims more pixels is a decompression bomb."""
MAX_ASPECT_RATIO = 4
"""The longest side at most this many times the shortest: a narrower strip holds no usable face."""

ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
STRIP_PIXELS = 1 << 20
"""About how many pixels of a large image are converted at a time while it is averaged down."""
_AVERAGED_AS_IS = frozenset({"L", "LA", "RGB", "RGBA", "CMYK", "I", "F"})
"""Modes Pillow's `reduce` averages as they are (transparency premultiplied); strips of others are made RGB first."""
WORKING_COPIES = 3
"""Copies of the averaged-down image that turning it upright, RGB and `max_side` long hold at once."""


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
        rgba = image if image.mode in ("RGBA", "LA") else image.convert("RGBA")
        white = Image.new("RGB", image.size, (255, 255, 255))
        white.paste(rgba, mask=rgba)
        return white
    return image.convert("RGB")


def _reduction(size: tuple[int, int], max_side: int) -> int:
    """The whole factor that averages an image down to between `max_side` and twice that on its long side."""
    return max(1, max(size) // max_side)


def _averaged_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """The size `_reduced` gives an image of `size`."""
    factor = _reduction(size, max_side)
    return math.ceil(size[0] / factor), math.ceil(size[1] / factor)


def _reduced(image: Image.Image, max_side: int) -> Image.Image:
    """`image` averaged down by `_reduction`, a strip of rows at a time: no conversion ever copies the whole of it.
    `image` itself when it is less than twice `max_side` long."""
    factor = _reduction(image.size, max_side)
    if factor == 1:
        return image
    rows = max(1, STRIP_PIXELS // (image.width * factor)) * factor
    parts = []
    for top in range(0, image.height, rows):
        strip = image.crop((0, top, image.width, min(top + rows, image.height)))
        parts.append((strip if strip.mode in _AVERAGED_AS_IS else _to_rgb(strip)).reduce(factor))
    reduced = Image.new(parts[0].mode, _averaged_size(image.size, max_side))
    for number, part in enumerate(parts):
        reduced.paste(part, (0, number * rows // factor))
    return reduced


def _turn_upright(image: Image.Image, orientation: object) -> None:
    """Turn `image` in place as the EXIF (or XMP) `orientation` read from the photo it was made from says."""
    if orientation is not None:
        image.getexif()[ExifTags.Base.Orientation] = orientation
    ImageOps.exif_transpose(image, in_place=True)


def _small_rgb(image: Image.Image, max_side: int) -> Image.Image:
    """The opened photo decoded, averaged down, upright and RGB, at most `max_side` long."""
    image.load()
    orientation = image.getexif().get(ExifTags.Base.Orientation)
    reduced = _reduced(image, max_side)
    _turn_upright(reduced, orientation)
    return _shrink(_to_rgb(reduced), max_side)


def _working_bytes(averaged_size: tuple[int, int]) -> int:
    """What `_small_rgb` holds besides the decoded pixels: a few strips, then copies of the averaged-down image."""
    return WORKING_COPIES * pixel_bytes("RGBA", averaged_size) + 3 * pixel_bytes("RGBA", (STRIP_PIXELS, 1))


def _too_much_to_open(
    name: str, full_size: tuple[int, int], image_format: str, *, decoding: int, room: int
) -> RefusedError:
    """The refusal of a photo whose decoding needs more than the `room` a budget leaves beside the working copies
    of any photo, with the most pixels a photo of its format and mode may have."""
    width, height = full_size
    most_pixels = max(0, room) * width * height // decoding
    return RefusedError(
        "PHOTO_TOO_LARGE",
        f"{name} is {width}x{height} pixels; this app opens a {ACCEPTED_FORMATS[image_format]} photo like it "
        f"up to {most_pixels // 1_000_000} megapixels. Resize it and upload it again.",
    )


def _shrink(image: Image.Image, max_side: int) -> Image.Image:
    """Fit the long side into `max_side`; area averaging is sharp when shrinking and fast."""
    long_side = max(image.size)
    if long_side <= max_side:
        return image
    size = (max(1, round(image.width * max_side / long_side)), max(1, round(image.height * max_side / long_side)))
    return Image.fromarray(cv2.resize(np.asarray(image), size, interpolation=cv2.INTER_AREA))


def prepare_one(
    upload: PhotoUpload, *, max_bytes: int, budget: DecodeBudget, max_side: int = MAX_SIDE
) -> PreparedPhoto:
    """One upload, checked and normalised within `budget`, or a RefusedError naming the file."""
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
            decoding = decoding_bytes(image, full_size=(width, height))
            need = decoding + _working_bytes(_averaged_size(image.size, max_side))
            if need > budget.total_bytes:
                room = budget.total_bytes - _working_bytes((2 * max_side, 2 * max_side))
                raise _too_much_to_open(name, (width, height), image.format, decoding=decoding, room=room)
            with budget.held(need), closing(image):
                rgb = _small_rgb(image, max_side)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RefusedError(
            "PHOTO_TOO_LARGE", f"{name} has too many pixels to open safely; resize it and upload it again."
        ) from exc
    except UnidentifiedImageError as exc:
        raise _refuse_invalid(name, "is not an image we can read") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise _refuse_invalid(name, "is damaged or incomplete") from exc
    rgb.info = {}
    return PreparedPhoto(name=name, image=rgb, original_size=(width, height), bytes_in=size)


def prepare(
    uploads: Sequence[PhotoUpload], *, max_bytes: int, budget: DecodeBudget, max_side: int = MAX_SIDE
) -> list[PreparedPhoto]:
    """All uploads of one request: 1 to `MAX_PHOTOS` photos, each checked and normalised within `budget`."""
    if not uploads:
        raise RefusedError("NO_PHOTOS", f"Upload 1 to {MAX_PHOTOS} photos of your face to make avatars.")
    if len(uploads) > MAX_PHOTOS:
        raise RefusedError(
            "TOO_MANY_PHOTOS",
            f"You uploaded {len(uploads)} photos; use at most {MAX_PHOTOS} photos of the same person.",
        )
    return [prepare_one(upload, max_bytes=max_bytes, budget=budget, max_side=max_side) for upload in uploads]
