"""faces: real photos with and without people; several faces use the largest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photomaker.core.errors import RefusedError
from photomaker.faces.analysis import detect_faces, locate, locate_all
from photomaker.images.uploaded_photos import PhotoUpload, prepare_one
from stand_ins.engine_inputs import DECODE_BUDGET

FIXTURES = Path(__file__).parent / "fixtures"


def _prepared(name: str):
    return prepare_one(PhotoUpload.from_path(FIXTURES / name), max_bytes=5 << 20, budget=DECODE_BUDGET)


def test_finds_the_frontal_face() -> None:
    faces = detect_faces(_prepared("astronaut.png").image)
    assert len(faces) == 1
    face = faces[0]
    # Eileen Collins' face is around x 180-270, y 70-160 in the 512 px photo.
    assert face.contains((225, 115))
    assert 60 <= face.w <= 140


def test_finds_a_hard_face_turned_to_the_side_in_greyscale() -> None:
    faces = detect_faces(_prepared("camera.png").image)
    assert faces, "the cameraman's three-quarter face should be found"
    assert faces[0].contains((225, 150))


@pytest.mark.parametrize("name", ["chelsea.png", "coffee.png"])
def test_no_human_face_in_a_cat_or_a_cup(name: str) -> None:
    assert detect_faces(_prepared(name).image) == []


def test_locate_refuses_a_cat_naming_the_file() -> None:
    with pytest.raises(RefusedError) as caught:
        locate(_prepared("chelsea.png"))
    assert caught.value.code == "NO_FACE"
    assert "chelsea.png" in caught.value.message


def test_several_faces_use_the_largest(tmp_path: Path) -> None:
    portrait = Image.open(FIXTURES / "astronaut.png").convert("RGB")
    group = Image.new("RGB", (1024, 512), (128, 128, 128))
    group.paste(portrait, (0, 0))
    group.paste(portrait.resize((384, 384)), (600, 64))
    path = tmp_path / "two.png"
    group.save(path)
    located = locate(prepare_one(PhotoUpload.from_path(path), max_bytes=5 << 20, budget=DECODE_BUDGET))
    assert located.faces_found == 2
    assert located.face.x < 512, "the full-size face on the left is the larger one"


def test_locate_all_stops_at_the_first_photo_without_a_face() -> None:
    with pytest.raises(RefusedError) as caught:
        locate_all([_prepared("astronaut.png"), _prepared("coffee.png")])
    assert "coffee.png" in caught.value.message


def test_a_face_too_small_to_carry_a_likeness_is_not_used(tmp_path: Path) -> None:
    tiny = Image.new("RGB", (1024, 1024), (128, 128, 128))
    tiny.paste(Image.open(FIXTURES / "astronaut.png").convert("RGB").resize((160, 160)), (400, 400))
    path = tmp_path / "far-away.png"
    tiny.save(path)
    photo = prepare_one(PhotoUpload.from_path(path), max_bytes=5 << 20, budget=DECODE_BUDGET)
    assert detect_faces(photo.image) == [], "a 30 px face in a 1024 px photo is below a tenth of its side"


def test_a_face_cut_off_at_the_edge_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    Image.open(FIXTURES / "astronaut.png").convert("RGB").crop((200, 0, 512, 512)).save(path)
    photo = prepare_one(PhotoUpload.from_path(path), max_bytes=5 << 20, budget=DECODE_BUDGET)
    assert detect_faces(photo.image), "her face is found, with one eye's corner on the edge"
    with pytest.raises(RefusedError) as caught:
        locate(photo)
    assert caught.value.code == "NO_FACE"
    assert caught.value.message == (
        "The face in cut.png is cut off at the edge of the photo; upload a photo with the whole face in it."
    )


def test_a_face_well_inside_the_photo_is_described() -> None:
    located = locate(_prepared("astronaut.png"))
    assert located.descriptor.shape == (128,)
    assert 0.2 < float(np.linalg.norm(located.descriptor)) < 2, "dlib's descriptors are close to unit length"


def test_a_crop_of_one_person_is_one_face() -> None:
    """Haar cascades alone found 2 faces here (her face and her suit's badge); HOG finds one."""
    crop = _prepared("astronaut.png").image.crop((32, 32, 416, 416))
    assert len(detect_faces(crop)) == 1
