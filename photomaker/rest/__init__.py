"""The REST API: plain HTTP with an OpenAPI schema, at `/api/v1` on the page's own server and port.

For web and mobile frontends, `curl` and services in any language. It does what the Gradio API does
(the same domain calls and request models) with REST's manners: generation as a job (`202` and
polling), `Idempotency-Key` on POSTs, errors as `application/problem+json`. The schema is at
`/api/v1/openapi.json` and its docs at `/api/v1/docs`. No module here imports gradio.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import FastAPI
from starlette.routing import Mount

from photomaker.rest import account_routes, avatar_routes, generation_routes, problems, project_routes
from photomaker.rest.schemas import PREFIX
from photomaker.startup.runtime import Runtime

DESCRIPTION = """\
Turn 1-4 photos of a person into styled avatars with PhotoMaker V2, and pay in credits.

* **Who you are:** on a Space with sign-in, send your Hugging Face token as `Authorization: Bearer hf_...`;
  a local app acts for its local user.
* **Generating is a job:** a generation is answered `202 Accepted` once it is checked and charged; poll
  its `Location` until `status` is `completed` (download its avatars) or `failed` (its credits were
  refunded). `?wait=SECONDS` (at most 60) waits in the same request. A pack (several styles, one charge)
  is one job too, and a running job can be cancelled: what it made is kept, the rest refunded.
* **Safe retries:** send an `Idempotency-Key` with a POST; repeating it with the same content returns the
  first answer and charges nothing more.
* **Errors** are `application/problem+json` with our `code` and a `detail` that says what to do.
"""


def build_rest_api(runtime: Runtime) -> FastAPI:
    """The REST API's own FastAPI app (mounted at `PREFIX` by `rest_mount`): the routers of each resource, and
    `runtime` on its state, where the routes' dependencies (`photomaker.rest.dependencies`) read it."""
    api = FastAPI(
        title="PhotoMaker Studio API",
        version="1",
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    api.state.runtime = runtime
    problems.install(api)
    for routes in (account_routes, project_routes, generation_routes, avatar_routes):
        api.include_router(routes.router)
    if not runtime.identity.sign_in_required:
        api.openapi = partial(_without_sign_in, api.openapi)  # type: ignore[method-assign]
    return api


def _without_sign_in(schema: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The schema of an app without sign-in (a local one): every request acts for the local user, so no
    operation asks for a token."""
    document = schema()
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.pop("security", None)
    document.get("components", {}).pop("securitySchemes", None)
    return document


def rest_mount(runtime: Runtime) -> Mount:
    """The REST API as a route of the page's server, taking every path under `PREFIX`.

    Starlette's mount pattern stops at a newline, so a path with `%0A` in it would fall through to
    Gradio's routes and get an answer that is not a problem document; this one matches it too.
    """
    mount = Mount(PREFIX, app=build_rest_api(runtime), name="rest_api")
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
    return mount
