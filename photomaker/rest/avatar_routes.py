"""Avatar images, served to their owner alone."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from photomaker.rest.dependencies import AppRuntime, Caller
from photomaker.rest.problems import documented
from photomaker.rest.schemas import RowId

CACHE = "private, max-age=86400"
"""An avatar never changes once made; only its owner's browser may keep it."""

router = APIRouter(tags=["avatars"])


def _image(media_type: str) -> dict[int | str, dict[str, object]]:
    """The OpenAPI entry of an answer that is an image file, not JSON."""
    return {
        200: {"description": "the image", "content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}
    }


@router.get(
    "/avatars/{avatar_id}",
    response_class=FileResponse,
    responses={**_image("image/png"), **documented(401, 404, 503)},
)
def avatar(avatar_id: RowId, runtime: AppRuntime, username: Caller) -> FileResponse:
    """One of your avatars, as PNG."""
    path = runtime.gallery.avatar_file(username, avatar_id)
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": CACHE})


@router.get(
    "/avatars/{avatar_id}/thumbnail",
    response_class=FileResponse,
    responses={**_image("image/webp"), **documented(401, 404, 503)},
)
def thumbnail(avatar_id: RowId, runtime: AppRuntime, username: Caller) -> FileResponse:
    """A small WebP of one of your avatars, for lists."""
    path = runtime.gallery.avatar_file(username, avatar_id, thumbnail=True)
    return FileResponse(path, media_type="image/webp", headers={"Cache-Control": CACHE})
