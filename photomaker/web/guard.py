"""Which websites may drive this app, and the headers every answer carries.

A browser sends the sign-in `session` cookie (`SameSite=None`, as a Space's iframe needs) and the
upload cookie with every request to this app, whichever website's page makes it, and Gradio's own CORS
middleware would tell the browser that any site may read the answers of a server not on localhost. So
another website's script could spend a signed-in user's credits, read their history and delete their
data. The rule here: **a request whose `Origin` is another website's is refused** (`403`, our
`FORBIDDEN`), whatever its method or route, with or without cookies. Allowed are the app's own origin
(the `Origin` names the host the request was sent to), on a Space its `SPACE_HOST` origins and
`https://huggingface.co` (the page that embeds it), and the origins an operator lists in
`ALLOWED_ORIGINS`. Requests without an `Origin` (programs: `gradio_client`, `curl`; a browser's
same-origin GETs and page loads) are not cross-site requests and pass. Browsers always send `Origin`
on a cross-site POST, `fetch` or preflight, so no cross-site script reaches a handler or hears any CORS
header. This middleware is the app's outermost (`photomaker.ui.serving`); the allowed origins get their
CORS headers from the one CORS policy behind it, ours, in place of Gradio's.

Every answer also says `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin` (served
files' addresses are secrets) and a frame policy (`Content-Security-Policy: frame-ancestors`) that
lets only the app itself, the allowed origins and, on a Space, huggingface.co frame the page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from photomaker.core.errors import AccessError
from photomaker.core.settings import Settings
from photomaker.rest.problems import problem_response

HUB_ORIGIN = "https://huggingface.co"
"""Where a Space's page lives (the Space itself runs on its own `*.hf.space` host, in an iframe)."""
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def normalised(origin: str) -> str | None:
    """`scheme://host[:port]` in lower case without a default port; None for what names no website (`null`)."""
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    shown_port = "" if port in (None, DEFAULT_PORTS[parts.scheme]) else f":{port}"
    return f"{parts.scheme}://{host}{shown_port}"


def allowed_origins(settings: Settings) -> frozenset[str]:
    """The websites besides the app's own origin whose pages may call it."""
    listed = list(settings.allowed_origins)
    if settings.space_id:
        listed += [HUB_ORIGIN, *(f"https://{host}" for host in settings.space_host)]
    return frozenset(origin for origin in map(normalised, listed) if origin)


def same_origin(origin: str, host: str | None) -> bool:
    """Whether `origin` names the host the request was sent to (its `Host` header), on the scheme's port."""
    named = normalised(origin)
    if named is None or not host:
        return False
    scheme = named.partition("://")[0]
    return named == normalised(f"{scheme}://{host}")


class CrossSiteGuard:
    """ASGI middleware: refuses requests from other websites' pages; adds the security headers to every answer."""

    def __init__(self, app: ASGIApp, *, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed
        ancestors = " ".join(["'self'", *sorted(allowed)])
        self.headers = {
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Content-Security-Policy": f"frame-ancestors {ancestors}",
        }

    def permits(self, origin: str, host: str | None) -> bool:
        """Whether a request with this `Origin` to this `Host` may reach the app (one without an `Origin` may)."""
        return same_origin(origin, host) or normalised(origin) in self.allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is not None and not self.permits(origin, headers.get("host")):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            refusal = AccessError(
                "FORBIDDEN",
                f"This app takes requests only from its own pages; {origin[:100]!r} is another website. "
                "Open the app itself, or call it from a program (no Origin header).",
            )
            await self._answer(problem_response(refusal, instance=scope["path"]), scope, receive, send)
            return
        await self._answer(self.app, scope, receive, send)

    async def _answer(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await app(scope, receive, with_headers)
