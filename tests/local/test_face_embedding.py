"""The buffalo_l face embedding: SCRFD decoding, NMS, ArcFace alignment, and the whole path on tiny stand-in models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the face embedding needs the `local` extra: pip install -e '.[local]'")
pytest.importorskip("onnx", reason="the tiny stand-in face models need the `test` extra")

from PIL import Image

from photomaker.core.errors import BackendError
from photomaker.engines.local.face_embedding import (
    ARCFACE_TEMPLATE,
    DETECTION_SIZES,
    EMBEDDING_DIM,
    FACE_MODEL_FILES,
    BuffaloEmbedder,
    Faces,
    align,
    anchor_centers,
    best_first,
    decode,
    letterbox,
    nms,
    similarity_transform,
)
from stand_ins.tiny_faces import write_tiny_face_models


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("buffalo_l")
    write_tiny_face_models(directory)
    return directory


@pytest.fixture(scope="module")
def embedder(models: Path) -> BuffaloEmbedder:
    return BuffaloEmbedder.from_dir(models)


def noise(low: int, high: int, *, seed: int, size: tuple[int, int] = (96, 112)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(low, high, (size[1], size[0], 3), dtype=np.uint8))


class RecordingDetector:
    """The tiny detector, recording the sizes it is run at and finding nothing above `blind_above`."""

    def __init__(self, session: Any, *, blind_above: int) -> None:
        self.session = session
        self.blind_above = blind_above
        self.sizes: list[int] = []

    def get_inputs(self) -> Any:
        return self.session.get_inputs()

    def get_outputs(self) -> Any:
        return self.session.get_outputs()

    def run(self, names: list[str], feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        size = next(iter(feed.values())).shape[2]
        self.sizes.append(size)
        outputs = self.session.run(names, feed)
        if size > self.blind_above:
            outputs[:3] = [np.zeros_like(scores) for scores in outputs[:3]]
        return outputs


def test_a_bright_photo_has_a_raw_512_d_embedding_the_same_each_time(embedder: BuffaloEmbedder) -> None:
    first = embedder.embed(noise(170, 255, seed=0))
    again = embedder.embed(noise(170, 255, seed=0))
    assert first is not None and again is not None
    assert first.shape == (EMBEDDING_DIM,) and first.dtype == np.float32
    assert np.array_equal(first, again)
    assert not np.isclose(np.linalg.norm(first), 1.0)  # raw, as PhotoMaker takes it, not normed


def test_a_different_photo_has_a_different_embedding(embedder: BuffaloEmbedder) -> None:
    first = embedder.embed(noise(170, 255, seed=0))
    other = embedder.embed(noise(130, 255, seed=1, size=(200, 150)))
    assert first is not None and other is not None
    assert not np.allclose(first, other, atol=1e-3)


def test_the_recognizer_sees_the_crop_in_rgb_scaled_to_plus_minus_one(models: Path, embedder: BuffaloEmbedder) -> None:
    import onnx

    projection = onnx.numpy_helper.to_array(onnx.load(models / FACE_MODEL_FILES[1]).graph.initializer[0])
    crop = np.zeros((112, 112, 3), dtype=np.uint8)
    crop[:] = (30, 200, 250)  # BGR
    expected = (np.array([250, 200, 30]) - 127.5) / 127.5 @ projection
    np.testing.assert_allclose(embedder.recognize(crop), expected, rtol=0, atol=1e-3)  # float32 pooling


def test_embed_is_detect_align_recognize_on_the_photo_in_bgr(embedder: BuffaloEmbedder) -> None:
    photo = np.zeros((150, 200, 3), dtype=np.uint8)
    photo[40:90, 60:140] = (250, 180, 20)  # RGB: a warm patch the tiny detector sees as the face
    bgr = np.ascontiguousarray(photo[:, :, ::-1])
    faces = embedder.detect(bgr, size=640)
    expected = embedder.recognize(align(bgr, faces.landmarks[0]))
    np.testing.assert_array_equal(embedder.embed(Image.fromarray(photo)), expected)


def test_a_dark_photo_has_no_face_after_trying_every_detection_size(embedder: BuffaloEmbedder) -> None:
    recording = RecordingDetector(embedder.detector, blind_above=10_000)
    assert BuffaloEmbedder(recording, embedder.recognizer).embed(noise(0, 60, seed=0)) is None  # type: ignore[arg-type]
    assert recording.sizes == [640, 576, 512, 448, 384, 320, 256] == list(DETECTION_SIZES)


def test_smaller_detection_sizes_are_tried_until_one_finds_a_face(embedder: BuffaloEmbedder) -> None:
    recording = RecordingDetector(embedder.detector, blind_above=384)
    found = BuffaloEmbedder(recording, embedder.recognizer).embed(noise(170, 255, seed=0))  # type: ignore[arg-type]
    assert found is not None
    assert recording.sizes == [640, 576, 512, 448, 384]


def test_the_face_found_is_where_the_photo_is_bright_in_its_own_pixels(embedder: BuffaloEmbedder) -> None:
    photo = np.zeros((160, 320, 3), dtype=np.uint8)  # letterboxed at 640: twice the size, black below
    photo[48:64, 112:128] = 255  # one 32×32 cell of the detector's input at stride 32: x 7, y 3
    faces = embedder.detect(photo, size=640)
    assert len(faces.scores) == 1 and faces.scores[0] > 0.99
    np.testing.assert_allclose(faces.boxes[0], [88, 24, 152, 88])  # 128 px at 640 is 64 px here, centred on it
    np.testing.assert_allclose(faces.landmarks[0], ARCFACE_TEMPLATE * 64 / 112 + [88, 24], atol=1e-4)


def test_decode_turns_distances_from_an_anchor_into_a_box_and_landmarks() -> None:
    outputs = blank_outputs(64, 64)
    row = (2 * 4 + 1) * 2 + 1  # stride 16 (a 4×4 map): cell x 1, y 2, second anchor; its corner is (16, 32)
    outputs[1][row] = 0.5
    outputs[4][row] = [1, 2, 3, 4]
    outputs[7][row] = np.arange(10) / 10
    outputs[0][5] = 0.49
    for batched in (False, True):
        faces = decode([output[None] if batched else output for output in outputs], (64, 64))
        np.testing.assert_allclose(faces.boxes, [[0, 0, 64, 96]])
        np.testing.assert_allclose(faces.scores, [0.5])
        np.testing.assert_allclose(faces.landmarks[0], [16, 32] + np.arange(10).reshape(5, 2) / 10 * 16, atol=1e-5)


def test_anchor_centers_go_row_by_row_once_per_anchor() -> None:
    np.testing.assert_array_equal(
        anchor_centers(2, 3, 8),
        [[0, 0], [0, 0], [8, 0], [8, 0], [16, 0], [16, 0], [0, 8], [0, 8], [8, 8], [8, 8], [16, 8], [16, 8]],
    )


def test_nms_keeps_the_better_of_two_overlapping_boxes_and_a_separate_one() -> None:
    boxes = np.array([[0, 0, 100, 100], [10, 10, 110, 110], [200, 200, 300, 300]], dtype=np.float32)
    assert nms(boxes, np.array([0.6, 0.9, 0.7], dtype=np.float32)) == [1, 2]
    assert nms(boxes, np.array([0.9, 0.6, 0.7], dtype=np.float32)) == [0, 2]
    barely = np.array([[0, 0, 99, 99], [60, 0, 159, 99]], dtype=np.float32)  # IoU 40/160 = 0.25: both kept
    assert nms(barely, np.array([0.9, 0.8], dtype=np.float32)) == [0, 1]


def test_nms_counts_the_last_pixel_of_a_box_as_scrfd_does() -> None:
    boxes = np.array([[0, 0, 9, 9], [4, 0, 13, 9]], dtype=np.float32)  # IoU 60/140 with it, 45/117 without
    assert nms(boxes, np.array([0.9, 0.8], dtype=np.float32)) == [0]


def test_letterbox_places_the_photo_top_left_and_says_its_scale() -> None:
    photo = np.full((100, 200, 3), 200, dtype=np.uint8)
    canvas, scale = letterbox(photo, 64)
    assert canvas.shape == (64, 64, 3) and scale == pytest.approx(0.32)
    assert (canvas[:32] == 200).all() and (canvas[32:] == 0).all()
    tall, tall_scale = letterbox(np.full((200, 100, 3), 200, dtype=np.uint8), 64)
    assert tall_scale == pytest.approx(0.32) and (tall[:, :32] == 200).all() and (tall[:, 32:] == 0).all()
    wide, wide_scale = letterbox(np.full((100, 300, 3), 200, dtype=np.uint8), 64)
    assert wide_scale == pytest.approx(0.21)  # 21 rows of 100, as SCRFD's det_scale, not 64 columns of 300
    assert (wide[:21] == 200).all() and (wide[21:] == 0).all()


def test_best_first_maps_faces_back_to_the_photo_and_drops_duplicates() -> None:
    faces = Faces(
        boxes=np.array([[0, 0, 32, 32], [2, 2, 34, 34], [40, 40, 60, 60]], dtype=np.float32),
        scores=np.array([0.6, 0.8, 0.7], dtype=np.float32),
        landmarks=np.arange(30, dtype=np.float32).reshape(3, 5, 2),
    )
    kept = best_first(faces, 0.5)
    np.testing.assert_allclose(kept.boxes, [[4, 4, 68, 68], [80, 80, 120, 120]])
    np.testing.assert_allclose(kept.scores, [0.8, 0.7])
    np.testing.assert_allclose(kept.landmarks, faces.landmarks[[1, 2]] * 2)


def test_the_template_itself_needs_no_transform() -> None:
    np.testing.assert_allclose(similarity_transform(ARCFACE_TEMPLATE, ARCFACE_TEMPLATE), np.eye(2, 3), atol=1e-5)


def test_a_rotated_scaled_shifted_template_is_taken_back_exactly() -> None:
    angle = np.deg2rad(25)
    rotation = 1.7 * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = ARCFACE_TEMPLATE @ rotation.T + [40, -12]
    matrix = similarity_transform(moved, ARCFACE_TEMPLATE)
    np.testing.assert_allclose(moved @ matrix[:, :2].T + matrix[:, 2], ARCFACE_TEMPLATE, atol=1e-4)


def test_mirrored_landmarks_give_the_best_rotation_not_a_reflection() -> None:
    mirrored = ARCFACE_TEMPLATE * [-1, 1] + [112, 0]
    matrix = similarity_transform(mirrored, ARCFACE_TEMPLATE)
    assert np.linalg.det(matrix[:, :2]) > 0

    def misfit(candidate: np.ndarray) -> float:
        return float(((mirrored @ candidate[:, :2].T + candidate[:, 2] - ARCFACE_TEMPLATE) ** 2).sum())

    turn = np.array([[np.cos(0.02), -np.sin(0.02)], [np.sin(0.02), np.cos(0.02)]])
    for nudged in (1.02 * np.eye(2), 0.98 * np.eye(2), turn, turn.T):
        candidate = np.hstack([matrix[:, :2] @ nudged, matrix[:, 2:]])
        best_shift = (ARCFACE_TEMPLATE - mirrored @ candidate[:, :2].T).mean(axis=0)
        assert misfit(matrix) < misfit(np.hstack([candidate[:, :2], best_shift[:, None]]))


def test_the_aligned_crop_has_the_landmarks_at_the_template_points() -> None:
    landmarks = ARCFACE_TEMPLATE * 2 + [30, 40]
    ys, xs = np.mgrid[:320, :320]
    for landmark, target in zip(landmarks, ARCFACE_TEMPLATE, strict=True):
        dot = np.exp(-((xs - landmark[0]) ** 2 + (ys - landmark[1]) ** 2) / (2 * 3.0**2)) * 255
        photo = np.repeat(dot[:, :, None], 3, axis=2).astype(np.uint8)
        crop = align(photo, landmarks)[:, :, 0].astype(np.float64)
        assert crop.shape == (112, 112)
        cy, cx = np.mgrid[:112, :112]
        centre = np.array([(crop * cx).sum(), (crop * cy).sum()]) / crop.sum()
        np.testing.assert_allclose(centre, target, atol=1.0)


@pytest.mark.parametrize("missing", FACE_MODEL_FILES)
def test_a_missing_model_file_is_named(models: Path, tmp_path: Path, missing: str) -> None:
    for name in FACE_MODEL_FILES:
        if name != missing:
            (tmp_path / name).write_bytes((models / name).read_bytes())
    with pytest.raises(BackendError, match=missing) as raised:
        BuffaloEmbedder.from_dir(tmp_path)
    assert raised.value.code == "BACKEND_UNAVAILABLE"
    assert next(name for name in FACE_MODEL_FILES if name != missing) not in raised.value.message


def test_a_detector_without_landmarks_is_refused(embedder: BuffaloEmbedder) -> None:
    class SixOutputs(RecordingDetector):
        def get_outputs(self) -> Any:
            return self.session.get_outputs()[:6]

    with pytest.raises(BackendError, match="6 outputs"):
        BuffaloEmbedder(SixOutputs(embedder.detector, blind_above=0), embedder.recognizer)  # type: ignore[arg-type]


def test_the_tiny_models_are_written_the_same_each_time(models: Path, tmp_path: Path) -> None:
    write_tiny_face_models(tmp_path / "again")
    for name in FACE_MODEL_FILES:
        assert (tmp_path / "again" / name).read_bytes() == (models / name).read_bytes()


def blank_outputs(height: int, width: int) -> list[np.ndarray]:
    """SCRFD's nine unbatched outputs for an input of `height`×`width`, all zero."""
    rows = [(height // stride) * (width // stride) * 2 for stride in (8, 16, 32)]
    return [np.zeros((count, columns), dtype=np.float32) for columns in (1, 4, 10) for count in rows]
