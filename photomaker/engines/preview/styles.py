"""The preview engine's look for each PhotoMaker style: real image processing, no model.

Each filter takes an RGB uint8 array, a seeded random generator and where the face is, and
returns a new array of the same size; the same seed gives the same pixels. Filters that would hide
the face (blur, sparkles, big facets, neon) keep it clear, so the avatar still looks like the person.
They are made of `image_effects` (`fx`).
A style can also reshape the photo before it is styled (`SHAPES`: Disney Character's big head).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from photomaker.engines.preview import image_effects as fx
from photomaker.engines.preview.image_effects import FaceSpot

Filter = Callable[[np.ndarray, np.random.Generator, FaceSpot], np.ndarray]
Shape = Callable[[np.ndarray, FaceSpot], np.ndarray]
"""Reshapes the photo itself, before it is styled and blended, so that the two still line up."""


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
    graded = cv2.LUT(fx.clip(defocused), fx.contrast_curve(40))
    warm = fx.clip(graded * np.array([1.1, 1.0, 0.84], np.float32) + np.array([6, 2, 0], np.float32))
    sharp = cv2.addWeighted(warm, 1.4, cv2.GaussianBlur(warm, (0, 0), 2), -0.4, 0)
    return fx.grain(fx.vignette(sharp, 0.6), rng, 4)


def cinematic(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """Teal shadows, orange highlights, film grain and letterbox bars."""
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)[..., None] / 255
    toned = image * (1 - 0.35 * (1 - luma)) + np.array([0, 70, 90], np.float32) * 0.35 * (1 - luma)
    toned = toned * (1 - 0.25 * luma) + np.array([255, 150, 60], np.float32) * 0.25 * luma
    result = fx.grain(fx.vignette(fx.clip(toned), 0.7), rng, 7)
    bar = image.shape[0] // 9
    result[:bar] = 0
    result[-bar:] = 0
    return result


def cartoon_proportions(image: np.ndarray, face: FaceSpot) -> np.ndarray:
    """A bigger head and bigger eyes, as animated characters have (the eyes where a frontal face's box has them)."""
    (x, y), width = face.center, face.width
    shaped = fx.bulge(image, (x, y), 1.4 * width, 0.18)
    for side in (-1, 1):
        shaped = fx.bulge(shaped, (x + side * 0.21 * width, y - 0.24 * width), 0.14 * width, 0.22)
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
    shaded = cv2.cvtColor(fx.clip(lab), cv2.COLOR_LAB2RGB)
    bright = fx.saturate(fx.clip(shaded * np.array([1.08, 1.04, 1.0], np.float32) + 16), 1.6)
    outline = cv2.GaussianBlur(fx.edges(image, block=13, c=9), (3, 3), 0).astype(np.float32)[..., None] / 255
    inked = fx.clip(bright * (0.6 + 0.4 * outline))
    top, bottom = (fx.light_colour(hue, saturation=110) for hue in rng.integers(0, 180, 2))
    staged = fx.backdrop(inked, face, top, bottom, light=1.0)
    return fx.screen(staged, fx.clip(fx.wide_blur(staged, 12) * 0.3))


PALETTES = (((15, 45, 95), (255, 205, 150)), ((70, 20, 85), (255, 225, 165)), ((10, 70, 70), (255, 215, 190)))
"""Shadow and light colours for digital paintings: teal and peach, plum and gold, pine and rose."""


def digital_art(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """A digital painting: brush strokes along the forms, crisp edges, vivid colour in a palette of its own."""
    strokes = fx.painted(image, strokes=image.shape[1] // 60)
    crisp = cv2.addWeighted(image, 1.8, cv2.GaussianBlur(image, (0, 0), 2), -0.8, 0)
    painted = cv2.addWeighted(strokes, 0.75, crisp, 0.25, 0)
    shadow, light = PALETTES[int(rng.integers(len(PALETTES)))]
    toned = cv2.addWeighted(painted, 0.45, fx.gradient_map(painted, shadow, light), 0.55, 0)
    return fx.saturate(cv2.LUT(toned, fx.contrast_curve(32)), 1.8)


def fantasy_art(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """A painted fantasy portrait: violet shadows, golden light, a night-blue sky, an aura and sparkles around it."""
    painted = fx.painted(image)
    toned = fx.saturate(
        cv2.addWeighted(painted, 0.3, fx.gradient_map(painted, (60, 10, 120), (255, 210, 120)), 0.7, 0), 1.4
    )
    sky = fx.backdrop(toned, face, np.array([50, 40, 170], np.float32), np.array([150, 60, 180], np.float32), light=0.6)
    aura = np.exp(-((face.distance / 2.2) ** 2)) * (1 - face.mask(radius=1.1))
    glow = fx.screen(sky, fx.clip(aura[..., None] * np.array([255, 190, 90], np.float32)))
    glow = fx.screen(glow, fx.clip(fx.wide_blur(glow, 15) * 0.3))
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
    base = fx.gradient_map(image, (20, 0, 45), (255, 60, 200))
    edges = cv2.Canny(cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), (5, 5), 0), 40, 110)
    edges = cv2.dilate(edges, np.ones((2, 2), np.uint8))
    neon = np.zeros_like(image)
    neon[edges > 0] = (0, 255, 255)
    neon = fx.clip(neon * (1 - 0.7 * face.mask(radius=1.1))[..., None])  # faint on the face, which it would hide
    glow = cv2.GaussianBlur(neon, (0, 0), 4)
    return fx.screen(fx.screen(base, glow), neon)


def enhance(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """An award-winning photo: strong local contrast (CLAHE), crisp detail, richer colour, a deep vignette."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=4.0, tileGridSize=(8, 8)).apply(lab[..., 0])
    contrasted = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    sharp = cv2.addWeighted(contrasted, 1.8, cv2.GaussianBlur(contrasted, (0, 0), 3), -0.8, 0)
    return fx.vignette(fx.saturate(sharp, 1.35), 0.5)


def comic_book(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """Flat posterised colour, black ink outlines and halftone dots in the shadows."""
    smooth = cv2.bilateralFilter(cv2.bilateralFilter(image, 9, 80, 80), 9, 80, 80)
    flat = fx.saturate(fx.clip((smooth // 64) * 64 + 32), 1.6)
    ink = fx.edges(image, block=9, c=6)
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
    return fx.clip(colours[labels])


def line_art(image: np.ndarray, rng: np.random.Generator, face: FaceSpot) -> np.ndarray:
    """Dark pencil lines on warm paper."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    dodge = cv2.divide(gray, 255 - cv2.GaussianBlur(255 - gray, (0, 0), 8), scale=256)
    lines = np.where(dodge < 235, np.clip(dodge.astype(np.float32) * 0.8 - 40, 0, 255), 255).astype(np.uint8)
    drawn = cv2.min(lines, fx.edges(image, block=11, c=7))
    paper = np.array([250, 246, 236], np.float32)
    return fx.clip(drawn[..., None].astype(np.float32) / 255 * paper)


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
