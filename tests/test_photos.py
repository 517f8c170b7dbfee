"""photos.prepare(): every refusal names the file; every accepted photo comes out RGB, upright and small."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from photomaker.core.errors import RefusedError
from photomaker.core.settings import Settings
from photomaker.images import uploaded_photos as photos
from photomaker.images.decode_budget import DecodeBudget
from photomaker.images.uploaded_photos import (
    ACCEPTED_FORMATS,
    MAX_ASPECT_RATIO,
    MAX_PHOTOS,
    MAX_PIXELS,
    MAX_SIDE,
    PhotoUpload,
    PreparedPhoto,
    _shrink,
    _to_rgb,
    prepare,
    prepare_one,
)
from stand_ins.engine_inputs import DECODE_BUDGET
from tests.helpers import PNG_GREY, PNG_RGBA, flat_rgba_png, png_bytes, png_chunk

ROOT = Path(__file__).parents[1]
MIB = 1024 * 1024
FIVE_MB = 5 * MIB
INSTEAD = "; upload a JPEG, PNG or WebP photo instead."


def _upload(path: Path) -> PhotoUpload:
    return PhotoUpload.from_path(path)


def _refusal(path: Path, *, max_bytes: int = FIVE_MB, budget: DecodeBudget = DECODE_BUDGET) -> RefusedError:
    with pytest.raises(RefusedError) as caught:
        prepare_one(_upload(path), max_bytes=max_bytes, budget=budget)
    return caught.value


def _save(image: Image.Image, path: Path, image_format: str, **options: object) -> Path:
    image.save(path, image_format, **options)
    return path


def _small_png(path: Path, size: tuple[int, int] = (8, 6)) -> Path:
    return _save(Image.new("RGB", size, (200, 30, 30)), path, "PNG")


def _png_of_exactly(path: Path, size_in_bytes: int) -> Path:
    """A valid 8x6 PNG padded with a private ancillary chunk to exactly `size_in_bytes` bytes."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buffer, "PNG")
    data = buffer.getvalue()
    iend = data.rindex(b"IEND") - 4
    padding = png_chunk(b"zzZz", b"\x00" * (size_in_bytes - len(data) - 12))
    path.write_bytes(data[:iend] + padding + data[iend:])
    assert path.stat().st_size == size_in_bytes
    return path


def _png_claiming(width: int, height: int, *, colour_type: int = PNG_GREY) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels and has no pixel data at all."""
    return png_bytes(width, height, b"", colour_type=colour_type)


def test_a_real_photo_is_prepared(face_photo: Path) -> None:
    photo = prepare_one(_upload(face_photo), max_bytes=FIVE_MB, budget=DECODE_BUDGET)
    assert photo.name == "astronaut.png"
    assert photo.image.mode == "RGB"
    assert photo.image.size == (512, 512)
    assert photo.original_size == (512, 512)
    assert photo.bytes_in == face_photo.stat().st_size


def test_the_name_the_user_knows_is_used_not_the_temporary_file_name(tmp_path: Path) -> None:
    temporary = _small_png(tmp_path / "tmp8x2k1q.png")
    assert (
        prepare_one(PhotoUpload.from_path(temporary, name="me.png"), max_bytes=FIVE_MB, budget=DECODE_BUDGET).name
        == "me.png"
    )
    empty = tmp_path / "tmp0000.png"
    empty.write_bytes(b"")
    with pytest.raises(RefusedError) as caught:
        prepare_one(PhotoUpload.from_path(empty, name="holiday.png"), max_bytes=FIVE_MB, budget=DECODE_BUDGET)
    assert caught.value.message.startswith("holiday.png is empty")


# --- formats, judged by content ---------------------------------------------------------------


@pytest.mark.parametrize("image_format", sorted({"JPEG", "PNG", "WEBP"} | set(ACCEPTED_FORMATS)))
def test_every_accepted_format_is_accepted(tmp_path: Path, image_format: str) -> None:
    """JPEG, PNG and WebP, the formats every refusal message promises, and anything else on the list."""
    path = _save(Image.new("RGB", (12, 10), (10, 120, 240)), tmp_path / "photo.bin", image_format)
    assert Image.open(path).format == image_format
    photo = prepare_one(_upload(path), max_bytes=FIVE_MB, budget=DECODE_BUDGET)
    assert photo.image.mode == "RGB" and photo.image.size == (12, 10)


def test_format_is_recognised_by_content_not_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pixels = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    disguised = _save(Image.fromarray(pixels), tmp_path / "holiday.jpg", "PNG")
    photo = prepare_one(_upload(disguised), max_bytes=FIVE_MB, budget=DECODE_BUDGET)
    # Decoded losslessly, as the PNG it is: a JPEG decoder would have failed or changed the pixels.
    assert np.array_equal(np.asarray(photo.image), pixels)
    # Accepted because it is a PNG, whatever its name: without PNG on the list, a ".jpg" PNG is refused as a PNG.
    monkeypatch.setattr(photos, "ACCEPTED_FORMATS", {k: v for k, v in ACCEPTED_FORMATS.items() if k != "PNG"})
    error = _refusal(disguised)
    assert (error.code, error.message) == ("INVALID_PHOTO", f"holiday.jpg is a PNG file{INSTEAD}")


def test_jpeg_named_png_is_accepted(tmp_path: Path) -> None:
    disguised = _save(Image.new("RGB", (16, 8), (0, 128, 0)), tmp_path / "portrait.png", "JPEG")
    assert prepare_one(_upload(disguised), max_bytes=FIVE_MB, budget=DECODE_BUDGET).image.size == (16, 8)


@pytest.mark.parametrize(
    ("image_format", "name"),
    [("GIF", "animated.png"), ("GIF", "animated.gif"), ("BMP", "scan.jpg"), ("TIFF", "scan.png")],
)
def test_other_image_formats_are_refused_by_what_they_are(tmp_path: Path, image_format: str, name: str) -> None:
    path = _save(Image.new("RGB", (8, 8), (1, 2, 3)), tmp_path / name, image_format)
    error = _refusal(path)
    assert error.code == "INVALID_PHOTO"
    assert error.message == f"{name} is a {image_format} file{INSTEAD}"


def test_text_file_named_jpg_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "selfie.jpg"
    fake.write_text("this is not a photo\n" * 50)
    error = _refusal(fake)
    assert (error.code, error.message) == ("INVALID_PHOTO", f"selfie.jpg is not an image we can read{INSTEAD}")


# --- file size --------------------------------------------------------------------------------


def test_zero_byte_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    error = _refusal(empty)
    assert (error.code, error.message) == ("INVALID_PHOTO", f"empty.png is empty (0 bytes){INSTEAD}")


def test_one_byte_file_is_not_called_empty(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.png"
    tiny.write_bytes(b"\x89")
    error = _refusal(tiny)
    assert (error.code, error.message) == ("INVALID_PHOTO", f"tiny.png is not an image we can read{INSTEAD}")


def test_photo_of_exactly_the_size_limit_is_accepted(tmp_path: Path) -> None:
    photo = prepare_one(_upload(_png_of_exactly(tmp_path / "edge.png", MIB)), max_bytes=MIB, budget=DECODE_BUDGET)
    assert photo.bytes_in == MIB
    assert photo.image.size == (8, 6)


def test_photo_one_byte_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    over = _png_of_exactly(tmp_path / "big.png", MIB + 1)
    error = _refusal(over, max_bytes=MIB)
    assert error.code == "PHOTO_TOO_LARGE"
    assert error.message == (
        "big.png is 1.01 MB; the limit is 1 MB per photo. Resize or compress it and upload it again."
    )


@pytest.mark.parametrize(
    ("size", "shown"), [(2 * MIB, "2"), (2 * MIB + 1, "2.01"), (2 * MIB + MIB // 100, "2.01"), (3 * MIB - 1, "3")]
)
def test_the_size_in_the_message_is_megabytes_rounded_up_to_hundredths(tmp_path: Path, size: int, shown: str) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff" * size)
    error = _refusal(big, max_bytes=MIB)
    assert error.message.startswith(f"big.jpg is {shown} MB; the limit is 1 MB per photo.")


def test_an_uneven_limit_is_shown_to_hundredths(tmp_path: Path) -> None:
    limit = Settings(max_photo_mb=1.04999).max_photo_bytes
    error = _refusal(_png_of_exactly(tmp_path / "over.png", limit + 1), max_bytes=limit)
    assert error.message.startswith("over.png is 1.05 MB; the limit is 1.04 MB per photo.")


def test_the_size_limit_is_the_setting(tmp_path: Path) -> None:
    max_bytes = Settings(max_photo_mb=0.5).max_photo_bytes
    assert prepare_one(
        _upload(_png_of_exactly(tmp_path / "edge.png", max_bytes)), max_bytes=max_bytes, budget=DECODE_BUDGET
    ).bytes_in
    error = _refusal(_png_of_exactly(tmp_path / "over.png", max_bytes + 1), max_bytes=max_bytes)
    assert error.code == "PHOTO_TOO_LARGE"
    assert error.message == (
        "over.png is 0.51 MB; the limit is 0.5 MB per photo. Resize or compress it and upload it again."
    )


def test_missing_file_is_refused(tmp_path: Path) -> None:
    error = _refusal(tmp_path / "gone.jpg")
    assert (error.code, error.message) == ("INVALID_PHOTO", "gone.jpg could not be read; upload it again.")


# --- pixel count ------------------------------------------------------------------------------


def _claiming(tmp_path: Path, width: int, height: int) -> Path:
    path = tmp_path / "claim.png"
    path.write_bytes(_png_claiming(width, height))
    return path


def test_our_pixel_limit_is_below_pillows_bomb_limit() -> None:
    # Otherwise Pillow's own bomb check, not ours, would be what refuses an image just over MAX_PIXELS.
    assert Image.MAX_IMAGE_PIXELS is not None and MAX_PIXELS + 1 < Image.MAX_IMAGE_PIXELS


def test_image_of_exactly_max_pixels_passes_the_pixel_check(tmp_path: Path) -> None:
    # The header claims MAX_PIXELS pixels and there is no pixel data: past the pixel check, decoding fails.
    assert MAX_PIXELS == 10_000 * 5_000
    error = _refusal(_claiming(tmp_path, 10_000, 5_000))
    assert (error.code, error.message) == ("INVALID_PHOTO", f"claim.png is damaged or incomplete{INSTEAD}")


@pytest.mark.parametrize(("width", "height"), [(4 * 250, 250), (250, 4 * 250)])
def test_a_photo_of_exactly_the_widest_shape_passes_the_shape_check(tmp_path: Path, width: int, height: int) -> None:
    assert max(width, height) == MAX_ASPECT_RATIO * min(width, height)
    error = _refusal(_claiming(tmp_path, width, height))
    assert (error.code, error.message) == ("INVALID_PHOTO", f"claim.png is damaged or incomplete{INSTEAD}")


@pytest.mark.parametrize(("width", "height"), [(4 * 250 + 1, 250), (250, 4 * 250 + 1), (1, 60_000), (65_000, 10)])
def test_a_photo_too_long_and_thin_for_a_face_is_refused(tmp_path: Path, width: int, height: int) -> None:
    error = _refusal(_claiming(tmp_path, width, height))
    assert (error.code, error.message) == (
        "INVALID_PHOTO",
        f"claim.png is {width}x{height} pixels, too long and thin to hold a face; "
        f"crop it to at most {MAX_ASPECT_RATIO}:1 around your face and upload it again.",
    )


def test_a_thin_strip_that_passes_the_checks_still_shrinks_to_at_least_one_pixel() -> None:
    strip = Image.new("RGB", (5000, 1))
    assert _shrink(strip, MAX_SIDE).size == (MAX_SIDE, 1)


@pytest.mark.parametrize(
    ("width", "height"),
    [(MAX_PIXELS + 1, 1), (1, MAX_PIXELS + 1), (math.isqrt(MAX_PIXELS) + 1, math.isqrt(MAX_PIXELS) + 1)],
)
def test_image_over_max_pixels_is_refused_with_our_message(tmp_path: Path, width: int, height: int) -> None:
    assert width * height > MAX_PIXELS
    error = _refusal(_claiming(tmp_path, width, height))
    assert error.code == "PHOTO_TOO_LARGE"
    assert error.message == (
        f"claim.png is {width}x{height} pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels. "
        "Resize it and upload it again."
    )


@pytest.mark.parametrize("factor", [1, 2], ids=["pillow-warning", "pillow-error"])
def test_decompression_bomb_is_refused(tmp_path: Path, factor: int) -> None:
    # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that: both are refused the same way.
    side = math.isqrt(factor * Image.MAX_IMAGE_PIXELS) + 1
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_claiming(side, side))
    assert bomb.stat().st_size < 100
    error = _refusal(bomb)
    assert error.code == "PHOTO_TOO_LARGE"
    assert error.message == "bomb.png has too many pixels to open safely; resize it and upload it again."


# --- damaged files ----------------------------------------------------------------------------


def test_truncated_jpeg_is_refused(face_photo: Path, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.open(face_photo).convert("RGB").save(buffer, "JPEG", quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    error = _refusal(cut)
    assert (error.code, error.message) == ("INVALID_PHOTO", f"cut.jpg is damaged or incomplete{INSTEAD}")


def test_corrupt_png_is_refused(face_photo: Path, tmp_path: Path) -> None:
    data = bytearray(face_photo.read_bytes())
    data[200:400] = b"\x00" * 200
    broken = tmp_path / "broken.png"
    broken.write_bytes(bytes(data))
    assert _refusal(broken).code == "INVALID_PHOTO"


# --- normalisation ----------------------------------------------------------------------------


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    wide = Image.new("RGB", (400, 200), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    rotated = _save(wide, tmp_path / "phone.jpg", "JPEG", exif=exif.tobytes())
    photo = prepare_one(_upload(rotated), max_bytes=FIVE_MB, budget=DECODE_BUDGET)
    assert photo.image.size == (200, 400)
    assert photo.original_size == (400, 200)
    assert photo.image.info == {}


def test_photo_with_corrupt_exif_is_accepted(tmp_path: Path) -> None:
    # Pillow warns about the truncated EXIF block; only its decompression-bomb warning may refuse a photo.
    exif = Image.Exif()
    exif[0x010E] = "x" * 200  # ImageDescription
    path = _save(Image.new("RGB", (40, 20)), tmp_path / "phone.jpg", "JPEG", exif=exif.tobytes()[:-150])
    with pytest.warns(UserWarning, match="Truncated File Read"):
        photo = prepare_one(_upload(path), max_bytes=FIVE_MB, budget=DECODE_BUDGET)
    assert photo.image.size == (40, 20)


@pytest.mark.parametrize(
    ("mode", "image_format"),
    [("CMYK", "JPEG"), ("P", "PNG"), ("RGBA", "PNG"), ("LA", "PNG"), ("L", "JPEG"), ("I;16", "PNG"), ("1", "PNG")],
)
def test_any_mode_becomes_rgb(face_photo: Path, tmp_path: Path, mode: str, image_format: str) -> None:
    source = Image.open(face_photo).convert("L" if mode in ("I;16", "1") else "RGB").resize((64, 64))
    image = source.convert(mode) if mode != "I;16" else Image.fromarray(np.asarray(source).astype(np.uint16) * 257)
    path = _save(image, tmp_path / f"mode.{image_format.lower()}", image_format)
    photo = prepare_one(_upload(path), max_bytes=FIVE_MB, budget=DECODE_BUDGET)
    assert photo.image.mode == "RGB"
    if mode == "I;16":
        # 16-bit values are scaled down, not clipped to white.
        assert 60 < np.asarray(photo.image).mean() < 200


def _row(mode: str, values: list[float]) -> Image.Image:
    dtype = {"I;16": "<u2", "I;16L": "<u2", "I;16B": ">u2", "I;16N": "=u2", "I": "<i4", "F": "<f4"}[mode]
    return Image.frombytes(mode, (len(values), 1), np.array(values, dtype=dtype).tobytes())


@pytest.mark.parametrize(
    ("mode", "values", "expected"),
    [
        *[(mode, [0, 200, 32768, 65535], [0, 0, 127, 255]) for mode in ("I;16", "I;16B", "I;16L", "I;16N")],
        ("I", [0, 128, 255], [0, 128, 255]),
        ("I", [0, 256], [0, 0]),
        ("I", [0, 32768, 65535, 70000], [0, 127, 255, 255]),
        ("I;16", [0, 255], [0, 0]),
        ("F", [-5.0, 0.0, 127.0, 255.0], [0, 0, 127, 255]),
        ("F", [-5.0, 32768.0, 65535.0], [0, 127, 255]),
    ],
    ids=[
        "I;16",
        "I;16B",
        "I;16L",
        "I;16N",
        "I-8bit-range",
        "I-just-over-8bit",
        "I-16bit-range",
        "I;16-dark",
        "F-8bit-range",
        "F-16bit-range",
    ],
)
def test_deep_images_are_scaled_to_8_bit(mode: str, values: list[float], expected: list[int]) -> None:
    """16-bit images scale 65535 to 255 (even when dark); 32-bit and float ones do once they pass 255."""
    rgb = _to_rgb(_row(mode, values))
    assert rgb.mode == "RGB"
    pixels = np.asarray(rgb)
    assert pixels[0, :, 0].tolist() == expected
    assert np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(pixels[..., 0], pixels[..., 2])


def test_transparency_goes_onto_white(tmp_path: Path) -> None:
    clear = _save(Image.new("RGBA", (64, 64), (0, 0, 0, 0)), tmp_path / "clear.png", "PNG")
    photo = prepare_one(_upload(clear), max_bytes=FIVE_MB, budget=DECODE_BUDGET)
    assert np.asarray(photo.image).min() == 255


def test_colour_key_transparency_goes_onto_white(tmp_path: Path) -> None:
    image = Image.new("RGB", (2, 1), (0, 0, 0))
    image.putpixel((1, 0), (10, 20, 30))
    keyed = _save(image, tmp_path / "keyed.png", "PNG", transparency=(0, 0, 0))
    photo = prepare_one(_upload(keyed), max_bytes=FIVE_MB, budget=DECODE_BUDGET)
    assert np.asarray(photo.image).tolist() == [[[255, 255, 255], [10, 20, 30]]]


def test_palette_with_alpha_goes_onto_white() -> None:
    image = Image.new("P", (2, 1), 0)
    image.putpalette([0, 0, 0, 0, 10, 20, 30, 255], "RGBA")
    image.putpixel((1, 0), 1)
    assert "transparency" not in image.info
    assert np.asarray(_to_rgb(image)).tolist() == [[[255, 255, 255], [10, 20, 30]]]


# --- size on the long side --------------------------------------------------------------------


def test_image_of_exactly_max_side_is_not_resized() -> None:
    image = Image.new("RGB", (MAX_SIDE, 3))
    assert _shrink(image, MAX_SIDE) is image


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((MAX_SIDE + 1, 300), (MAX_SIDE, 300)),
        ((300, MAX_SIDE + 1), (300, MAX_SIDE)),
        ((MAX_SIDE, 256), (MAX_SIDE, 256)),
    ],
)
def test_png_is_shrunk_to_max_side(tmp_path: Path, size: tuple[int, int], expected: tuple[int, int]) -> None:
    path = _save(Image.new("RGB", size, (90, 90, 90)), tmp_path / "wide.png", "PNG")
    photo = prepare_one(_upload(path), max_bytes=FIVE_MB, budget=DECODE_BUDGET)
    assert photo.image.size == expected
    assert photo.original_size == size


def test_shrinking_averages_the_pixels_it_merges() -> None:
    stripes = Image.fromarray(np.array([[0, 0, 255] * 4] * 3, dtype=np.uint8)).convert("RGB")
    small = _shrink(stripes, 4)
    assert small.size == (4, 1)
    assert np.asarray(small)[..., 0].tolist() == [[85, 85, 85, 85]]


@pytest.fixture
def drafts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """Every draft request made while decoding: (mode, requested size, size after the draft)."""
    calls: list[tuple[object, ...]] = []
    for cls in (Image.Image, JpegImagePlugin.JpegImageFile):
        original = cls.draft

        def draft(self: Image.Image, mode: str | None, size: object, _original: object = original) -> object:
            result = _original(self, mode, size)  # type: ignore[operator]
            calls.append((mode, size, self.size))
            return result

        monkeypatch.setattr(cls, "draft", draft)
    return calls


@pytest.mark.parametrize(
    ("size", "request_size", "expected"),
    [
        # 300 * MAX_SIDE / (MAX_SIDE + 1) is just under 300: the request rounds down, the result to the nearest.
        ((MAX_SIDE + 1, 300), (MAX_SIDE, 299), (MAX_SIDE, 300)),
        ((300, MAX_SIDE + 1), (299, MAX_SIDE), (300, MAX_SIDE)),
    ],
)
def test_jpeg_over_max_side_is_drafted_and_shrunk_to_max_side(
    tmp_path: Path,
    drafts: list[tuple[object, ...]],
    size: tuple[int, int],
    request_size: tuple[int, int],
    expected: tuple[int, int],
) -> None:
    path = _save(Image.new("RGB", size, (90, 90, 90)), tmp_path / "big.jpg", "JPEG")
    photo = prepare_one(_upload(path), max_bytes=FIVE_MB, budget=DECODE_BUDGET)
    assert [call[:2] for call in drafts] == [("RGB", request_size)]
    assert photo.image.size == expected
    assert photo.original_size == size


def test_large_jpeg_is_decoded_small(tmp_path: Path, drafts: list[tuple[object, ...]]) -> None:
    gradient = np.linspace(0, 255, 4 * MAX_SIDE, dtype=np.uint8)[None, :, None].repeat(MAX_SIDE, 0).repeat(3, 2)
    big = _save(Image.fromarray(gradient), tmp_path / "wide.jpg", "JPEG", quality=85)
    photo = prepare_one(_upload(big), max_bytes=FIVE_MB, budget=DECODE_BUDGET)
    # Decoded at a quarter of its size by the JPEG decoder itself, never at full size.
    assert drafts == [("RGB", (MAX_SIDE, MAX_SIDE // 4), (MAX_SIDE, MAX_SIDE // 4))]
    assert photo.image.size == (MAX_SIDE, MAX_SIDE // 4)
    assert photo.original_size == (4 * MAX_SIDE, MAX_SIDE)


def test_jpeg_of_exactly_max_side_and_other_formats_are_not_drafted(
    tmp_path: Path, drafts: list[tuple[object, ...]]
) -> None:
    edge = _save(Image.new("RGB", (MAX_SIDE, 256)), tmp_path / "edge.jpg", "JPEG")
    assert prepare_one(_upload(edge), max_bytes=FIVE_MB, budget=DECODE_BUDGET).image.size == (MAX_SIDE, 256)
    wide = _save(Image.new("RGB", (MAX_SIDE + 1, 300)), tmp_path / "wide.png", "PNG")
    assert prepare_one(_upload(wide), max_bytes=FIVE_MB, budget=DECODE_BUDGET).image.size == (MAX_SIDE, 300)
    assert drafts == []


# --- several photos ---------------------------------------------------------------------------


def test_no_photos_is_refused() -> None:
    with pytest.raises(RefusedError) as caught:
        prepare([], max_bytes=FIVE_MB, budget=DECODE_BUDGET)
    assert caught.value.code == "NO_PHOTOS"
    assert caught.value.message == f"Upload 1 to {MAX_PHOTOS} photos of your face to make avatars."


def test_one_photo_too_many_is_refused_before_any_is_opened(tmp_path: Path) -> None:
    missing = _upload(tmp_path / "gone.jpg")
    with pytest.raises(RefusedError) as caught:
        prepare([missing] * (MAX_PHOTOS + 1), max_bytes=FIVE_MB, budget=DECODE_BUDGET)
    assert caught.value.code == "TOO_MANY_PHOTOS"
    assert caught.value.message == (
        f"You uploaded {MAX_PHOTOS + 1} photos; use at most {MAX_PHOTOS} photos of the same person."
    )


def test_exactly_max_photos_are_accepted(tmp_path: Path) -> None:
    uploads = [_upload(_small_png(tmp_path / f"{index}.png")) for index in range(MAX_PHOTOS)]
    prepared = prepare(uploads, max_bytes=FIVE_MB, budget=DECODE_BUDGET)
    assert [photo.name for photo in prepared] == [f"{index}.png" for index in range(MAX_PHOTOS)]


def test_every_photo_gets_the_limits_given(tmp_path: Path) -> None:
    upload = _upload(_small_png(tmp_path / "wide.png", (64, 32)))
    assert [photo.image.size for photo in prepare([upload], max_bytes=FIVE_MB, budget=DECODE_BUDGET, max_side=16)] == [
        (16, 8)
    ]
    assert [photo.image.size for photo in prepare([upload], max_bytes=FIVE_MB, budget=DECODE_BUDGET)] == [(64, 32)]
    with pytest.raises(RefusedError) as caught:
        prepare([upload], max_bytes=upload.path.stat().st_size - 1, budget=DECODE_BUDGET)
    assert caught.value.code == "PHOTO_TOO_LARGE"


def test_prepare_shrinks_to_max_side_by_default(tmp_path: Path) -> None:
    upload = _upload(_small_png(tmp_path / "wide.png", (MAX_SIDE + 1, 300)))
    assert prepare([upload], max_bytes=FIVE_MB, budget=DECODE_BUDGET)[0].image.size == (MAX_SIDE, 300)


# --- large photos, averaged down a strip at a time ----------------------------------------------


@pytest.mark.parametrize("mode", ["RGBA", "P"])
def test_transparent_edges_average_as_if_laid_on_white_first(tmp_path: Path, mode: str) -> None:
    """Clear black and opaque red columns side by side, averaged two into one: pink, not a dark red fringe."""
    columns = np.zeros((MAX_SIDE // 2, 2 * MAX_SIDE), np.uint8)
    columns[:, 1::2] = 1
    if mode == "RGBA":
        image = Image.fromarray(np.array([(0, 0, 0, 0), (255, 0, 0, 255)], np.uint8)[columns], "RGBA")
        path = _save(image, tmp_path / "edges.png", "PNG")
    else:
        image = Image.fromarray(columns, "P")
        image.putpalette([0, 0, 0, 255, 0, 0])
        path = _save(image, tmp_path / "edges.png", "PNG", transparency=0)
    photo = prepare_one(_upload(path), max_bytes=FIVE_MB, budget=DECODE_BUDGET)
    assert photo.image.size == (MAX_SIDE, MAX_SIDE // 4)
    pixels = np.asarray(photo.image)
    assert set(np.unique(pixels[..., 0])) == {255}
    assert set(np.unique(pixels[..., 1:])) <= {127, 128}


def test_a_large_photo_is_turned_upright_after_it_is_averaged_down(tmp_path: Path) -> None:
    wide = Image.new("RGB", (2 * MAX_SIDE + 2, 600), (200, 30, 30))
    wide.paste((30, 30, 200), (MAX_SIDE + 1, 0, 2 * MAX_SIDE + 2, 600))  # red on the left, blue on the right
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display: the left side goes on top
    photo = prepare_one(
        _upload(_save(wide, tmp_path / "phone.png", "PNG", exif=exif.tobytes())),
        max_bytes=FIVE_MB,
        budget=DECODE_BUDGET,
    )
    assert photo.original_size == (2 * MAX_SIDE + 2, 600)
    assert photo.image.size == (300, MAX_SIDE)
    assert photo.image.getpixel((150, 10)) == (200, 30, 30)
    assert photo.image.getpixel((150, MAX_SIDE - 10)) == (30, 30, 200)


# --- memory -------------------------------------------------------------------------------------

PEAK_SCRIPT = """
import json, re, resource, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from photomaker.images.decode_budget import DecodeBudget
from photomaker.images.uploaded_photos import PhotoUpload, prepare_one

def resident():
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize()

def peak():  # this process's high-water mark (ru_maxrss would count the parent's, kept over exec)
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())[1]) * 1024

class Recording(DecodeBudget):
    def held(self, size):
        reserved.append(size)
        return super().held(size)

path, budget, copies = PhotoUpload.from_path(sys.argv[1]), Recording(int(sys.argv[2])), int(sys.argv[3])
reserved, before = [], resident()
with ThreadPoolExecutor(copies) as pool:
    sizes = list(pool.map(lambda _: prepare_one(path, max_bytes=5 << 20, budget=budget).image.size, range(copies)))
print(json.dumps({"sizes": sizes, "reserved": reserved, "peak": peak() - before, "after": resident() - before}))
"""


def _prepared_in_a_fresh_process(photo: Path, *, budget: int, copies: int = 1) -> dict[str, Any]:
    """`copies` of `photo` prepared at once in a process of their own: their sizes, the bytes each reserved in the
    budget, and how far the process's memory grew at its peak and after."""
    measured = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(photo), str(budget), str(copies)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    figures: dict[str, Any] = json.loads(measured.stdout)
    return figures


def _flat(tmp_path: Path, case: str) -> Path:
    """Worst cases of every kind: one colour, under 5 MB, as many pixels as the checks let through."""
    if case == "rgba.png":
        return flat_rgba_png(tmp_path / case, 7000)
    path = tmp_path / case
    if case == "palette-with-transparency.png":
        Image.new("P", (7000, 7000), 1).save(path, transparency=0)
    elif case == "grey-16.png":
        Image.new("I;16", (7000, 7000), 3000).save(path)
    elif case == "rgb.webp":
        Image.new("RGB", (5000, 5000), (9, 99, 199)).save(path, lossless=True, method=0)
    else:
        Image.new("RGB", (7000, 7000), (9, 99, 199)).save(path, progressive=True, subsampling=0)
    return path


@pytest.mark.parametrize(
    "case", ["rgba.png", "palette-with-transparency.png", "grey-16.png", "rgb.webp", "progressive-444.jpg"]
)
def test_preparing_a_photo_holds_no_more_than_it_reserved(tmp_path: Path, case: str) -> None:
    """Its decoded pixels and a few working copies of the averaged-down image, all within what it held in the
    budget: the estimate made from the header, before a pixel was decoded."""
    figures = _prepared_in_a_fresh_process(_flat(tmp_path, case), budget=DECODE_BUDGET.total_bytes)
    assert figures["sizes"] == [[MAX_SIDE, MAX_SIDE]]
    [reserved] = figures["reserved"]
    assert figures["peak"] < reserved < 2 * figures["peak"]


def test_worst_case_photos_prepared_at_once_stay_within_the_budget(tmp_path: Path) -> None:
    """The probe's photo: 208 KB, 196 MB decoded; one took 983 MB to prepare and several at once took gigabytes.

    Three at once in a fresh process, with a budget that fits one of them: its memory grows by less than the
    budget and comes back afterwards. `ru_maxrss` sees Pillow's allocations, which tracemalloc does not.
    """
    photo = flat_rgba_png(tmp_path / "flat.png", 7000)
    assert photo.stat().st_size < 250_000
    budget = 300 * MIB
    figures = _prepared_in_a_fresh_process(photo, budget=budget, copies=3)
    assert figures["sizes"] == [[MAX_SIDE, MAX_SIDE]] * 3
    assert 7000 * 7000 * 4 < figures["peak"] < budget
    # Given back, but for what was freed after the last decode (the prepared photos, 4 MB each): 1.2 GB before.
    assert figures["after"] < 64 * MIB


def test_a_photo_that_needs_more_memory_than_the_whole_budget_is_refused_before_decoding(tmp_path: Path) -> None:
    # A header alone: decoding it would find no pixels and say "damaged or incomplete".
    claim = tmp_path / "claim.png"
    claim.write_bytes(_png_claiming(7000, 7000, colour_type=PNG_RGBA))
    budget = DecodeBudget(128 * MIB)
    error = _refusal(claim, budget=budget)
    assert (error.code, error.message) == (
        "PHOTO_TOO_LARGE",
        "claim.png is 7000x7000 pixels; this app opens a PNG photo like it up to 17 megapixels. "
        "Resize it and upload it again.",
    )
    # The most pixels promised do fit: a photo of 17 megapixels passes the check and goes on to be decoded.
    side = math.isqrt(17_000_000)
    claim.write_bytes(_png_claiming(side, side, colour_type=PNG_RGBA))
    assert _refusal(claim, budget=budget).message == f"claim.png is damaged or incomplete{INSTEAD}"


def test_a_webp_takes_four_times_the_memory_of_a_png_and_is_refused_sooner(tmp_path: Path) -> None:
    """libwebp keeps two canvases of its own and Pillow a copy: 16 bytes a pixel, so the default budget refuses a
    40-megapixel WebP that it would take as a PNG."""
    size = (8000, 5000)
    webp = _save(Image.new("RGB", size, (9, 99, 199)), tmp_path / "big.webp", "WEBP", lossless=True, method=0)
    error = _refusal(webp)
    assert (error.code, error.message) == (
        "PHOTO_TOO_LARGE",
        "big.webp is 8000x5000 pixels; this app opens a WebP photo like it up to 29 megapixels. "
        "Resize it and upload it again.",
    )
    claim = tmp_path / "big.png"
    claim.write_bytes(_png_claiming(*size, colour_type=PNG_RGBA))
    assert _refusal(claim).message == f"big.png is damaged or incomplete{INSTEAD}"


def test_a_photo_waits_for_room_in_the_budget(tmp_path: Path) -> None:
    path = _save(Image.new("RGBA", (64, 64), (1, 2, 3, 4)), tmp_path / "small.png", "PNG")
    budget = DecodeBudget(64 * MIB)
    prepared: list[PreparedPhoto] = []
    waiting = threading.Thread(
        target=lambda: prepared.append(prepare_one(_upload(path), max_bytes=FIVE_MB, budget=budget))
    )
    with budget.held(budget.total_bytes):
        waiting.start()
        waiting.join(timeout=0.3)
        assert waiting.is_alive() and not prepared
    waiting.join(timeout=5)
    assert [photo.image.size for photo in prepared] == [(64, 64)]
    assert budget.held_bytes == 0
