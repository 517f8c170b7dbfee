"""How a prompt fits PhotoMaker's text encoders: 77 CLIP tokens, with the identity in them.

The tokenizers cut a prompt to 77 ids keeping its start and end tokens; `img` is then taken out and the
class word before it repeated twice per photo, and the ids are cut to 77 again (TencentARC's V2 pipeline;
`engines/local/trigger.py` builds the ids). A trigger word so late that its copies would be cut cannot be
served. This module says, from a prompt's ids, how many tokens it needs, which of its words are not used,
and whether its trigger word fits; and estimates the same without the tokenizer, for the page while no
tokenizer is loaded (the `local` engine counts with its own once its model is).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from photomaker.generation.prompts import TRIGGER

CLIP_TOKENS = 77
TOKENS_PER_PHOTO = 2
"""PhotoMaker V2's identity tokens per photo: the class word's copies each photo adds."""
WHOLE_WORD_LETTERS = 8
"""The estimate: CLIP's vocabulary holds most English words up to about this long as one token."""
LETTERS_PER_EXTRA_TOKEN = 5
_PIECES = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|[^\s\w]+|_+", re.IGNORECASE)
"""CLIP's pre-tokenizer: words, single digits, runs of punctuation (its BPE then splits rare words)."""


@dataclass(frozen=True)
class PromptFit:
    """How a prompt's ids fit the text encoders' `limit` with the identity of its photos in them."""

    tokens: int
    """The ids the prompt needs: start and end tokens, `img` out and the class word's copies in."""
    limit: int
    unused: list[int]
    """The prompt's ids (trigger word left out) that the prompt with the identity does not hold."""
    refusal: str | None
    """Why the prompt cannot be served (the trigger word past the limit), or None."""


@dataclass(frozen=True)
class TokenCount:
    """A prompt's fit as the page says it."""

    tokens: int
    limit: int
    unused_words: str
    refusal: str | None
    estimated: bool


def last_trigger_index(*, length: int, copies: int) -> int:
    """The furthest index (counting the start token as 0) the trigger word may have: inside the cut, and with
    room after its class word for all `copies`."""
    return min(length - 2, length + 1 - copies)


def fit_of(ids: list[int], *, at: int, trigger_id: int, copies: int, length: int) -> PromptFit:
    """How `ids` (the whole prompt's, start and end tokens included, uncut), whose trigger word is at index `at`,
    fit `length` with `copies` of the class word."""
    content = [token for token in ids[1:-1] if token != trigger_id]
    kept = min(len(ids) - 2, length - 2) - 1  # the cut keeps the start and end tokens; the trigger goes
    held = min(kept, length - copies)  # the copies push the words after them along; the cut drops the last
    last = last_trigger_index(length=length, copies=copies)
    refusal = None
    if at > last:
        refusal = (
            f"The prompt is too long for PhotoMaker: it reads the first {length} tokens, and the trigger word "
            f"'{TRIGGER}' comes at token {at}, too late for the identity of these photos (by token {last} at "
            f"the latest). Shorten the text before '{TRIGGER}' by at least {at - last} tokens (about as many "
            "words), or choose a style that adds less before your prompt."
        )
    tokens = len(content) - 1 + copies + 2  # the copies stand in for the class word
    return PromptFit(tokens=tokens, limit=length, unused=content[max(held, 0) :], refusal=refusal)


def _piece_tokens(piece: str) -> int:
    """The estimated tokens of one pre-tokenizer piece."""
    extra = max(0, len(piece) - WHOLE_WORD_LETTERS)
    return 1 + math.ceil(extra / LETTERS_PER_EXTRA_TOKEN)


def estimate(prompt: str, *, photos: int) -> TokenCount:
    """The fit of `prompt` (holding the trigger word once) without a tokenizer: each piece of CLIP's pre-tokenizer
    one token, long words a token more per few letters."""
    pieces = [match.group() for match in _PIECES.finditer(prompt.lower())]
    ids: list[int] = [0]
    owner: list[int] = [-1]  # the piece each id came from
    at = 0
    for index, piece in enumerate(pieces):
        if piece == TRIGGER and not at:
            at = len(ids)
            ids.append(-1)
            owner.append(index)
            continue
        count = _piece_tokens(piece)
        ids.extend(range(len(ids), len(ids) + count))
        owner.extend([index] * count)
    ids.append(len(ids))
    fit = fit_of(ids, at=at, trigger_id=-1, copies=photos * TOKENS_PER_PHOTO, length=CLIP_TOKENS)
    cut = sorted({owner[token] for token in fit.unused})
    return TokenCount(
        tokens=fit.tokens,
        limit=fit.limit,
        unused_words=" ".join(pieces[index] for index in cut),
        refusal=fit.refusal,
        estimated=True,
    )
