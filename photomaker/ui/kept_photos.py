"""The photos a page keeps for its next generations: through refusals, other styles and packs, until the user
forgets them, they go unused for `KEPT_PHOTOS_MINUTES`, the page closes, or the user deletes their data.

A page is one open browser tab (Gradio's session) of one client (its upload key, `upload_keys`): both must
match to reach what it keeps, so another client, or the same client's other tab, never can. The files stay
where `PrivateUploads` put them, private to that client and served to it alone (the page's photo box
shows them); nothing here is written to disk or the database, and a restart deletes them (`uploads.sweep`
removes the folders of a process that has ended). The Gradio API and REST API never come here: their
photos are deleted once their request is over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from photomaker.core.settings import Settings
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.ui import uploads
from photomaker.ui.upload_keys import uploader


class PageKey(NamedTuple):
    """One open page: the client's upload key and the tab's Gradio session."""

    uploader: str
    session: str


def page_of(request: Any) -> PageKey | None:
    """The page that made `request` (a `gr.Request`); None without an upload key or a session."""
    key, session = uploader(request), getattr(request, "session_hash", None)
    return PageKey(key, session) if key and session else None


@dataclass
class _Kept:
    username: str
    photos: tuple[PhotoUpload, ...]
    used: float


class KeptPhotos:
    """What each page keeps, and since when it went unused."""

    def __init__(self) -> None:
        self._kept: dict[PageKey, _Kept] = {}
        self._lock = threading.Lock()

    def keep(self, page: PageKey, photos: Sequence[PhotoUpload], *, username: str, now: float | None = None) -> None:
        """The photos the page's box holds now: kept for its next generations, unused from `now`. Any it kept
        before and no longer holds (taken out of the box) are deleted."""
        photos = [photo for photo in photos if photo.path.exists()]  # not those forgotten meanwhile
        held = {photo.path for photo in photos}
        with self._lock:
            before = self._kept.pop(page, None)
            if photos:
                self._kept[page] = _Kept(username=username, photos=tuple(photos), used=now or time.time())
        if before is not None:
            uploads.discard(photo for photo in before.photos if photo.path not in held)

    def photos(self, page: PageKey) -> tuple[PhotoUpload, ...]:
        """What the page keeps (nothing once forgotten or expired)."""
        with self._lock:
            kept = self._kept.get(page)
        return () if kept is None else kept.photos

    def forget(self, page: PageKey) -> int:
        """Delete what the page keeps (Forget my photos, the page closed); returns how many photos."""
        with self._lock:
            gone = self._kept.pop(page, None)
        return self._delete([] if gone is None else [gone])

    def forget_user(self, username: str) -> int:
        """Delete what every page of `username` keeps (Delete my data); returns how many photos."""
        with self._lock:
            pages = [page for page, kept in self._kept.items() if kept.username == username]
            gone = [self._kept.pop(page) for page in pages]
        return self._delete(gone)

    def expire(self, *, idle_s: float, now: float | None = None) -> int:
        """Delete what pages kept unused for more than `idle_s`; returns how many photos."""
        cutoff = (now or time.time()) - idle_s
        with self._lock:
            pages = [page for page, kept in self._kept.items() if kept.used < cutoff]
            gone = [self._kept.pop(page) for page in pages]
        return self._delete(gone)

    def paths(self) -> set[Path]:
        """Every kept file (the sweep of forgotten uploads leaves them alone)."""
        with self._lock:
            return {photo.path for kept in self._kept.values() for photo in kept.photos}

    @staticmethod
    def _delete(gone: Iterable[_Kept]) -> int:
        photos = [photo for kept in gone for photo in kept.photos]
        uploads.discard(photos)
        return len(photos)


KEPT = KeptPhotos()
"""One per process, like the uploads it keeps."""


def sweep(settings: Settings) -> int:
    """Housekeeping's chore: photos kept unused too long, then the uploads nobody can use any more (kept ones
    excepted). Returns how many were deleted."""
    expired = KEPT.expire(idle_s=settings.kept_photos_minutes * 60)
    return expired + uploads.sweep(
        older_than_s=settings.longest_request_s,
        anonymous_older_than_s=settings.anonymous_upload_s,
        keeping=KEPT.paths(),
    )
