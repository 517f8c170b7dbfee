"""Uploads: only files Gradio received are read, and they are deleted after use."""

from __future__ import annotations

from pathlib import Path

import pytest

from photomaker.errors import RefusedError
from photomaker.ui import uploads


def test_files_outside_the_upload_folder_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "server-secret.png"
    outside.write_bytes(b"x")
    with pytest.raises(RefusedError) as caught:
        uploads.to_upload({"path": str(outside), "orig_name": "server-secret.png"})
    assert caught.value.code == "INVALID_PHOTO"
    uploads.discard([str(outside)])
    assert outside.exists(), "files outside the upload folder are never deleted"


def test_uploads_are_named_and_deleted(upload_dir: Path) -> None:
    folder = upload_dir / "abc123"
    folder.mkdir()
    photo = folder / "me.png"
    photo.write_bytes(b"x")
    found = uploads.to_upload({"path": str(photo), "orig_name": "Me at the beach.png"})
    assert found.name == "Me at the beach.png"
    assert uploads.to_upload((str(photo), None)).name == "me.png"
    uploads.discard([(str(photo), None)])
    assert not photo.exists() and not folder.exists()
