"""The preview engine's look for each PhotoMaker style: real image processing, no model.

Each filter takes an RGB uint8 array and a seeded random generator and returns a new array of
the same size; the same seed gives the same pixels.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

Filter = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _clip(values: np.ndarray) -> np.ndarray:
    return np.clip(values, 0, 255).astype(np.uint8)


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


def _screen(base: np.ndarray, layer: np.ndarray) -> np.ndarray:
    return _clip(255 - (255 - base.astype(np.float32)) * (255 - layer.astype(np.float32)) / 255)


def _edges(image: np.ndarray, *, block: int = 9, c: int = 5) -> np.ndarray:
    """Ink lines: 255 where the image is flat, 0 on strong edges."""
    gray = cv2.medianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), 5)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, c)


def photographic(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Warm, contrasty, softly vignetted: a 35 mm portrait."""
    curve = 255 / (1 + np.exp(-(np.arange(256) - 128) / 42))
    graded = cv2.LUT(image, _clip((curve - curve[0]) * 255 / (curve[-1] - curve[0])))
    warm = _clip(graded * np.array([1.06, 1.0, 0.9], np.float32))
    sharp = cv2.addWeighted(warm, 1.5, cv2.GaussianBlur(warm, (0, 0), 2), -0.5, 0)
    return _grain(_vignette(sharp, 0.45), rng, 3)


def cinematic(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Teal shadows, orange highlights, film grain and letterbox bars."""
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)[..., None] / 255
    toned = image * (1 - 0.35 * (1 - luma)) + np.array([0, 70, 90], np.float32) * 0.35 * (1 - luma)
    toned = toned * (1 - 0.25 * luma) + np.array([255, 150, 60], np.float32) * 0.25 * luma
    result = _grain(_vignette(_clip(toned), 0.7), rng, 7)
    bar = image.shape[0] // 9
    result[:bar] = 0
    result[-bar:] = 0
    return result


def disney_character(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Smooth cartoon shading, soft outlines, warm bright colour and a gentle glow."""
    smooth = cv2.edgePreservingFilter(image, flags=cv2.RECURS_FILTER, sigma_s=80, sigma_r=0.35)
    for _ in range(2):
        smooth = cv2.bilateralFilter(smooth, 9, 50, 50)
    bright = _saturate(_clip(smooth * np.array([1.08, 1.04, 1.0], np.float32) + 12), 1.25)
    outline = cv2.GaussianBlur(_edges(image, block=13, c=9), (3, 3), 0).astype(np.float32)[..., None] / 255
    inked = _clip(bright * (0.55 + 0.45 * outline))
    return _screen(inked, _clip(cv2.GaussianBlur(inked, (0, 0), 12) * 0.3))


def digital_art(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Painterly strokes with enhanced detail and rich colour."""
    detail = cv2.detailEnhance(image, sigma_s=12, sigma_r=0.2)
    painted = cv2.medianBlur(cv2.bilateralFilter(detail, 9, 90, 20), 5)
    return _saturate(cv2.addWeighted(painted, 0.85, detail, 0.15, 8), 1.35)


def fantasy_art(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A dreamy violet-and-gold glow with scattered sparkles."""
    tinted = cv2.addWeighted(image, 0.6, _gradient_map(image, (40, 10, 90), (255, 220, 150)), 0.4, 0)
    glow = _screen(tinted, _clip(cv2.GaussianBlur(tinted, (0, 0), 15) * 0.6))
    height, width = glow.shape[:2]
    for _ in range(max(40, height * width // 6000)):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        radius = int(rng.integers(1, 4))
        cv2.circle(glow, (x, y), radius, (255, 245, 210), -1, lineType=cv2.LINE_AA)
    return cv2.GaussianBlur(glow, (3, 3), 0)


def neonpunk(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dark purple shadows, magenta highlights and glowing cyan edges."""
    base = _gradient_map(image, (20, 0, 45), (255, 60, 200))
    edges = cv2.Canny(cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), (5, 5), 0), 40, 110)
    edges = cv2.dilate(edges, np.ones((2, 2), np.uint8))
    neon = np.zeros_like(image)
    neon[edges > 0] = (0, 255, 255)
    glow = cv2.GaussianBlur(neon, (0, 0), 4)
    return _screen(_screen(base, glow), neon)


def enhance(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Local contrast (CLAHE), crisp detail and a little more colour."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(lab[..., 0])
    contrasted = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    sharp = cv2.addWeighted(contrasted, 1.8, cv2.GaussianBlur(contrasted, (0, 0), 3), -0.8, 0)
    return _saturate(sharp, 1.2)


def comic_book(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
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


def lowpoly(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flat-shaded triangles over points on a jittered grid and on the strongest corners."""
    height, width = image.shape[:2]
    step = max(12, width // 40)
    grid = [
        (min(width - 1, x + rng.uniform(-step / 3, step / 3)), min(height - 1, y + rng.uniform(-step / 3, step / 3)))
        for y in range(0, height, step)
        for x in range(0, width, step)
    ]
    border = [(0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1)]
    corners = cv2.goodFeaturesToTrack(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), 400, 0.01, step / 2)
    points = [(max(0.0, x), max(0.0, y)) for x, y in grid] + border
    points += [(float(x), float(y)) for x, y in (corners.reshape(-1, 2) if corners is not None else [])]
    subdiv = cv2.Subdiv2D((0, 0, width, height))
    for point in points:
        subdiv.insert((float(point[0]), float(point[1])))
    blurred = cv2.GaussianBlur(image, (0, 0), 2)
    result = np.zeros_like(image)
    for x1, y1, x2, y2, x3, y3 in subdiv.getTriangleList():
        triangle = np.array([[x1, y1], [x2, y2], [x3, y3]], np.float32)
        cx, cy = triangle.mean(axis=0)
        if not (0 <= cx < width and 0 <= cy < height):
            continue
        colour = tuple(int(v) for v in blurred[int(cy), int(cx)])
        cv2.fillConvexPoly(result, np.round(triangle).astype(np.int32), colour, lineType=cv2.LINE_AA)
    return result


def line_art(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dark pencil lines on warm paper."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    dodge = cv2.divide(gray, 255 - cv2.GaussianBlur(255 - gray, (0, 0), 8), scale=256)
    lines = np.where(dodge < 235, np.clip(dodge.astype(np.float32) * 0.8 - 40, 0, 255), 255).astype(np.uint8)
    drawn = cv2.min(lines, _edges(image, block=11, c=7))
    paper = np.array([250, 246, 236], np.float32)
    return _clip(drawn[..., None].astype(np.float32) / 255 * paper)


def no_style(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
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
