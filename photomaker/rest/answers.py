"""How a REST POST is answered: once per `Idempotency-Key`, and in the same form whether it succeeded or not.

A POST that carries an `Idempotency-Key` and is repeated with the same key and the same content gets
the first request's answer again (marked `Idempotent-Replayed: true`) and is charged nothing more;
the same key with other content is refused (409). A refusal is an answer like any other and is kept;
a transient one (429, 503, a server error) is not, so that the retry it invites can succeed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from photomaker.core.errors import PhotoMakerError
from photomaker.rest.problems import COME_BACK, PROBLEM_JSON, Problem, problem, problem_headers
from photomaker.store import Database, idempotency
from photomaker.store.idempotency import Answer
from photomaker.store.models import MAX_IDEMPOTENCY_KEY

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=KEY_HEADER,
        max_length=MAX_IDEMPOTENCY_KEY,
        pattern="^[!-~]+$",
        description="a unique key of up to 255 visible ASCII characters, such as a UUID: a repeat with the same "
        "key and content is answered as the first was, and charged nothing more (keys are kept a day)",
    ),
]


def fingerprint(method: str, path: str, content: Any) -> str:
    """A hash of what a request asks for (not of its bytes: a form's boundary changes with every send)."""
    canonical = json.dumps([method, path, content], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def respond(answer: Answer, *, replayed: bool = False) -> JSONResponse:
    """The HTTP response of an answer: JSON, or a problem document with its headers."""
    headers = {"Location": answer.location} if answer.location else {}
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    if answer.status_code >= 400:
        headers.update(problem_headers(Problem.model_validate(answer.body)))
        return JSONResponse(answer.body, status_code=answer.status_code, media_type=PROBLEM_JSON, headers=headers)
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)


async def _made(make: Callable[[], Awaitable[Answer]], instance: str) -> Answer:
    """The answer `make` gives, our errors included as problem documents."""
    try:
        return await make()
    except PhotoMakerError as error:
        document = problem(error, instance=instance)
        return Answer(document.status, document.model_dump(mode="json"))


async def answered_once(
    database: Database,
    request: Request,
    *,
    username: str,
    key: str | None,
    content: Any,
    make: Callable[[], Awaitable[Answer]],
) -> JSONResponse:
    """Answer a POST with what `make` gives, once per idempotency key of the user (see the module's docstring);
    `content` is what the request asks for, its fingerprint."""
    method, path = request.method, request.scope["path"]
    if key is None:
        return respond(await _made(make, path))
    signature = fingerprint(method, path, content)

    def claim() -> Answer | None:
        with database.session() as session:
            return idempotency.claim(session, username=username, key=key, fingerprint=signature)

    def settle(answer: Answer | None) -> None:
        with database.session() as session:
            if answer is None or answer.status_code in COME_BACK or answer.status_code >= 500:
                idempotency.release(session, username=username, key=key)
            else:
                idempotency.record(session, username=username, key=key, answer=answer)

    first = await run_in_threadpool(claim)
    if first is not None:
        return respond(first, replayed=True)
    answer = None
    try:
        answer = await _made(make, path)
    finally:
        await run_in_threadpool(settle, answer)
    return respond(answer)
