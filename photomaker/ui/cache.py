"""Gradio's file cache: the one folder whose files the app serves by URL (`/gradio_api/file=`).

Nothing under `DATA_DIR` is served. An avatar reaches its owner as an output of their own event:
a copy in this cache, in a folder named by a hash of its content and a secret seed, which nobody
can guess without already having the image. A download made for someone (their data export, an
operator's CSV) is served for `DOWNLOAD_KEPT_S` and then deleted, and a user's own go at once when
they delete their data, with the copies of their avatars and thumbnails.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from gradio import processing_utils
from gradio.utils import get_upload_folder

T = TypeVar("T")


def cache_dir() -> Path:
    """Where Gradio keeps uploads and served files (`GRADIO_TEMP_DIR`, else the temp folder's `gradio`)."""
    return Path(get_upload_folder()).resolve()


def served_copy(path: Path, *, name: str | None = None) -> str:
    """The path of a copy of `path` that Gradio may serve to the caller of the current event, called `name` (the
    name a browser saves it under) or else as `path` is. Its folder is named by its content alone, either way."""
    if name is None or name == path.name:
        return processing_utils.save_file_to_cache(path, cache_dir=str(cache_dir()))
    with tempfile.TemporaryDirectory(prefix="photomaker-named-") as folder:
        named = Path(folder) / name
        named.symlink_to(path.resolve())  # read through by the copy: the file itself is copied once
        return processing_utils.save_file_to_cache(named, cache_dir=str(cache_dir()))


DOWNLOAD_KEPT_S = 600.0
"""How long a download made for someone stays served: time to click it, not a place to keep it."""


@dataclass(frozen=True)
class _Download:
    owner: str
    folder: Path
    made: float


class _Downloads:
    """The downloads this process served, and whose they are."""

    def __init__(self) -> None:
        self._made: list[_Download] = []
        self._lock = threading.Lock()

    def add(self, owner: str, served: Path) -> None:
        with self._lock:
            self._made.append(_Download(owner, served.parent, time.time()))

    def take(self, keep: Callable[[_Download], bool]) -> list[Path]:
        """The folders of the downloads `keep` rejects, forgotten here."""
        with self._lock:
            gone = [made.folder for made in self._made if not keep(made)]
            self._made = [made for made in self._made if keep(made)]
        return gone


_DOWNLOADS = _Downloads()


def served_download(name: str, write: Callable[[Path], T], *, owner: str) -> tuple[str, T]:
    """A file made for `owner` (a CSV, a ZIP), written by `write` in a private folder and served from the cache
    alone (the original is deleted at once) for `DOWNLOAD_KEPT_S`; returns its path and what `write` said."""
    with tempfile.TemporaryDirectory(prefix="photomaker-download-") as folder:
        path = Path(folder) / name
        said = write(path)
        served = served_copy(path)
    _DOWNLOADS.add(owner, Path(served))
    return served, said


def withdraw_downloads(owner: str) -> None:
    """Delete every download served to `owner` (their data export, after they deleted their data)."""
    withdraw(_DOWNLOADS.take(lambda made: made.owner != owner))


def expire_downloads(*, older_than_s: float = DOWNLOAD_KEPT_S) -> int:
    """Delete the downloads served longer ago than `older_than_s`; returns how many."""
    cutoff = time.time() - older_than_s
    expired = _DOWNLOADS.take(lambda made: made.made >= cutoff)
    withdraw(expired)
    return len(expired)


def copies_of(paths: Iterable[Path]) -> list[Path]:
    """The cache folders holding served copies of these files (worked out while the files still exist)."""
    return [cache_dir() / processing_utils.hash_file(path) for path in paths]


def withdraw(copies: Iterable[Path]) -> None:
    """Delete served copies, so that a user's deleted avatars do not outlive them in the cache."""
    for folder in copies:
        shutil.rmtree(folder, ignore_errors=True)
