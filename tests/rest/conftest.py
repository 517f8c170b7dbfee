"""The REST API served for real on 127.0.0.1, with a fake PhotoMaker endpoint behind it that tests script."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from photomaker.core.settings import Settings
from photomaker.rest.schemas import PREFIX
from stand_ins.inference_server import FakeInferenceServer
from stand_ins.serving import ServedApp, serve
from tests.databases import fresh_database_url

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture(scope="module")
def engine_server() -> Iterator[FakeInferenceServer]:
    """The PhotoMaker and Text to Image endpoint: an image per request unless a test scripts otherwise."""
    with FakeInferenceServer() as server:
        yield server


@pytest.fixture(scope="module")
def photo_engine(engine_server: FakeInferenceServer) -> dict[str, Any]:
    """The settings of the engine that makes avatars: the scripted endpoint, unless a module overrides this."""
    return {"photomaker_engine": "endpoint", "photomaker_endpoint_url": engine_server.url}


@pytest.fixture(scope="module")
def served(
    database_kind: str,
    engine_server: FakeInferenceServer,
    photo_engine: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServedApp]:
    """The app off a Space (everyone is the local user), on SQLite, and on PostgreSQL for `both_databases` tests."""
    folder = tmp_path_factory.mktemp(f"rest-{database_kind}")
    with fresh_database_url(database_kind, folder) as url:
        settings = Settings(
            data_dir=folder / "data",
            database_url=url,
            hf_token=None,
            **photo_engine,
            text_to_image_endpoint_url=engine_server.url,
            retry_max_attempts=1,
            user_rate_limit_per_min=1000,
            starting_credits=1000,
        )
        with serve(settings) as app:
            yield app


@pytest.fixture
def api(served: ServedApp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url.rstrip("/") + PREFIX, timeout=60) as client:
        yield client


def photo_parts(*names: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    """Photos as a multipart upload sends them, as `curl -F photos=@astronaut.png` would."""
    return [("photos", (name, (FIXTURES / name).read_bytes(), "image/png")) for name in names]
