"""The offline preview engine: the user's own face, framed as a headshot and styled on the CPU.

No weights, no network: it makes the whole product usable offline and in tests. Its output is
a stand-in for PhotoMaker, so every image carries a "PREVIEW" badge and every result says so.

How the images of one request differ, so that none repeats another (a user pays for each):
- **Framing.** Each image draws its own framing from the seed: a zoom, a sideways and vertical
  shift and a small tilt. Zooms come from as many bands as images (at least four), dealt out by a
  permutation of the seed, so no two images of a request share a band, whatever the photos.
- **Light.** Each image gets a key light from its own side (a brightness gradient across the
  frame), also from a band of its own, and the style's own randomness (grain, sparkles, facets).
- **Photos.** Image i is built on photo i mod n (its framing, hair, clothes and background), and
  the other photos, framed alike, give its face half of its broad shading and colouring
  (`OTHERS_SHARE`; the features stay the base photo's, as face boxes line faces up only roughly):
  every photo shapes every face, as PhotoMaker mixes the identity of all photos, so with fewer
  images than photos the others still count. Where a framing reaches past a photo cut close
  around the face, a blur of the photo's edge fills in, so wide framings stay wide.
- **Style.** The face keeps the share of the photo that the style strength leaves it; the rest of
  the frame (hair, clothes, background) takes more of the style, so the style shows clearly while
  the face stays the person's.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from photomaker.engines.base import GenerationRequest, GenerationResult, ProgressFn
from photomaker.engines.preview.image_effects import FaceSpot, wide_blur
from photomaker.engines.preview.styles import FILTERS, SHAPES
from photomaker.faces.analysis import FacePhoto

WORK_SIDE = 768
"""Styles run at most at this size and are then resized: fast on two cores, sharp enough."""

FACE_SHARE = 0.38
"""The face's width as a share of the headshot's width, at zoom 1."""

FACE_HEIGHT = 0.45
"""The face's centre, as a share of the headshot's height from the top."""

ZOOMS = (0.78, 1.15)
"""The range of zooms on the face, split into one band per image."""

MIN_BANDS = 4
"""Zoom and light bands per request, at least: up to four images, image i of a seed is the same however many are
asked for."""

MAX_SHIFT = 0.06
"""The furthest the face moves off its place, as a share of the frame."""

MAX_TILT = 6.0
"""The largest tilt of the head, in degrees."""

LIGHT = (0.25, 0.4)
"""The key light's strength: the brightness gained on its side and lost on the other."""

OTHERS_SHARE = 0.5
"""How much of each face comes from the request's other photos (none with one photo)."""


def style_weight(strength: int) -> float:
    """How much of the styled image shows over the photo's face, from style strength 0-100."""
    return 0.25 + 0.75 * max(0, min(100, strength)) / 100


@dataclass(frozen=True)
class Framing:
    """One image's own look: where the face sits, how it is tilted and where the light comes from."""

    zoom: float
    shift: tuple[float, float]
    """Sideways and down, as shares of the frame."""
    tilt: float
    """Degrees, anticlockwise."""
    light_angle: float
    light: float


def framings(seed: int, count: int) -> list[Framing]:
    """A framing per image, each in its own zoom band and light direction; the same for a seed."""
    bands = max(MIN_BANDS, count)
    dealer = np.random.default_rng(seed)
    zoom_bands, light_bands = dealer.permutation(bands), dealer.permutation(bands)
    looks = []
    for index in range(count):
        rng = np.random.default_rng([seed, index, 1])  # a stream of its own, apart from the style's
        low, high = ZOOMS
        looks.append(
            Framing(
                zoom=low + (high - low) * (zoom_bands[index] + rng.uniform(0.1, 0.9)) / bands,
                shift=(rng.uniform(-MAX_SHIFT, MAX_SHIFT), rng.uniform(-MAX_SHIFT, MAX_SHIFT) / 2),
                tilt=rng.uniform(-MAX_TILT, MAX_TILT),
                light_angle=2 * np.pi * (light_bands[index] + rng.uniform(0.1, 0.9)) / bands,
                light=rng.uniform(*LIGHT),
            )
        )
    return looks


@dataclass(frozen=True)
class Placement:
    """Where a framing puts a photo's face in the headshot."""

    matrix: np.ndarray
    """2x3: photo pixels to headshot pixels."""
    face: FaceSpot


def place(source: FacePhoto, framing: Framing, *, side: int) -> Placement:
    """The face at its framing's size, shift and tilt.

    The crop is zoomed from at most the photo's short side, so the wide framings of a photo cut close
    around the face reach past its edges rather than all stopping at the same crop.
    """
    image, face = source.photo.image, source.face
    crop = min(face.w / FACE_SHARE, min(image.size)) / framing.zoom
    scale = side / crop
    center = (side * (0.5 + framing.shift[0]), side * (FACE_HEIGHT + framing.shift[1]))
    matrix = cv2.getRotationMatrix2D(face.center, framing.tilt, scale)
    matrix[:, 2] += np.subtract(center, face.center)
    return Placement(matrix=matrix, face=FaceSpot.at(center, face.w * scale, side=side))


def frame_headshot(source: FacePhoto, placement: Placement, *, side: int) -> np.ndarray:
    """The photo moved into place; where the frame reaches past the photo, a blur of its edge fills in."""
    matrix = placement.matrix.copy()
    shrink = max(1, int(1 / np.hypot(*matrix[0, :2])))  # shrink a big photo first: warping alone would alias
    pixels = np.asarray(source.photo.image.reduce(shrink) if shrink > 1 else source.photo.image)
    matrix[:, :2] *= shrink
    framed = cv2.warpAffine(pixels, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = cv2.warpAffine(np.full(pixels.shape[:2], 255, np.uint8), matrix, (side, side), flags=cv2.INTER_LINEAR)
    if inside.min() == 255:
        return framed
    alpha = cv2.GaussianBlur(inside, (0, 0), side / 150).astype(np.float32)[..., None] / 255
    fill = wide_blur(framed, side / 30)
    return (framed * alpha + fill * (1 - alpha)).astype(np.uint8)


def mix_faces(base: np.ndarray, others: list[np.ndarray], face: FaceSpot) -> np.ndarray:
    """`base` with the broad shading and colouring of `others` (framed alike) mixed into its face.

    Only what is coarser than the features mixes in: face boxes line faces up only roughly, and
    mixing the features themselves would show two mouths.
    """
    if not others:
        return base
    sigma = face.width / 16
    broad = wide_blur(np.stack(others).mean(axis=0, dtype=np.float32), sigma)
    own = wide_blur(base.astype(np.float32), sigma)
    share = OTHERS_SHARE * face.mask(radius=1.2)[..., None]
    return np.clip(base + share * (broad - own), 0, 255).astype(np.uint8)


def light(image: np.ndarray, framing: Framing) -> np.ndarray:
    """A key light from the framing's side: brighter there, darker opposite."""
    side = image.shape[0]
    ys, xs = np.ogrid[-1 : 1 : side * 1j, -1 : 1 : side * 1j]
    gain = 1 + framing.light * (xs * np.cos(framing.light_angle) + ys * np.sin(framing.light_angle)) / np.sqrt(2)
    return np.clip(image * gain[..., None].astype(np.float32), 0, 255).astype(np.uint8)


def blend(photo: np.ndarray, styled: np.ndarray, face: FaceSpot, weight: float) -> np.ndarray:
    """The style over the photo: `weight` of it on the face, more (its square root) everywhere else."""
    mask = face.mask(radius=1.3)[..., None]
    amount = weight * mask + np.sqrt(weight) * (1 - mask)
    return (photo * (1 - amount) + styled * amount).round().astype(np.uint8)


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
        photos = request.photos
        images = []
        for index, framing in enumerate(framings(request.seed, request.num_images)):
            progress(index / request.num_images, f"Styling image {index + 1} of {request.num_images} (preview)")
            base, *rest = photos[index % len(photos) :] + photos[: index % len(photos)]
            placement = place(base, framing, side=side)
            others = [frame_headshot(other, place(other, framing, side=side), side=side) for other in rest]
            photo = light(mix_faces(frame_headshot(base, placement, side=side), others, placement.face), framing)
            if shape := SHAPES.get(request.style.name):
                photo = shape(photo, placement.face)
            styled = style_filter(photo, np.random.default_rng([request.seed, index]), placement.face)
            image = Image.fromarray(blend(photo, styled, placement.face, weight))
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
