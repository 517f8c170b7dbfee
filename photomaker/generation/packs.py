"""Avatar packs: one upload, several styles, planned as groups of images, one group per style.

Every Photo to Avatar request is a plan: a single-style request is a pack of one group. `plan_pack` checks the
styles a pack names (or its preset's) and keeps their order; what a plan costs is the catalogue's price
(`AIModel.price`, bundle price included) for its total, and each image costs the same, so an image not kept is
refunded exactly. `Tally` counts what became of a plan's images, and says it in the ledger's words.
"""

from __future__ import annotations

from dataclasses import dataclass

from photomaker.core.errors import PhotoMakerError, RefusedError
from photomaker.core.plurals import counted
from photomaker.core.safe_text import quoted
from photomaker.generation.params import DEFAULT_MAX_OUTPUTS, PackParams, PhotoParams
from photomaker.generation.prompts import NO_STYLE, STYLES, STYLES_BY_NAME
from photomaker.store import AIModel
from photomaker.store.generations import Counts

PRESETS: dict[str, tuple[str, ...]] = {
    "Professional": ("Photographic (Default)", "Cinematic", "Enhance", NO_STYLE),
    "Playful": ("Disney Character", "Comic book", "Lowpoly", "Digital Art"),
    "Artistic": ("Fantasy art", "Neonpunk", "Line art", "Digital Art"),
    "Every style": tuple(style.name for style in STYLES),
}
"""Named sets of styles a pack may ask for instead of listing them."""
MAX_PACK_IMAGES = len(STYLES) * DEFAULT_MAX_OUTPUTS
"""The most images one pack makes: every style, the most images of each."""
TRIES = 2
"""How many times an image is made at most: a first try, and one more when it does not look like the person."""


@dataclass(frozen=True)
class StyleGroup:
    """Images of one style within a plan."""

    style: str
    count: int


@dataclass(frozen=True)
class Plan:
    """What a request will make: its groups in order, and whether only images that look like the person are kept."""

    groups: tuple[StyleGroup, ...]
    only_alike: bool

    @property
    def total(self) -> int:
        return sum(group.count for group in self.groups)

    @property
    def styles(self) -> list[str]:
        return [group.style for group in self.groups]

    def style_of(self, number: int) -> str:
        """The style of the plan's `number`th image (from 1)."""
        for group in self.groups:
            if number <= group.count:
                return group.style
            number -= group.count
        raise IndexError("the plan has fewer images")


def plan_photo(params: PhotoParams) -> Plan:
    """A single-style request: a pack of one group."""
    return Plan((StyleGroup(params.style, params.num_images),), params.only_alike)


def plan_text(num_images: int) -> Plan:
    """A Text to Image request: one group without a style, nothing to compare with."""
    return Plan((StyleGroup(NO_STYLE, num_images),), only_alike=False)


def _named_styles(params: PackParams) -> tuple[str, ...]:
    if params.styles and params.preset:
        raise RefusedError("INVALID_PARAMS", "Give either styles or a preset, not both.")
    if params.preset is not None:
        if params.preset not in PRESETS:
            raise RefusedError(
                "INVALID_PARAMS", f"Unknown preset {quoted(params.preset)}; choose one of: {', '.join(PRESETS)}."
            )
        return PRESETS[params.preset]
    if not params.styles:
        raise RefusedError(
            "INVALID_PARAMS",
            f"Choose at least one style, or a preset ({', '.join(PRESETS)}); a pack of 0 avatars makes nothing.",
        )
    return tuple(params.styles)


def plan_pack(params: PackParams) -> Plan:
    """The pack's plan, or INVALID_PARAMS naming an unknown or repeated style, or too many images."""
    names = _named_styles(params)
    for index, name in enumerate(names):
        if name not in STYLES_BY_NAME:
            raise RefusedError(
                "INVALID_PARAMS", f"Unknown style {quoted(name)}; choose from: {', '.join(STYLES_BY_NAME)}."
            )
        if name in names[:index]:
            raise RefusedError("INVALID_PARAMS", f"{quoted(name)} is listed twice; list each style once.")
    plan = Plan(tuple(StyleGroup(name, params.images_per_style) for name in names), params.only_alike)
    if plan.total > MAX_PACK_IMAGES:
        raise RefusedError(
            "INVALID_PARAMS", f"A pack makes at most {MAX_PACK_IMAGES} avatars; this one asks for {plan.total}."
        )
    return plan


def affordable(model: AIModel, credits: int) -> int:
    """The most images of `model` that `credits` pay for in one request (its bundle price counted)."""
    return max((count for count in range(1, MAX_PACK_IMAGES + 1) if model.price(count) <= credits), default=0)


def short_of_credits(model: AIModel, plan: Plan, have: int) -> str:
    """Why a plan is refused for its price: what it costs, what the user has, and how many images that buys."""
    cost, can = model.price(plan.total), affordable(model, have)
    what = f"These {plan.total} avatars cost" if plan.total > 1 else "This avatar costs"
    buys = f"enough for {counted(can, f'{model.tier} avatar')}" if can else "not enough for one"
    return f"{what} {cost} credits and you have {have}: {buys}. Choose fewer styles or images, or a lower tier."


@dataclass
class Tally:
    """What became of a plan's images while it is made: kept, turned down for their likeness, never made."""

    asked: int
    kept: int = 0
    not_alike: int = 0
    candidates: int = 0
    alike_first_try: int = 0
    cancelled: bool = False
    error: PhotoMakerError | None = None

    @property
    def not_made(self) -> int:
        return self.asked - self.kept - self.not_alike

    def counts(self) -> Counts:
        """What the row keeps of this tally for the metrics."""
        return Counts(images_kept=self.kept, candidates=self.candidates, alike_first_try=self.alike_first_try)

    def refund(self, model: AIModel, *, charged: int) -> tuple[int, list[str]]:
        """What comes back of `charged` for the images the user got no avatar for, and why, in the user's words.

        Each image was charged the same, `charged / asked`. An image that did not look like the person, or that the
        engine did not make, comes back at that price. A cancel makes the request smaller, so the avatars made
        are paid at the price of a request for that many (no bundle price for 2 avatars asked as 8), and the rest
        comes back.
        """
        each = charged // self.asked
        if self.cancelled:
            each = max(each, model.price_each(self.kept + self.not_alike))
        alike_back = self.not_alike * each
        back = charged - each * self.kept
        said: list[str] = []
        if self.not_alike:
            said.append(f"{counted(self.not_alike, 'avatar')} did not look like you: {alike_back} credits back")
        if self.not_made:
            why = (
                "cancelled" if self.cancelled else "not made" if self.error is None else f"not made ({self.error.code})"
            )
            said.append(f"{counted(self.not_made, 'avatar')} {why}: {back - alike_back} credits back")
        return back, said
