"""What the REST routes take from the app that serves them, as FastAPI dependencies.

The routes are module-level functions on module-level routers, so they can be found and read where they
stand; everything they need of a running app (its `Runtime`, the caller, the idempotency of a POST) comes
from `app.state.runtime`, which `build_rest_api` sets, through the dependencies here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from photomaker.rest.answers import IdempotencyKey, answered_once
from photomaker.rest.caller import bearer, resolve
from photomaker.startup.runtime import Runtime
from photomaker.store import Database
from photomaker.store.idempotency import Answer
from photomaker.web.addresses import client_address


async def app_runtime(request: Request) -> Runtime:
    """FastAPI dependency: the runtime of the app serving the request (async: reading it needs no thread)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


AppRuntime = Annotated[Runtime, Depends(app_runtime)]
"""A route parameter that is the serving app's runtime: its settings, database and services."""


def caller(runtime: AppRuntime, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    """FastAPI dependency: the caller's username (in a thread: resolving a token may ask the Hub)."""
    return resolve(runtime.identity, credentials)


Caller = Annotated[str, Depends(caller)]
"""A route parameter that is the caller's username."""


def address(request: Request, runtime: AppRuntime) -> str | None:
    """FastAPI dependency: the address the request came from (through the proxies `PROXY_HOPS` trusts)."""
    peer = request.client.host if request.client else None
    return client_address(request.headers, peer, proxies=runtime.settings.forwarding_proxies)


ClientAddress = Annotated[str | None, Depends(address)]
"""A route parameter that is the caller's address, for the limits that count per address."""


@dataclass(frozen=True)
class OncePerKey:
    """Answers this request's POST once per its `Idempotency-Key` (see `photomaker.rest.answers`), so that a
    route says only what the request asks for and how to answer it."""

    database: Database
    request: Request
    username: str
    key: str | None

    async def __call__(self, content: Any, make: Callable[[], Awaitable[Answer]]) -> JSONResponse:
        """The answer `make` gives, or the one given first for this key; `content` is what the request asks for."""
        return await answered_once(
            self.database, self.request, username=self.username, key=self.key, content=content, make=make
        )


async def once_per_key(
    request: Request, runtime: AppRuntime, username: Caller, key: IdempotencyKey = None
) -> OncePerKey:
    """FastAPI dependency: how to answer this POST (it documents the `Idempotency-Key` header)."""
    return OncePerKey(database=runtime.database, request=request, username=username, key=key)


AnsweredOnce = Annotated[OncePerKey, Depends(once_per_key)]
"""A route parameter that answers a POST once per `Idempotency-Key`."""
