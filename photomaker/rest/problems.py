"""Every REST error as `application/problem+json` (RFC 9457): our code and message, and the fitting status.

The status of each error code is written here once. A refusal is `400` unless a better status exists;
what is not the caller's is `404` (never `403`, which would say that it exists); a rate limit or a
model still loading says when to come back (`Retry-After`). No traceback ever reaches a client.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import Scope

from photomaker.core.errors import ErrorCode, PhotoMakerError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
DEFAULT_RETRY_AFTER_S = 60
"""What `Retry-After` says when the error does not know how long to wait."""

STATUS: dict[ErrorCode, int] = {
    "NO_PHOTOS": 400,
    "TOO_MANY_PHOTOS": 400,
    "INVALID_PHOTO": 400,
    "PHOTO_TOO_LARGE": 413,
    "NO_FACE": 400,
    "DIFFERENT_PEOPLE": 400,
    "INVALID_PROMPT": 400,
    "INVALID_PARAMS": 400,
    "INSUFFICIENT_CREDITS": 402,
    "USER_RATE_LIMITED": 429,
    "MODEL_LOADING": 503,
    "RATE_LIMIT_EXCEEDED": 429,
    "GENERATION_TIMEOUT": 504,
    "BACKEND_UNAVAILABLE": 503,
    "AUTH_FAILED": 502,
    "BAD_REQUEST": 400,
    "BAD_RESPONSE": 502,
    "INTERRUPTED": 503,
    "CANCELLED": 409,
    "NOT_ALIKE": 409,
    "NOT_RUNNING": 409,
    "SIGN_IN_REQUIRED": 401,
    "FORBIDDEN": 403,
    "NOT_OFFERED": 404,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "NAME_TAKEN": 409,
    "IDEMPOTENCY_KEY_REUSED": 409,
    "IDEMPOTENCY_KEY_IN_USE": 409,
    "REQUEST_TOO_LARGE": 413,
    "INTERNAL": 500,
}
TITLES: dict[int, str] = {
    400: "Refused",
    401: "Sign in first",
    402: "Not enough credits",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    429: "Too many requests",
    500: "Something went wrong",
    502: "The image service failed",
    503: "Not available yet",
    504: "Timed out",
}
COME_BACK = (429, 503)
"""The statuses that say when to try again."""


class Problem(BaseModel):
    """An error, as RFC 9457 describes one, with our code."""

    type: str = Field(description="a URI naming the kind of problem: urn:photomaker:error:<code>")
    title: str = Field(description="the kind of problem, in a few words")
    status: int = Field(description="the HTTP status")
    detail: str = Field(description="what happened and what to do about it")
    code: ErrorCode = Field(description="our error code; stable, safe to branch on")
    instance: str = Field(description="the path that was asked for")
    retry_after: int | None = Field(None, description="seconds to wait before trying again (also Retry-After)")


def status_of(error: PhotoMakerError) -> int:
    return STATUS[error.code]


def problem(error: PhotoMakerError, *, instance: str) -> Problem:
    """The problem document of one of our errors."""
    status = status_of(error)
    wait = error.retry_after if error.retry_after is not None else DEFAULT_RETRY_AFTER_S
    return Problem(
        type=f"urn:photomaker:error:{error.code}",
        title=TITLES[status],
        status=status,
        detail=error.message,
        code=error.code,
        instance=instance,
        retry_after=max(1, round(wait)) if status in COME_BACK else None,
    )


def problem_headers(document: Problem) -> dict[str, str]:
    """The headers that go with a problem: when to come back, how to sign in."""
    headers = {}
    if document.retry_after is not None:
        headers["Retry-After"] = str(document.retry_after)
    if document.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="photomaker"'
    return headers


def problem_response(error: PhotoMakerError, *, instance: str, headers: dict[str, str] | None = None) -> JSONResponse:
    document = problem(error, instance=instance)
    return JSONResponse(
        document.model_dump(mode="json"),
        status_code=document.status,
        media_type=PROBLEM_JSON,
        headers={**problem_headers(document), **(headers or {})},
    )


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` entries of these error statuses: a problem document each."""
    return {
        status: {"description": TITLES[status], "content": {PROBLEM_JSON: {"schema": Problem.model_json_schema()}}}
        for status in statuses
    }


PARAMETER_ORDER = ("path", "query", "header", "cookie", "body")
"""Where an invalid value is told first: a wrong address is 404 whatever else is wrong. FastAPI lists a
dependency's errors (the `Idempotency-Key` header's) before the route's own, so the order is ours."""


def _told_first(error: dict[str, Any]) -> int:
    where = error.get("loc", ("query",))[0]
    return PARAMETER_ORDER.index(where) if where in PARAMETER_ORDER else len(PARAMETER_ORDER)


def _validation_message(error: RequestValidationError) -> tuple[ErrorCode, str]:
    """Our code and sentence for FastAPI's own check of a path or query value."""
    first: dict[str, Any] = min(error.errors(), key=_told_first, default={})
    where, *names = first.get("loc", ("query",))
    name = ".".join(str(part) for part in names) or "the request"
    if where == "path":
        return "NOT_FOUND", f"There is nothing of yours at this address: {name} must be a number you were given."
    what = f"The {name} header" if where == "header" else name
    return "INVALID_PARAMS", f"{what}: {first.get('msg', 'not valid')}; see /api/v1/docs."


def _methods_at(app: FastAPI, scope: Scope) -> list[str]:
    """The methods the schema documents at the request's path (Starlette's 405 names only its first route's)."""
    path = scope["path"].removeprefix(scope.get("root_path", ""))
    for template, operations in app.openapi()["paths"].items():
        if re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", template), path, re.DOTALL):
            return sorted(method.upper() for method in operations)
    return []


def install(app: FastAPI) -> None:
    """Answer every error of `app` with a problem document."""

    @app.exception_handler(PhotoMakerError)
    async def ours(request: Request, error: PhotoMakerError) -> JSONResponse:
        return problem_response(error, instance=request.scope["path"])

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        code, message = _validation_message(error)
        return problem_response(PhotoMakerError(code, message), instance=request.scope["path"])

    @app.exception_handler(HTTPException)
    async def routing(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 405:
            allowed = {"Allow": ", ".join(_methods_at(app, request.scope))}
            return problem_response(
                PhotoMakerError("METHOD_NOT_ALLOWED"), instance=request.scope["path"], headers=allowed
            )
        if error.status_code == 404:
            nowhere = PhotoMakerError("NOT_FOUND", "There is no such address in this API; see /api/v1/docs.")
            return problem_response(nowhere, instance=request.scope["path"])
        code: ErrorCode = "INVALID_PARAMS" if error.status_code < 500 else "INTERNAL"
        return problem_response(PhotoMakerError(code, str(error.detail)), instance=request.scope["path"])

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("REST %s %s failed", request.method, request.url.path, exc_info=error)
        return problem_response(PhotoMakerError("INTERNAL"), instance=request.scope["path"])
