"""A generation's parameters, written once: each field's default, bounds, label and description.

The API signatures, the CLI options, the page's sliders and the parameters saved on a generation's
row all derive from these models; `tests/test_params.py` checks that the API keeps to them.
Values arrive as people and programs send them (a slider's 30.0, a form's None) and are checked
by `parse`, which turns pydantic's complaint into our INVALID_PARAMS message for the first bad field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails, PydanticCustomError, PydanticUndefined

from photomaker.core.errors import RefusedError
from photomaker.core.safe_text import RECORDED_CHARS, STORABLE_PATTERN, quoted, storable, unstorable, unstorable_message
from photomaker.engines.base import MAX_SEED
from photomaker.generation.prompts import DEFAULT_STYLE, Subject
from photomaker.store.projects import DEFAULT_PROJECT, MAX_PROJECT_NAME

DEFAULT_MAX_OUTPUTS = 4
"""How many images one request may make from a model whose row names no `max_outputs`."""

# Fields both kinds of request take, defined once and placed in each model in the API's order.
_PROMPT = Field(title="Prompt", description="what to make; for avatars the trigger word 'img' is placed for you")
_NEGATIVE = Field("", title="Negative prompt", description="what to avoid, e.g. glasses, hat")
_NUM_IMAGES = Field(1, ge=1, title="Number of images", description="from 1 to the model's limit")
_SEED = Field(-1, ge=-1, le=MAX_SEED, title="Seed", description="-1 picks a random seed")
_PROJECT = Field(DEFAULT_PROJECT, title="Save to project", description="the project the images are filed in")
_TIER = Field("pro", title="Tier", description="basic, pro or enterprise")
_STYLE_STRENGTH = Field(
    None, ge=0, le=100, title="Style strength", description="higher means more style, less likeness"
)
_SUBJECT: Subject = Field("person", title="Who is in the photos", description="person, man, woman, boy or girl")
_STEPS = Field(None, ge=20, le=100, title="Steps", description="more is slower and finer")
_GUIDANCE = Field(None, ge=0.1, le=10.0, title="Guidance scale", description="how closely to follow the prompt")
_ONLY_ALIKE = Field(
    True,
    title="Only avatars that look like you",
    description="an avatar below the likeness threshold is tried once more, then refunded, not shown",
)


def _storable_strings(schema: dict[str, Any]) -> None:
    """The JSON schema's text fields say which characters they refuse, as `_storable` below does."""
    for field in schema.get("properties", {}).values():
        for choice in [field, *field.get("anyOf", [])]:
            if choice.get("type") == "string" and "enum" not in choice:
                choice["pattern"] = STORABLE_PATTERN


class _Params(BaseModel):
    """Checked values of a request; a field sent as None takes its default."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_storable_strings)

    @field_validator("*", mode="before")
    @classmethod
    def _none_is_default(cls, value: Any, info: ValidationInfo) -> Any:
        return given(cls, {str(info.field_name): value}, str(info.field_name))

    @field_validator("*", mode="before")
    @classmethod
    def _no_true_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        """`true` is no number (JSON Schema agrees), though pydantic would read it as 1."""
        annotation = cls.model_fields[str(info.field_name)].annotation
        kinds = get_args(annotation) or (annotation,)
        if isinstance(value, bool) and (int in kinds or float in kinds):
            kind = "int_type" if int in kinds else "float_type"
            raise PydanticCustomError(kind, "Input should be a number, not {value}", {"value": value})
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if isinstance(value, str) and (character := unstorable(value)):
            raise PydanticCustomError("unstorable", "contains {character}", {"character": character})
        return value

    @field_validator("num_images", "images_per_style", mode="after", check_fields=False)
    @classmethod
    def _within_the_models_limit(cls, value: int, info: ValidationInfo) -> int:
        limit = (info.context or {}).get(MAX_IMAGES, DEFAULT_MAX_OUTPUTS)
        if value > limit:
            raise PydanticCustomError("less_than_equal", "Input should be at most {le}", {"le": limit})
        return value


class PhotoParams(_Params):
    """A Photo to Avatar request (the photos travel beside it); a setting left None is the tier's own."""

    prompt: str = _PROMPT
    tier: str = _TIER
    style: str = Field(DEFAULT_STYLE, title="Style", description="one of the styles, or '(No style)'")
    style_strength: int | None = _STYLE_STRENGTH
    subject: Subject = _SUBJECT
    negative_prompt: str = _NEGATIVE
    num_images: int = _NUM_IMAGES
    seed: int = _SEED
    steps: int | None = _STEPS
    guidance_scale: float | None = _GUIDANCE
    project: str = _PROJECT
    only_alike: bool = _ONLY_ALIKE


class PackParams(_Params):
    """An avatar pack: one upload, several styles (named, or a preset's), the same number of images of each."""

    prompt: str = _PROMPT
    tier: str = _TIER
    styles: list[str] | None = Field(
        None, title="Styles", description="the styles to make, each once (a list, or names separated by commas)"
    )
    preset: str | None = Field(None, title="Preset", description="a named set of styles, instead of `styles`")
    images_per_style: int = Field(1, ge=1, title="Images per style", description="from 1 to the model's limit")
    style_strength: int | None = _STYLE_STRENGTH
    subject: Subject = _SUBJECT
    negative_prompt: str = _NEGATIVE
    seed: int = _SEED
    steps: int | None = _STEPS
    guidance_scale: float | None = _GUIDANCE
    project: str = _PROJECT
    only_alike: bool = _ONLY_ALIKE

    @field_validator("styles", mode="before")
    @classmethod
    def _names_separated_by_commas(cls, value: Any) -> Any:
        """A form's one text field ("Cinematic, Enhance") reads as the list it names."""
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value


class TextParams(_Params):
    """A Text to Image request: no photos, a size instead of a tier."""

    prompt: str = _PROMPT
    model: str | None = Field(None, title="Model", description="a text model's key; the cheapest when left out")
    width: int = Field(1024, ge=256, le=2048, multiple_of=8, title="Width", description="pixels, a multiple of 8")
    height: int = Field(1024, ge=256, le=2048, multiple_of=8, title="Height", description="pixels, a multiple of 8")
    negative_prompt: str = _NEGATIVE
    num_images: int = _NUM_IMAGES
    seed: int = _SEED
    project: str = _PROJECT


MAX_ROW_ID = 2**31 - 1
"""The largest id a row can have (PostgreSQL's `integer`): a larger one names nothing."""


def as_row_id(value: Any) -> int | None:
    """An id as a program may send it (a number, text, junk), or None when it cannot name a row."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value)
    return value if isinstance(value, int) and 1 <= value <= MAX_ROW_ID else None


class StarsParams(_Params):
    """A rating's stars, as the REST API takes them (the generation is in the address)."""

    stars: int = Field(ge=1, le=5, title="Rating", description="1 to 5 stars")


class RatingParams(StarsParams):
    """A rating of one of the user's generations."""

    generation_id: int = Field(ge=1, le=MAX_ROW_ID, title="Generation", description="the generation's number")


class ProjectParams(_Params):
    """A project as a user names it, creating or renaming it: one line, spaces collapsed."""

    name: str = Field(
        min_length=1, max_length=MAX_PROJECT_NAME, title="Project name", description="up to 100 characters"
    )

    @field_validator("name", mode="before")
    @classmethod
    def _one_line(cls, value: Any) -> Any:
        """Spaces collapsed in a name that fits as sent; a longer one is refused for its length as sent, and one
        with a control character for that character (`split` would take U+0085 for a space and drop it)."""
        if isinstance(value, str) and len(value) <= MAX_PROJECT_NAME and not unstorable(value):
            return " ".join(value.split())
        return value


Params = TypeVar("Params", bound=_Params)
MAX_IMAGES = "max_images"
"""The validation context's key for the chosen model's limit on images per request."""


def given(model: type[BaseModel], values: Mapping[str, Any], name: str) -> Any:
    """The value sent for `name`, or the field's default when none was sent (None counts as none; text is empty)."""
    value = values.get(name)
    if value is not None:
        return value
    default = model.model_fields[name].default
    return "" if default is PydanticUndefined else default


def bounds(model: type[BaseModel], name: str, *, max_images: int = DEFAULT_MAX_OUTPUTS) -> tuple[float, float]:
    """The lowest and highest value a numeric field takes (for sliders and messages)."""
    rules = model.model_fields[name].metadata
    found = {key: getattr(rule, key) for rule in rules for key in ("ge", "le") if getattr(rule, key, None) is not None}
    return found["ge"], found.get("le", max_images)


def label(model: type[BaseModel], name: str) -> str:
    """A field's name as people read it."""
    return model.model_fields[name].title or name


def number(value: float) -> str:
    """A number as people write it: whole numbers in full (a seed's 2147483647), others as short as they go."""
    if isinstance(value, int):
        return str(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _numeric(value: Any) -> float | None:
    """What a value sent for a number field reads as, if it reads as a number at all."""
    if isinstance(value, int | float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _given(value: Any) -> str:
    """A value as a message repeats it: numbers as written, the rest as text that can be stored, cut short."""
    numeric = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    return storable(str(value) if numeric is None else number(numeric))[:RECORDED_CHARS]


_RANGE_ERRORS = ("greater_than_equal", "less_than_equal")
"""Pydantic checks a multiple first, so a size off both is reported out of range here, as the bounds matter more."""


def _message(model: type[BaseModel], error: ErrorDetails, *, max_images: int) -> str:
    """Our sentence for pydantic's first complaint, about one field."""
    name = str(error["loc"][0])
    if name not in model.model_fields:
        return f"There is no setting {quoted(name)}; the settings are: {', '.join(model.model_fields)}."
    what, value, kind = label(model, name), error.get("input"), error["type"]
    if kind == "unstorable":
        return unstorable_message(what, error.get("ctx", {}).get("character", ""))
    numeric = _numeric(value)
    if (kind in _RANGE_ERRORS or kind == "multiple_of") and numeric is not None:
        low, high = bounds(model, name, max_images=max_images)
        if not low <= numeric <= high:
            return f"{what} must be between {number(low)} and {number(high)}; you gave {_given(numeric)}."
    if kind == "missing" or (value in (None, "") and kind.startswith(("int", "float", "string_too_short"))):
        return f"{what} is missing; fill it in."
    if kind == "string_too_long":
        limit = error.get("ctx", {}).get("max_length")
        return f"{what} must be at most {limit} characters; you gave {len(str(value))}."
    annotation = model.model_fields[name].annotation
    whole = int in (get_args(annotation) or (annotation,))
    if kind in ("int_from_float", "int_parsing", "int_type", "int_parsing_size") or (whole and kind == "finite_number"):
        return f"{what} must be a whole number; you gave {_given(value)}."
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"{what} must be a number; you gave {_given(value)}."
    if kind == "multiple_of":
        return f"{what} must be a multiple of {error.get('ctx', {}).get('multiple_of')}; you gave {_given(value)}."
    if kind == "literal_error":
        choices = ", ".join(get_args(model.model_fields[name].annotation))
        return f"Unknown {name} {quoted(value)}; choose one of: {choices}."
    return f"{what}: {error['msg']}; you gave {quoted(value)}."


def parse(model: type[Params], values: Mapping[str, Any], *, max_images: int = DEFAULT_MAX_OUTPUTS) -> Params:
    """`values` checked into `model`, or RefusedError(INVALID_PARAMS) naming the first field at fault.

    `max_images` is the chosen model's own limit on images per request.
    """
    try:
        return model.model_validate(dict(values), context={MAX_IMAGES: max_images})
    except ValidationError as error:
        raise RefusedError("INVALID_PARAMS", _message(model, error.errors()[0], max_images=max_images)) from None
