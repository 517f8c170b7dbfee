"""Upload keys: the cookie that ties an upload to the client that sent it, issued by this server alone.

A key is a random value signed with a key of this process and the name of the user signed in when it
was issued. A value a client made up, or one issued before its browser signed in (or to another
user), is not `genuine`: `PrivateUploads` replaces it with a new one, so a cookie planted in a browser
is dropped at sign-in, and requests go on carrying only the value this server issued (`with_key`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from starlette.types import Scope

UPLOADER_COOKIE = "photomaker_uploader"
_SIGNING_KEY = secrets.token_bytes(32)
"""Signs upload keys; one per process, like the uploads themselves (a restart deletes them)."""


def uploader(request: Any) -> str | None:
    """The upload key of the client that made `request` (a `gr.Request`), from its cookies; None without.

    `PrivateUploads` lets through only a key this server issued to the client as it is signed in now."""
    return dict(getattr(request, "cookies", None) or {}).get(UPLOADER_COOKIE)


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


def with_key(scope: Scope, key: str) -> Scope:
    """`scope` whose one Cookie header carries `key` as the upload key, in place of whatever the client sent."""
    prefix = f"{UPLOADER_COOKIE}="
    pairs = [pair for pair in _cookies(scope) if not pair.startswith(prefix)] + [prefix + key]
    headers = [(name, value) for name, value in scope["headers"] if name != b"cookie"]
    return {**scope, "headers": [*headers, (b"cookie", "; ".join(pairs).encode("latin-1"))]}


def sent_key(scope: Scope) -> str | None:
    """The upload key the request carries, as the client sent it (to be checked with `genuine`)."""
    prefix = f"{UPLOADER_COOKIE}="
    return next((pair.removeprefix(prefix) for pair in _cookies(scope) if pair.startswith(prefix)), None)
