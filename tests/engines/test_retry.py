"""The retry policy: how long it waits, when it gives up, and what it counts and says."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from photomaker.core.errors import BackendError
from photomaker.core.settings import Settings
from photomaker.engines.retry import DEFAULT_RETRY_AFTER_S, Retrier, RetryPolicy


def _script(*outcomes: BaseException | str) -> Callable[[], str]:
    """An operation that raises or returns each outcome in turn."""
    remaining = list(outcomes)

    def operation() -> str:
        outcome = remaining.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return operation


def loading(seconds: float) -> BackendError:
    return BackendError("MODEL_LOADING", retryable=True, retry_after=seconds)


def timeout() -> BackendError:
    return BackendError("GENERATION_TIMEOUT", retryable=True)


@pytest.fixture
def messages() -> list[str]:
    return []


@pytest.fixture
def retrier(policy: RetryPolicy, messages: list[str]) -> Retrier:
    return Retrier(policy, backend="test", progress=lambda fraction, message: messages.append(message))


def test_success_at_once(retrier: Retrier, waits: list[float]) -> None:
    assert retrier.call(_script("image")) == "image"
    assert (retrier.attempts, waits) == (1, [])


def test_model_loading_waits_as_long_as_the_server_says(
    retrier: Retrier, waits: list[float], messages: list[str]
) -> None:
    assert retrier.call(_script(loading(20), loading(20), "image")) == "image"
    assert (retrier.attempts, waits) == (3, [20, 20])
    assert messages == [
        "The model is loading, retrying in 20 s (attempt 2 of 4)",
        "The model is loading, retrying in 20 s (attempt 3 of 4)",
    ]


def test_rate_limit_waits_retry_after_or_a_minute(retrier: Retrier, waits: list[float]) -> None:
    told = BackendError("RATE_LIMIT_EXCEEDED", retryable=True, retry_after=7)
    untold = BackendError("RATE_LIMIT_EXCEEDED", retryable=True)
    assert retrier.call(_script(told, untold, "image")) == "image"
    assert waits == [7, DEFAULT_RETRY_AFTER_S] == [7, 60]


def test_timeouts_back_off_exponentially_with_jitter(retrier: Retrier, waits: list[float]) -> None:
    with pytest.raises(BackendError) as caught:
        retrier.call(_script(timeout(), timeout(), timeout(), timeout()))
    assert (caught.value.code, caught.value.attempts) == ("GENERATION_TIMEOUT", 4)
    assert len(waits) == 3
    for wait, base in zip(waits, (2, 4, 8), strict=True):
        assert base <= wait <= base + 2, waits


def test_backoff_is_capped() -> None:
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=8, max_total_wait_s=1000, backoff_s=2, backoff_max_s=5, sleep=waits.append)
    retrier = Retrier(policy, backend="test", progress=lambda f, m: None)
    retrier.call(_script(*[timeout()] * 7, "image"))
    assert max(waits) <= 5 and retrier.attempts == 8


@pytest.mark.parametrize("code", ["BAD_REQUEST", "AUTH_FAILED", "BAD_RESPONSE"])
def test_what_another_attempt_cannot_fix_fails_at_once(retrier: Retrier, waits: list[float], code: str) -> None:
    with pytest.raises(BackendError) as caught:
        retrier.call(_script(BackendError(code), "image"))
    assert (caught.value.code, caught.value.attempts, waits) == (code, 1, [])


def test_a_wait_beyond_the_budget_gives_up_instead(retrier: Retrier, waits: list[float]) -> None:
    with pytest.raises(BackendError) as caught:
        retrier.call(_script(loading(100), loading(100), "image"))
    assert (caught.value.code, caught.value.attempts, waits) == ("MODEL_LOADING", 2, [100])


def test_a_server_asking_for_too_long_fails_without_waiting(retrier: Retrier, waits: list[float]) -> None:
    with pytest.raises(BackendError) as caught:
        retrier.call(_script(loading(600), "image"))
    assert (caught.value.attempts, waits) == (1, [])


def test_attempts_and_waits_are_shared_by_the_calls_of_one_generation(retrier: Retrier, waits: list[float]) -> None:
    assert retrier.call(_script(loading(30), "first")) == "first"
    assert retrier.call(_script("second")) == "second"
    assert retrier.attempts == 2
    with pytest.raises(BackendError) as caught:
        retrier.call(_script(loading(30), loading(30), loading(30)))
    assert caught.value.attempts == 4, "the fourth attempt of the generation is the last"
    assert waits == [30, 30, 30]


def test_bugs_are_neither_translated_nor_retried(retrier: Retrier, waits: list[float]) -> None:
    with pytest.raises(ZeroDivisionError):
        retrier.call(_script(ZeroDivisionError("bug"), "image"))
    assert waits == []


def test_policy_from_settings() -> None:
    settings = Settings(retry_max_attempts=6, retry_max_wait_s=30, retry_backoff_s=1, retry_backoff_max_s=8)
    policy = RetryPolicy.from_settings(settings, sleep=print)
    assert (policy.max_attempts, policy.max_total_wait_s, policy.backoff_s, policy.backoff_max_s) == (6, 30, 1, 8)
    assert policy.sleep is print
    defaults = Settings()
    assert (defaults.retry_max_attempts, defaults.retry_max_wait_s) == (4, 180)
