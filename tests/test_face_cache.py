"""faces.locate keeps the faces of recent photos: the same photo again is not looked at again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from photomaker.core.errors import RefusedError
from photomaker.faces import analysis as faces
from photomaker.images.uploaded_photos import PhotoUpload, PreparedPhoto, prepare_one
from stand_ins.engine_inputs import DECODE_BUDGET

FIXTURES = Path(__file__).parent / "fixtures"


class InThread:
    """Stands in for the worker processes: runs the work here, counts it, and can hold it until released."""

    def __init__(self) -> None:
        self.calls = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def call(self, fn: Callable[[Any], Any], item: Any) -> Any:
        self.calls += 1
        self.started.set()
        assert self.release.wait(10)
        return fn(item)


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> InThread:
    """Counted face work, and a cache that starts empty."""
    counted = InThread()
    monkeypatch.setattr(faces, "WORKERS", counted)
    monkeypatch.setattr(faces, "_located", faces.OnceCache(size=faces.LOCATED_KEPT))
    return counted


def _copy_of(fixture: str, folder: Path, name: str) -> PreparedPhoto:
    """The fixture's pixels in a file of another name, prepared as an upload."""
    path = folder / name
    Image.open(FIXTURES / fixture).convert("RGB").save(path)
    return prepare_one(PhotoUpload.from_path(path), max_bytes=5 << 20, budget=DECODE_BUDGET)


def test_the_same_photo_again_is_looked_at_once(work: InThread, tmp_path: Path) -> None:
    first = faces.locate(_copy_of("astronaut.png", tmp_path, "me.png"))
    again = faces.locate(_copy_of("astronaut.png", tmp_path, "me-again.png"))
    assert work.calls == 1
    assert (first.photo.name, again.photo.name) == ("me.png", "me-again.png"), "each names its own file"
    assert first.face == again.face
    assert np.array_equal(first.descriptor, again.descriptor)
    first.descriptor[:] = 0
    assert np.linalg.norm(again.descriptor) > 0.2, "each request has its own copy of the descriptor"
    assert np.linalg.norm(faces.locate(_copy_of("astronaut.png", tmp_path, "third.png")).descriptor) > 0.2


def test_two_identical_uploads_at_once_are_looked_at_once_and_both_complete(work: InThread, tmp_path: Path) -> None:
    photos = [_copy_of("astronaut.png", tmp_path, name) for name in ("a.png", "b.png")]
    work.release.clear()
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(faces.locate, photos[0])
        assert work.started.wait(10)
        second = pool.submit(faces.locate, photos[1])
        time.sleep(0.2)  # time for the second to reach the cache while the first is still being looked at
        assert not second.done()
        work.release.set()
        located = [first.result(30), second.result(30)]
    assert work.calls == 1
    assert [item.photo.name for item in located] == ["a.png", "b.png"]
    assert np.array_equal(located[0].descriptor, located[1].descriptor)


def test_different_photos_do_not_collide(work: InThread, tmp_path: Path) -> None:
    astronaut = faces.locate(_copy_of("astronaut.png", tmp_path, "one.png"))
    newton = faces.locate(_copy_of("newton-1689.jpg", tmp_path, "two.png"))
    assert work.calls == 2
    assert np.linalg.norm(astronaut.descriptor - newton.descriptor) > 0.6, "two people, not one remembered twice"


def test_a_photo_without_a_face_is_refused_by_its_own_name_each_time(work: InThread, tmp_path: Path) -> None:
    for name in ("cat.png", "kitten.png"):
        with pytest.raises(RefusedError) as caught:
            faces.locate(_copy_of("chelsea.png", tmp_path, name))
        assert caught.value.code == "NO_FACE"
        assert name in caught.value.message
    assert work.calls == 1


def test_the_real_workers_find_the_same_face_as_this_process() -> None:
    photo = prepare_one(PhotoUpload.from_path(FIXTURES / "astronaut.png"), max_bytes=5 << 20, budget=DECODE_BUDGET)
    located = faces.locate(photo)
    here = faces.detect_faces(photo.image)[0]
    assert located.face == here
    assert np.allclose(located.descriptor, faces.describe(photo.image, here))
