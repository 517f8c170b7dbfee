"""What decoding a photo holds in memory, read from its header before a pixel is decoded.

A file's size says little: a 200 KB PNG of one colour decodes to 196 MB. What Pillow 12 and its
libraries hold at the peak of a decode, measured over a fresh process (`tests/test_decode_cost.py`):

- **Pillow** keeps a pixel in 4 bytes in every mode of more than one band (RGB included), else in
  the size of its one band (1 byte for L and P, 2 for 16-bit grey).
- **WebP** goes through libwebp's animation decoder, which keeps two RGBA canvases of its own and
  hands the frame over as a copy: 12 bytes a pixel besides Pillow's image, until the image is freed.
- **Progressive JPEG**: libjpeg keeps every coefficient of the whole image (2 bytes a sample)
  whatever scale it decodes at; a baseline JPEG is decoded a few rows at a time.
"""

from __future__ import annotations

import math

from PIL import Image, ImageMode

WEBP_DECODER_BYTES_PER_PIXEL = 12
JPEG_COEFFICIENT_BYTES = 2


def pixel_bytes(mode: str, size: tuple[int, int]) -> int:
    """Bytes Pillow allocates for an image of `mode` and `size`."""
    described = ImageMode.getmode(mode)
    per_pixel = 4 if len(described.bands) > 1 else int(described.typestr[-1])
    return per_pixel * size[0] * size[1]


def _jpeg_coefficient_bytes(image: Image.Image, full_size: tuple[int, int]) -> int:
    """The coefficients libjpeg keeps for a progressive JPEG: every component's samples at full size."""
    layers: list[tuple[str, int, int, int]] = getattr(image, "layer", [])
    if not layers or not image.info.get("progressive"):
        return 0
    most_h = max(layer[1] for layer in layers)
    most_v = max(layer[2] for layer in layers)
    samples = sum(math.ceil(full_size[0] * h / most_h) * math.ceil(full_size[1] * v / most_v) for _, h, v, _ in layers)
    return JPEG_COEFFICIENT_BYTES * samples


def decoding_bytes(image: Image.Image, *, full_size: tuple[int, int]) -> int:
    """The most memory decoding `image` (opened and drafted, not loaded) holds; `full_size` is its size before
    any draft."""
    decoded = pixel_bytes(image.mode, image.size)
    if image.format == "WEBP":
        return decoded + WEBP_DECODER_BYTES_PER_PIXEL * image.size[0] * image.size[1]
    if image.format == "JPEG":
        return decoded + _jpeg_coefficient_bytes(image, full_size)
    return decoded
