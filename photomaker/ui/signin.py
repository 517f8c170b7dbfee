"""The Hugging Face sign-in: Gradio's on a real Space, and its session alone where a Space is simulated.

On a Space (`SYSTEM=spaces`) a `gr.LoginButton` makes Gradio add the sign-in routes and the signed
`session` cookie. With only the Space's sign-in variables set (`SPACE_ID`, `OAUTH_CLIENT_ID`, ...),
as when an operator tries the hosted set-up locally, Gradio would instead fake the sign-in with the
machine's own HF login, and fail to start without one. There the app reads the same session cookie,
signed with the key Gradio derives from `OAUTH_CLIENT_SECRET`, and offers no sign-in button.
"""

from __future__ import annotations

import hashlib
import json
import time
from base64 import b64encode

from gradio.utils import get_space
from itsdangerous import TimestampSigner
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Scope

from photomaker.core.settings import Settings

SESSION_KEY_VERSION = "-v4"
"""What `gradio.oauth.attach_oauth` appends to the OAuth secret before hashing it into the cookie key."""


def gradio_signs_in(settings: Settings) -> bool:
    """True where Gradio wires the HF sign-in itself: a real Space with `hf_oauth: true`."""
    return settings.sign_in_required and get_space() is not None


def session_middleware(settings: Settings) -> list[Middleware]:
    """The session reader for a simulated Space (none where Gradio adds its own, or without sign-in)."""
    if not settings.sign_in_required or gradio_signs_in(settings):
        return []
    return [Middleware(SessionMiddleware, secret_key=_session_key(settings), same_site="none", https_only=True)]


def _session_key(settings: Settings) -> str:
    """The key sessions are signed with: Gradio's, derived from `OAUTH_CLIENT_SECRET`."""
    secret = settings.oauth_client_secret.get_secret_value() if settings.oauth_client_secret else ""
    return hashlib.sha256((secret + SESSION_KEY_VERSION).encode()).hexdigest()


def session_cookie(settings: Settings, username: str) -> str:
    """The `session` cookie of a browser signed in as `username`, as Gradio's /login/callback stores it.

    Beside its reader so that one place knows the format: tests and benchmarks sign browsers in with it.
    """
    oauth_info = {
        "access_token": f"hf_oauth_{username}",
        "token_type": "bearer",
        "scope": "openid profile",
        "expires_at": int(time.time()) + 3600,
        "userinfo": {
            "preferred_username": username,
            "name": username.title(),
            "profile": f"https://huggingface.co/{username}",
            "picture": "",
        },
    }
    payload = b64encode(json.dumps({"oauth_info": oauth_info}).encode())
    return TimestampSigner(_session_key(settings)).sign(payload).decode()


def signed_in_user(scope: Scope) -> str | None:
    """The HF username of the browser session making this request (as Gradio's sign-in stores it), or None.

    Read where the request passes the middleware, before Gradio turns the session into a profile."""
    session = scope.get("session") or {}
    oauth_info = session.get("oauth_info") if isinstance(session, dict) else None
    if not isinstance(oauth_info, dict):
        return None
    expires_at = oauth_info.get("expires_at")
    if isinstance(expires_at, int | float) and expires_at < time.time():
        return None
    userinfo = oauth_info.get("userinfo")
    name = userinfo.get("preferred_username") if isinstance(userinfo, dict) else None
    return name if isinstance(name, str) and name else None
