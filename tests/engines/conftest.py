"""Fixtures for the remote engines: the fake servers, and a retry policy that never really sleeps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from photomaker.engines.retry import RetryPolicy
from stand_ins.inference_server import FakeInferenceServer
from tests.fakes.space_app import FakeSpace


@pytest.fixture
def fake_server() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer() as server:
        yield server


@pytest.fixture(scope="module")
def fake_space() -> Iterator[FakeSpace]:
    space = FakeSpace().start()
    yield space
    space.close()


@pytest.fixture
def waits() -> list[float]:
    """Every wait the retry policy asked for, in order (nothing really sleeps)."""
    return []


@pytest.fixture
def policy(waits: list[float]) -> RetryPolicy:
    return RetryPolicy(max_attempts=4, max_total_wait_s=180, backoff_s=2, backoff_max_s=30, sleep=waits.append)
