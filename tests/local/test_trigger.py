"""The trigger word: the class word repeated once per identity token, and the text-only prompt."""

from __future__ import annotations

import pytest

from photomaker.engines.local.random_weights import small_tokenizer
from photomaker.engines.local.trigger import TRIGGER_WORD, expand_class_word
from photomaker.errors import RefusedError

START, END, CLASS, TRIGGER, PAD = 0, 1, 50, 99, 1


@pytest.mark.parametrize("photos", [1, 2, 3, 4])
def test_the_class_word_is_repeated_twice_per_photo_and_masked(photos: int) -> None:
    ids = [START, 10, 11, CLASS, TRIGGER, 12, END]

    tokens = expand_class_word(ids, trigger_id=TRIGGER, copies=2 * photos, length=20, pad_id=PAD)

    assert tokens.with_identity[: 3 + 2 * photos + 2] == [START, 10, 11, *[CLASS] * (2 * photos), 12, END]
    assert len(tokens.with_identity) == len(tokens.class_mask) == 20
    assert [index for index, masked in enumerate(tokens.class_mask) if masked] == list(range(3, 3 + 2 * photos))
    assert tokens.text_only == [START, 10, 11, CLASS, 12, END] + [PAD] * 14


def test_a_prompt_cut_at_the_tokenizers_length_keeps_the_copies_that_fit() -> None:
    ids = [START, *range(10, 24), CLASS, TRIGGER, END]

    tokens = expand_class_word(ids, trigger_id=TRIGGER, copies=8, length=20, pad_id=PAD)

    assert len(tokens.with_identity) == 20
    assert tokens.with_identity[15:] == [CLASS] * 5
    assert sum(tokens.class_mask) == 5


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
    assert trigger not in tokens.with_identity and trigger not in tokens.text_only
