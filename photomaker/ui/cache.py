"""Gradio's file cache: the one folder whose files the app serves by URL (`/gradio_api/file=`).

Nothing under `DATA_DIR` is served. An avatar reaches its owner as an output of their own event:
a copy in this cache, in a folder named by a hash of its content and a secret seed, which nobody
can guess without already having the image.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from gradio import processing_utils
from gradio.utils import get_upload_folder

T = TypeVar("T")


def cache_dir() -> Path:
    """Where Gradio keeps uploads and served files (`GRADIO_TEMP_DIR`, else the temp folder's `gradio`)."""
    return Path(get_upload_folder()).resolve()


def served_copy(path: Path) -> str:
    """The path of a copy of `path` that Gradio may serve to the caller of the current event."""
    return processing_utils.save_file_to_cache(path, cache_dir=str(cache_dir()))


def served_download(name: str, write: Callable[[Path], T]) -> tuple[str, T]:
    """A file made for the caller (a CSV, a ZIP), written by `write` in a private folder and served
    from the cache alone (the original is deleted at once); returns its path and what `write` said."""
    with tempfile.TemporaryDirectory(prefix="photomaker-download-") as folder:
        path = Path(folder) / name
        said = write(path)
        return served_copy(path), said


def copies_of(paths: Iterable[Path]) -> list[Path]:
    """The cache folders holding served copies of these files (worked out while the files still exist)."""
    return [cache_dir() / processing_utils.hash_file(path) for path in paths]


def withdraw(copies: Iterable[Path]) -> None:
    """Delete served copies, so that a user's deleted avatars do not outlive them in the cache."""
    for folder in copies:
        shutil.rmtree(folder, ignore_errors=True)
