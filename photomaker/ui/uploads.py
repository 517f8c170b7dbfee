"""Uploaded photos: each upload private to the client that sent it, and deleted after use.

Gradio names an upload by its content, so two requests with the same photo would share one file
(the first to finish deleting the other's photo), and anyone who learns a path could pass it as
their own photo. `PrivateUploads` therefore moves every file Gradio's upload route receives into
a folder of its own with an unguessable name, and ties it to the client that sent it: a random
cookie that browsers and `gradio_client` both keep and send with their calls. A request can then
read only the files its own client uploaded (`claim`), never other files on the server, and
deleting one request's photos never touches another's. The CLI reads the user's own files
directly and never comes here.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from photomaker.errors import RefusedError
from photomaker.leases import Owner
from photomaker.photos import PhotoUpload
from photomaker.rest.schemas import PREFIX as REST_PREFIX
from photomaker.text import RECORDED_CHARS, storable
from photomaker.ui.cache import cache_dir

UPLOADER_COOKIE = "photomaker_uploader"
UPLOAD_ROUTE = "/gradio_api/upload"
PRIVATE_PREFIX = "private-"
"""The folders uploads move into (`PrivateUploads`), `private-<pid>-<token>-<random>` after the process that
received them: Gradio's own cache cleaning never sees them; `sweep` does."""


@dataclass(frozen=True)
class _Upload:
    owner: str | None
    origin: Path
    received: float


class UploadRegistry:
    """The uploads this process received: where each one lives now, and whose it is."""

    def __init__(self) -> None:
        self._uploads: dict[Path, _Upload] = {}
        self._lock = threading.Lock()

    def adopt(self, shared: Path, *, owner: str | None) -> Path:
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
            self._uploads[private] = _Upload(owner=owner, origin=shared, received=time.time())
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

    def forget_older(self, cutoff: float) -> None:
        """Forget uploads received before `cutoff` (a `time.time()`): their files are being swept."""
        with self._lock:
            self._uploads = {path: up for path, up in self._uploads.items() if up.received >= cutoff}


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


def sweep(*, older_than_s: float) -> int:
    """Delete the uploads nobody can use any more: those of a process that has ended (it died while reading
    them), and any older than `older_than_s` (longer than a request takes: a page closed before Generate,
    a request naming a file that was not its own). Returns how many were deleted."""
    cutoff = time.time() - older_than_s
    REGISTRY.forget_older(cutoff)
    me = Owner.of_this_process()
    swept = 0
    for folder in cache_dir().glob(f"{PRIVATE_PREFIX}*"):
        with contextlib.suppress(FileNotFoundError):
            if folder.stat().st_mtime < cutoff or _received_by_an_ended_process(folder, me):
                shutil.rmtree(folder, ignore_errors=True)
                swept += 1
    return swept


def uploader(request: Any) -> str | None:
    """The upload key of the client that made `request` (a `gr.Request`), from its cookies; None without."""
    return dict(getattr(request, "cookies", None) or {}).get(UPLOADER_COOKIE)


class PrivateUploads:
    """ASGI middleware: gives each client an upload key (a cookie) and makes its uploads private to it."""

    def __init__(self, app: ASGIApp, *, secure: bool = False) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(REST_PREFIX):  # the REST API takes its photos itself
            await self.app(scope, receive, send)
            return
        cookie = SimpleCookie()
        for name, value in scope["headers"]:
            if name == b"cookie":
                with contextlib.suppress(Exception):
                    cookie.load(value.decode("latin-1"))
        known = cookie[UPLOADER_COOKIE].value if UPLOADER_COOKIE in cookie else None
        owner = known or secrets.token_urlsafe(24)
        set_cookie = None if known else self._cookie(owner)
        if scope["method"] == "POST" and scope["path"].endswith(UPLOAD_ROUTE):
            await self._upload(scope, receive, send, owner=owner, set_cookie=set_cookie)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and set_cookie:
                message = {**message, "headers": [*message.get("headers", []), set_cookie]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, owner: str) -> tuple[bytes, bytes]:
        flags = "; Secure; SameSite=None" if self.secure else "; SameSite=Lax"
        return b"set-cookie", f"{UPLOADER_COOKIE}={owner}; Path=/; HttpOnly{flags}".encode("latin-1")

    async def _upload(
        self, scope: Scope, receive: Receive, send: Send, *, owner: str, set_cookie: tuple[bytes, bytes] | None
    ) -> None:
        """Run Gradio's upload route, then move what it stored into private folders and answer the new paths."""
        start: Message = {}
        body = bytearray()

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await self.app(scope, receive, keep)
        headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
        if start.get("status") == 200:
            stored = json.loads(body)
            body = bytearray(json.dumps([str(REGISTRY.adopt(Path(path), owner=owner)) for path in stored]).encode())
        if set_cookie:
            headers.append(set_cookie)
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": bytes(body)})
