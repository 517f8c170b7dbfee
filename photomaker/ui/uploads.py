"""Uploaded photos: each upload private to the client that sent it, and deleted after use.

Gradio names an upload by its content, so two requests with the same photo would share one file
(the first to finish deleting the other's photo), and anyone who learns a path could pass it as
their own photo. `PrivateUploads` therefore moves every file Gradio's upload route receives into
a folder of its own with an unguessable name, and ties it to the client that sent it: a cookie
that browsers and `gradio_client` both keep and send with their calls. A request can then read
only the files its own client uploaded (`claim`), never other files on the server; only that
client may download them again (the page shows them); and deleting one request's photos never
touches another's. The CLI reads the user's own files directly and never comes here.

The cookie is issued by this server alone: a random value signed with a key of this process and
the name of the user signed in when it was issued. A value the client made up, or one issued
before its browser signed in (or to another user), is replaced with a new one, so a cookie planted
in a browser is dropped at sign-in; downstream, requests carry only the value this server issued.
On a Space with sign-in, uploads of a client that has not signed in (a program, before its call)
are kept `ANONYMOUS_UPLOAD_S` seconds unless the client asks for a generation in that time: they are
no file hosting. Gradio refuses a file over `MAX_PHOTO_MB` (`max_file_size`); that answer is ours.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from photomaker.errors import RefusedError
from photomaker.leases import Owner
from photomaker.photos import PhotoUpload
from photomaker.rest.problems import problem_response
from photomaker.rest.schemas import PREFIX as REST_PREFIX
from photomaker.settings import Settings
from photomaker.text import RECORDED_CHARS, storable
from photomaker.ui.cache import cache_dir
from photomaker.ui.signin import signed_in_user

UPLOADER_COOKIE = "photomaker_uploader"
UPLOAD_ROUTE = "/gradio_api/upload"
FILE_ROUTE = re.compile(r"/file[=/]")
"""Gradio's routes that serve a file by its path: `/file=<path>`, and the older `/file/<path>`."""
ASKING_ROUTES = ("/queue/join", "/call/")
"""The routes by which a client asks for an event to run (and so may be about to use its uploads)."""
_SIGNING_KEY = secrets.token_bytes(32)
"""Signs upload cookies; one per process, like the uploads themselves (a restart deletes them)."""
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


def sweep(*, older_than_s: float, anonymous_older_than_s: float | None = None) -> int:
    """Delete the uploads nobody can use any more: those of a process that has ended (it died while reading
    them), any older than `older_than_s` (longer than a request takes: a page closed before Generate,
    a request naming a file that was not its own), and anonymous ones older than `anonymous_older_than_s`
    whose client asked for nothing since. Returns how many were deleted."""
    now = time.time()
    cutoff = now - older_than_s
    swept = 0
    if anonymous_older_than_s is not None:
        for path in REGISTRY.unheld_anonymous(now - anonymous_older_than_s):
            discard([PhotoUpload(path=path, name=path.name)])
            swept += 1
    REGISTRY.forget_older(cutoff)
    me = Owner.of_this_process()
    for folder in cache_dir().glob(f"{PRIVATE_PREFIX}*"):
        with contextlib.suppress(FileNotFoundError):
            if folder.stat().st_mtime < cutoff or _received_by_an_ended_process(folder, me):
                shutil.rmtree(folder, ignore_errors=True)
                swept += 1
    return swept


def uploader(request: Any) -> str | None:
    """The upload key of the client that made `request` (a `gr.Request`), from its cookies; None without.

    `PrivateUploads` lets through only a key this server issued to the client as it is signed in now."""
    return dict(getattr(request, "cookies", None) or {}).get(UPLOADER_COOKIE)


def _header(set_cookie: str) -> tuple[bytes, bytes]:
    return b"set-cookie", set_cookie.encode("latin-1")


def _signature(value: str, user: str | None) -> str:
    return hmac.new(_SIGNING_KEY, f"{value}|{user or ''}".encode(), hashlib.sha256).hexdigest()[:32]


def issue_key(user: str | None) -> str:
    """A new upload key for a client signed in as `user` (None: not signed in)."""
    value = secrets.token_urlsafe(24)
    return f"{value}.{_signature(value, user)}"


def genuine(key: str | None, user: str | None) -> bool:
    """Whether `key` was issued by this process to a client signed in as `user`."""
    value, _, signature = (key or "").partition(".")
    return bool(value) and hmac.compare_digest(signature, _signature(value, user))


def _cookies(scope: Scope) -> list[str]:
    """The request's cookies as `name=value` pairs, from every Cookie header."""
    pairs = []
    for name, value in scope["headers"]:
        if name == b"cookie":
            pairs += [pair.strip() for pair in value.decode("latin-1").split(";") if pair.strip()]
    return pairs


def _with_key(scope: Scope, key: str) -> Scope:
    """`scope` whose one Cookie header carries `key` as the upload key, in place of whatever the client sent."""
    prefix = f"{UPLOADER_COOKIE}="
    pairs = [pair for pair in _cookies(scope) if not pair.startswith(prefix)] + [prefix + key]
    headers = [(name, value) for name, value in scope["headers"] if name != b"cookie"]
    return {**scope, "headers": [*headers, (b"cookie", "; ".join(pairs).encode("latin-1"))]}


def _sent_key(scope: Scope) -> str | None:
    prefix = f"{UPLOADER_COOKIE}="
    return next((pair.removeprefix(prefix) for pair in _cookies(scope) if pair.startswith(prefix)), None)


def _private_upload(route_path: str) -> Path | None:
    """The upload a file route names, when it is one of the private uploads (else None: not ours to guard)."""
    found = FILE_ROUTE.search(route_path)
    if found is None:
        return None
    named = route_path[found.end() :]
    try:
        resolved = Path(named).resolve()
        relative = resolved.relative_to(cache_dir())
    except (OSError, ValueError):
        return None
    return resolved if relative.parts and relative.parts[0].startswith(PRIVATE_PREFIX) else None


class PrivateUploads:
    """ASGI middleware: gives each client an upload key (a signed cookie) and makes its uploads private to it."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.sign_in = settings.sign_in_required
        self.max_photo_mb = settings.max_photo_mb

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(REST_PREFIX):  # the REST API takes its photos itself
            await self.app(scope, receive, send)
            return
        user = signed_in_user(scope)
        sent = _sent_key(scope)
        known = sent if genuine(sent, user) else None
        owner = known or issue_key(user)
        set_cookie = None if known else self._cookie(owner)
        scope = _with_key(scope, owner)
        path, method = scope["path"], scope["method"]
        if method in ("GET", "HEAD"):
            upload = _private_upload(path)
            if upload is not None and not REGISTRY.owned(upload, owner):
                nothing = RefusedError("NOT_FOUND", "There is no such file; uploads are shown only to who sent them.")
                await problem_response(nothing, instance=path)(scope, receive, send)
                return
        if method == "POST" and path.endswith(UPLOAD_ROUTE):
            anonymous = self.sign_in and user is None
            await self._upload(scope, receive, send, owner=owner, anonymous=anonymous, set_cookie=set_cookie)
            return
        if method == "POST" and any(route in path for route in ASKING_ROUTES):
            REGISTRY.hold(owner)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and set_cookie:
                message = {**message, "headers": [*message.get("headers", []), _header(set_cookie)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, owner: str) -> str:
        """The Set-Cookie value that gives a client its upload key."""
        flags = "; Secure; SameSite=None" if self.sign_in else "; SameSite=Lax"
        return f"{UPLOADER_COOKIE}={owner}; Path=/; HttpOnly{flags}"

    async def _upload(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        owner: str,
        anonymous: bool,
        set_cookie: str | None,
    ) -> None:
        """Run Gradio's upload route, then move what it stored into private folders and answer the new paths
        (or, for a file over Gradio's size limit, our refusal)."""
        start: Message = {}
        body = bytearray()

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await self.app(scope, receive, keep)
        if start.get("status") == 413:
            refusal = RefusedError(
                "PHOTO_TOO_LARGE",
                f"A photo is larger than {self.max_photo_mb:g} MB, the most this app takes per photo; resize or "
                "compress it and upload it again.",
            )
            cookie = {"set-cookie": set_cookie} if set_cookie else None
            await problem_response(refusal, instance=scope["path"], headers=cookie)(scope, receive, send)
            return
        headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
        if start.get("status") == 200:
            stored = json.loads(body)
            adopted = [str(REGISTRY.adopt(Path(path), owner=owner, anonymous=anonymous)) for path in stored]
            body = bytearray(json.dumps(adopted).encode())
        if set_cookie:
            headers.append(_header(set_cookie))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": bytes(body)})
