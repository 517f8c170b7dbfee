"""photos.prepare(): every refusal names the file; every accepted photo comes out RGB, upright and small."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photomaker.errors import RefusedError
from photomaker.photos import MAX_SIDE, PhotoUpload, prepare, prepare_one

FIVE_MB = 5 * 1024 * 1024


def _upload(path: Path) -> PhotoUpload:
    return PhotoUpload.from_path(path)


def _refusal(path: Path, *, max_bytes: int = FIVE_MB) -> RefusedError:
    with pytest.raises(RefusedError) as caught:
        prepare_one(_upload(path), max_bytes=max_bytes)
    return caught.value


def _save(image: Image.Image, path: Path, image_format: str, **options: object) -> Path:
    image.save(path, image_format, **options)
    return path


def test_a_real_photo_is_prepared(face_photo: Path) -> None:
    photo = prepare_one(_upload(face_photo), max_bytes=FIVE_MB)
    assert photo.name == "astronaut.png"
    assert photo.image.mode == "RGB"
    assert photo.image.size == (512, 512)
    assert photo.bytes_in == face_photo.stat().st_size


def test_format_is_recognised_by_content_not_name(face_photo: Path, tmp_path: Path) -> None:
    disguised = tmp_path / "holiday.jpg"
    disguised.write_bytes(face_photo.read_bytes())
    assert prepare_one(_upload(disguised), max_bytes=FIVE_MB).image.size == (512, 512)


def test_text_file_named_jpg_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "selfie.jpg"
    fake.write_text("this is not a photo\n" * 50)
    error = _refusal(fake)
    assert error.code == "INVALID_PHOTO"
    assert "selfie.jpg" in error.message and "JPEG, PNG or WebP" in error.message


def test_zero_byte_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    error = _refusal(empty)
    assert error.code == "INVALID_PHOTO"
    assert "empty.png is empty" in error.message


def test_photo_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (1400, 1400, 3), dtype=np.uint8)
    big = _save(Image.fromarray(noise), tmp_path / "big.png", "PNG")
    assert big.stat().st_size > FIVE_MB
    error = _refusal(big)
    assert error.code == "PHOTO_TOO_LARGE"
    assert "big.png" in error.message and "5 MB" in error.message


def test_the_size_limit_is_a_setting(face_photo: Path) -> None:
    error = _refusal(face_photo, max_bytes=100_000)
    assert error.code == "PHOTO_TOO_LARGE"


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_claiming(30_000, 30_000))
    assert bomb.stat().st_size < 100_000
    error = _refusal(bomb)
    assert error.code == "PHOTO_TOO_LARGE"
    assert "bomb.png" in error.message


def test_truncated_jpeg_is_refused(face_photo: Path, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.open(face_photo).convert("RGB").save(buffer, "JPEG", quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    error = _refusal(cut)
    assert error.code == "INVALID_PHOTO"
    assert "cut.jpg is damaged or incomplete" in error.message


def test_corrupt_png_is_refused(face_photo: Path, tmp_path: Path) -> None:
    data = bytearray(face_photo.read_bytes())
    data[200:400] = b"\x00" * 200
    broken = tmp_path / "broken.png"
    broken.write_bytes(bytes(data))
    assert _refusal(broken).code == "INVALID_PHOTO"


def test_gif_is_refused_by_name_of_format(face_photo: Path, tmp_path: Path) -> None:
    gif = _save(Image.open(face_photo).convert("P"), tmp_path / "animated.gif", "GIF")
    error = _refusal(gif)
    assert error.code == "INVALID_PHOTO"
    assert "animated.gif is a GIF file" in error.message


def test_webp_is_accepted(face_photo: Path, tmp_path: Path) -> None:
    webp = _save(Image.open(face_photo), tmp_path / "me.webp", "WEBP")
    assert prepare_one(_upload(webp), max_bytes=FIVE_MB).image.mode == "RGB"


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    wide = Image.new("RGB", (400, 200), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    rotated = _save(wide, tmp_path / "phone.jpg", "JPEG", exif=exif.tobytes())
    photo = prepare_one(_upload(rotated), max_bytes=FIVE_MB)
    assert photo.image.size == (200, 400)
    assert not photo.image.info.get("exif")


@pytest.mark.parametrize(
    ("mode", "image_format"),
    [("CMYK", "JPEG"), ("P", "PNG"), ("RGBA", "PNG"), ("LA", "PNG"), ("L", "JPEG"), ("I;16", "PNG"), ("1", "PNG")],
)
def test_any_mode_becomes_rgb(face_photo: Path, tmp_path: Path, mode: str, image_format: str) -> None:
    source = Image.open(face_photo).convert("L" if mode in ("I;16", "1") else "RGB")
    image = source.convert(mode) if mode != "I;16" else Image.fromarray(np.asarray(source).astype(np.uint16) * 257)
    path = _save(image, tmp_path / f"mode.{image_format.lower()}", image_format)
    photo = prepare_one(_upload(path), max_bytes=FIVE_MB)
    assert photo.image.mode == "RGB"
    if mode == "I;16":
        # 16-bit values are scaled down, not clipped to white.
        assert 60 < np.asarray(photo.image).mean() < 200


def test_transparency_goes_onto_white(tmp_path: Path) -> None:
    clear = _save(Image.new("RGBA", (64, 64), (0, 0, 0, 0)), tmp_path / "clear.png", "PNG")
    photo = prepare_one(_upload(clear), max_bytes=FIVE_MB)
    assert np.asarray(photo.image).min() == 255


def test_large_jpeg_is_decoded_small(tmp_path: Path) -> None:
    gradient = np.linspace(0, 255, 4000, dtype=np.uint8)[None, :, None].repeat(3000, 0).repeat(3, 2)
    big = _save(Image.fromarray(gradient), tmp_path / "12mp.jpg", "JPEG", quality=85)
    photo = prepare_one(_upload(big), max_bytes=FIVE_MB)
    assert max(photo.image.size) == MAX_SIDE
    assert photo.image.size == (1024, 768)
    assert photo.original_size == (4000, 3000)


def test_no_photos_is_refused() -> None:
    with pytest.raises(RefusedError) as caught:
        prepare([], max_bytes=FIVE_MB)
    assert caught.value.code == "NO_PHOTOS"


def test_five_photos_are_refused(face_photo: Path) -> None:
    with pytest.raises(RefusedError) as caught:
        prepare([_upload(face_photo)] * 5, max_bytes=FIVE_MB)
    assert caught.value.code == "TOO_MANY_PHOTOS"
    assert "5 photos" in caught.value.message


def test_four_photos_are_accepted(face_photo: Path) -> None:
    assert len(prepare([_upload(face_photo)] * 4, max_bytes=FIVE_MB)) == 4


def test_missing_file_is_refused(tmp_path: Path) -> None:
    error = _refusal(tmp_path / "gone.jpg")
    assert error.code == "INVALID_PHOTO"
    assert "gone.jpg" in error.message
