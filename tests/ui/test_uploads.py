"""Uploads: private to the client that sent them, read by nobody else, deleted after use."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from photomaker.core.errors import RefusedError
from photomaker.ui import upload_keys, uploads
from photomaker.ui.uploads import REGISTRY


def _stored_by_gradio(upload_dir: Path, name: str, content: bytes = b"photo bytes") -> Path:
    """A file where Gradio's upload route stores it: a folder named by the content's hash."""
    folder = upload_dir / f"sha-{abs(hash(content))}"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path


def _refusal(claimed: uploads.Claimed) -> RefusedError:
    assert claimed.problem is not None, "something here was not this client's upload"
    assert claimed.problem.code == "INVALID_PHOTO" and "not uploaded with this request" in claimed.problem.message
    return claimed.problem


def test_files_outside_the_upload_folder_are_refused_and_kept(tmp_path: Path) -> None:
    outside = tmp_path / "server-secret.png"
    outside.write_bytes(b"x")
    claimed = uploads.claim([{"path": str(outside), "orig_name": "server-secret.png"}], owner=None)
    assert _refusal(claimed).message.startswith("server-secret.png was not uploaded")
    assert (claimed.photos, claimed.named) == ((), 1)
    assert outside.exists()


def test_a_file_in_the_upload_folder_that_nobody_uploaded_is_refused(upload_dir: Path) -> None:
    cached = _stored_by_gradio(upload_dir, "avatar-1.png", b"someone's avatar, copied into the cache")
    _refusal(uploads.claim([str(cached)], owner=None))
    assert cached.exists()


def test_an_upload_moves_to_a_private_folder_and_only_its_client_may_use_it(upload_dir: Path) -> None:
    shared = _stored_by_gradio(upload_dir, "me.png")
    private = REGISTRY.adopt(shared, owner="alice-browser")
    assert private.read_bytes() == b"photo bytes" and not shared.exists() and not shared.parent.exists()
    assert private.parent.parent == upload_dir.resolve() and private.parent.name.startswith("private-")
    assert private.parent.stat().st_mode & 0o777 == 0o700
    for stranger in ("bob-browser", None):
        _refusal(uploads.claim([{"path": str(private), "orig_name": "me.png"}], owner=stranger))
    claimed = uploads.claim([{"path": str(private), "orig_name": "Me at the beach.png"}], owner="alice-browser")
    (photo,) = claimed.photos
    assert (photo.path, photo.name, claimed.problem) == (private, "Me at the beach.png", None)
    assert uploads.claim([(str(private), None)], owner="alice-browser").photos[0].name == "me.png"
    uploads.discard([photo])
    assert not private.exists() and not private.parent.exists()
    _refusal(uploads.claim([str(private)], owner="alice-browser"))


def test_a_request_naming_its_own_upload_and_another_file_claims_only_its_own(upload_dir: Path) -> None:
    mine = REGISTRY.adopt(_stored_by_gradio(upload_dir, "mine.png", b"mine"), owner="alice-browser")
    claimed = uploads.claim([str(mine), "/etc/passwd"], owner="alice-browser")
    assert [photo.path for photo in claimed.photos] == [mine] and claimed.named == 2
    assert _refusal(claimed).message.startswith("passwd was not uploaded")
    uploads.discard(claimed.photos)
    assert not mine.exists()


@pytest.mark.parametrize("items", [5, "a-path.png", {"path": "x.png"}, 2.5, True])
def test_photos_that_are_not_a_list_are_refused(items: object) -> None:
    claimed = uploads.claim(items, owner="alice-browser")
    assert claimed.photos == () and claimed.problem is not None and claimed.problem.code == "INVALID_PHOTO"
    assert "list of files" in claimed.problem.message


@pytest.mark.parametrize("item", [None, 7, "", "bad\x00path.png", {"path": None}, {"orig_name": "x"}, [], [[1]]])
def test_odd_items_are_refused_without_a_crash(item: object) -> None:
    claimed = uploads.claim([item], owner="alice-browser")
    assert claimed.photos == () and "\x00" not in _refusal(claimed).message


def test_identical_uploads_get_files_of_their_own(upload_dir: Path) -> None:
    """Gradio hands two identical uploads one shared file; each client still gets a copy of its own."""
    shared = _stored_by_gradio(upload_dir, "same.png")
    first = REGISTRY.adopt(shared, owner="alice-browser")
    second = REGISTRY.adopt(shared, owner="bob-browser")  # Gradio's file is already gone: the twin is linked
    assert first != second and first.read_bytes() == second.read_bytes() == b"photo bytes"
    uploads.discard(uploads.claim([str(first)], owner="alice-browser").photos)
    assert not first.exists()
    (kept,) = uploads.claim([str(second)], owner="bob-browser").photos
    assert kept.path.read_bytes() == b"photo bytes", "deleting one request's upload never breaks another's"
    uploads.discard([kept])


def test_the_sweep_deletes_old_uploads_and_keeps_recent_ones(upload_dir: Path) -> None:
    old = REGISTRY.adopt(_stored_by_gradio(upload_dir, "old.png", b"old"), owner="alice-browser")
    recent = REGISTRY.adopt(_stored_by_gradio(upload_dir, "recent.png", b"recent"), owner="alice-browser")
    an_hour_ago = time.time() - 3600
    os.utime(old.parent, (an_hour_ago, an_hour_ago))
    assert uploads.sweep(older_than_s=600) == 1
    assert not old.parent.exists() and recent.exists()
    assert uploads.claim([str(recent)], owner="alice-browser").problem is None
    assert uploads.sweep(older_than_s=0) >= 1, "a sweep with no margin takes every upload"
    assert not recent.exists()
    _refusal(uploads.claim([str(recent)], owner="alice-browser"))


def test_the_upload_key_comes_from_the_request_cookies() -> None:
    request = SimpleNamespace(cookies={upload_keys.UPLOADER_COOKIE: "k3y", "other": "x"})
    assert upload_keys.uploader(request) == "k3y"
    assert upload_keys.uploader(None) is None


def _ended_pid() -> int:
    """The id of a process that has ended (and was reaped)."""
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def test_the_uploads_of_a_process_that_ended_are_swept_at_once(upload_dir: Path) -> None:
    mine = REGISTRY.adopt(_stored_by_gradio(upload_dir, "mine.png", b"mine"), owner="alice-browser")
    assert mine.parent.name.startswith(f"private-{os.getpid()}-")
    orphan = upload_dir / f"private-{_ended_pid()}-0123456789ab-{'f' * 32}"
    orphan.mkdir()
    (orphan / "being-read-at-the-crash.png").write_bytes(b"x")
    assert uploads.sweep(older_than_s=3600) == 1
    assert not orphan.exists() and mine.exists(), "a fresh upload of a live process stays"
    uploads.discard(uploads.claim([str(mine)], owner="alice-browser").photos)
