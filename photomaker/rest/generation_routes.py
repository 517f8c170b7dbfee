"""Generating, as jobs: a POST answers `202 Accepted` once the request is checked and charged, and the client
polls `GET /generations/{id}` until it is `completed` or `failed` (refunded). `?wait=SECONDS` waits in the
same request, up to a minute, for clients that would rather not poll. A single style and a pack are the same
job (`Jobs.start`, with `pack`); a running one can be cancelled, keeping what it made by then."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from photomaker.core.errors import RefusedError
from photomaker.generation.params import PackParams, PhotoParams, StarsParams, TextParams, parse
from photomaker.rest.answers import respond
from photomaker.rest.dependencies import AnsweredOnce, AppRuntime, Caller, ClientAddress, OncePerKey
from photomaker.rest.problems import documented
from photomaker.rest.request_bodies import PhotoForm, json_object, list_fields, photo_form
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
PACK_LISTS = list_fields(PackParams)
"""A pack's fields that may be sent as several parts of its form: the styles."""

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
    runtime: Runtime, username: str, project_id: int, form: PhotoForm, *, pack: bool, address: str | None, wait: float
) -> Answer:
    """Start a generation (a pack, with `pack`) from the form's photos, filed in the project of the path."""
    if PROJECT_FIELD in form.values:
        raise RefusedError("INVALID_PARAMS", "The project is the one in the address; leave out 'project'.")
    project = await run_in_threadpool(runtime.projects.get, username, project_id)
    values = {**form.values, PROJECT_FIELD: project.name}
    generation_id = await run_in_threadpool(
        partial(runtime.jobs.start, username, values, uploads=form.photos, pack=pack, address=address)
    )
    return await _answer(runtime, username, generation_id, wait)


async def _photo_job(
    request: Request,
    runtime: Runtime,
    username: str,
    project_id: int,
    once: OncePerKey,
    *,
    pack: bool,
    address: str | None,
    wait: float,
) -> JSONResponse:
    """Answer a multipart request with photos, once per `Idempotency-Key`: a single style, or with `pack` a pack
    (whose list fields, the styles, may be sent as several parts)."""
    lists = PACK_LISTS if pack else ()
    async with photo_form(request, folder=runtime.settings.incoming_dir, lists=lists) as form:
        make = partial(_from_photos, runtime, username, project_id, form, pack=pack, address=address, wait=wait)
        return await once({"fields": form.values, "photos": form.digests}, make)


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
    return await _photo_job(request, runtime, username, project_id, once, pack=False, address=address, wait=wait)


@router.post(
    "/projects/{project_id}/avatars/generate-pack",
    status_code=202,
    response_model=None,
    responses=_accepted(413),
    openapi_extra={"requestBody": request_body(PackParams, photos=True, leave_out=(PROJECT_FIELD,))},
)
async def generate_pack(
    project_id: RowId,
    request: Request,
    runtime: AppRuntime,
    username: Caller,
    address: ClientAddress,
    once: AnsweredOnce,
    wait: Wait = 0,
) -> JSONResponse:
    """An avatar pack from 1-4 photos of one person: several styles (`styles`, a part each or one part with the
    names separated by commas, or a `preset`), `images_per_style` of each, as one job and one charge. While it
    runs its progress says which avatar is being made; each avatar says its style. With `only_alike` (the
    default) an avatar that does not look like you is tried once more, then refunded."""
    return await _photo_job(request, runtime, username, project_id, once, pack=True, address=address, wait=wait)


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


def _cancel(runtime: Runtime, username: str, generation_id: int) -> None:
    """Ask one of the user's generations to stop: NOT_FOUND when it is not theirs, NOT_RUNNING when it is over."""
    runtime.gallery.generation(username, generation_id)
    runtime.jobs.cancel(generation_id, username=username)


async def _cancelled(runtime: Runtime, username: str, generation_id: int, wait: float) -> Answer:
    await run_in_threadpool(_cancel, runtime, username, generation_id)
    return await _answer(runtime, username, generation_id, wait)


_CANCELLING: dict[int | str, dict[str, Any]] = {
    202: {"model": GenerationOut, "description": "it stops after the engine call under way; poll it until it ends"},
    200: {
        "model": GenerationOut,
        "description": "it ended within `wait`: completed with the avatars made by then, or failed (CANCELLED) and "
        "refunded when none was",
    },
    **documented(400, 401, 404, 409, 503),
}


@router.post("/generations/{generation_id}/cancel", status_code=202, response_model=None, responses=_CANCELLING)
async def cancel(
    generation_id: RowId, runtime: AppRuntime, username: Caller, once: AnsweredOnce, wait: Wait = 0
) -> JSONResponse:
    """Cancel one of your running generations (a pack's next styles, say): the avatars made by then are kept and
    charged, the rest refunded exactly. `NOT_RUNNING` (409) once it has ended."""
    return await once({}, partial(_cancelled, runtime, username, generation_id, wait))


@router.delete("/generations/{generation_id}", status_code=202, response_model=None, responses=_CANCELLING)
async def cancel_by_delete(generation_id: RowId, runtime: AppRuntime, username: Caller, wait: Wait = 0) -> JSONResponse:
    """The same as `POST /generations/{id}/cancel`: a running generation stops; a generation that has ended is
    never deleted (`NOT_RUNNING`, 409)."""
    return respond(await _cancelled(runtime, username, generation_id, wait))
