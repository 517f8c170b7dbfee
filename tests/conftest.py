"""Shared fixtures: a fresh database and data folder per test, no token, no internet."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before gradio or huggingface_hub are imported anywhere: uploads into a private folder, no token,
# no analytics calls, and huggingface_hub online (its offline mode refuses even the loopback fakes).
_UPLOADS = Path(tempfile.mkdtemp(prefix="photomaker-test-uploads-"))
atexit.register(shutil.rmtree, _UPLOADS, ignore_errors=True)
os.environ["GRADIO_TEMP_DIR"] = str(_UPLOADS)
os.environ["HF_TOKEN"] = ""
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
# Tests refuse on purpose, many times a minute; the refusal limit's own tests set theirs.
os.environ["REFUSALS_PER_MIN"] = os.environ["REFUSALS_PER_MIN_PER_ADDRESS"] = "100000"
for _name in (
    "DATABASE_URL",
    "PHOTOMAKER_ENGINE",
    "PHOTOMAKER_SPACE",
    "PHOTOMAKER_ENDPOINT_URL",
    "TEXT_TO_IMAGE_MODEL",
    "TEXT_TO_IMAGE_ENDPOINT_URL",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "LOCAL_BASE_MODEL",
    "LOCAL_MODEL_DIR",
    "LOCAL_OFFLOAD",
    "LOCAL_ALLOW_CPU",
    "SPACES_ZERO_GPU",
):
    os.environ.pop(_name, None)

from huggingface_hub import constants as hf_constants  # noqa: E402

hf_constants.HF_HUB_OFFLINE = False  # in case a plugin imported huggingface_hub before this file ran

from photomaker.core.settings import Settings  # noqa: E402
from photomaker.startup.runtime import Runtime, start_runtime  # noqa: E402
from photomaker.store import Database  # noqa: E402
from tests.databases import KINDS, fresh_database_url  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def face_photo() -> Path:
    """A clear frontal face (public domain, NASA)."""
    return FIXTURES / "astronaut.png"


@pytest.fixture
def upload_dir() -> Path:
    return _UPLOADS


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `both_databases` (what they assert depends on the store: transactions, the ledger, rollups,
    queries) run on SQLite and on PostgreSQL; the others, whose subject is not the store, on SQLite alone.

    Grouped per module, so a module's fixtures that serve an app on one database start once for it."""
    if "database_kind" in metafunc.fixturenames:
        kinds = KINDS if metafunc.definition.get_closest_marker("both_databases") else KINDS[:1]
        metafunc.parametrize("database_kind", kinds, indirect=True, scope="module")


@pytest.fixture(scope="module")
def database_kind(request: pytest.FixtureRequest) -> str:
    """`sqlite` or `postgres`, as `pytest_generate_tests` chose for the test."""
    return str(request.param)


@pytest.fixture
def database_url(database_kind: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a private schema on the local PostgreSQL."""
    with fresh_database_url(database_kind, tmp_path) as url:
        yield url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database.connect(database_url)
    db.migrate()
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
    started.close()


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """A whole app on SQLite, and for tests marked `both_databases` on PostgreSQL too (when it answers)."""
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, user_rate_limit_per_min=100, hf_token=None
    )
    started = start_runtime(settings)
    yield started
    started.close()
