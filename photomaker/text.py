"""Text as people and programs send it, made safe to store.

A NUL byte cannot go into a PostgreSQL text column, a lone surrogate cannot be encoded for any
database, and other control characters only hide what a prompt or a name says. Such text is
refused where a user sends it (`unstorable`), and removed where a refusal of it is only being
recorded (`storable`), so that recording a refusal can never fail.
"""

from __future__ import annotations

import math
import re
from typing import Any

from photomaker.errors import RefusedError

_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
UNSTORABLE = re.compile(f"[{_CONTROL}\ud800-\udfff]")
"""Control characters (tab, newline and carriage return are fine) and lone surrogates."""
STORABLE_PATTERN = f"^[^{_CONTROL}]*$"
"""Text without those control characters, as a JSON Schema pattern: what a schema can say of `UNSTORABLE` (UTF-8
cannot carry a lone surrogate at all; only a JSON escape can)."""

RECORDED_CHARS = 100
"""How much of an odd value a refusal records: enough to see what was sent."""

MAX_RECORDED_INT = 2**53
"""Larger whole numbers are recorded as text: JSON readers lose their digits."""


def unstorable(text: str) -> str | None:
    """The first character of `text` that cannot be stored, as `U+0000`; None when all can."""
    found = UNSTORABLE.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def storable(text: str) -> str:
    """`text` without the characters that cannot be stored."""
    return UNSTORABLE.sub("", text)


def unstorable_message(what: str, character: str) -> str:
    """The refusal of text holding `character` (as `unstorable` names it)."""
    return f"{what} contains a character that cannot be saved ({character}); remove it."


def checked(value: Any, *, what: str) -> str:
    """`value` when it is text that can be stored; else INVALID_PARAMS saying what to change."""
    if not isinstance(value, str):
        raise RefusedError("INVALID_PARAMS", f"{what} must be text; you gave {quoted(value)}.")
    if character := unstorable(value):
        raise RefusedError("INVALID_PARAMS", unstorable_message(what, character))
    return value


def quoted(value: Any) -> str:
    """`value` as a message quotes it back: its repr (which escapes what cannot be stored), cut short."""
    return repr(value)[:RECORDED_CHARS]


def recordable(value: Any) -> Any:
    """`value` as a refusal may record it in a JSON column: plain values kept, anything else as short text."""
    if value is None or isinstance(value, bool) or (isinstance(value, int) and abs(value) <= MAX_RECORDED_INT):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    text = value if isinstance(value, str) else repr(value)
    return storable(text)[:RECORDED_CHARS]
