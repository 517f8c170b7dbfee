"""The preview engine's look for each PhotoMaker style: real image processing, no model.

Each filter takes an RGB uint8 array, a seeded random generator and where the face is, and
returns a new array of the same size; the same seed gives the same pixels. Filters that would hide
the face (blur, sparkles, big facets, neon) keep it clear, so the avatar still looks like the person.
A style can also reshape the photo before it is styled (`SHAPES`: Disney Character's big head).
"""

from __future__ import annotations

from collections.abc import Callable
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


Filter = Callable[[np.ndarray, np.random.Generator, FaceSpot], np.ndarray]
Shape = Callable[[np.ndarray, FaceSpot], np.ndarray]
"""Reshapes the photo itself, before it is styled and blended, so that the two still line up."""


def _clip(values: np.ndarray) -> np.ndarray:
    return np.clip(values, 0, 255).astype(np.uint8)


def wide_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur `sigma` pixels wide, done at a quarter of the size: as smooth, and many times faster."""
    height, width = image.shape[:2]
    small = cv2.resize(image, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma / 4), (width, height), interpolation=cv2.INTER_LINEAR)


def _vignette(image: np.ndarray, strength: float) -> np.ndarray:
    height, width = image.shape[:2]
    ys, xs = np.ogrid[-1 : 1 : height * 1j, -1 : 1 : width * 1j]
    mask = 1 - strength * np.clip(np.sqrt(xs**2 + ys**2) - 0.35, 0, None)
    return _clip(image * mask[..., None])


def _grain(image: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    noise = rng.normal(0, amount, image.shape[:2]).astype(np.float32)
    return _clip(image.astype(np.float32) + noise[..., None])


def _saturate(image: np.ndarray, factor: float) -> np.ndarray:
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * factor, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def _gradient_map(image: np.ndarray, dark: tuple[int, int, int], light: tuple[int, int, int]) -> np.ndarray:
    """Recolour by brightness: shadows take `dark`, highlights `light`."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)[..., None] / 255
    return _clip(np.array(dark, np.float32) * (1 - gray) + np.array(light, np.float32) * gray)


def _hue(hue: int, *, saturation: int) -> np.ndarray:
    """A light colour of `hue` (OpenCV's 0-180), as RGB floats."""
    return cv2.cvtColor(np.array([[[hue, saturation, 250]]], np.uint8), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def _screen(base: np.ndarray, layer: np.ndarray) -> np.ndarray:
    return _clip(255 - (255 - base.astype(np.float32)) * (255 - layer.astype(np.float32)) / 255)


def _contrast_curve(softness: float) -> np.ndarray:
    """A lookup table for an S-shaped tone curve: deeper shadows, brighter highlights; lower is harder."""
    curve = 255 / (1 + np.exp(-(np.arange(256) - 128) / softness))
    return _clip((curve - curve[0]) * 255 / (curve[-1] - curve[0]))


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


def _painted(image: np.ndarray, *, strokes: int = 0) -> np.ndarray:
    """Smooth painted shapes, detail flattened and edges kept, with brush `strokes` that many pixels long
    (none for 0); done at half size, the scale of brush work."""
    height, width = image.shape[:2]
    small = cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    for _ in range(2):
        small = cv2.bilateralFilter(small, 9, 60, 9)
    if strokes:
        small = _brush_strokes(small, max(3, strokes // 2) | 1)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def _backdrop(image: np.ndarray, face: FaceSpot, top: np.ndarray, bottom: np.ndarray, *, light: float) -> np.ndarray:
    """Everything but the head recoloured from `top` to `bottom`, its lightness scaled by `light` (shapes kept)."""
    rows = np.linspace(0, 1, image.shape[0], dtype=np.float32)[:, None, None]
    colour = np.repeat(_clip(top * (1 - rows) + bottom * rows), image.shape[1], axis=1)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    tinted = cv2.cvtColor(colour, cv2.COLOR_RGB2LAB).astype(np.float32)
    tinted[..., 0] = lab[..., 0] * light
    recoloured = cv2.cvtColor(_clip(tinted), cv2.COLOR_LAB2RGB)
    keep = face.mask(radius=2.2)[..., None]
    return _clip(image * keep + recoloured * (1 - keep))


def _bulge(image: np.ndarray, center: tuple[float, float], radius: float, amount: float) -> np.ndarray:
    """`image` magnified around `center`, by `amount` at the middle, fading out over about `radius` pixels."""
    ys, xs = np.indices(image.shape[:2], np.float32)
    dx, dy = xs - center[0], ys - center[1]
    pull = 1 - amount * np.exp(-(dx**2 + dy**2) / radius**2)
    map_x, map_y = (center[0] + dx * pull).astype(np.float32), (center[1] + dy * pull).astype(np.float32)
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _edges(image: np.ndarray, *, block: int = 9, c: int = 5) -> np.ndarray:
    """Ink lines: 255 where the image is flat, 0 on strong edges."""
    gray = cv2.medianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), 5)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, c)


def photographic(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """A 35 mm portrait at a wide aperture: the face sharp, the background melting into bokeh; warm film."""
    height, width = image.shape[:2]
    small = cv2.resize(image, (width // 4, height // 4), interpolation=cv2.INTER_AREA)
    radius = max(2, width // 110)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)).astype(np.float32)
    linear = (small.astype(np.float32) / 255) ** 2.2  # blur light, not pixel values: highlights become discs
    blurred = np.maximum(cv2.filter2D(linear, -1, disc / disc.sum()), 0) ** (1 / 2.2) * 255
    bokeh = cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR)
    focus = face.mask(radius=1.8)[..., None]
    defocused = image * focus + bokeh * (1 - focus)
    graded = cv2.LUT(_clip(defocused), _contrast_curve(40))
    warm = _clip(graded * np.array([1.1, 1.0, 0.84], np.float32) + np.array([6, 2, 0], np.float32))
    sharp = cv2.addWeighted(warm, 1.4, cv2.GaussianBlur(warm, (0, 0), 2), -0.4, 0)
    return _grain(_vignette(sharp, 0.6), rng, 4)


def cinematic(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """Teal shadows, orange highlights, film grain and letterbox bars."""
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)[..., None] / 255
    toned = image * (1 - 0.35 * (1 - luma)) + np.array([0, 70, 90], np.float32) * 0.35 * (1 - luma)
    toned = toned * (1 - 0.25 * luma) + np.array([255, 150, 60], np.float32) * 0.25 * luma
    result = _grain(_vignette(_clip(toned), 0.7), rng, 7)
    bar = image.shape[0] // 9
    result[:bar] = 0
    result[-bar:] = 0
    return result


def cartoon_proportions(image: np.ndarray, face: FaceSpot) -> np.ndarray:
    """A bigger head and bigger eyes, as animated characters have (the eyes where a frontal face's box has them)."""
    (x, y), width = face.center, face.width
    shaped = _bulge(image, (x, y), 1.4 * width, 0.18)
    for side in (-1, 1):
        shaped = _bulge(shaped, (x + side * 0.21 * width, y - 0.24 * width), 0.14 * width, 0.22)
    return shaped


def disney_character(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """A 3D cartoon (its big head from `cartoon_proportions`): plastic-smooth skin shaded in soft bands,
    bright colour, soft outlines, a pastel set."""
    height, width = image.shape[:2]
    small = cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    smooth = cv2.edgePreservingFilter(small, flags=cv2.RECURS_FILTER, sigma_s=60, sigma_r=0.4)
    smooth = cv2.resize(smooth, (width, height), interpolation=cv2.INTER_LINEAR)
    lab = cv2.cvtColor(smooth, cv2.COLOR_RGB2LAB).astype(np.float32)
    level = lab[..., 0] / 255 * 5
    step = np.clip((level % 1 - 0.3) / 0.4, 0, 1)
    lab[..., 0] = 0.3 * lab[..., 0] + 0.7 * (np.floor(level) + step * step * (3 - 2 * step)) * 255 / 5
    shaded = cv2.cvtColor(_clip(lab), cv2.COLOR_LAB2RGB)
    bright = _saturate(_clip(shaded * np.array([1.08, 1.04, 1.0], np.float32) + 16), 1.6)
    outline = cv2.GaussianBlur(_edges(image, block=13, c=9), (3, 3), 0).astype(np.float32)[..., None] / 255
    inked = _clip(bright * (0.6 + 0.4 * outline))
    top, bottom = (_hue(hue, saturation=110) for hue in rng.integers(0, 180, 2))
    staged = _backdrop(inked, face, top, bottom, light=1.0)
    return _screen(staged, _clip(wide_blur(staged, 12) * 0.3))


PALETTES = (((15, 45, 95), (255, 205, 150)), ((70, 20, 85), (255, 225, 165)), ((10, 70, 70), (255, 215, 190)))
"""Shadow and light colours for digital paintings: teal and peach, plum and gold, pine and rose."""


def digital_art(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """A digital painting: brush strokes along the forms, crisp edges, vivid colour in a palette of its own."""
    strokes = _painted(image, strokes=image.shape[1] // 60)
    crisp = cv2.addWeighted(image, 1.8, cv2.GaussianBlur(image, (0, 0), 2), -0.8, 0)
    painted = cv2.addWeighted(strokes, 0.75, crisp, 0.25, 0)
    shadow, light = PALETTES[int(rng.integers(len(PALETTES)))]
    toned = cv2.addWeighted(painted, 0.45, _gradient_map(painted, shadow, light), 0.55, 0)
    return _saturate(cv2.LUT(toned, _contrast_curve(32)), 1.8)


def fantasy_art(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """A painted fantasy portrait: violet shadows, golden light, a night-blue sky, an aura and sparkles around it."""
    painted = _painted(image)
    toned = _saturate(
        cv2.addWeighted(painted, 0.3, _gradient_map(painted, (60, 10, 120), (255, 210, 120)), 0.7, 0), 1.4
    )
    sky = _backdrop(toned, face, np.array([50, 40, 170], np.float32), np.array([150, 60, 180], np.float32), light=0.6)
    aura = np.exp(-((face.distance / 2.2) ** 2)) * (1 - face.mask(radius=1.1))
    glow = _screen(sky, _clip(aura[..., None] * np.array([255, 190, 90], np.float32)))
    glow = _screen(glow, _clip(wide_blur(glow, 15) * 0.3))
    height, width = glow.shape[:2]
    clear = face.mask(radius=1.3)
    for _ in range(height * width // 2000):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        if clear[y, x] > 0.2:
            continue
        radius = int(rng.integers(1, max(2, width // 150) + 2))
        colour = ((255, 240, 180), (255, 255, 255), (210, 180, 255))[int(rng.integers(0, 3))]
        cv2.circle(glow, (x, y), radius, colour, -1, lineType=cv2.LINE_AA)
        if radius > 2:
            for dx, dy in ((3 * radius, 0), (0, 3 * radius)):
                cv2.line(glow, (x - dx, y - dy), (x + dx, y + dy), colour, 1, lineType=cv2.LINE_AA)
    return cv2.GaussianBlur(glow, (3, 3), 0)


def neonpunk(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """Dark purple shadows, magenta highlights and glowing cyan edges."""
    base = _gradient_map(image, (20, 0, 45), (255, 60, 200))
    edges = cv2.Canny(cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), (5, 5), 0), 40, 110)
    edges = cv2.dilate(edges, np.ones((2, 2), np.uint8))
    neon = np.zeros_like(image)
    neon[edges > 0] = (0, 255, 255)
    neon = _clip(neon * (1 - 0.7 * face.mask(radius=1.1))[..., None])  # faint on the face, which it would hide
    glow = cv2.GaussianBlur(neon, (0, 0), 4)
    return _screen(_screen(base, glow), neon)


def enhance(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """An award-winning photo: strong local contrast (CLAHE), crisp detail, richer colour, a deep vignette."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=4.0, tileGridSize=(8, 8)).apply(lab[..., 0])
    contrasted = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    sharp = cv2.addWeighted(contrasted, 1.8, cv2.GaussianBlur(contrasted, (0, 0), 3), -0.8, 0)
    return _vignette(_saturate(sharp, 1.35), 0.5)


def comic_book(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """Flat posterised colour, black ink outlines and halftone dots in the shadows."""
    smooth = cv2.bilateralFilter(cv2.bilateralFilter(image, 9, 80, 80), 9, 80, 80)
    flat = _saturate(_clip((smooth // 64) * 64 + 32), 1.6)
    ink = _edges(image, block=9, c=6)
    height, width = image.shape[:2]
    step = max(4, width // 128)
    ys, xs = np.mgrid[0:height, 0:width]
    dots = ((xs % step - step / 2) ** 2 + (ys % step - step / 2) ** 2) < (step / 3) ** 2
    shadow = cv2.cvtColor(smooth, cv2.COLOR_RGB2GRAY) < 90
    flat[dots & shadow] = (flat[dots & shadow] * 0.4).astype(np.uint8)
    flat[ink == 0] = 0
    return flat


def lowpoly(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """Flat-shaded facets, each the mean colour under it: large over the background, small over the face and
    cornered on its features (eyes, nostrils, mouth), so it keeps its likeness."""
    height, width = image.shape[:2]
    points: list[np.ndarray] = [np.array([[0, 0], [width - 1, 0], [0, height - 1], [width - 1, height - 1]])]
    on_face = face.mask(radius=1.4) > 0.5
    coarse, fine = max(16, width // 6), max(6, width // 60)
    for step, wanted in ((coarse, False), (fine, True)):
        ys, xs = np.mgrid[step // 2 : height : step, step // 2 : width : step]
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
        grid = grid[on_face[grid[:, 1].astype(int), grid[:, 0].astype(int)] == wanted]
        jittered = grid + rng.uniform(-step / 3, step / 3, grid.shape).astype(np.float32)
        points.append(np.clip(jittered, 0, [width - 1, height - 1]))
        across, down = np.arange(0, width, step), np.arange(0, height, step)
        points += [np.stack([across, np.full_like(across, y)], 1) for y in (0, height - 1)]
        points += [np.stack([np.full_like(down, x), down], 1) for x in (0, width - 1)]
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    corners = cv2.goodFeaturesToTrack(gray, 150, 0.01, fine / 2, mask=on_face.astype(np.uint8))
    if corners is not None:
        points.append(np.asarray(corners).reshape(-1, 2))
    subdiv = cv2.Subdiv2D((0, 0, width, height))
    subdiv.insert([(float(x), float(y)) for x, y in np.concatenate(points)])
    triangles = np.asarray(subdiv.getTriangleList()).reshape(-1, 3, 2)
    triangles = triangles[((triangles >= 0) & (triangles <= [width, height])).all(axis=(1, 2))]
    labels = np.zeros((height, width), np.int32)
    for index, triangle in enumerate(np.round(triangles).astype(np.int32), start=1):
        cv2.fillConvexPoly(labels, triangle, index)
    counts = np.bincount(labels.ravel(), minlength=len(triangles) + 1)[:, None]
    sums = np.stack([np.bincount(labels.ravel(), image[..., c].ravel(), len(triangles) + 1) for c in range(3)], 1)
    colours = sums / np.maximum(counts, 1) * rng.uniform(0.85, 1.15, (len(sums), 1))
    return _clip(colours[labels])


def line_art(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """Dark pencil lines on warm paper."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    dodge = cv2.divide(gray, 255 - cv2.GaussianBlur(255 - gray, (0, 0), 8), scale=256)
    lines = np.where(dodge < 235, np.clip(dodge.astype(np.float32) * 0.8 - 40, 0, 255), 255).astype(np.uint8)
    drawn = cv2.min(lines, _edges(image, block=11, c=7))
    paper = np.array([250, 246, 236], np.float32)
    return _clip(drawn[..., None].astype(np.float32) / 255 * paper)


def no_style(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """The framed photo as it is."""
    return image.copy()


FILTERS: dict[str, Filter] = {
    "Photographic (Default)": photographic,
    "Cinematic": cinematic,
    "Disney Character": disney_character,
    "Digital Art": digital_art,
    "Fantasy art": fantasy_art,
    "Neonpunk": neonpunk,
    "Enhance": enhance,
    "Comic book": comic_book,
    "Lowpoly": lowpoly,
    "Line art": line_art,
    "(No style)": no_style,
}

SHAPES: dict[str, Shape] = {"Disney Character": cartoon_proportions}
