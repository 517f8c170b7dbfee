"""The trigger word: the class word repeated once per identity token, cut to the text encoders' 77 tokens as
TencentARC's V2 pipeline cuts it, at every boundary; the trigger word past the cut refused."""

from __future__ import annotations

import pytest

from photomaker.core.errors import RefusedError
from photomaker.engines.local.trigger import TRIGGER_WORD, expand_class_word, without_trigger
from photomaker.generation.prompt_fit import fit_of, last_trigger_index
from stand_ins.random_weights import small_tokenizer

START, END, CLASS, TRIGGER, PAD = 0, 1, 50, 99, 7
LENGTH = 77


def prompt_ids(count: int, *, trigger_at: int = 3) -> list[int]:
    """`count` ids with start and end tokens: words (10, 11, ...), the class word, the trigger at `trigger_at`."""
    words = iter(range(100, 100 + count))
    ids = [START, *(next(words) for _ in range(trigger_at - 2)), CLASS, TRIGGER]
    return ids + [next(words) for _ in range(count - len(ids) - 1)] + [END]


@pytest.mark.parametrize("photos", [1, 2, 3, 4])
def test_the_class_word_is_repeated_twice_per_photo_and_masked(photos: int) -> None:
    ids = [START, 10, 11, CLASS, TRIGGER, 12, END]

    tokens = expand_class_word(ids, trigger_id=TRIGGER, copies=2 * photos, length=20, pad_id=PAD)

    assert tokens.with_identity[: 3 + 2 * photos + 2] == [START, 10, 11, *[CLASS] * (2 * photos), 12, END]
    assert len(tokens.with_identity) == len(tokens.class_mask) == 20
    assert [index for index, masked in enumerate(tokens.class_mask) if masked] == list(range(3, 3 + 2 * photos))
    assert tokens.fit.unused == [] and tokens.fit.tokens == 6 + 2 * photos - 1 and tokens.fit.refusal is None


# ids of the whole prompt -> (does the end token survive, words not held) with one photo, and with two
ONE_PHOTO = {76: (True, 0), 77: (True, 0), 78: (True, 1), 79: (True, 2)}
TWO_PHOTOS = {75: (True, 0), 76: (False, 0), 77: (False, 1), 78: (False, 2), 79: (False, 3)}


@pytest.mark.parametrize(
    ("photos", "count", "keeps_end", "unused"),
    [(1, count, *expected) for count, expected in ONE_PHOTO.items()]
    + [(2, count, *expected) for count, expected in TWO_PHOTOS.items()],
)
def test_long_prompts_are_cut_as_the_reference_cuts_them(photos: int, count: int, keeps_end: bool, unused: int) -> None:
    ids = prompt_ids(count)
    at = ids.index(TRIGGER)
    before, rest = ids[1 : at - 1], ids[at + 1 : -1]

    tokens = expand_class_word(ids, trigger_id=TRIGGER, copies=2 * photos, length=LENGTH, pad_id=PAD)

    # The tokenizer's cut keeps the start and end tokens; the copies then push the last ids past the length.
    held = [START, *before, *[CLASS] * (2 * photos), *rest[: len(rest) - unused]]
    assert [token for token in tokens.with_identity if token != PAD] == held + ([END] if keeps_end else [])
    assert len(tokens.with_identity) == LENGTH
    assert tokens.fit.unused == rest[len(rest) - unused :]
    assert [index for index, masked in enumerate(tokens.class_mask) if masked] == list(
        range(at - 1, at - 1 + 2 * photos)
    )
    assert tokens.fit.tokens == count - 1 + 2 * photos - 1


def test_one_photo_keeps_the_end_token_where_the_plain_cut_at_77_would_lose_it() -> None:
    ids = prompt_ids(79)

    tokens = expand_class_word(ids, trigger_id=TRIGGER, copies=2, length=LENGTH, pad_id=PAD)

    # The pooled embedding is read at the end token: it must be the last id, not a word.
    assert tokens.with_identity[-1] == END and tokens.with_identity.count(END) == 1


@pytest.mark.parametrize(("photos", "last"), [(1, 75), (2, 74), (3, 72), (4, 70)])
def test_the_trigger_word_may_come_as_late_as_its_copies_still_fit(photos: int, last: int) -> None:
    assert last_trigger_index(length=LENGTH, copies=2 * photos) == last
    at_last = prompt_ids(90, trigger_at=last)

    tokens = expand_class_word(at_last, trigger_id=TRIGGER, copies=2 * photos, length=LENGTH, pad_id=PAD)

    assert tokens.with_identity[last - 1 : last - 1 + 2 * photos] == [CLASS] * 2 * photos
    with pytest.raises(RefusedError) as refused:
        expand_class_word(
            prompt_ids(90, trigger_at=last + 1), trigger_id=TRIGGER, copies=2 * photos, length=LENGTH, pad_id=PAD
        )
    assert refused.value.code == "INVALID_PROMPT"
    assert f"comes at token {last + 1}" in refused.value.message
    assert f"Shorten the text before '{TRIGGER_WORD}' by at least 1 tokens" in refused.value.message


def test_the_refusal_says_how_much_to_shorten() -> None:
    fit = fit_of(prompt_ids(120, trigger_at=90), at=90, trigger_id=TRIGGER, copies=4, length=LENGTH)

    assert fit.refusal is not None and "by at least 16 tokens" in fit.refusal


@pytest.mark.parametrize(
    "ids", [[START, CLASS, 12, END], [START, CLASS, TRIGGER, CLASS, TRIGGER, END], [START, TRIGGER, END]]
)
def test_a_prompt_without_one_trigger_after_a_word_is_refused(ids: list[int]) -> None:
    with pytest.raises(RefusedError) as refused:
        expand_class_word(ids, trigger_id=TRIGGER, copies=2, length=20, pad_id=PAD)
    assert refused.value.code == "INVALID_PARAMS"
    assert TRIGGER_WORD in str(refused.value)


def test_the_tokenizer_keeps_the_trigger_word_as_one_token_after_the_class_word() -> None:
    tokenizer = small_tokenizer()
    tokenizer.add_tokens([TRIGGER_WORD], special_tokens=True)
    trigger = tokenizer.convert_tokens_to_ids(TRIGGER_WORD)

    ids = tokenizer.encode("a photo of a woman img, smiling")
    tokens = expand_class_word(ids, trigger_id=trigger, copies=4, length=77, pad_id=tokenizer.pad_token_id)

    woman = tokenizer.convert_tokens_to_ids("woman</w>")
    assert ids[ids.index(trigger) - 1] == woman
    assert tokens.with_identity.count(woman) == 4
    assert trigger not in tokens.with_identity
    assert without_trigger(tokenizer, "a photo of a woman img, smiling") == "a photo of a woman , smiling"
