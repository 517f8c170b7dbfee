"""The caller's projects: list, create, rename, delete, and browse the generations filed in one."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from photomaker.generation.params import ProjectParams, parse
from photomaker.rest.dependencies import AnsweredOnce, AppRuntime, Caller
from photomaker.rest.problems import documented
from photomaker.rest.request_bodies import json_object
from photomaker.rest.schemas import GenerationOut, ProjectDeletionOut, ProjectOut, RowId, project_url, request_body
from photomaker.startup.runtime import Runtime
from photomaker.store.idempotency import Answer

MAX_LISTED = 100
Limit = Annotated[int, Query(ge=1, le=MAX_LISTED, description="how many, newest first")]

router = APIRouter(tags=["projects"])


@router.get("/projects", responses=documented(401, 503))
def list_projects(runtime: AppRuntime, username: Caller) -> list[ProjectOut]:
    """Your projects, oldest first."""
    return [ProjectOut.of(project) for project in runtime.projects.list(username)]


async def _created(runtime: Runtime, username: str, values: dict[str, Any]) -> Answer:
    """Create the project named in `values`; its answer, a refusal too, is what a repeat of the key gets."""
    name = parse(ProjectParams, values).name
    project = await run_in_threadpool(runtime.projects.create, username, name)
    body = ProjectOut.of(project).model_dump(mode="json")
    return Answer(201, body, location=project_url(project.id))


@router.post(
    "/projects",
    status_code=201,
    response_model=None,
    responses={201: {"model": ProjectOut, "description": "created"}, **documented(400, 401, 409, 503)},
    openapi_extra={"requestBody": request_body(ProjectParams)},
)
async def create_project(request: Request, runtime: AppRuntime, username: Caller, once: AnsweredOnce) -> JSONResponse:
    """A new project to file generations in."""
    values = await json_object(request)
    return await once(values, partial(_created, runtime, username, values))


@router.get("/projects/{project_id}", responses=documented(401, 404, 503))
def get_project(project_id: RowId, runtime: AppRuntime, username: Caller) -> ProjectOut:
    """One of your projects."""
    return ProjectOut.of(runtime.projects.get(username, project_id))


@router.patch(
    "/projects/{project_id}",
    responses=documented(400, 401, 404, 409, 503),
    openapi_extra={"requestBody": request_body(ProjectParams)},
)
async def rename_project(project_id: RowId, request: Request, runtime: AppRuntime, username: Caller) -> ProjectOut:
    """Rename one of your projects."""
    name = parse(ProjectParams, await json_object(request)).name
    return ProjectOut.of(await run_in_threadpool(runtime.projects.rename, username, project_id, name))


@router.delete("/projects/{project_id}", responses=documented(400, 401, 404, 503))
def delete_project(project_id: RowId, runtime: AppRuntime, username: Caller) -> ProjectDeletionOut:
    """Delete one of your projects and its avatars for good. Its generations stay in the counts, blanked;
    refused while one of them is still being made."""
    return ProjectDeletionOut.of(runtime.projects.delete(username, project_id))


@router.get("/projects/{project_id}/generations", responses=documented(400, 401, 404, 503))
def project_generations(
    project_id: RowId, runtime: AppRuntime, username: Caller, limit: Limit = 20
) -> list[GenerationOut]:
    """The generations filed in one of your projects, newest first."""
    runtime.projects.get(username, project_id)
    found = runtime.gallery.generations(username, project_id, limit=limit)
    return [GenerationOut.of(view, runtime.jobs.progress(view.id)) for view in found]
