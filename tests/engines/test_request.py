"""The request an engine gets: what the service works out once, before any engine reads it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from photomaker.generation.catalogue import STYLE_STRENGTH_RATIO_RANGE
from stand_ins.engine_inputs import request_for

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.mark.parametrize(("strength", "ratio"), [(0, 15), (25, 24), (40, 29), (100, 50)])
def test_the_style_strength_ratio_is_worked_out_with_the_request(strength: int, ratio: int) -> None:
    request = request_for(FIXTURES / "astronaut.png", strength=strength)

    assert request.style_strength_ratio == ratio
    assert STYLE_STRENGTH_RATIO_RANGE[0] <= ratio <= STYLE_STRENGTH_RATIO_RANGE[1]


def test_a_changed_strength_changes_the_ratio_with_it() -> None:
    request = request_for(FIXTURES / "astronaut.png", strength=0)

    assert replace(request, style_strength=100).style_strength_ratio == 50
    with pytest.raises(ValueError, match="init=False"):
        replace(request, style_strength_ratio=50)  # derived: never given, so never out of step
