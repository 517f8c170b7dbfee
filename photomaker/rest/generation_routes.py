"""Generating, as jobs: a POST answers `202 Accepted` once the request is checked and charged, and the client
polls `GET /generations/{id}` until it is `completed` or `failed` (refunded). `?wait=SECONDS` waits in the
same request, up to a minute, for clients that would rather not poll."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from photomaker.core.errors import RefusedError
from photomaker.generation.params import PhotoParams, StarsParams, TextParams, parse
from photomaker.rest.dependencies import AnsweredOnce, AppRuntime, Caller, ClientAddress
from photomaker.rest.problems import documented
from photomaker.rest.request_bodies import PhotoForm, json_object, photo_form
from photomaker.rest.schemas import GenerationOut, RatingOut, RowId, generation_url, request_body
from photomaker.startup.runtime import Runtime
from photomaker.store.idempotency import Answer

MAX_WAIT_S = 60.0
Wait = Annotated[
    float,
    Query(ge=0, le=MAX_WAIT_S, description="seconds to wait for the generation to end before answering (at most 60)"),
]
PROJECT_FIELD = "project"
"""`PhotoParams.project` is a name; here the project is the one in the path."""

router = APIRouter(tags=["generations"])


def _accepted(*refusals: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI entries of a generation's acceptance: 202 while it runs, 200 when it ended within `wait`."""
    return {
        202: {"model": GenerationOut, "description": "accepted and charged; poll the Location until it ends"},
        200: {"model": GenerationOut, "description": "it ended within `wait` (completed, or failed and refunded)"},
        **documented(400, 401, 402, 404, 409, 429, 503, *refusals),
    }


def _view(runtime: Runtime, username: str, generation_id: int) -> GenerationOut:
    """One of the user's generations, with its progress while it is being made."""
    found = runtime.gallery.generation(username, generation_id)
    return GenerationOut.of(found, runtime.jobs.progress(found.id) if found.status == "processing" else None)


async def _answer(runtime: Runtime, username: str, generation_id: int, wait: float) -> Answer:
    """The accepted generation as it stands after at most `wait` seconds: 202 while it runs, else 200."""
    await runtime.jobs.wait(generation_id, timeout_s=wait)
    found = await run_in_threadpool(_view, runtime, username, generation_id)
    status = 202 if found.status == "processing" else 200
    return Answer(status, found.model_dump(mode="json"), location=generation_url(generation_id))


async def _from_photos(
    runtime: Runtime, username: str, project_id: int, form: PhotoForm, *, address: str | None, wait: float
) -> Answer:
    """Start a generation from the form's photos, filed in the project of the path."""
    if PROJECT_FIELD in form.values:
        raise RefusedError("INVALID_PARAMS", "The project is the one in the address; leave out 'project'.")
    project = await run_in_threadpool(runtime.projects.get, username, project_id)
    values = {**form.values, PROJECT_FIELD: project.name}
    generation_id = await run_in_threadpool(
        partial(runtime.jobs.start, username, values, uploads=form.photos, address=address)
    )
    return await _answer(runtime, username, generation_id, wait)


@router.post(
    "/projects/{project_id}/avatars/generate-from-photos",
    status_code=202,
    response_model=None,
    responses=_accepted(413),
    openapi_extra={"requestBody": request_body(PhotoParams, photos=True, leave_out=(PROJECT_FIELD,))},
)
async def generate_from_photos(
    project_id: RowId,
    request: Request,
    runtime: AppRuntime,
    username: Caller,
    address: ClientAddress,
    once: AnsweredOnce,
    wait: Wait = 0,
) -> JSONResponse:
    """Avatars from 1-4 photos of one person, filed in one of your projects: `multipart/form-data` with one
    `photos` part per photo and the same fields as the Gradio API's `/generate_avatar`."""
    async with photo_form(request, folder=runtime.settings.incoming_dir) as form:
        make = partial(_from_photos, runtime, username, project_id, form, address=address, wait=wait)
        return await once({"fields": form.values, "photos": form.digests}, make)


async def _from_text(
    runtime: Runtime, username: str, values: dict[str, Any], *, address: str | None, wait: float
) -> Answer:
    """Start a generation from a prompt alone."""
    generation_id = await run_in_threadpool(partial(runtime.jobs.start, username, values, address=address))
    return await _answer(runtime, username, generation_id, wait)


@router.post(
    "/text-to-image",
    status_code=202,
    response_model=None,
    responses=_accepted(),
    openapi_extra={"requestBody": request_body(TextParams)},
)
async def text_to_image(
    request: Request,
    runtime: AppRuntime,
    username: Caller,
    address: ClientAddress,
    once: AnsweredOnce,
    wait: Wait = 0,
) -> JSONResponse:
    """Images from a prompt alone (no photos), JSON with the same fields as the Gradio API's
    `/generate_from_text`."""
    values = await json_object(request)
    return await once(values, partial(_from_text, runtime, username, values, address=address, wait=wait))


@router.get("/generations/{generation_id}", responses=documented(401, 404, 503))
def generation(generation_id: RowId, runtime: AppRuntime, username: Caller) -> GenerationOut:
    """One of your generations as it stands: its status, progress while it runs, then its details and avatars
    (or why it failed: its credits were refunded)."""
    return _view(runtime, username, generation_id)


async def _rated(runtime: Runtime, username: str, generation_id: int, values: dict[str, Any]) -> Answer:
    """Rate the generation with the stars in `values`."""
    stars = parse(StarsParams, values).stars
    rating = await run_in_threadpool(runtime.gallery.rate, username, generation_id, stars)
    body = RatingOut(generation_id=rating.generation_id, stars=rating.stars, previous_stars=rating.previous)
    return Answer(200, body.model_dump(mode="json"))


@router.post(
    "/generations/{generation_id}/rating",
    response_model=None,
    responses={200: {"model": RatingOut, "description": "rated"}, **documented(400, 401, 404, 409, 503)},
    openapi_extra={"requestBody": request_body(StarsParams)},
)
async def rate(
    generation_id: RowId, request: Request, runtime: AppRuntime, username: Caller, once: AnsweredOnce
) -> JSONResponse:
    """Rate one of your completed generations 1-5 stars; rate again to change it."""
    values = await json_object(request)
    return await once(values, partial(_rated, runtime, username, generation_id, values))
