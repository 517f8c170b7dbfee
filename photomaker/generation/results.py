"""What a generation gives back: its images and its details when it finishes, and how it stands while polled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from photomaker.faces.likeness import verdict
from photomaker.generation.catalogue import Mode
from photomaker.generation.run_params import RunParams
from photomaker.store import AIModel, Generation, row_id

_ROW_SHOWS = {
    "status",
    "engine",
    "preview",
    "model_key",
    "mode",
    "prompt",
    "negative_prompt",
    "seed",
    "credits_charged",
    "processing_ms",
    "attempts",
}
"""What the details take from the generation's row."""
_RAN_WITH = {
    "style",
    "styles",
    "only_alike",
    "style_strength",
    "width",
    "height",
    "num_images",
    "steps",
    "guidance_scale",
}
"""What the details take from the parameters a generation ran with."""


class GenerationDetails(BaseModel):
    """A completed generation as the user sees it; the API returns its `model_dump()` (keys as in docs/api.md)."""

    model_config = ConfigDict(frozen=True)

    generation_id: int
    status: str
    engine: str
    preview: bool
    model_key: str
    model_name: str
    tier: str
    mode: Mode
    prompt: str
    negative_prompt: str
    style: str | None
    """A single-style request's style; None for a pack and for Text to Image."""
    styles: list[str] | None
    """A pack's styles, in the order made; None for a single-style request."""
    only_alike: bool | None
    """Whether only avatars that look like the person were kept (each tried once more before it was refunded)."""
    style_strength: int | None
    seed: int | None
    width: int
    height: int
    num_images: int
    steps: int
    guidance_scale: float
    credits_charged: int
    credits_refunded: int
    """What was given back for the images asked for and not kept (not alike, cancelled, not made)."""
    credits_remaining: int
    images_kept: int
    """How many of the `num_images` asked for were kept: the avatars shown, in `avatar_styles`' order."""
    avatar_styles: list[str | None]
    """Per avatar, its style (None for Text to Image)."""
    processing_ms: int | None
    attempts: int | None
    likeness: list[float | None]
    """Per image, how alike its face is to the photos' (0 to 1; `photomaker.faces.likeness`); None where no face
    was found. Empty for Text to Image, which has no person to compare with."""
    likeness_ok: list[bool | None]
    """Per image, whether it shows the same person as the photos, by the face model's threshold."""
    notes: list[str]
    """Things the user should know, e.g. that a photo held several faces and the largest was used."""

    @classmethod
    def of(
        cls,
        generation: Generation,
        model: AIModel,
        ran: RunParams,
        *,
        remaining: int,
        styles: Sequence[str | None],
    ) -> GenerationDetails:
        """The details of a completed generation: its row as saved (its notes too), its model, what it ran with,
        and its avatars' `styles`."""
        scores = generation.likeness or []
        kept = len(styles) if generation.images_kept is None else generation.images_kept
        return cls(
            generation_id=row_id(generation),
            **generation.model_dump(include=_ROW_SHOWS),
            model_name=model.name,
            tier=model.tier,
            **ran.model_dump(include=_RAN_WITH),
            credits_refunded=generation.credits_refunded or 0,
            credits_remaining=remaining,
            images_kept=kept,
            avatar_styles=list(styles),
            likeness=scores,
            likeness_ok=[verdict(score) for score in scores],
            notes=generation.notes or [],
        )


@dataclass(frozen=True)
class GenerationOutcome:
    """A completed generation: its images on disk and its details."""

    images: list[Path]
    details: GenerationDetails

    @property
    def generation_id(self) -> int:
        return self.details.generation_id

    @property
    def notes(self) -> list[str]:
        return self.details.notes

    @property
    def styles(self) -> list[str | None]:
        """Each image's style, in order (None for Text to Image): what its caption and download name say."""
        return self.details.avatar_styles or [self.details.style] * len(self.images)


@dataclass(frozen=True)
class AvatarView:
    """One avatar of a generation, without where it lies on disk."""

    id: int
    number: int
    """Its place in its generation, from 1."""
    width: int
    height: int
    likeness: float | None
    likeness_ok: bool | None
    style: str | None


@dataclass(frozen=True)
class GenerationView:
    """One of a user's generations as it stands now, whatever became of it: what a program polls."""

    id: int
    status: str
    mode: str
    model_key: str
    project_id: int | None
    project: str | None
    created_at: datetime
    """When it was asked for, in UTC."""
    completed_at: datetime | None
    error_code: str | None
    error_message: str | None
    details: GenerationDetails | None
    """A completed generation's details; None for the rest, and for rows whose parameters were deleted."""
    avatars: list[AvatarView]
