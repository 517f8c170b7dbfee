"""How large a request may be, checked before anything reads it.

A body is held in memory or on disk while a route reads it, so an unbounded one costs the server
whatever the sender likes (a 40 MB JSON body to `queue/join` took 700 MB). A multipart body (files:
Gradio's upload route, the REST API's photos) may carry `MAX_PHOTOS` photos at their size limit and
a form beside them; so may a call to the MCP server, whose photos come inline (base64, a third larger); any other
body, `MAX_REQUEST_KB`. A body that says it is larger is refused before
a byte of it is read; one that does not say (chunked) is refused as soon as it grows past the limit.
Either way the answer is a `413` problem with our code, and the route's own answer is dropped.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from photomaker.core.errors import PhotoMakerError, RefusedError
from photomaker.core.settings import Settings
from photomaker.images.uploaded_photos import MAX_PHOTOS
from photomaker.rest.problems import problem_response
from photomaker.rest.request_bodies import FORM_ALLOWANCE

MIB = 1 << 20
MCP_ROUTE = "/gradio_api/mcp"
"""The MCP server's route (`photomaker.ui.serving`): its tool calls carry their photos as base64 text."""


def photo_body_limit(max_photo_bytes: int) -> int:
    """The largest body that carries photos: `MAX_PHOTOS` of them at their limit, and the form."""
    return MAX_PHOTOS * max_photo_bytes + FORM_ALLOWANCE


def _photos_too_large(max_photo_bytes: int) -> RefusedError:
    return RefusedError(
        "PHOTO_TOO_LARGE",
        f"The request is larger than {MAX_PHOTOS} photos of {max_photo_bytes / MIB:g} MB can be; "
        "send at most 4 photos, each under the limit (resize or compress larger ones).",
    )


def _body_too_large(limit: int) -> RefusedError:
    return RefusedError(
        "REQUEST_TOO_LARGE",
        f"The request's body is larger than {limit // 1024} KB, the most this app reads; "
        "send photos as files (uploads) and keep prompts and settings short.",
    )


class BodyLimit:
    """ASGI middleware: refuses bodies over their limit with a `413` problem."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.max_photo_bytes = settings.max_photo_bytes
        self.max_request_bytes = settings.max_request_bytes

    def refusal(self, headers: Headers, path: str) -> tuple[int, PhotoMakerError]:
        """The limit of a request with these headers to `path`, and its refusal when it is over."""
        if headers.get("content-type", "").lower().startswith("multipart/form-data"):
            return photo_body_limit(self.max_photo_bytes), _photos_too_large(self.max_photo_bytes)
        if path.startswith(MCP_ROUTE):
            return photo_body_limit(self.max_photo_bytes) * 4 // 3, _photos_too_large(self.max_photo_bytes)
        return self.max_request_bytes, _body_too_large(self.max_request_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit, refusal = self.refusal(headers, scope["path"])
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await problem_response(refusal, instance=scope["path"])(scope, receive, send)
            return
        received, refused, started = 0, False, False

        async def limited() -> Message:
            nonlocal received, refused
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                refused = True
                raise refusal
            return message

        async def unless_refused(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the route's own answer to a body it could not finish; ours goes out below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, unless_refused)
        except Exception:
            if not refused:
                raise
        if refused and not started:
            await problem_response(refusal, instance=scope["path"])(scope, receive, send)
