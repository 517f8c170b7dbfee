"""Who is asking the REST API: the local user off a Space; on a Space, the owner of the bearer's HF token.

Only the `Authorization` header counts, never the page's session cookie: a cookie rides along with any
request a browser makes, so accepting it here would let another site act for a signed-in user. The routes
take the username as `photomaker.rest.dependencies.Caller`.
"""

from __future__ import annotations

from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from photomaker.accounts.requester import Identity
from photomaker.core.errors import AccessError

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
