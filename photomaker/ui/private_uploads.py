"""The ASGI middleware that makes uploads private: each client gets an upload key, each upload its own folder.

Every file Gradio's upload route receives moves into a folder of its own with an unguessable name,
tied to the key of the client that sent it (`photomaker.ui.uploads`); only that client may download
it again (the page shows it in the upload box). On a Space with sign-in, uploads of a client that has
not signed in (a program, before its call) are kept `ANONYMOUS_UPLOAD_S` seconds unless the client
asks for an event in that time: they are no file hosting. Gradio refuses a file over `MAX_PHOTO_MB`
(`max_file_size`); that answer is ours.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from photomaker.core.errors import RefusedError
from photomaker.core.settings import Settings
from photomaker.rest.problems import problem_response
from photomaker.rest.schemas import PREFIX as REST_PREFIX
from photomaker.ui.cache import cache_dir
from photomaker.ui.signin import signed_in_user
from photomaker.ui.upload_keys import UPLOADER_COOKIE, genuine, issue_key, sent_key, with_key
from photomaker.ui.uploads import PRIVATE_PREFIX, REGISTRY

UPLOAD_ROUTE = "/gradio_api/upload"
FILE_ROUTE = re.compile(r"/file[=/]")
"""Gradio's routes that serve a file by its path: `/file=<path>`, and the older `/file/<path>`."""
ASKING_ROUTES = ("/queue/join", "/call/")
"""The routes by which a client asks for an event to run (and so may be about to use its uploads)."""


def _header(set_cookie: str) -> tuple[bytes, bytes]:
    return b"set-cookie", set_cookie.encode("latin-1")


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
        sent = sent_key(scope)
        known = sent if genuine(sent, user) else None
        owner = known or issue_key(user)
        set_cookie = None if known else self._cookie(owner)
        scope = with_key(scope, owner)
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
