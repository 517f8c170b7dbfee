"""Uploads: private to the client that sent them, read by nobody else, deleted after use."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from photomaker.errors import RefusedError
from photomaker.ui import uploads
from photomaker.ui.uploads import REGISTRY


def _stored_by_gradio(upload_dir: Path, name: str, content: bytes = b"photo bytes") -> Path:
    """A file where Gradio's upload route stores it: a folder named by the content's hash."""
    folder = upload_dir / f"sha-{abs(hash(content))}"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path


def test_files_outside_the_upload_folder_are_refused_and_kept(tmp_path: Path) -> None:
    outside = tmp_path / "server-secret.png"
    outside.write_bytes(b"x")
    with pytest.raises(RefusedError) as caught:
        uploads.claim([{"path": str(outside), "orig_name": "server-secret.png"}], owner=None)
    assert caught.value.code == "INVALID_PHOTO" and "not uploaded with this request" in caught.value.message
    assert outside.exists()


def test_a_file_in_the_upload_folder_that_nobody_uploaded_is_refused(upload_dir: Path) -> None:
    cached = _stored_by_gradio(upload_dir, "avatar-1.png", b"someone's avatar, copied into the cache")
    with pytest.raises(RefusedError, match="not uploaded with this request"):
        uploads.claim([str(cached)], owner=None)
    assert cached.exists()


def test_an_upload_moves_to_a_private_folder_and_only_its_client_may_use_it(upload_dir: Path) -> None:
    shared = _stored_by_gradio(upload_dir, "me.png")
    private = REGISTRY.adopt(shared, owner="alice-browser")
    assert private.read_bytes() == b"photo bytes" and not shared.exists() and not shared.parent.exists()
    assert private.parent.parent == upload_dir.resolve() and private.parent.name.startswith("private-")
    assert private.parent.stat().st_mode & 0o777 == 0o700
    for stranger in ("bob-browser", None):
        with pytest.raises(RefusedError, match="not uploaded with this request"):
            uploads.claim([{"path": str(private), "orig_name": "me.png"}], owner=stranger)
    (photo,) = uploads.claim([{"path": str(private), "orig_name": "Me at the beach.png"}], owner="alice-browser")
    assert (photo.path, photo.name) == (private, "Me at the beach.png")
    assert uploads.claim([(str(private), None)], owner="alice-browser")[0].name == "me.png"
    uploads.discard([photo])
    assert not private.exists() and not private.parent.exists()
    with pytest.raises(RefusedError):
        uploads.claim([str(private)], owner="alice-browser")


def test_identical_uploads_get_files_of_their_own(upload_dir: Path) -> None:
    """Gradio hands two identical uploads one shared file; each client still gets a copy of its own."""
    shared = _stored_by_gradio(upload_dir, "same.png")
    first = REGISTRY.adopt(shared, owner="alice-browser")
    second = REGISTRY.adopt(shared, owner="bob-browser")  # Gradio's file is already gone: the twin is linked
    assert first != second and first.read_bytes() == second.read_bytes() == b"photo bytes"
    uploads.discard(uploads.claim([str(first)], owner="alice-browser"))
    assert not first.exists()
    (kept,) = uploads.claim([str(second)], owner="bob-browser")
    assert kept.path.read_bytes() == b"photo bytes", "deleting one request's upload never breaks another's"
    uploads.discard([kept])


def test_still_there_only_for_the_owner(upload_dir: Path) -> None:
    private = REGISTRY.adopt(_stored_by_gradio(upload_dir, "kept.png"), owner="alice-browser")
    assert uploads.still_there([str(private)], owner="alice-browser")
    assert not uploads.still_there([str(private)], owner="bob-browser")
    uploads.discard(uploads.claim([str(private)], owner="alice-browser"))
    assert not uploads.still_there([str(private)], owner="alice-browser")


def test_the_upload_key_comes_from_the_request_cookies() -> None:
    request = SimpleNamespace(cookies={uploads.UPLOADER_COOKIE: "k3y", "other": "x"})
    assert uploads.uploader(request) == "k3y"
    assert uploads.uploader(None) is None
