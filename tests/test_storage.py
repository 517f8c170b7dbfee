"""Avatar files: PNG without metadata, a thumbnail, atomic writes, deletion."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from photomaker.images.avatar_files import THUMBNAIL_SIDE, AvatarStorage


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
