"""A real app served on 127.0.0.1 for API tests, with its own data folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from photomaker.settings import Settings
from tests.serving import ServedApp, serve


@pytest.fixture(scope="module")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("app") / "data", user_rate_limit_per_min=100, hf_token=None)
    with serve(settings) as app:
        yield app
