"""The trigger word: where the identity goes in a prompt's tokens, cut to the text encoders' length as
TencentARC's V2 pipeline cuts it.

The prompt says "a woman img, ..."; `img` marks the class word just before it. Each tokenizer cuts the
prompt to its length keeping the start and end tokens; then `img` is taken out, the class word is repeated
once per identity token (two per photo), and the ids are cut to the length again. So with two or more
photos a prompt that fills the length loses its last words and its end token there, as in the reference.
A mask marks the copies: the ID encoder replaces them with the identity. The text-only prompt of the steps
before the merge is the whole prompt without `img`, decoded and tokenized again (cut keeping its end token).

A trigger word past the cut, or so near it that the copies would be cut, is refused before any charge
(`prompt_fit` says where the limit is): the reference raises an error there, and without the identity the
avatar would be a stranger's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from photomaker.core.errors import RefusedError
from photomaker.generation.prompt_fit import PromptFit, fit_of
from photomaker.generation.prompts import TRIGGER as TRIGGER_WORD


@dataclass(frozen=True)
class TriggeredTokens:
    """One tokenizer's ids for a prompt with the identity, and how the prompt fits."""

    with_identity: list[int]
    class_mask: list[bool]
    fit: PromptFit


def _padded(ids: list[int], *, length: int, pad_id: int) -> list[int]:
    return ids[:length] + [pad_id] * (length - len(ids))


def _trigger_index(ids: list[int], trigger_id: int) -> int:
    """Where the one trigger word is in `ids` (with start and end tokens); refused unless it follows a word."""
    found = [index for index, token in enumerate(ids) if token == trigger_id]
    if len(found) != 1 or found[0] < 2:
        raise RefusedError(
            "INVALID_PARAMS",
            f"The prompt must contain the trigger word '{TRIGGER_WORD}' once, right after the class word "
            "(for example 'a photo of a woman img').",
        )
    return found[0]


def _fit(ids: list[int], *, trigger_id: int, copies: int, length: int) -> PromptFit:
    at = _trigger_index(ids, trigger_id)
    return fit_of(ids, at=at, trigger_id=trigger_id, copies=copies, length=length)


def expand_class_word(ids: list[int], *, trigger_id: int, copies: int, length: int, pad_id: int) -> TriggeredTokens:
    """`ids` (the whole prompt's, start and end tokens included, uncut) with the identity's copies of the class
    word, cut or padded to `length`; refused `INVALID_PROMPT` when the trigger word does not fit."""
    fit = _fit(ids, trigger_id=trigger_id, copies=copies, length=length)
    if fit.refusal is not None:
        raise RefusedError("INVALID_PROMPT", fit.refusal)
    cut = ids if len(ids) <= length else [*ids[: length - 1], ids[-1]]
    at = cut.index(trigger_id)
    clean = cut[:at] + cut[at + 1 :]
    class_index = at - 1
    expanded = clean[:class_index] + [clean[class_index]] * copies + clean[class_index + 1 :]
    return TriggeredTokens(
        with_identity=_padded(expanded, length=length, pad_id=pad_id),
        class_mask=[class_index <= index < class_index + copies for index in range(length)],
        fit=fit,
    )


def _read(tokenizer: Any, prompt: str) -> dict[str, Any]:
    """`prompt`'s ids through one of the pipeline's tokenizers (which know `img` as one token), with its trigger
    word's id and its length."""
    return {
        "ids": tokenizer.encode(prompt),
        "trigger_id": tokenizer.convert_tokens_to_ids(TRIGGER_WORD),
        "length": tokenizer.model_max_length,
    }


def triggered(tokenizer: Any, prompt: str, *, copies: int) -> TriggeredTokens:
    """`prompt` through one of the pipeline's tokenizers, with the identity."""
    return expand_class_word(**_read(tokenizer, prompt), copies=copies, pad_id=tokenizer.pad_token_id)


def prompt_fit(tokenizer: Any, prompt: str, *, copies: int) -> PromptFit:
    """How `prompt` fits one of the pipeline's tokenizers with `copies` of its class word."""
    return _fit(**_read(tokenizer, prompt), copies=copies)


def without_trigger(tokenizer: Any, prompt: str) -> str:
    """The text-only prompt: `prompt`'s tokens without `img`, decoded (lower case, CLIP's spacing)."""
    ids = tokenizer.encode(prompt, add_special_tokens=False)
    ids.remove(tokenizer.convert_tokens_to_ids(TRIGGER_WORD))
    return str(tokenizer.decode(ids))
