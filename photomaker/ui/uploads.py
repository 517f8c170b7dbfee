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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from photomaker.errors import RefusedError
from photomaker.photos import PhotoUpload
from photomaker.ui.cache import cache_dir

UPLOADER_COOKIE = "photomaker_uploader"
UPLOAD_ROUTE = "/gradio_api/upload"
FORGET_AFTER_S = 2 * 3600
"""Uploads never used are forgotten after this (Gradio's hourly cache cleaning deletes their files)."""


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
            now = time.monotonic()
            self._uploads = {path: up for path, up in self._uploads.items() if now - up.received < FORGET_AFTER_S}
            source = shared if shared.exists() else self._twin(shared)
            folder = cache_dir() / f"private-{secrets.token_hex(16)}"
            folder.mkdir(mode=0o700)
            private = folder / shared.name
            try:
                os.link(source, private)
            except OSError:
                shutil.copyfile(source, private)
            _remove(shared)
            self._uploads[private] = _Upload(owner=owner, origin=shared, received=now)
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


REGISTRY = UploadRegistry()
"""One per process, like Gradio's upload folder."""


def _remove(path: Path) -> None:
    """Delete an upload and its folder, once empty."""
    path.unlink(missing_ok=True)
    if path.parent != cache_dir():
        with contextlib.suppress(OSError):
            path.parent.rmdir()


def _path_and_name(item: Any) -> tuple[Path, str]:
    if isinstance(item, tuple):
        item = item[0]
    if isinstance(item, dict):
        path = str(item.get("path") or "")
        return Path(path), item.get("orig_name") or Path(path).name
    return Path(str(item)), Path(str(item)).name


def claim(items: Sequence[Any] | None, *, owner: str | None) -> tuple[PhotoUpload, ...]:
    """The photos of a request (paths, `(path, caption)` pairs or FileData dicts), each one a file that
    this client uploaded; anything else is refused (INVALID_PHOTO) and left alone."""
    photos = []
    for item in items or ():
        path, name = _path_and_name(item)
        if not REGISTRY.owned(path.resolve(), owner):
            raise RefusedError(
                "INVALID_PHOTO",
                f"{name or 'A photo'} was not uploaded with this request; upload it again "
                "(from a program, send files with gradio_client.handle_file()).",
            )
        photos.append(PhotoUpload(path=path.resolve(), name=name))
    return tuple(photos)


def still_there(items: Iterable[Any] | None, *, owner: str | None) -> bool:
    """Whether every uploaded photo is still on disk (so the upload box can keep showing them)."""
    try:
        return all(photo.path.exists() for photo in claim(list(items or ()), owner=owner))
    except RefusedError:
        return False


def discard(photos: Iterable[PhotoUpload]) -> None:
    """Delete claimed photos once their request is over: we never keep them."""
    for photo in photos:
        REGISTRY.forget(photo.path)
        _remove(photo.path)


def uploader(request: Any) -> str | None:
    """The upload key of the client that made `request` (a `gr.Request`), from its cookies; None without."""
    return dict(getattr(request, "cookies", None) or {}).get(UPLOADER_COOKIE)


class PrivateUploads:
    """ASGI middleware: gives each client an upload key (a cookie) and makes its uploads private to it."""

    def __init__(self, app: ASGIApp, *, secure: bool = False) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
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
