"""Uploaded photos: each upload private to the client that sent it, and deleted after use.

Gradio names an upload by its content, so two requests with the same photo would share one file
(the first to finish deleting the other's photo), and anyone who learns a path could pass it as
their own photo. `PrivateUploads` (`photomaker.ui.private_uploads`) therefore moves every file
Gradio's upload route receives into a folder of its own with an unguessable name, and ties it to the
client that sent it: a key (`photomaker.ui.upload_keys`) that browsers and `gradio_client` both keep
and send with their calls. A request can then read only the files its own client uploaded (`claim`),
never other files on the server, and deleting one request's photos never touches another's. The CLI
reads the user's own files directly and never comes here.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import threading
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from photomaker.core.errors import RefusedError
from photomaker.core.safe_text import RECORDED_CHARS, storable
from photomaker.generation.work_leases import Owner
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.ui.cache import cache_dir

PRIVATE_PREFIX = "private-"
"""The folders uploads move into (`PrivateUploads`), `private-<pid>-<token>-<random>` after the process that
received them: Gradio's own cache cleaning never sees them; `sweep` does."""


@dataclass(frozen=True)
class _Upload:
    owner: str | None
    origin: Path
    received: float
    anonymous: bool = False
    """Sent by a client not signed in, on a Space with sign-in: kept briefly, unless `held`."""
    held: bool = False
    """Its client asked for an event since: kept as long as a request may take."""


class UploadRegistry:
    """The uploads this process received: where each one lives now, and whose it is."""

    def __init__(self) -> None:
        self._uploads: dict[Path, _Upload] = {}
        self._lock = threading.Lock()

    def adopt(self, shared: Path, *, owner: str | None, anonymous: bool = False) -> Path:
        """Move a file Gradio just stored into a private folder of its own; returns its new path.

        Two clients uploading the same bytes at once get one shared file from Gradio; whichever
        comes second finds it already moved and links the first one's copy (the same bytes).
        """
        with self._lock:
            source = shared if shared.exists() else self._twin(shared)
            me = Owner.of_this_process()
            folder = cache_dir() / f"{PRIVATE_PREFIX}{me.pid}-{me.token}-{secrets.token_hex(16)}"
            folder.mkdir(mode=0o700)
            private = folder / shared.name
            try:
                os.link(source, private)
            except OSError:
                shutil.copyfile(source, private)
            _remove(shared)
            self._uploads[private] = _Upload(owner=owner, origin=shared, received=time.time(), anonymous=anonymous)
            return private

    def _twin(self, shared: Path) -> Path:
        for path, upload in self._uploads.items():
            if upload.origin == shared and path.exists():
                return path
        raise FileNotFoundError(shared)

    def owned(self, path: Path, owner: str | None) -> bool:
        with self._lock:
            upload = self._uploads.get(path)
        return upload is not None and upload.owner == owner

    def forget(self, path: Path) -> None:
        with self._lock:
            self._uploads.pop(path, None)

    def hold(self, owner: str) -> None:
        """Keep `owner`'s uploads for as long as a request may take: the client asked for an event."""
        with self._lock:
            for path, upload in self._uploads.items():
                if upload.owner == owner and upload.anonymous:
                    self._uploads[path] = replace(upload, held=True)

    def unheld_anonymous(self, cutoff: float) -> list[Path]:
        """Anonymous uploads received before `cutoff` whose client has not asked for anything since."""
        with self._lock:
            return [
                path
                for path, upload in self._uploads.items()
                if upload.anonymous and not upload.held and upload.received < cutoff
            ]

    def forget_older(self, cutoff: float, *, keeping: Collection[Path] = ()) -> None:
        """Forget uploads received before `cutoff` (a `time.time()`), but those `keeping`: their files are being
        swept."""
        with self._lock:
            self._uploads = {path: up for path, up in self._uploads.items() if up.received >= cutoff or path in keeping}


REGISTRY = UploadRegistry()
"""One per process, like Gradio's upload folder."""


def _remove(path: Path) -> None:
    """Delete an upload and its folder, once empty."""
    path.unlink(missing_ok=True)
    if path.parent != cache_dir():
        with contextlib.suppress(OSError):
            path.parent.rmdir()


def _path_and_name(item: Any) -> tuple[Path, str]:
    if isinstance(item, tuple | list) and item:
        item = item[0]
    if isinstance(item, dict):
        path = str(item.get("path") or "")
        return Path(path), str(item.get("orig_name") or Path(path).name)
    return Path(str(item)), Path(str(item)).name


@dataclass(frozen=True)
class Claimed:
    """What a request named as its photos: the files this client uploaded, how many it named, and the
    refusal of anything else (None when every one was its own)."""

    photos: tuple[PhotoUpload, ...]
    named: int
    problem: RefusedError | None = None


def _own(item: Any, owner: str | None) -> PhotoUpload | RefusedError:
    """One named photo: a file this client uploaded, or the refusal of it."""
    path, name = _path_and_name(item)
    try:
        resolved = path.resolve()
    except (OSError, ValueError):
        resolved = None
    if resolved is None or not REGISTRY.owned(resolved, owner):
        return RefusedError(
            "INVALID_PHOTO",
            f"{storable(name)[:RECORDED_CHARS] or 'A photo'} was not uploaded with this request; upload it again "
            "(from a program, send a list of files made with gradio_client.handle_file()).",
        )
    return PhotoUpload(path=resolved, name=storable(name))


def claim(items: Any, *, owner: str | None) -> Claimed:
    """The photos of a request (a list of paths, `(path, caption)` pairs or FileData dicts): each file this
    client uploaded is claimed; anything else is refused (INVALID_PHOTO) and left alone."""
    if items is None:
        return Claimed(photos=(), named=0)
    if not isinstance(items, list | tuple):
        problem = RefusedError(
            "INVALID_PHOTO", "Send the photos as a list of files (gradio_client.handle_file() for each one)."
        )
        return Claimed(photos=(), named=1, problem=problem)
    found = [_own(item, owner) for item in items]
    photos = tuple(item for item in found if isinstance(item, PhotoUpload))
    refused = [item for item in found if isinstance(item, RefusedError)]
    return Claimed(photos=photos, named=len(items), problem=refused[0] if refused else None)


def discard(photos: Iterable[PhotoUpload]) -> None:
    """Delete claimed photos once their request is over: we never keep them."""
    for photo in photos:
        REGISTRY.forget(photo.path)
        _remove(photo.path)


def _received_by_an_ended_process(folder: Path, me: Owner) -> bool:
    """Whether an upload folder was made by a process that has ended (its uploads can never be claimed)."""
    pid, _, rest = folder.name.removeprefix(PRIVATE_PREFIX).partition("-")
    token = rest.partition("-")[0]
    return pid.isdigit() and me.has_ended(str(Owner(machine=me.machine, pid=int(pid), token=token)))


def sweep(*, older_than_s: float, anonymous_older_than_s: float | None = None, keeping: Collection[Path] = ()) -> int:
    """Delete the uploads nobody can use any more: those of a process that has ended (it died while reading
    them), any older than `older_than_s` (longer than a request takes: a page closed before Generate,
    a request naming a file that was not its own) unless a page is `keeping` it (`kept_photos`), and
    anonymous ones older than `anonymous_older_than_s` whose client asked for nothing since. Returns how
    many were deleted."""
    now = time.time()
    cutoff = now - older_than_s
    swept = 0
    if anonymous_older_than_s is not None:
        for path in REGISTRY.unheld_anonymous(now - anonymous_older_than_s):
            discard([PhotoUpload(path=path, name=path.name)])
            swept += 1
    REGISTRY.forget_older(cutoff, keeping=keeping)
    me = Owner.of_this_process()
    kept_folders = {path.parent for path in keeping}
    for folder in cache_dir().glob(f"{PRIVATE_PREFIX}*"):
        with contextlib.suppress(FileNotFoundError):
            if _received_by_an_ended_process(folder, me) or (
                folder.stat().st_mtime < cutoff and folder.resolve() not in kept_folders
            ):
                shutil.rmtree(folder, ignore_errors=True)
                swept += 1
    return swept
