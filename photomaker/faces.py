"""Find the face in each photo with OpenCV's bundled Haar cascades (no downloads, CPU only).

A frontal detector runs first; only when it finds nothing does a profile detector, on the photo
and its mirror, look for faces turned to the side. Faces smaller than a tenth of the photo's short
side are ignored: too small to carry a likeness, and skipping them makes detection fast. A photo
with no face is refused before any credit moves; with several faces the largest is used and the
caller is told.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import cv2.data
import numpy as np
from PIL import Image

from photomaker.errors import RefusedError
from photomaker.photos import PreparedPhoto

DETECT_SIDE = 640
MIN_FACE_SHARE = 0.1
_local = threading.local()


@dataclass(frozen=True)
class FaceBox:
    """A face's box in the photo's pixel coordinates."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    def contains(self, point: tuple[float, float]) -> bool:
        return self.x <= point[0] <= self.x + self.w and self.y <= point[1] <= self.y + self.h


@dataclass(frozen=True)
class FacePhoto:
    """A prepared photo with the face the engines should use."""

    photo: PreparedPhoto
    face: FaceBox
    faces_found: int


def _cascades() -> tuple[cv2.CascadeClassifier, cv2.CascadeClassifier]:
    """Classifiers per thread: OpenCV's cascades are not safe to share between threads."""
    if not hasattr(_local, "cascades"):
        root = cv2.data.haarcascades
        _local.cascades = (
            cv2.CascadeClassifier(root + "haarcascade_frontalface_default.xml"),
            cv2.CascadeClassifier(root + "haarcascade_profileface.xml"),
        )
    return _local.cascades


def _boxes(
    found: np.ndarray | Sequence[Sequence[int]], scale: float, *, mirror_width: int | None = None
) -> list[FaceBox]:
    boxes = []
    for x, y, w, h in found:
        if mirror_width is not None:
            x = mirror_width - x - w
        boxes.append(FaceBox(round(x * scale), round(y * scale), round(w * scale), round(h * scale)))
    return boxes


def detect_faces(image: Image.Image) -> list[FaceBox]:
    """Every distinct face in `image`, largest first."""
    gray = image.convert("L")
    scale = max(gray.size) / DETECT_SIDE if max(gray.size) > DETECT_SIDE else 1.0
    if scale > 1:
        gray = gray.resize((round(gray.width / scale), round(gray.height / scale)), Image.Resampling.BILINEAR)
    pixels = cv2.equalizeHist(np.asarray(gray))
    side = max(20, round(min(pixels.shape) * MIN_FACE_SHARE))
    frontal, profile = _cascades()

    def find(cascade: cv2.CascadeClassifier, frame: np.ndarray) -> Sequence[Sequence[int]]:
        return cascade.detectMultiScale(frame, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))

    candidates = _boxes(find(frontal, pixels), scale)
    if not candidates:
        candidates += _boxes(find(profile, pixels), scale)
        mirrored = np.ascontiguousarray(pixels[:, ::-1])
        candidates += _boxes(find(profile, mirrored), scale, mirror_width=pixels.shape[1])
    faces: list[FaceBox] = []
    for box in sorted(candidates, key=lambda b: b.area, reverse=True):
        if not any(kept.contains(box.center) or box.contains(kept.center) for kept in faces):
            faces.append(box)
    return faces


def locate(photo: PreparedPhoto) -> FacePhoto:
    """The largest face in `photo`, or NO_FACE naming the file."""
    faces = detect_faces(photo.image)
    if not faces:
        raise RefusedError(
            "NO_FACE",
            f"We could not find a face in {photo.name}; "
            "upload a clear, well-lit close-up of one person facing the camera.",
        )
    return FacePhoto(photo=photo, face=faces[0], faces_found=len(faces))


def locate_all(photos: Sequence[PreparedPhoto]) -> list[FacePhoto]:
    """The face in every photo of a request; the first photo without one refuses the request."""
    return [locate(photo) for photo in photos]


def notes(located: Sequence[FacePhoto]) -> list[str]:
    """What the user should know about the faces found: photos where the largest of several was used."""
    return [
        f"{item.photo.name}: found {item.faces_found} faces; used the largest."
        for item in located
        if item.faces_found > 1
    ]
