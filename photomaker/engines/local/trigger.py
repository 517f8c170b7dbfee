"""The trigger word: where the identity goes in a prompt's tokens.

The prompt says "a woman img, ..."; `img` marks the class word just before it. For the text
encoders, `img` is taken out and the class word is repeated once per identity token (two per photo),
and a mask marks those copies: the ID encoder replaces them with the identity. The same prompt
without the trigger word is the text-only prompt of the steps before the merge.
"""

from __future__ import annotations

from dataclasses import dataclass

from photomaker.errors import RefusedError

TRIGGER_WORD = "img"


@dataclass(frozen=True)
class TriggeredTokens:
    """One tokenizer's ids for a prompt, with and without the identity."""

    with_identity: list[int]
    class_mask: list[bool]
    text_only: list[int]


def _padded(ids: list[int], *, length: int, pad_id: int) -> list[int]:
    return ids[:length] + [pad_id] * (length - len(ids))


def expand_class_word(ids: list[int], *, trigger_id: int, copies: int, length: int, pad_id: int) -> TriggeredTokens:
    """`ids` (with start and end tokens) of a prompt holding the trigger once, right after the class word."""
    found = [index for index, token in enumerate(ids) if token == trigger_id]
    if len(found) != 1 or found[0] < 2:
        raise RefusedError(
            "INVALID_PARAMS",
            f"The prompt must contain the trigger word '{TRIGGER_WORD}' once, right after the class word "
            "(for example 'a photo of a woman img').",
        )
    at = found[0]
    clean = ids[:at] + ids[at + 1 :]
    class_index = at - 1
    expanded = clean[:class_index] + [clean[class_index]] * copies + clean[class_index + 1 :]
    mask = [class_index <= index < class_index + copies for index in range(length)]
    return TriggeredTokens(
        with_identity=_padded(expanded, length=length, pad_id=pad_id),
        class_mask=mask,
        text_only=_padded(clean, length=length, pad_id=pad_id),
    )
