"""Text as people and programs send it, made safe to store and to show.

A NUL byte cannot go into a PostgreSQL text column, a lone surrogate cannot be encoded for any
database, and other control characters only hide what a prompt or a name says. Format characters
do worse where text is shown to people: a right-to-left override (U+202E) makes `gpj.exe` read as
`exe.jpg`, and zero-width joiners, a BOM or tag characters hide text inside text; noncharacters
(U+FFFF) are not text at all. Such text is refused where a user sends it (`unstorable`, naming the
character), and removed where a refusal of it is only being recorded (`storable`), so that recording
a refusal can never fail.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from photomaker.core.errors import RefusedError

_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"


FORMAT_PLANES = (0x0, 0x1, 0xE)
"""The planes that hold format characters (the Basic and Supplementary Multilingual Planes, and the tags')."""


def _refused_codes() -> list[int]:
    """Every format character (Unicode category Cf: bidi controls, invisible joiners and spaces, the BOM, tag
    characters) and every noncharacter (U+FDD0-U+FDEF and the last two code points of each plane), in order."""
    hidden = {
        code
        for plane in FORMAT_PLANES
        for code in range(max(0xA0, plane << 16), (plane + 1) << 16)
        if unicodedata.category(chr(code)) == "Cf"
    }
    nonchars = {*range(0xFDD0, 0xFDF0), *(plane << 16 | low for plane in range(17) for low in (0xFFFE, 0xFFFF))}
    return sorted(hidden | nonchars)


def _as_class(codes: list[int]) -> str:
    """Code points as a regular expression's character class body: runs as ranges, literal characters."""
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "".join(chr(low) if low == high else f"{chr(low)}-{chr(high)}" for low, high in ranges)


_HIDDEN = _as_class(_refused_codes())
UNSTORABLE = re.compile(f"[{_CONTROL}{_HIDDEN}\ud800-\udfff]")
"""Control characters (tab, newline and carriage return are fine), format characters, noncharacters and lone
surrogates."""
STORABLE_PATTERN = f"^[^{_CONTROL}{_HIDDEN}]*$"
"""Text without those characters, as a JSON Schema pattern: what a schema can say of `UNSTORABLE` (UTF-8
cannot carry a lone surrogate at all; only a JSON escape can)."""

RECORDED_CHARS = 100
"""How much of an odd value a refusal records: enough to see what was sent."""

MAX_RECORDED_INT = 2**53
"""Larger whole numbers are recorded as text: JSON readers lose their digits."""


def unstorable(text: str) -> str | None:
    """The first character of `text` we refuse, as `U+202E RIGHT-TO-LEFT OVERRIDE`; None when there is none."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    character = found.group()
    name = unicodedata.name(character, "")
    return f"U+{ord(character):04X} {name}".rstrip()


def storable(text: str) -> str:
    """`text` without the characters that cannot be stored."""
    return UNSTORABLE.sub("", text)


def unstorable_message(what: str, character: str) -> str:
    """The refusal of text holding `character` (as `unstorable` names it)."""
    return (
        f"{what} contains a character we do not accept ({character}): control, invisible and text-reordering "
        "characters cannot be saved. Remove it and try again."
    )


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
