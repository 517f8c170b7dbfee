"""Uploaded photos as Gradio hands them over: turned into `PhotoUpload`s, and deleted after use.

Only files inside Gradio's upload folder are accepted and deleted: a request cannot point us at
other files on the server, and the CLI's photos (the user's own files) are never touched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from photomaker.errors import RefusedError
from photomaker.photos import PhotoUpload


def upload_dir() -> Path:
    """Where Gradio writes uploads (`GRADIO_TEMP_DIR`, else the system temp folder's `gradio`)."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()


def _inside_uploads(path: Path) -> bool:
    return path.resolve().is_relative_to(upload_dir())


def to_upload(item: Any) -> PhotoUpload:
    """One uploaded file: a path, a `(path, caption)` gallery pair or a FileData dict."""
    if isinstance(item, tuple):
        item = item[0]
    if isinstance(item, dict):
        path, name = Path(item.get("path") or ""), item.get("orig_name") or Path(item.get("path") or "").name
    else:
        path, name = Path(str(item)), Path(str(item)).name
    if not _inside_uploads(path):
        raise RefusedError(
            "INVALID_PHOTO",
            f"{name or 'A photo'} was not uploaded with the request; send files with gradio_client.handle_file().",
        )
    return PhotoUpload(path=path, name=name)


def to_uploads(items: Sequence[Any] | None) -> tuple[PhotoUpload, ...]:
    return tuple(to_upload(item) for item in items or ())


def still_there(items: Iterable[Any] | None) -> bool:
    """Whether every uploaded photo is still on disk (so the upload box can keep showing them)."""
    try:
        return all(upload.path.exists() for upload in to_uploads(list(items or ())))
    except RefusedError:
        return False


def discard(items: Iterable[Any] | None) -> None:
    """Delete uploaded photos once the request is over: we never keep them."""
    for item in items or ():
        try:
            upload = to_upload(item)
        except RefusedError:
            continue
        upload.path.unlink(missing_ok=True)
        if upload.path.parent != upload_dir():
            with contextlib.suppress(OSError):
                upload.path.parent.rmdir()
