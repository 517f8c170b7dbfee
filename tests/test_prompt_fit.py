"""How a prompt fits PhotoMaker's 77 tokens, estimated without a tokenizer: each short word one token, as the
engine's own count has it for such words; the words past the limit and a trigger word too late for its photos."""

from __future__ import annotations

import pytest

from photomaker.generation.prompt_fit import CLIP_TOKENS, estimate, last_trigger_index
from photomaker.ui.generate_words import tokens_text


@pytest.mark.parametrize(
    ("ids", "photos", "tokens", "unused"),
    [(76, 1, 76, 0), (77, 1, 77, 0), (78, 1, 78, 1), (79, 1, 79, 2), (75, 2, 77, 0), (77, 2, 79, 1), (79, 2, 81, 3)],
)
def test_the_estimate_counts_the_identity_and_names_the_words_past_the_limit(
    ids: int, photos: int, tokens: int, unused: int
) -> None:
    prompt = "a woman img" + " b" * (ids - 5)

    count = estimate(prompt, photos=photos)

    assert (count.tokens, count.limit, count.refusal, count.estimated) == (tokens, CLIP_TOKENS, None, True)
    assert count.unused_words == " ".join(["b"] * unused)


@pytest.mark.parametrize("photos", [1, 2, 4])
def test_the_trigger_word_one_token_too_late_is_refused(photos: int) -> None:
    last = last_trigger_index(length=CLIP_TOKENS, copies=2 * photos)

    fits = estimate("a " * (last - 2) + "woman img b", photos=photos)
    late = estimate("a " * (last - 1) + "woman img b", photos=photos)

    assert fits.refusal is None
    assert late.refusal is not None and "Shorten the text before 'img' by at least 1 tokens" in late.refusal
    assert tokens_text(late) == f"⛔ {late.refusal}"


def test_long_words_count_as_several_tokens() -> None:
    assert estimate("a woman img, photographic", photos=1).tokens == estimate("a woman img, photo", photos=1).tokens + 1


def test_the_page_says_the_count_is_an_estimate_and_what_is_cut() -> None:
    assert tokens_text(estimate("a woman img", photos=1)) == (
        "about 5 of 77 tokens (estimated: the model's tokenizer is not loaded here)"
    )
    over = tokens_text(estimate("a woman img" + " b" * 80, photos=1))
    assert over.startswith("⚠️ about 85 of 77 tokens") and over.endswith("these words will not be used: b b b b b b b b")
