"""What the REST API answers, as typed models: its OpenAPI schema is generated from these.

Requests are described by the same models as the Gradio API (`photomaker.generation.params`): `request_body`
turns them into OpenAPI request bodies, JSON or multipart.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Path
from pydantic import BaseModel, Field

from photomaker.generation.catalogue import Mode
from photomaker.generation.jobs import Progress
from photomaker.generation.packs import MAX_PACK_IMAGES
from photomaker.generation.params import DEFAULT_MAX_OUTPUTS, MAX_ROW_ID
from photomaker.generation.results import AvatarView, GenerationDetails, GenerationView
from photomaker.images.uploaded_photos import MAX_PHOTOS
from photomaker.store import AIModel
from photomaker.store.models import GenerationStatus

if TYPE_CHECKING:
    from photomaker.accounts.projects import ProjectDeletion, ProjectInfo

PREFIX = "/api/v1"
"""Where the REST API is served, on the page's own server and port."""
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="an id the API gave you")]
"""An id in an address: any other number names nothing (404)."""


def generation_url(generation_id: int) -> str:
    return f"{PREFIX}/generations/{generation_id}"


def avatar_url(avatar_id: int, *, thumbnail: bool = False) -> str:
    return f"{PREFIX}/avatars/{avatar_id}" + ("/thumbnail" if thumbnail else "")


def project_url(project_id: int) -> str:
    return f"{PREFIX}/projects/{project_id}"


class BundleOut(BaseModel):
    """A lower price per image for a request of many images (a pack), as the catalogue sets it."""

    from_images: int = Field(description="the fewest images in one request that get this price")
    credits_per_image: int

    @classmethod
    def of(cls, model: AIModel) -> BundleOut | None:
        single = model.price_each(1)
        size = next((count for count in range(2, MAX_PACK_IMAGES + 1) if model.price_each(count) != single), None)
        return None if size is None else cls(from_images=size, credits_per_image=model.price_each(size))


class ModelOut(BaseModel):
    """A model users can pick: a Photo to Avatar tier or a Text to Image model."""

    key: str
    name: str
    mode: Mode
    tier: str
    credits_per_image: int
    bundle: BundleOut | None = Field(description="the price per image in a pack of many images; null when none")
    max_images: int
    width: int
    height: int
    steps: int
    guidance_scale: float
    default_style_strength: int
    expected_seconds: tuple[int, int] = Field(description="how long one generation usually takes: [least, most]")
    features: list[str]

    @classmethod
    def of(cls, model: AIModel) -> ModelOut:
        return cls(
            key=model.model_key,
            name=model.name,
            mode="text" if model.mode == "text" else "photo",
            tier=model.tier,
            credits_per_image=model.price(1),
            bundle=BundleOut.of(model),
            max_images=model.max_outputs or DEFAULT_MAX_OUTPUTS,
            width=model.width,
            height=model.height,
            steps=model.steps,
            guidance_scale=model.guidance_scale,
            default_style_strength=model.default_style_strength,
            expected_seconds=(model.eta_min_s, model.eta_max_s),
            features=model.features,
        )


class MeOut(BaseModel):
    """The caller's account."""

    username: str
    credits: int
    is_admin: bool


class ProjectOut(BaseModel):
    """One of the caller's projects."""

    id: int
    name: str
    created_at: datetime
    generations: int = Field(description="completed generations filed in it")
    avatars: int
    url: str

    @classmethod
    def of(cls, project: ProjectInfo) -> ProjectOut:
        return cls(**asdict(project), url=project_url(project.id))


class ProjectDeletionOut(BaseModel):
    """What deleting a project did: its avatars are gone, its generations kept for the counts, blanked."""

    project_id: int
    generations_anonymised: int
    avatars_deleted: int

    @classmethod
    def of(cls, deletion: ProjectDeletion) -> ProjectDeletionOut:
        return cls(**asdict(deletion))


class ProgressOut(BaseModel):
    """How far a running generation has got; in a pack, which avatar is being made."""

    fraction: float = Field(ge=0, le=1)
    message: str
    image: int = Field(ge=0, description="the avatar being made, from 1; 0 before the first")
    images: int = Field(ge=0, description="how many avatars it makes")
    style: str | None = Field(description="the style of the avatar being made; null before the first")


class ErrorOut(BaseModel):
    code: str
    message: str


class AvatarOut(BaseModel):
    """One image a generation made, with the links to download it."""

    id: int
    number: int = Field(description="its place in its generation, from 1")
    width: int
    height: int
    likeness: float | None = Field(description="how alike its face is to the photos', 0 to 1; null without a face")
    likeness_ok: bool | None
    style: str | None = Field(description="its style; null for Text to Image")
    url: str = Field(description="the PNG")
    thumbnail_url: str = Field(description="a small WebP")

    @classmethod
    def of(cls, avatar: AvatarView) -> AvatarOut:
        return cls(**asdict(avatar), url=avatar_url(avatar.id), thumbnail_url=avatar_url(avatar.id, thumbnail=True))


class GenerationOut(BaseModel):
    """A generation as it stands: poll it until `status` is `completed` or `failed`."""

    id: int
    status: GenerationStatus
    mode: str
    model_key: str
    project_id: int | None
    project: str | None
    created_at: datetime
    completed_at: datetime | None
    progress: ProgressOut | None = Field(description="while processing, how far it has got (when known)")
    error: ErrorOut | None = Field(description="why it failed or was refused (the credits were refunded)")
    details: GenerationDetails | None = Field(description="a completed generation's details")
    avatars: list[AvatarOut]
    url: str

    @classmethod
    def of(cls, view: GenerationView, progress: Progress | None) -> GenerationOut:
        """The view as the API shows it: with links, its progress while it runs, and its error (if any) as one."""
        shown = {name: getattr(view, name) for name in cls.model_fields if hasattr(view, name)}
        return cls(
            **{**shown, "avatars": [AvatarOut.of(avatar) for avatar in view.avatars]},
            progress=ProgressOut(**asdict(progress)) if progress else None,
            error=ErrorOut(code=view.error_code, message=view.error_message or "") if view.error_code else None,
            url=generation_url(view.id),
        )


class RatingOut(BaseModel):
    generation_id: int
    stars: int
    previous_stars: int | None


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A field's schema as JSON may send it: null takes the field's default, as the request models say."""
    if any(choice.get("type") == "null" for choice in schema.get("anyOf", [])):
        return schema
    described: dict[str, Any] = {key: schema[key] for key in ("title", "description", "default") if key in schema}
    rest = {key: value for key, value in schema.items() if key not in described}
    return {"anyOf": [rest, {"type": "null"}], **described}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A field's schema as a form sends it: a form has no null, so `anyOf [T, null]` becomes T."""
    choices = [choice for choice in schema.get("anyOf", []) if choice.get("type") != "null"]
    if len(choices) != 1:
        return schema
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    return {**rest, **choices[0]}


def request_body(model: type[BaseModel], *, photos: bool = False, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """The OpenAPI `requestBody` of a request that `model` checks: JSON, or a multipart form with `photos`."""
    schema = model.model_json_schema()
    properties = {name: field for name, field in schema["properties"].items() if name not in leave_out}
    required = [name for name in schema.get("required", []) if name not in leave_out]
    if not photos:
        optional = {name: field if name in required else _or_null(field) for name, field in properties.items()}
        body = {**schema, "properties": optional, "required": required}
        return {"required": True, "content": {"application/json": {"schema": body}}}
    form = {
        "type": "object",
        "properties": {
            "photos": {
                "type": "array",
                "items": {"type": "string", "format": "binary"},
                "minItems": 1,
                "maxItems": MAX_PHOTOS,
                "description": f"1 to {MAX_PHOTOS} photos of one person (JPEG, PNG or WebP)",
            },
            **{name: _without_null(field) for name, field in properties.items()},
        },
        "required": ["photos", *required],
        "additionalProperties": False,
    }
    return {
        "required": True,
        "content": {"multipart/form-data": {"schema": form, "encoding": {"photos": {"contentType": "image/*"}}}},
    }
