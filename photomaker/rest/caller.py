"""Who is asking the REST API: the local user off a Space; on a Space, the owner of the bearer's HF token.

Only the `Authorization` header counts, never the page's session cookie: a cookie rides along with any
request a browser makes, so accepting it here would let another site act for a signed-in user.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from photomaker.accounts.requester import Identity
from photomaker.core.errors import AccessError
from photomaker.web.addresses import client_address

_TOKEN = "as Authorization: Bearer hf_... (create a read token at https://huggingface.co/settings/tokens)."
SEND_A_TOKEN = f"Send your Hugging Face token {_TOKEN}"
TOKEN_REFUSED = f"Hugging Face did not accept that token; send a valid one {_TOKEN}"

bearer = HTTPBearer(auto_error=False, description="A Hugging Face token, on a Space with sign-in; not needed locally")


def resolve(identity: Identity, credentials: HTTPAuthorizationCredentials | None) -> str:
    """The username to act for; AccessError(SIGN_IN_REQUIRED) on a Space without a token Hugging Face accepts."""
    token = credentials.credentials if credentials else None
    if identity.sign_in_required and not token:
        raise AccessError("SIGN_IN_REQUIRED", SEND_A_TOKEN)
    try:
        return identity.username(token=token)
    except AccessError as error:
        if error.code == "SIGN_IN_REQUIRED":
            raise AccessError("SIGN_IN_REQUIRED", TOKEN_REFUSED) from None
        raise


def caller(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    """FastAPI dependency: the caller's username (the app's `Identity` is on `app.state`)."""
    return resolve(request.app.state.identity, credentials)


Caller = Annotated[str, Depends(caller)]
"""A route parameter that is the caller's username."""


def address(request: Request) -> str | None:
    """FastAPI dependency: the address the request came from (through the proxies `PROXY_HOPS` trusts)."""
    peer = request.client.host if request.client else None
    proxies = request.app.state.identity.settings.forwarding_proxies
    return client_address(request.headers, peer, proxies=proxies)


ClientAddress = Annotated[str | None, Depends(address)]
"""A route parameter that is the caller's address, for the limits that count per address."""
