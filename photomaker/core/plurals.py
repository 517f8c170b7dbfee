"""Counts as people read them: "1 rating" and "2 ratings", never "1 rating(s)" or "1 ratings"."""

from __future__ import annotations


def counted(number: int, noun: str, *, plural: str | None = None) -> str:
    """`number` with its noun, in the plural unless the number is one (`plural` where adding "s" is wrong:
    "1 try", "2 tries"); thousands are separated, as every figure on the page is ("1,000 avatars")."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"
