"""What a generation runs with: a request's parameters once its tier's (or text model's) defaults fill the gaps.

Saved on the generation's row (`saved`), read back for its details and captions (`of_saved`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from photomaker.generation.packs import Plan
from photomaker.generation.params import PackParams, PhotoParams, TextParams
from photomaker.generation.prompts import get_style
from photomaker.store import AIModel


class RunParams(BaseModel):
    """What a generation runs with once the tier's defaults fill the gaps: saved on its row, shown in its details."""

    model_config = ConfigDict(frozen=True)

    tier: str
    style: str | None = None
    """A single-style request's style; None for a pack (`styles`) and for Text to Image."""
    styles: list[str] | None = None
    """A pack's styles, in the order made."""
    images_per_style: int | None = None
    only_alike: bool | None = None
    style_strength: int | None = None
    subject: str | None = None
    num_images: int
    steps: int
    guidance_scale: float
    width: int
    height: int
    seed_requested: int

    @classmethod
    def for_photo(cls, params: PhotoParams | PackParams, model: AIModel, plan: Plan) -> RunParams:
        """A photo request or pack with the tier's defaults where it left a setting to the tier."""
        pack = isinstance(params, PackParams)
        return cls(
            tier=model.tier,
            style=None if pack else get_style(plan.styles[0]).name,
            styles=plan.styles if pack else None,
            images_per_style=plan.groups[0].count if pack else None,
            only_alike=plan.only_alike,
            style_strength=model.default_style_strength if params.style_strength is None else params.style_strength,
            subject=params.subject,
            num_images=plan.total,
            steps=params.steps or model.steps,
            guidance_scale=model.guidance_scale if params.guidance_scale is None else params.guidance_scale,
            width=model.width,
            height=model.height,
            seed_requested=params.seed,
        )

    @classmethod
    def for_text(cls, params: TextParams, model: AIModel) -> RunParams:
        """A Text to Image request with the model's steps and guidance."""
        return cls(
            tier=model.tier,
            num_images=params.num_images,
            steps=model.steps,
            guidance_scale=model.guidance_scale,
            width=params.width,
            height=params.height,
            seed_requested=params.seed,
        )

    @classmethod
    def of_saved(cls, saved: Mapping[str, Any]) -> RunParams | None:
        """What a row's saved params say it ran with; None where they do not say (a demo row, a deleted user's)."""
        try:
            return cls.model_validate({name: saved[name] for name in cls.model_fields if name in saved})
        except ValidationError:
            return None

    @staticmethod
    def style_of(saved: Mapping[str, Any]) -> str | None:
        """The style a row's saved params name; None for Text to Image and for synthetic rows."""
        return saved.get("style")

    def saved(self, effective: Mapping[str, Any]) -> dict[str, Any]:
        """The row's `params`: these values (text requests have no style) and what the backend reports using."""
        return {**self.model_dump(exclude_none=True), **effective}
