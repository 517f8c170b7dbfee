"""Image effects the preview engine's styles are made of: tone, colour, grain, paint, ink, backdrops, bulges.

Each takes and returns an RGB uint8 array (or a lookup table, a mask) and uses no model; `FaceSpot` says where
the face is, so that an effect can keep it clear.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np


@dataclass(frozen=True)
class FaceSpot:
    """Where the face is in a square image."""

    center: tuple[float, float]
    width: float
    distance: np.ndarray = field(compare=False, repr=False)
    """Per pixel, how far from the face's centre, in half face widths (an upright ellipse: about 1 at its edge)."""

    @classmethod
    def at(cls, center: tuple[float, float], width: float, *, side: int) -> FaceSpot:
        """A face `width` pixels wide centred on `center`, in an image `side` pixels square."""
        ys, xs = np.ogrid[0:side, 0:side]
        half = width / 2
        distance = np.sqrt(((xs - center[0]) / half) ** 2 + ((ys - center[1]) / (1.25 * half)) ** 2)
        return cls(center=center, width=width, distance=distance.astype(np.float32))

    def mask(self, *, radius: float) -> np.ndarray:
        """1 over the face out to about `radius` half widths, falling smoothly to 0 beyond."""
        squared = (self.distance / radius) ** 2
        return np.exp(-(squared**2)).astype(np.float32)


def clip(values: np.ndarray) -> np.ndarray:
    """Values as pixels: clipped to 0-255, as uint8."""
    return np.clip(values, 0, 255).astype(np.uint8)


def wide_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur `sigma` pixels wide, done at a quarter of the size: as smooth, and many times faster."""
    height, width = image.shape[:2]
    small = cv2.resize(image, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma / 4), (width, height), interpolation=cv2.INTER_LINEAR)


def vignette(image: np.ndarray, strength: float) -> np.ndarray:
    """The corners darkened by `strength`, drawing the eye to the middle."""
    height, width = image.shape[:2]
    ys, xs = np.ogrid[-1 : 1 : height * 1j, -1 : 1 : width * 1j]
    mask = 1 - strength * np.clip(np.sqrt(xs**2 + ys**2) - 0.35, 0, None)
    return clip(image * mask[..., None])


def grain(image: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Film grain: the same noise on every channel, `amount` levels strong."""
    noise = rng.normal(0, amount, image.shape[:2]).astype(np.float32)
    return clip(image.astype(np.float32) + noise[..., None])


def saturate(image: np.ndarray, factor: float) -> np.ndarray:
    """Colour made `factor` times as saturated."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * factor, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def gradient_map(image: np.ndarray, dark: tuple[int, int, int], light: tuple[int, int, int]) -> np.ndarray:
    """Recolour by brightness: shadows take `dark`, highlights `light`."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)[..., None] / 255
    return clip(np.array(dark, np.float32) * (1 - gray) + np.array(light, np.float32) * gray)


def light_colour(hue: int, *, saturation: int) -> np.ndarray:
    """A light colour of `hue` (OpenCV's 0-180), as RGB floats."""
    return cv2.cvtColor(np.array([[[hue, saturation, 250]]], np.uint8), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def screen(base: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """`layer` lightening `base`, as light adds up (a glow never darkens)."""
    return clip(255 - (255 - base.astype(np.float32)) * (255 - layer.astype(np.float32)) / 255)


def contrast_curve(softness: float) -> np.ndarray:
    """A lookup table for an S-shaped tone curve: deeper shadows, brighter highlights; lower is harder."""
    curve = 255 / (1 + np.exp(-(np.arange(256) - 128) / softness))
    return clip((curve - curve[0]) * 255 / (curve[-1] - curve[0]))


def _brush_strokes(image: np.ndarray, length: int) -> np.ndarray:
    """Paint smeared along the image's own contours, as brush strokes follow a form."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx, gy = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=5), cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=5)
    jxx, jyy, jxy = (cv2.GaussianBlur(product, (0, 0), 4) for product in (gx * gx, gy * gy, gx * gy))
    along = 0.5 * np.arctan2(2 * jxy, jxx - jyy) + np.pi / 2
    directions = 6
    nearest = np.round(along % np.pi / np.pi * directions).astype(int) % directions
    strokes = np.empty_like(image)
    for direction in range(directions):
        kernel = np.zeros((length, length), np.float32)
        middle, angle = (length - 1) / 2, direction * np.pi / directions
        offset = np.array([np.cos(angle), np.sin(angle)]) * middle
        cv2.line(
            kernel, tuple(np.round(middle - offset).astype(int)), tuple(np.round(middle + offset).astype(int)), 1.0
        )
        chosen = nearest == direction
        strokes[chosen] = cv2.filter2D(image, -1, kernel / kernel.sum())[chosen]
    return strokes


def painted(image: np.ndarray, *, strokes: int = 0) -> np.ndarray:
    """Smooth painted shapes, detail flattened and edges kept, with brush `strokes` that many pixels long
    (none for 0); done at half size, the scale of brush work."""
    height, width = image.shape[:2]
    small = cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    for _ in range(2):
        small = cv2.bilateralFilter(small, 9, 60, 9)
    if strokes:
        small = _brush_strokes(small, max(3, strokes // 2) | 1)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def backdrop(image: np.ndarray, face: FaceSpot, top: np.ndarray, bottom: np.ndarray, *, light: float) -> np.ndarray:
    """Everything but the head recoloured from `top` to `bottom`, its lightness scaled by `light` (shapes kept)."""
    rows = np.linspace(0, 1, image.shape[0], dtype=np.float32)[:, None, None]
    colour = np.repeat(clip(top * (1 - rows) + bottom * rows), image.shape[1], axis=1)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    tinted = cv2.cvtColor(colour, cv2.COLOR_RGB2LAB).astype(np.float32)
    tinted[..., 0] = lab[..., 0] * light
    recoloured = cv2.cvtColor(clip(tinted), cv2.COLOR_LAB2RGB)
    keep = face.mask(radius=2.2)[..., None]
    return clip(image * keep + recoloured * (1 - keep))


def bulge(image: np.ndarray, center: tuple[float, float], radius: float, amount: float) -> np.ndarray:
    """`image` magnified around `center`, by `amount` at the middle, fading out over about `radius` pixels."""
    ys, xs = np.indices(image.shape[:2], np.float32)
    dx, dy = xs - center[0], ys - center[1]
    pull = 1 - amount * np.exp(-(dx**2 + dy**2) / radius**2)
    map_x, map_y = (center[0] + dx * pull).astype(np.float32), (center[1] + dy * pull).astype(np.float32)
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def edges(image: np.ndarray, *, block: int = 9, c: int = 5) -> np.ndarray:
    """Ink lines: 255 where the image is flat, 0 on strong edges."""
    gray = cv2.medianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), 5)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, c)
