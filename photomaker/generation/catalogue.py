"""The catalogue as data: AI model tiers loaded from `seeds/models.json`, and aspect presets.

The database is the runtime source of truth (an operator may disable a model or change a
price); this module only reads and validates the seed file that fills it.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, Field

Tier = Literal["basic", "pro", "enterprise", "text"]
Mode = Literal["photo", "text"]
PHOTO_TIERS: tuple[Tier, ...] = ("basic", "pro", "enterprise")


class ModelSpec(BaseModel):
    """One AI model row as seeded: what it costs, what it makes, how long it takes."""

    model_key: str
    app_id: str
    name: str
    tier: Tier
    mode: Mode
    provider: str
    credit_cost: int = Field(gt=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    default_style_strength: int = Field(ge=0, le=100)
    steps: int = Field(gt=0)
    guidance_scale: float = Field(ge=0)
    eta_min_s: int = Field(ge=0)
    eta_max_s: int = Field(ge=0)
    enabled: bool = True
    capabilities: dict[str, Any] = Field(default_factory=dict)
    features: list[str] = Field(default_factory=list)


def load_seed_models() -> list[ModelSpec]:
    """Read and validate every model in `seeds/models.json`."""
    raw = json.loads(resources.files("seeds").joinpath("models.json").read_text(encoding="utf-8"))
    return [ModelSpec.model_validate(item) for item in raw]


SQUARE_ASPECT = "Instagram (1:1)"
"""The PhotoMaker-V2 Space's square aspect preset: avatars are square, sized by the tier."""

STYLE_STRENGTH_RATIO_RANGE = (15, 50)
"""PhotoMaker's `style_strength_ratio` range (percent of the steps before the identity is merged in)."""


def style_strength_ratio(strength: int) -> int:
    """Our style strength (0-100, as in the API) mapped into PhotoMaker's 15-50."""
    low, high = STYLE_STRENGTH_RATIO_RANGE
    return round(low + (high - low) * max(0, min(100, strength)) / 100)
