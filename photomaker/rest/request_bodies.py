"""Reading what a REST request sent: a JSON object, or a multipart form with photos.

Values are handed on as sent, to be checked by the same request models as everywhere
(`photomaker.generation.params`), so a refusal reads the same on the page, the Gradio API and here.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request

from photomaker.core.errors import RefusedError
from photomaker.core.safe_text import RECORDED_CHARS, quoted, storable
from photomaker.images.avatar_files import private_folder
from photomaker.images.uploaded_photos import PhotoUpload

PHOTOS_FIELD = "photos"
MAX_FORM_FILES = 16
"""More files than this are not read at all; up to it, a request with too many photos is told so."""
FORM_ALLOWANCE = 1 << 20
"""What a form may carry beside its photos (the prompt and the settings): 1 MiB."""


async def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object (an empty body is an empty object); INVALID_PARAMS for anything else."""
    body = await request.body()
    if not body.strip():
        return {}
    try:
        values = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        values = None
    if not isinstance(values, dict):
        raise RefusedError("INVALID_PARAMS", 'Send a JSON object, like {"prompt": "..."}; see /api/v1/docs.')
    return values


def list_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of `model` that take a list: a form sends one part per item (or one part, the items separated
    by commas where the model reads them so), as the OpenAPI schema of an array in a form says."""
    properties = model.model_json_schema()["properties"]
    return frozenset(
        name
        for name, field in properties.items()
        if any(choice.get("type") == "array" for choice in [field, *field.get("anyOf", [])])
    )


@dataclass(frozen=True)
class PhotoForm:
    """A multipart form: its photos, saved in a private folder for as long as the request lasts, and its other
    fields as sent (an empty field is one left out)."""

    photos: list[PhotoUpload]
    values: dict[str, Any]
    digests: list[str]
    """The SHA-256 of each photo's bytes, for the request's fingerprint."""


def _copy(uploads: list[UploadFile], folder: Path) -> tuple[list[PhotoUpload], list[str]]:
    """Each uploaded file copied into `folder`, with its name as the user knows it and the SHA-256 of its bytes."""
    photos, digests = [], []
    for number, upload in enumerate(uploads, start=1):
        path = folder / f"photo-{number}"
        digest = hashlib.sha256()
        upload.file.seek(0)
        with path.open("wb") as copy:
            while chunk := upload.file.read(1 << 20):
                digest.update(chunk)
                copy.write(chunk)
        photos.append(PhotoUpload(path=path, name=storable(upload.filename or f"photo {number}")[:RECORDED_CHARS]))
        digests.append(digest.hexdigest())
    return photos, digests


def _gathered(name: str, value: str, values: dict[str, Any], *, lists: Collection[str]) -> None:
    """Add one text field to `values`: a field in `lists` gathers its parts (a lone part stays text, for the
    model to split on commas), any other is sent once (an empty field is one left out)."""
    if name not in values:
        values[name] = value or None
    elif name not in lists:
        raise RefusedError("INVALID_PARAMS", f"{quoted(name)} was sent twice; send each setting once.")
    else:
        earlier = values[name]
        items = earlier if isinstance(earlier, list) else [] if earlier is None else [earlier]
        values[name] = [*items, value] if value else items


@asynccontextmanager
async def photo_form(request: Request, *, folder: Path, lists: Collection[str] = ()) -> AsyncIterator[PhotoForm]:
    """The request's multipart form, its photos on disk in `folder` until the block ends (its size was checked
    on the way in: `photomaker.web.body_limit`); the fields in `lists` may be sent several times."""
    async with request.form(max_files=MAX_FORM_FILES, max_part_size=FORM_ALLOWANCE) as form:
        uploads: list[UploadFile] = []
        values: dict[str, Any] = {}
        for name, value in form.multi_items():
            if name == PHOTOS_FIELD:
                if not isinstance(value, UploadFile):
                    raise RefusedError(
                        "INVALID_PHOTO", "Send each photo as a file in the photos field (-F photos=@face.jpg)."
                    )
                uploads.append(value)
            elif isinstance(value, UploadFile):
                raise RefusedError("INVALID_PARAMS", f"Only photos are files; {quoted(name)} should be text.")
            else:
                _gathered(name, value, values, lists=lists)
        # A private folder for this request, deleted with the photos when it ends; up to 20 MB copied off the loop.
        temporary = Path(tempfile.mkdtemp(dir=private_folder(folder)))
        try:
            photos, digests = await run_in_threadpool(_copy, uploads, temporary)
            yield PhotoForm(photos=photos, values=values, digests=digests)
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
