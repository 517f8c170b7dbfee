"""Shared fixtures: a fresh database and data folder per test, no token, no internet."""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before gradio or huggingface_hub are imported anywhere: uploads into a private folder, no token,
# no analytics calls, and huggingface_hub online (its offline mode refuses even the loopback fakes).
_UPLOADS = Path(tempfile.mkdtemp(prefix="photomaker-test-uploads-"))
os.environ["GRADIO_TEMP_DIR"] = str(_UPLOADS)
os.environ["HF_TOKEN"] = ""
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
for _name in (
    "DATABASE_URL",
    "PHOTOMAKER_ENGINE",
    "PHOTOMAKER_SPACE",
    "PHOTOMAKER_ENDPOINT_URL",
    "TEXT_TO_IMAGE_MODEL",
    "TEXT_TO_IMAGE_ENDPOINT_URL",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
):
    os.environ.pop(_name, None)

from huggingface_hub import constants as hf_constants  # noqa: E402

hf_constants.HF_HUB_OFFLINE = False  # in case a plugin imported huggingface_hub before this file ran

from photomaker.runtime import Runtime, start_runtime  # noqa: E402
from photomaker.settings import Settings  # noqa: E402
from photomaker.store import Database  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
POSTGRES_URL = os.environ.get("PHOTOMAKER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def face_photo() -> Path:
    """A clear frontal face (public domain, NASA)."""
    return FIXTURES / "astronaut.png"


@pytest.fixture
def upload_dir() -> Path:
    return _UPLOADS


def _postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, and a private schema on the local PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    if not _postgres_answers():
        pytest.skip("no PostgreSQL server answers on 127.0.0.1:5432; this test ran on SQLite only")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = POSTGRES_URL.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database.connect(database_url)
    db.create_all()
    yield db
    db.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Local defaults in a private data folder, with a rate limit tests don't trip by accident."""
    return Settings(data_dir=tmp_path / "data", user_rate_limit_per_min=100, hf_token=None)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    started = start_runtime(settings)
    yield started
    started.database.dispose()
