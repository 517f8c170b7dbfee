"""The retry policy shared by the remote engines, built on tenacity.

Remote inference fails in ways that pass: a model still loading (503 with `estimated_time`),
rate limits (429 with `Retry-After`), timeouts and dropped connections. We wait as long as the
server asks, or back off exponentially with jitter when it does not say, and give up when the
attempts or the total wait would exceed the bounds in the settings. Errors that another attempt
cannot fix (400/401/403/422, answers that are not images) fail at once. Every attempt is counted,
so the `Generation` row shows how hard we tried, and the progress bar says what is happening.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential_jitter

from photomaker.core.errors import BackendError, ErrorCode
from photomaker.core.settings import Settings
from photomaker.engines import transport
from photomaker.engines.base import ProgressFn

T = TypeVar("T")

DEFAULT_RETRY_AFTER_S = 60.0
"""How long to wait after a 429 that did not say."""

WAITING_REASONS: dict[ErrorCode, str] = {
    "MODEL_LOADING": "The model is loading",
    "RATE_LIMIT_EXCEEDED": "The image service is busy",
    "GENERATION_TIMEOUT": "The image service did not answer in time",
    "BACKEND_UNAVAILABLE": "The image service is unavailable",
}


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on retrying one generation; `sleep` is injectable so tests never really wait."""

    max_attempts: int = 4
    max_total_wait_s: float = 180.0
    backoff_s: float = 2.0
    backoff_max_s: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, sleep: Callable[[float], None] = time.sleep) -> RetryPolicy:
        return cls(
            max_attempts=settings.retry_max_attempts,
            max_total_wait_s=settings.retry_max_wait_s,
            backoff_s=settings.retry_backoff_s,
            backoff_max_s=settings.retry_backoff_max_s,
            sleep=sleep,
        )

    def wait_after(self, error: BackendError, retry_state: RetryCallState) -> float:
        """What the server asked for; else 60 s for a rate limit; else exponential backoff with jitter."""
        if error.retry_after is not None:
            return error.retry_after
        if error.code == "RATE_LIMIT_EXCEEDED":
            return DEFAULT_RETRY_AFTER_S
        backoff = wait_exponential_jitter(multiplier=self.backoff_s, max=self.backoff_max_s, jitter=self.backoff_s)
        return backoff(retry_state)


def _retryable(error: BaseException) -> bool:
    return isinstance(error, BackendError) and error.retryable


class Retrier:
    """Runs the backend calls of one generation under a policy, across all its calls.

    `attempts` is 1 plus every retry made (so a generation of several images, each its own
    call, still counts 1 when nothing failed); the attempt and wait bounds are shared by all
    calls of the generation.
    """

    def __init__(self, policy: RetryPolicy, *, backend: str, progress: ProgressFn, secret: str | None = None) -> None:
        self.policy = policy
        self.backend = backend
        self.progress = progress
        self.secret = secret
        self.retries = 0
        self.waited = 0.0
        self.fraction = 0.0

    @property
    def attempts(self) -> int:
        return 1 + self.retries

    def call(self, operation: Callable[[], T], *, fraction: float = 0.0) -> T:
        """`operation()`, retried as the policy allows; raises our BackendError with `attempts` set."""
        self.fraction = fraction
        retrying = Retrying(
            retry=retry_if_exception(_retryable),
            wait=self._wait,
            stop=self._stop,
            sleep=self.policy.sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._attempt, operation)
        except BackendError as error:
            error.attempts = self.attempts
            raise

    def _attempt(self, operation: Callable[[], T]) -> T:
        with transport.translated(backend=self.backend, secret=self.secret):
            return operation()

    @staticmethod
    def _error(retry_state: RetryCallState) -> BackendError:
        """The error of the attempt that just failed: only our retryable errors get this far."""
        return cast(BackendError, retry_state.outcome.exception() if retry_state.outcome else None)

    def _wait(self, retry_state: RetryCallState) -> float:
        return self.policy.wait_after(self._error(retry_state), retry_state)

    def _stop(self, retry_state: RetryCallState) -> bool:
        out_of_attempts = self.attempts >= self.policy.max_attempts
        return out_of_attempts or self.waited + retry_state.upcoming_sleep > self.policy.max_total_wait_s

    def _before_sleep(self, retry_state: RetryCallState) -> None:
        wait = retry_state.upcoming_sleep
        self.retries += 1
        self.waited += wait
        reason = WAITING_REASONS.get(self._error(retry_state).code, "The image service failed")
        self.progress(
            self.fraction,
            f"{reason}, retrying in {wait:.0f} s (attempt {self.attempts} of {self.policy.max_attempts})",
        )
