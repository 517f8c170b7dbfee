"""The face embedding PhotoMaker V2 conditions on: InsightFace's `buffalo_l`, run on onnxruntime directly.

PhotoMaker V2 takes, for each photo, the raw (not normed) 512-d ArcFace embedding of the face that
`FaceAnalysis(name="buffalo_l")` ranks first. We run the same two ONNX files, the SCRFD-10G detector and the
ArcFace R50 recognizer, with insightface 0.7.3's pre- and post-processing written out here
(`model_zoo/scrfd.py`, `utils/face_align.py`, `model_zoo/arcface_onnx.py`), so that we need neither the
`insightface` package (it wants opencv-python beside our headless build, and fetches models at run time)
nor scikit-image.

The two models are InsightFace's and are licensed for non-commercial research purposes only; serving them
commercially needs a licence from InsightFace.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime
from PIL import Image

from photomaker.core.errors import BackendError

log = logging.getLogger(__name__)

FACE_MODEL_FILES = ("det_10g.onnx", "w600k_r50.onnx")
CPU_PROVIDER = "CPUExecutionProvider"
EMBEDDING_DIM = 512
STRIDES = (8, 16, 32)
ANCHORS_PER_LOCATION = 2
DET_THRESHOLD = 0.5
NMS_THRESHOLD = 0.4
DETECTION_SIZES = tuple(dict.fromkeys([640, *range(640, 256, -64), 256]))
"""PhotoMaker's `analyze_faces`: when nothing is found at 640×640, smaller sizes find faces that fill the photo."""
ALIGNED_SIZE = 112
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)
"""Where ArcFace wants the eyes, nose tip and mouth corners in its 112×112 crop (insightface's `arcface_dst`)."""

Array = npt.NDArray[np.float32]


class FaceEmbedder(Protocol):
    warning: str | None
    """Said on the page and in the log: the face models run elsewhere than asked (the CPU for CUDA)."""

    def embed(self, image: Image.Image) -> Array | None:
        """The raw 512-d embedding of the best-scoring face in `image`, or None when there is no face."""
        ...


@dataclass(frozen=True)
class Faces:
    """Detected faces: boxes (x1, y1, x2, y2) [n, 4], scores [n] and five landmarks each [n, 5, 2]."""

    boxes: Array
    scores: Array
    landmarks: Array


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """`image` resized into `size`×`size` keeping its aspect, placed top-left on black; and the scale applied."""
    ratio = image.shape[0] / image.shape[1]
    if ratio > 1.0:
        new_height, new_width = size, int(size / ratio)
    else:
        new_height, new_width = int(size * ratio), size
    canvas = np.zeros((size, size, 3), dtype=np.uint8)
    canvas[:new_height, :new_width] = cv2.resize(image, (new_width, new_height))
    return canvas, new_height / image.shape[0]


def anchor_centers(height: int, width: int, stride: int) -> Array:
    """The top-left corner of every cell of a stride's feature map, row by row, once per anchor."""
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    grid = np.stack([xs, ys], axis=-1)
    return np.repeat((grid * stride).reshape(-1, 2), ANCHORS_PER_LOCATION, axis=0)


def decode(outputs: Sequence[np.ndarray], input_size: tuple[int, int], *, threshold: float = DET_THRESHOLD) -> Faces:
    """SCRFD's outputs (scores, then box distances, then landmark distances, per stride) as the faces scoring
    `threshold` or more, in the detector input's pixels; `input_size` is (height, width)."""
    found: list[tuple[Array, Array, Array]] = []
    for index, stride in enumerate(STRIDES):
        scores, distances, offsets = (_unbatched(outputs[index + part * len(STRIDES)]) for part in range(3))
        centers = anchor_centers(input_size[0] // stride, input_size[1] // stride, stride)
        keep = scores.ravel() >= threshold
        distances, offsets = distances[keep] * stride, offsets[keep].reshape(-1, 5, 2) * stride
        boxes = np.hstack([centers[keep] - distances[:, :2], centers[keep] + distances[:, 2:]])
        found.append((boxes, scores.ravel()[keep], centers[keep][:, None, :] + offsets))
    return Faces(*(np.concatenate(part).astype(np.float32) for part in zip(*found, strict=True)))


def _unbatched(output: np.ndarray) -> np.ndarray:
    """An output without its batch dimension: buffalo_l's detector has one, other SCRFD exports do not."""
    return output[0] if output.ndim == 3 else output


def nms(boxes: Array, scores: Array, *, threshold: float = NMS_THRESHOLD) -> list[int]:
    """The indices of the boxes kept, best first: each drops the lower-scoring boxes it overlaps by more than
    `threshold` (intersection over union, with SCRFD's inclusive pixel areas)."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort()[::-1]
    keep: list[int] = []
    while order.size > 0:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        width = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        height = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1)
        overlap = width * height / (areas[best] + areas[rest] - width * height)
        order = rest[overlap <= threshold]
    return keep


def best_first(faces: Faces, scale: float) -> Faces:
    """`faces` without overlapping duplicates, best first, scaled back from the letterboxed input to the photo."""
    order = faces.scores.argsort()[::-1]
    boxes, scores, landmarks = faces.boxes[order] / scale, faces.scores[order], faces.landmarks[order] / scale
    keep = nms(boxes, scores)
    return Faces(boxes[keep], scores[keep], landmarks[keep])


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2×3 rotation, uniform scale and shift that best takes `source` points onto `target` in least squares
    (Umeyama 1991, as scikit-image's `SimilarityTransform.estimate` that insightface uses)."""
    source, target = source.astype(np.float64), target.astype(np.float64)
    source_centred, target_centred = source - source.mean(axis=0), target - target.mean(axis=0)
    u, singular, vt = np.linalg.svd(target_centred.T @ source_centred / len(source))
    signs = np.array([1.0, -1.0 if np.linalg.det(u) * np.linalg.det(vt) < 0 else 1.0])
    rotation = u @ np.diag(signs) @ vt
    scale = singular @ signs / source_centred.var(axis=0).sum()
    shift = target.mean(axis=0) - scale * rotation @ source.mean(axis=0)
    return np.hstack([scale * rotation, shift[:, None]])


def align(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The 112×112 crop ArcFace expects, `landmarks` moved onto `ARCFACE_TEMPLATE` (insightface's `norm_crop`)."""
    matrix = similarity_transform(landmarks, ARCFACE_TEMPLATE)
    return cv2.warpAffine(image, matrix, (ALIGNED_SIZE, ALIGNED_SIZE), borderValue=0.0)


def fallback_warning(asked: Sequence[str], running: Sequence[Sequence[str]]) -> str | None:
    """What to say when a session runs without the GPU provider asked for first (None when all have it)."""
    wanted = asked[0] if asked else CPU_PROVIDER
    if wanted == CPU_PROVIDER or all(wanted in providers for providers in running):
        return None
    return (
        f"The face models asked for {wanted} but run on the CPU: onnxruntime could not start it (are "
        "onnxruntime-gpu and CUDA 12's and cuDNN 9's libraries installed?). Avatars are made, more slowly."
    )


class BuffaloEmbedder:
    """`FaceEmbedder` on buffalo_l's detector and recognizer; onnxruntime sessions may be shared by threads."""

    def __init__(
        self,
        detector: onnxruntime.InferenceSession,
        recognizer: onnxruntime.InferenceSession,
        *,
        warning: str | None = None,
    ) -> None:
        self.detector = detector
        self.recognizer = recognizer
        self.warning = warning
        self._detector_outputs = [output.name for output in detector.get_outputs()]
        if len(self._detector_outputs) != 3 * len(STRIDES):
            raise BackendError(
                "BACKEND_UNAVAILABLE",
                f"The face detector has {len(self._detector_outputs)} outputs, not SCRFD's 9 "
                f"(scores, boxes and landmarks for strides {STRIDES}); is {FACE_MODEL_FILES[0]} buffalo_l's?",
                retryable=False,
            )

    @classmethod
    def from_dir(cls, directory: Path, *, providers: Sequence[str] = ("CPUExecutionProvider",)) -> BuffaloEmbedder:
        """The two models in `directory` on `providers` (best first); a clear error naming any file that is
        missing."""
        paths = [directory / name for name in FACE_MODEL_FILES]
        missing = [str(path) for path in paths if not path.is_file()]
        if missing:
            raise BackendError(
                "BACKEND_UNAVAILABLE",
                f"The face models are missing: {', '.join(missing)} (InsightFace's buffalo_l).",
                retryable=False,
            )
        detector, recognizer = (onnxruntime.InferenceSession(str(path), providers=list(providers)) for path in paths)
        # onnxruntime falls back to the CPU with only a warning of its own when a GPU provider cannot start (its
        # CUDA or cuDNN libraries missing): we say it loudly, in the log and on the page.
        warning = fallback_warning(providers, [detector.get_providers(), recognizer.get_providers()])
        if warning is not None:
            log.error(warning)
        return cls(detector, recognizer, warning=warning)

    def detect(self, image: np.ndarray, *, size: int) -> Faces:
        """The faces in a BGR `image` seen at `size`×`size`, best first, in the image's pixels."""
        canvas, scale = letterbox(image, size)
        blob = cv2.dnn.blobFromImage(canvas, 1.0 / 128, (size, size), (127.5, 127.5, 127.5), swapRB=True)
        outputs = self.detector.run(self._detector_outputs, {self.detector.get_inputs()[0].name: blob})
        return best_first(decode(outputs, (size, size)), scale)

    def recognize(self, crop: np.ndarray) -> Array:
        """The raw embedding of an aligned 112×112 BGR crop."""
        blob = cv2.dnn.blobFromImages(
            [crop], 1.0 / 127.5, (ALIGNED_SIZE, ALIGNED_SIZE), (127.5, 127.5, 127.5), swapRB=True
        )
        output = self.recognizer.run(None, {self.recognizer.get_inputs()[0].name: blob})[0]
        return np.asarray(output, dtype=np.float32).reshape(EMBEDDING_DIM)

    def embed(self, image: Image.Image) -> Array | None:
        """The raw embedding of the best face, trying smaller detection sizes until one finds a face."""
        bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
        for size in DETECTION_SIZES:
            faces = self.detect(bgr, size=size)
            if len(faces.scores):
                return self.recognize(align(bgr, faces.landmarks[0]))
        return None
