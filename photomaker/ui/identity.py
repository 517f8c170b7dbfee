"""Who is asking, as Gradio tells it: the signed-in session's profile, or the token a program passed.

Handlers take `profile: gr.OAuthProfile | None` (Gradio fills it from the HF sign-in session) and,
on the API, `token: gr.OAuthToken | None` (what `gradio_client.Client(url, oauth_token=...)` sends
to functions that declare it); `photomaker.accounts.requester` decides who that is.
"""

from __future__ import annotations

import gradio as gr

from photomaker.core.errors import AccessError
from photomaker.startup.runtime import Runtime
from photomaker.web.addresses import client_address


def caller(runtime: Runtime, profile: gr.OAuthProfile | None, token: gr.OAuthToken | None = None) -> str:
    """The username to act for; AccessError(SIGN_IN_REQUIRED) on a Space for a caller who is nobody."""
    return runtime.identity.username(
        session_user=profile.username if profile else None, token=token.token if token else None
    )


def viewer(runtime: Runtime, profile: gr.OAuthProfile | None) -> str | None:
    """The signed-in user of a page, or None for a visitor who has not signed in yet (they may look)."""
    try:
        return caller(runtime, profile)
    except AccessError:
        return None


def operator(runtime: Runtime, profile: gr.OAuthProfile | None, token: gr.OAuthToken | None = None) -> str:
    """The caller if they operate this app; AccessError(SIGN_IN_REQUIRED or FORBIDDEN) otherwise."""
    username = caller(runtime, profile, token)
    runtime.identity.require_operator(username)
    return username


def address(runtime: Runtime, request: gr.Request | None) -> str | None:
    """The address the caller's request came from (through the proxies `PROXY_HOPS` trusts); None without one."""
    if request is None:
        return None
    peer = request.client.host if request.client else None
    return client_address(dict(request.headers), peer, proxies=runtime.settings.forwarding_proxies)
