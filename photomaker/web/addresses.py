"""Which address a request came from, through the proxies in front of the app.

Behind a proxy the connection's peer is the proxy, the same for every client (on a Space, an address
of Hugging Face's). Each proxy appends the address it saw to `X-Forwarded-For`, so with `PROXY_HOPS`
proxies in front the client is that many entries from the right: entries further left were written
by the client itself and prove nothing.
"""

from __future__ import annotations

from collections.abc import Mapping


def client_address(headers: Mapping[str, str], peer: str | None, *, proxies: int) -> str | None:
    """The client's address: the peer's when no proxy is trusted, else the one the outermost trusted proxy saw."""
    if proxies <= 0:
        return peer
    forwarded = [part.strip() for part in headers.get("x-forwarded-for", "").split(",") if part.strip()]
    if not forwarded:
        return peer
    return forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]
