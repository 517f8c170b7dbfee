"""Every error code has its HTTP status, and a problem document says when to come back where that is known."""

from __future__ import annotations

from typing import get_args

import pytest

from photomaker.core.errors import BackendError, ErrorCode, PhotoMakerError, RefusedError
from photomaker.rest.problems import PROBLEM_JSON, STATUS, TITLES, problem, problem_response


def test_every_code_has_a_status_and_a_title() -> None:
    assert set(STATUS) == set(get_args(ErrorCode))
    assert all(status in TITLES for status in STATUS.values())
    assert STATUS["NOT_FOUND"] == 404 and 403 not in [STATUS[code] for code in ("NOT_FOUND", "NOT_OFFERED")]


@pytest.mark.parametrize(
    ("error", "status", "retry_after"),
    [
        (RefusedError("USER_RATE_LIMITED", "slow down", retry_after=12.4), 429, "12"),
        (BackendError("MODEL_LOADING"), 503, "60"),
        (BackendError("MODEL_LOADING", retry_after=0.2), 503, "1"),
        (RefusedError("NO_FACE"), 400, None),
        (PhotoMakerError("SIGN_IN_REQUIRED"), 401, None),
    ],
)
def test_a_problem_says_when_to_come_back(error: PhotoMakerError, status: int, retry_after: str | None) -> None:
    document = problem(error, instance="/api/v1/x")
    assert (document.status, document.code, document.detail) == (status, error.code, error.message)
    response = problem_response(error, instance="/api/v1/x")
    assert response.status_code == status and response.media_type == PROBLEM_JSON
    assert response.headers.get("retry-after") == retry_after
    assert ("www-authenticate" in response.headers) == (status == 401)
