"""Find, align and describe faces, for photos and avatars alike: on the CPU, with nothing to download.

- **Detect.** dlib's HOG detector runs first: it is precise (a crop of one person is one face).
  It finds faces from 80 px, so it looks at a grey copy scaled to make a tenth of the short side
  80 px: faces smaller than that are ignored, too small to carry a likeness. Only when it finds
  nothing do OpenCV's Haar cascades look again, frontal and then profile on the photo and its
  mirror: they find faces turned to the side that HOG misses.
- **Align.** dlib's 5-point landmarks (the corners of both eyes and the nose) place the face.
- **Describe.** dlib's ResNet turns the aligned face into a 128-d descriptor; two faces of one
  person lie close together (`photomaker.faces.likeness` judges how close). Its weights ship in the
  `face-recognition-models` wheel.

A photo with no face that can be described is refused before any credit moves; with several
faces the largest is used and the caller is told.

The models are loaded once per process and used by one thread at a time. The server looks for
faces in worker processes (`WORKERS`: dlib holds the interpreter lock while it works), and keeps
what it found in a photo (boxes and descriptor, no pixels) for the next request with the same photo.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache

import cv2
import cv2.data
import dlib
import face_recognition_models
import numpy as np
from PIL import Image

from photomaker.core.errors import RefusedError
from photomaker.core.single_flight import OnceCache
from photomaker.core.workers import Workers
from photomaker.images.uploaded_photos import PreparedPhoto

MIN_FACE_SHARE = 0.1
HOG_WINDOW_PX = 80
"""The smallest face dlib's HOG detector finds without upsampling."""
HEADSHOT_FACE_SHARE = 0.2
"""The least share of an avatar's short side its face takes in a headshot, for `find_face`'s quick look."""
HOG_MIN_SCORE = 0.5
"""Faces score 1 to 3; the badge on an astronaut's suit scores 0.1 to 0.2 and is not a second face."""
MAX_DETECT_SIDE = 1600
"""A bound on HOG's copy of a long, thin image."""
HAAR_SIDE = 640
"""The cascades look at a copy at most this long: larger, they take blurred detail for faces."""
SMALL_FACE_PX = 256
"""A face narrower than this in the photo the engines receive gives them little to keep a likeness from."""
EDGE_MARGIN = 0.05
"""How far inside the image, as a share of the face's width, its landmarks must lie to describe it."""
LOCATED_KEPT = 64
"""How many photos' faces are kept (boxes and descriptors, no pixels), for the next request with the same photo."""
_models_lock = threading.Lock()


@dataclass(frozen=True)
class FaceBox:
    """A face's box in the image's pixel coordinates."""

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
class Face:
    """A face found and described: where it is and its 128-d descriptor."""

    box: FaceBox
    descriptor: np.ndarray = field(compare=False, repr=False)


@dataclass(frozen=True)
class FacePhoto:
    """A prepared photo with the face the engines should use."""

    photo: PreparedPhoto
    face: FaceBox
    faces_found: int
    descriptor: np.ndarray = field(compare=False, repr=False)


@dataclass(frozen=True)
class _Models:
    detector: dlib.fhog_object_detector
    landmarks: dlib.shape_predictor
    recognizer: dlib.face_recognition_model_v1
    frontal: cv2.CascadeClassifier
    profile: cv2.CascadeClassifier


@cache
def _loaded() -> _Models:
    cascades = cv2.data.haarcascades
    return _Models(
        detector=dlib.get_frontal_face_detector(),
        landmarks=dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location()),
        recognizer=dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location()),
        frontal=cv2.CascadeClassifier(cascades + "haarcascade_frontalface_default.xml"),
        profile=cv2.CascadeClassifier(cascades + "haarcascade_profileface.xml"),
    )


WORKERS = Workers(processes=os.cpu_count() or 1, setup=_loaded)
"""Where the server finds and describes faces: one process a core, each with the models loaded."""


@contextmanager
def _models() -> Iterator[_Models]:
    """The models, loaded once, for one thread at a time: neither dlib's networks nor OpenCV's cascades are safe
    to share between threads. Copies per thread would run no faster (dlib holds the interpreter lock while it
    works) and each took 0.7 s of that lock to load, once in every thread of the server's pool."""
    with _models_lock:
        yield _loaded()


def _copy(gray: Image.Image, scale: float) -> np.ndarray:
    """`gray` shrunk (or enlarged) `scale` times, as pixels."""
    size = (max(1, round(gray.width / scale)), max(1, round(gray.height / scale)))
    return np.asarray(gray.resize(size, Image.Resampling.BILINEAR))


def _boxes(found: Sequence[Sequence[int]], scale: float) -> list[FaceBox]:
    return [FaceBox(*(round(value * scale) for value in box)) for box in found]


def hog_faces(gray: Image.Image, *, min_share: float = MIN_FACE_SHARE) -> list[FaceBox]:
    """dlib's HOG boxes in a grey image, on a copy where `min_share` of its short side is the detector's window
    (so faces from about that size up are found; the larger the share, the smaller and faster the copy)."""
    scale = max(min(gray.size) * min_share / HOG_WINDOW_PX, max(gray.size) / MAX_DETECT_SIDE)
    pixels = _copy(gray, scale)
    with _models() as models:
        found, _, _ = models.detector.run(pixels, 0, HOG_MIN_SCORE)
    return _boxes([(r.left(), r.top(), r.width(), r.height()) for r in found], scale)


def haar_faces(gray: Image.Image) -> list[FaceBox]:
    """OpenCV's Haar boxes in a grey image, for faces turned too far for HOG: frontal first, then profile both ways."""
    scale = max(1.0, max(gray.size) / HAAR_SIDE)
    pixels = cv2.equalizeHist(_copy(gray, scale))
    side = max(20, round(min(pixels.shape) * MIN_FACE_SHARE))

    def find(cascade: cv2.CascadeClassifier, frame: np.ndarray) -> list[Sequence[int]]:
        return list(cascade.detectMultiScale(frame, scaleFactor=1.1, minNeighbors=5, minSize=(side, side)))

    with _models() as models:
        found = find(models.frontal, pixels)
        if not found:
            width = pixels.shape[1]
            mirrored = find(models.profile, np.ascontiguousarray(pixels[:, ::-1]))
            found = find(models.profile, pixels) + [(width - x - w, y, w, h) for x, y, w, h in mirrored]
    return _boxes(found, scale)


def detect_faces(image: Image.Image) -> list[FaceBox]:
    """Every distinct face in `image` at least a tenth of its short side, largest first."""
    gray = image.convert("L")
    smallest = min(gray.size) * MIN_FACE_SHARE
    found = [box for box in hog_faces(gray) if min(box.w, box.h) >= smallest] or haar_faces(gray)
    faces: list[FaceBox] = []
    for box in sorted(found, key=lambda b: b.area, reverse=True):
        if not any(kept.contains(box.center) or box.contains(kept.center) for kept in faces):
            faces.append(box)
    return faces


def describe(image: Image.Image, box: FaceBox) -> np.ndarray | None:
    """The 128-d descriptor of the face in `box`, aligned by its landmarks; None when the face is cut off.

    A face whose eyes or nose lie at or beyond the image's edge would be described from the black
    padding around it, which says little about the person.
    """
    pixels = np.asarray(image.convert("RGB"))
    with _models() as models:
        shape = models.landmarks(pixels, dlib.rectangle(box.x, box.y, box.x + box.w, box.y + box.h))
    points = np.array([(point.x, point.y) for point in shape.parts()], dtype=float)
    margin = EDGE_MARGIN * box.w
    height, width = pixels.shape[:2]
    inside = (points >= margin).all() and (points[:, 0] <= width - 1 - margin).all()
    if not inside or not (points[:, 1] <= height - 1 - margin).all():
        return None
    with _models() as models:
        return np.array(models.recognizer.compute_face_descriptor(pixels, shape))


def find_face(image: Image.Image) -> Face | None:
    """The largest face in `image` that can be described, or None (line art, a faceless landscape).

    Avatars are mostly headshots, so a quick look for a face of at least `HEADSHOT_FACE_SHARE` of
    the image comes first (a quarter of the full search's time); only without one does the full
    search run.
    """
    quick = hog_faces(image.convert("L"), min_share=HEADSHOT_FACE_SHARE)
    candidates = [max(quick, key=lambda box: box.area)] if quick else detect_faces(image)
    for box in candidates:
        descriptor = describe(image, box)
        if descriptor is not None:
            return Face(box=box, descriptor=descriptor)
    return None


@dataclass(frozen=True)
class _Located:
    """What `locate` found in a photo's pixels, whatever the file was called."""

    boxes: tuple[FaceBox, ...]
    descriptor: np.ndarray | None
    """Of the largest face; None when there is none or it is cut off."""


_located: OnceCache[bytes, _Located] = OnceCache(size=LOCATED_KEPT)


def _find_in(image: Image.Image) -> _Located:
    boxes = tuple(detect_faces(image))
    return _Located(boxes=boxes, descriptor=describe(image, boxes[0]) if boxes else None)


def _pixels_key(image: Image.Image) -> bytes:
    """A digest of an image's pixels, mode and size: the same for the same picture, whatever its file."""
    digest = hashlib.blake2b(f"{image.mode} {image.width}x{image.height}".encode(), digest_size=20)
    digest.update(image.tobytes())
    return digest.digest()


def locate(photo: PreparedPhoto) -> FacePhoto:
    """The largest face in `photo`, described, or NO_FACE naming the file.

    Looked for in a worker process (`WORKERS`), and kept for the last `LOCATED_KEPT` photos by their
    pixels: people generate again and again from the same photos, and identical photos sent at once
    are looked at once (the others wait for that result).
    """
    found = _located.get(_pixels_key(photo.image), lambda: WORKERS.call(_find_in, photo.image))
    boxes = found.boxes
    if not boxes:
        raise RefusedError(
            "NO_FACE",
            f"We could not find a face in {photo.name}; "
            "upload a clear, well-lit close-up of one person facing the camera.",
        )
    if found.descriptor is None:
        raise RefusedError(
            "NO_FACE",
            f"The face in {photo.name} is cut off at the edge of the photo; upload a photo with the whole face in it.",
        )
    return FacePhoto(photo=photo, face=boxes[0], faces_found=len(boxes), descriptor=found.descriptor.copy())


def locate_all(photos: Sequence[PreparedPhoto]) -> list[FacePhoto]:
    """The face in every photo of a request; the first photo without one refuses the request."""
    return [locate(photo) for photo in photos]


def notes(located: Sequence[FacePhoto]) -> list[str]:
    """What the user should know about the faces found: several faces in a photo, or a small face."""
    said = []
    for item in located:
        if item.faces_found > 1:
            said.append(f"{item.photo.name}: found {item.faces_found} faces; used the largest.")
        if item.face.w < SMALL_FACE_PX:
            said.append(
                f"{item.photo.name}: the face is only {item.face.w} px wide; avatars keep a likeness best from "
                f"faces at least {SMALL_FACE_PX} px wide, so crop the photo around the face or take a closer one."
            )
    return said
