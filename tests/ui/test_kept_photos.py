"""The photos a page keeps for its next generations: kept through use, deleted on every way out (unused too long,
forgotten, the page closed, Delete my data, a restart), and out of reach of any other client or tab."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from photomaker.core.settings import Settings
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.ui import kept_photos, uploads
from photomaker.ui.kept_photos import KeptPhotos, PageKey, page_of
from photomaker.ui.upload_keys import UPLOADER_COOKIE
from photomaker.ui.uploads import REGISTRY

ALICE_TAB = PageKey(uploader="alice-browser", session="tab-1")
ALICE_OTHER_TAB = PageKey(uploader="alice-browser", session="tab-2")


@pytest.fixture
def kept() -> KeptPhotos:
    return KeptPhotos()


def _upload(upload_dir: Path, name: str, *, owner: str = "alice-browser") -> PhotoUpload:
    """A photo uploaded by `owner`'s browser, as `PrivateUploads` leaves it."""
    folder = upload_dir / f"sha-kept-{name}-{time.monotonic_ns()}"
    folder.mkdir()
    (folder / name).write_bytes(name.encode())
    private = REGISTRY.adopt(folder / name, owner=owner)
    return PhotoUpload(path=private, name=name)


def test_what_the_box_holds_is_kept_and_a_photo_taken_out_is_deleted(kept: KeptPhotos, upload_dir: Path) -> None:
    first, second = _upload(upload_dir, "a.png"), _upload(upload_dir, "b.png")
    kept.keep(ALICE_TAB, [first, second], username="alice")
    assert kept.photos(ALICE_TAB) == (first, second) and kept.paths() == {first.path, second.path}
    kept.keep(ALICE_TAB, [first], username="alice")
    assert first.path.exists() and not second.path.exists(), "taken out of the box: deleted at once"
    assert uploads.claim([str(first.path)], owner="alice-browser").problem is None, "still usable by its client"
    kept.forget(ALICE_TAB)


def test_photos_unused_too_long_are_deleted_and_use_renews_them(kept: KeptPhotos, upload_dir: Path) -> None:
    used, idle = _upload(upload_dir, "used.png"), _upload(upload_dir, "idle.png")
    now = time.time()
    kept.keep(ALICE_TAB, [used], username="alice", now=now - 1700)
    kept.keep(ALICE_OTHER_TAB, [idle], username="alice", now=now - 1900)
    kept.keep(ALICE_TAB, [used], username="alice", now=now - 60)  # a generation used them again
    assert kept.expire(idle_s=1800, now=now) == 1
    assert used.path.exists() and not idle.path.exists()
    assert kept.photos(ALICE_OTHER_TAB) == ()
    assert uploads.claim([str(idle.path)], owner="alice-browser").problem is not None, "gone for its client too"
    assert kept.expire(idle_s=30, now=now) == 1 and not used.path.exists()


def test_forget_and_a_closed_page_delete_only_that_pages_photos(kept: KeptPhotos, upload_dir: Path) -> None:
    mine, my_other_tab = _upload(upload_dir, "mine.png"), _upload(upload_dir, "tab2.png")
    kept.keep(ALICE_TAB, [mine], username="alice")
    kept.keep(ALICE_OTHER_TAB, [my_other_tab], username="alice")
    assert kept.forget(ALICE_TAB) == 1 and not mine.path.exists()
    assert my_other_tab.path.exists() and kept.photos(ALICE_OTHER_TAB) == (my_other_tab,)
    assert kept.forget(ALICE_TAB) == 0, "forgetting twice is harmless"
    kept.forget(ALICE_OTHER_TAB)


def test_delete_my_data_deletes_every_page_of_that_user_alone(kept: KeptPhotos, upload_dir: Path) -> None:
    alice_1, alice_2 = _upload(upload_dir, "a1.png"), _upload(upload_dir, "a2.png")
    bob = _upload(upload_dir, "bob.png", owner="bob-browser")
    kept.keep(ALICE_TAB, [alice_1], username="alice")
    kept.keep(ALICE_OTHER_TAB, [alice_2], username="alice")
    kept.keep(PageKey("bob-browser", "tab-1"), [bob], username="bob")
    assert kept.forget_user("alice") == 2
    assert not alice_1.path.exists() and not alice_2.path.exists() and bob.path.exists()
    kept.forget_user("bob")


def test_another_client_or_tab_cannot_reach_a_pages_photos(kept: KeptPhotos, upload_dir: Path) -> None:
    photo = _upload(upload_dir, "private.png")
    kept.keep(ALICE_TAB, [photo], username="alice")
    assert kept.photos(PageKey("mallory-browser", "tab-1")) == (), "the same session name from another client"
    assert kept.photos(ALICE_OTHER_TAB) == ()
    refused = uploads.claim([str(photo.path)], owner="mallory-browser")
    assert refused.photos == () and refused.problem is not None and refused.problem.code == "INVALID_PHOTO"
    assert kept.forget(PageKey("mallory-browser", "tab-1")) == 0 and photo.path.exists(), "nor delete them"
    kept.forget(ALICE_TAB)


def test_a_page_is_its_upload_key_and_its_session() -> None:
    def request(**cookies: str) -> SimpleNamespace:
        return SimpleNamespace(session_hash="tab-1", cookies=cookies)

    assert page_of(request(**{UPLOADER_COOKIE: "k3y"})) == PageKey("k3y", "tab-1")
    assert page_of(request()) is None, "no upload key: a program's call keeps nothing"
    assert page_of(SimpleNamespace(session_hash=None, cookies={UPLOADER_COOKIE: "k3y"})) is None
    assert page_of(None) is None


def test_a_photo_forgotten_during_a_generation_is_not_kept_again(kept: KeptPhotos, upload_dir: Path) -> None:
    photo = _upload(upload_dir, "gone.png")
    kept.keep(ALICE_TAB, [photo], username="alice")
    kept.forget(ALICE_TAB)
    kept.keep(ALICE_TAB, [photo], username="alice")  # the generation that read it ends after the forget
    assert kept.photos(ALICE_TAB) == () and kept.paths() == set()


def test_the_sweep_leaves_kept_photos_alone_and_deletes_expired_ones(
    upload_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = KeptPhotos()
    monkeypatch.setattr(kept_photos, "KEPT", kept)
    settings = Settings(data_dir=tmp_path / "data", kept_photos_minutes=30)
    still, stale = _upload(upload_dir, "still.png"), _upload(upload_dir, "stale.png")
    long_ago = time.time() - settings.longest_request_s - 60  # older than any request could take
    for photo in (still, stale):
        os.utime(photo.path.parent, (long_ago, long_ago))
    kept.keep(ALICE_TAB, [still], username="alice")
    kept.keep(ALICE_OTHER_TAB, [stale], username="alice", now=time.time() - 31 * 60)
    kept_photos.sweep(settings)
    assert still.path.exists(), "kept and used lately: the sweep of forgotten uploads leaves it"
    assert uploads.claim([str(still.path)], owner="alice-browser").problem is None
    assert not stale.path.exists() and not stale.path.parent.exists()
    kept.forget(ALICE_TAB)


def test_a_restart_deletes_what_pages_kept(upload_dir: Path, tmp_path: Path) -> None:
    """A process that kept photos dies: the next one's sweep at start deletes its folders."""
    script = (
        "import sys, pathlib\n"
        "from photomaker.ui.uploads import REGISTRY\n"
        "from photomaker.ui.kept_photos import KEPT, PageKey\n"
        "from photomaker.images.uploaded_photos import PhotoUpload\n"
        "shared = pathlib.Path(sys.argv[1])\n"
        "private = REGISTRY.adopt(shared, owner='alice-browser')\n"
        "KEPT.keep(PageKey('alice-browser', 'tab'), [PhotoUpload(path=private, name='me.png')], username='alice')\n"
        "print(private)\n"
    )
    folder = upload_dir / f"sha-restart-{time.monotonic_ns()}"
    folder.mkdir()
    (folder / "me.png").write_bytes(b"me")
    environment = {**os.environ, "GRADIO_TEMP_DIR": str(upload_dir)}
    ran = subprocess.run(
        [sys.executable, "-c", script, str(folder / "me.png")], env=environment, capture_output=True, text=True
    )
    left = Path(ran.stdout.strip())
    assert ran.returncode == 0 and left.exists(), ran.stderr
    kept_photos.sweep(Settings(data_dir=tmp_path / "data"))
    assert not left.exists() and not left.parent.exists()
