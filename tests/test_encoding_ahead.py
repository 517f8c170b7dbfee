"""Encoding ahead: images encoded in the background as they are made, taken when saved; the rest dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from photomaker.images.avatar_files import encode
from photomaker.images.encoding_ahead import EncodingAhead


@pytest.fixture
def photos(face_photo: Path) -> list[Image.Image]:
    photo = Image.open(face_photo).convert("RGB")
    return [photo, photo.rotate(90), photo.rotate(180)]


def test_images_started_are_taken_encoded_in_any_order(photos: list[Image.Image]) -> None:
    with EncodingAhead() as ahead:
        ahead.start(photos)
        assert ahead.taken([photos[2], photos[0]]) == [encode(photos[2]), encode(photos[0])]


def test_an_image_not_started_or_taken_already_comes_back_as_it_is(photos: list[Image.Image]) -> None:
    copy = photos[0].copy()
    with EncodingAhead() as ahead:
        ahead.start(photos[:1])
        (same_pixels,) = ahead.taken([copy])
        assert same_pixels is copy, "images are told apart by identity: a copy was not started"
        assert ahead.taken(photos[:1]) == [encode(photos[0])]
        assert ahead.taken(photos[:2]) == photos[:2]


def test_an_encoding_that_fails_raises_when_taken_and_one_never_taken_is_dropped(photos: list[Image.Image]) -> None:
    empty, other_empty = Image.new("RGB", (0, 0)), Image.new("RGB", (0, 0))
    with EncodingAhead() as ahead:
        ahead.start([empty, photos[0], other_empty])
        with pytest.raises(ValueError, match="empty image"):
            ahead.taken([empty])
        assert ahead.taken(photos[:1]) == [encode(photos[0])]
    # `other_empty` failed too, and nobody asked for it: closing drops it without a word.


def test_closing_cancels_what_has_not_begun(photos: list[Image.Image]) -> None:
    ahead = EncodingAhead()
    ahead.start(photos * 20)
    ahead.close()
    assert ahead.taken(photos) == photos
    with pytest.raises(RuntimeError):
        ahead.start(photos)
