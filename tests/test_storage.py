"""Avatar files: PNG without metadata, lossless and as small as zlib's default makes it, a thumbnail, atomic
writes, deletion, and the names of downloads."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photomaker.generation.prompts import STYLES_BY_NAME
from photomaker.images.avatar_files import THUMBNAIL_SIDE, AvatarStorage, download_name, encode


def test_saves_png_and_thumbnail_without_exif(tmp_path: Path, face_photo: Path) -> None:
    source = Image.open(face_photo).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "Secret Camera Co"
    source.info["exif"] = exif.tobytes()
    storage = AvatarStorage(tmp_path)
    (saved,) = storage.save([source], user_id=3, generation_id=9)
    assert saved.image_path == "u3/g9/avatar-1.png"
    with Image.open(storage.path(saved.image_path)) as image:
        assert image.format == "PNG" and image.size == (512, 512)
        assert not image.getexif() and "exif" not in image.info
    with Image.open(storage.path(saved.thumbnail_path)) as thumbnail:
        assert max(thumbnail.size) == THUMBNAIL_SIDE
    assert b"Secret Camera" not in storage.path(saved.image_path).read_bytes()
    assert not list(tmp_path.rglob("*.tmp"))


def test_delete_generation_removes_its_folder(tmp_path: Path, face_photo: Path) -> None:
    storage = AvatarStorage(tmp_path)
    storage.save([Image.open(face_photo)], user_id=1, generation_id=2)
    storage.delete_generation(user_id=1, generation_id=2)
    assert not (tmp_path / "u1" / "g2").exists()


@pytest.mark.parametrize(
    ("style", "number", "name"),
    [
        ("Cinematic", 2, "cinematic-2.png"),
        ("Photographic (Default)", 1, "photographic-default-1.png"),
        ("Disney Character", 4, "disney-character-4.png"),
        ("(No style)", 3, "no-style-3.png"),
        (None, 1, "image-1.png"),
    ],
)
def test_a_download_is_named_by_its_style_and_number(style: str | None, number: int, name: str) -> None:
    assert download_name(style, number) == name


def test_every_style_downloads_under_a_name_of_its_own() -> None:
    names = [download_name(style, 1) for style in STYLES_BY_NAME]
    assert len(set(names)) == len(names) and all(name.isascii() and " " not in name for name in names)


def test_the_png_is_lossless_and_about_as_small_as_zlibs_default(face_photo: Path) -> None:
    photo = Image.open(face_photo).convert("RGB").resize((1024, 1024), Image.Resampling.LANCZOS)
    encoded = encode(photo)
    with Image.open(io.BytesIO(encoded.png)) as image:
        assert image.format == "PNG" and np.array_equal(np.asarray(image), np.asarray(photo))
    slow = io.BytesIO()
    photo.save(slow, "PNG")  # zlib's default level, the app's PNG before: several times slower
    assert len(encoded.png) < 1.05 * len(slow.getvalue())
    assert (encoded.width, encoded.height) == (1024, 1024)


def test_an_avatar_encoded_ahead_is_written_as_it_is(tmp_path: Path, face_photo: Path) -> None:
    photo = Image.open(face_photo)
    encoded = encode(photo)
    storage = AvatarStorage(tmp_path)
    (ahead, now) = storage.save([encoded, photo], user_id=1, generation_id=2, first=3)
    assert (ahead.image_path, now.image_path) == ("u1/g2/avatar-3.png", "u1/g2/avatar-4.png")
    for saved in (ahead, now):
        assert storage.path(saved.image_path).read_bytes() == encoded.png
        assert storage.path(saved.thumbnail_path).read_bytes() == encoded.thumbnail
        assert (saved.width, saved.height) == photo.size
