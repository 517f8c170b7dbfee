"""What the commands that generate share: options read from a request model, progress on stderr, and waiting
for an engine that loads in the background."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from photomaker.generation.catalogue import PHOTO_TIERS
from photomaker.generation.packs import PRESETS
from photomaker.generation.prompts import STYLES_BY_NAME

if TYPE_CHECKING:
    from photomaker.engines.base import Engine

CHOICES: dict[str, Sequence[str]] = {"tier": PHOTO_TIERS, "style": list(STYLES_BY_NAME), "preset": list(PRESETS)}
"""Choices the CLI offers for fields the database or the catalogue of styles checks (an operator may turn a tier
off)."""
LOAD_REPORT_EVERY_S = 10.0
CANCELLED_EXIT = 130
"""The exit status of a generation its user cancelled: 128 + SIGINT, as shells report an interrupted command."""


def print_progress(fraction: float, message: str) -> None:
    print(f"[{fraction:4.0%}] {message}", file=sys.stderr)


def wait_until_loaded(engine: Engine) -> None:
    """A one-shot command waits for an engine that loads in the background, saying how far it got;
    a failed load then refuses the generation with its reason, free."""
    from photomaker.engines.loading import Loading

    if not isinstance(engine, Loading):
        return
    status = engine.status()
    while status.state == "loading":
        print(f"{status.message} Waiting.", file=sys.stderr)
        status = engine.wait(LOAD_REPORT_EVERY_S)


def _default_text(field: FieldInfo, kind: object) -> str:
    """What an option's help says of its default: a number left None is the tier's."""
    if field.is_required():
        return ""
    if field.default is None:
        return " (default: the tier's)" if kind in (int, float) else ""
    return f" (default: {field.default!r})"


def add_param_options(parser: argparse.ArgumentParser, model: type[BaseModel]) -> None:
    """One option per field of `model`: its name, type, choices and description from the model.

    A left-out option is not passed at all, so the model's default (or the tier's) applies. A yes-or-no field is
    a pair of flags (`--only-alike`, `--no-only-alike`); a list is one value, its items separated by commas.
    """
    for name, field in model.model_fields.items():
        kinds = [kind for kind in get_args(field.annotation) or (field.annotation,) if kind is not type(None)]
        literal = kinds if all(isinstance(kind, str) for kind in kinds) else None
        limits = {key: getattr(rule, key) for rule in field.metadata for key in ("ge", "le") if hasattr(rule, key)}
        span = f", {limits['ge']} to {limits['le']}" if len(limits) == 2 else ""
        flag = f"--{name.replace('_', '-')}"
        described = f"{field.title}: {field.description}{span}{_default_text(field, kinds[0])}"
        if kinds[0] is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=described)
            continue
        parser.add_argument(
            flag,
            type=str if literal or get_origin(kinds[0]) is list else kinds[0],
            choices=literal or CHOICES.get(name),
            required=field.is_required(),
            default=argparse.SUPPRESS,
            help=described,
        )
