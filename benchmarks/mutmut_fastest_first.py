"""A pytest plugin for mutation runs: a mutant's tests run fastest first.

mutmut hands pytest the tests that cover a mutated function in no particular order and stops at the first
failure, so ordering them by the durations mutmut measured makes the common case (a fast unit test kills the
mutant) cost milliseconds instead of a slow end-to-end test's seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

STATS = Path("mutmut-stats.json")
"""Written by mutmut in the folder it runs the tests from."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not STATS.exists():
        return
    durations = json.loads(STATS.read_text())["duration_by_test"]
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
