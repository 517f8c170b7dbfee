"""Avatars made end to end by the local engine (`PHOTOMAKER_ENGINE=local`, tiny random weights on the CPU) through
every surface: the page's API as a program calls it, the REST API and the CLI; and the refusal while the model
loads, which charges nothing, is recorded, and is a `503` with `Retry-After` on the REST API.

Real tiers are 512-1536 px and 30-50 steps: far too slow for a CPU, so the photo models are made 64 px and 2 steps
in the database once the app has seeded it.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import handle_file
from PIL import Image
from sqlmodel import col, select

from photomaker.cli import main as cli
from photomaker.core.errors import RefusedError
from photomaker.core.settings import Settings
from photomaker.engines.local.engine import LocalEngine
from photomaker.engines.local.loader import LocalModel
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.rest.problems import PROBLEM_JSON
from photomaker.rest.schemas import PREFIX
from photomaker.startup import runtime as runtime_module
from photomaker.startup.records import Records
from photomaker.startup.runtime import Runtime, start_engines
from photomaker.store import AIModel, CreditTransaction, Database, Generation
from stand_ins.serving import ServedApp, serve
from tests.local.conftest import BlockedLoad

FIXTURES = Path(__file__).parents[1] / "fixtures"
FACE = FIXTURES / "astronaut.png"
"""A real face: dlib finds it, and it is bright enough for the tiny detector to find one too."""
SIDE, STEPS = 64, 2
PROMPT = "a professional headshot of a woman"


def shrink_photo_models(database: Database) -> int:
    """Every photo tier made `SIDE` px and `STEPS` steps; returns the basic tier's price of one image."""
    with database.session() as session:
        for model in session.exec(select(AIModel).where(AIModel.mode == "photo")).all():
            model.width = model.height = SIDE
            model.steps = STEPS
            session.add(model)
    with database.reading() as session:
        return session.exec(select(AIModel.credit_cost).where(AIModel.tier == "basic")).one()


def local_settings(data_dir: Path, model_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        photomaker_engine="local",
        local_model_dir=model_dir,
        local_allow_cpu=True,
        user_rate_limit_per_min=100,
        hf_token=None,
    )


def assert_made_locally(database: Database, generation_id: int, images: list[Image.Image], *, price: int) -> None:
    """The avatars at the tiers' size, the row made by the local engine, and exactly one charge of `price`."""
    assert images and [image.size for image in images] == [(SIDE, SIDE)] * len(images)
    with database.reading() as session:
        generation = session.get(Generation, generation_id)
        assert generation is not None
        assert (generation.engine, generation.status, generation.preview) == ("local", "completed", False)
        assert generation.params["steps"] == STEPS and generation.params["photos_used"] == 1
        moves = session.exec(select(CreditTransaction).where(CreditTransaction.generation_id == generation_id)).all()
    assert [(move.kind, move.delta) for move in moves] == [("charge", -price)], "charged once, never refunded"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Iterator[tuple[ServedApp, int]]:
    """The app served with the local engine, its model loaded; and the price of one basic avatar."""
    with serve(local_settings(tmp_path_factory.mktemp("local-app") / "data", tiny_model_dir)) as app:
        assert app.runtime.service.engine.model.wait(120).state == "ready"  # type: ignore[attr-defined]
        yield app, shrink_photo_models(app.runtime.database)


@pytest.fixture
def api(served: tuple[ServedApp, int]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0].url.rstrip("/") + PREFIX, timeout=60) as client:
        yield client


def test_the_page_api_makes_avatars_locally(served: tuple[ServedApp, int]) -> None:
    app, price = served
    client = app.client()
    before = client.predict(api_name="/account")["credits"]
    files, details = client.predict(
        photos=[handle_file(FACE)], prompt=PROMPT, tier="basic", api_name="/generate_avatar"
    )
    assert (details["engine"], details["preview"], details["credits_charged"]) == ("local", False, price)
    assert client.predict(api_name="/account")["credits"] == before - price
    assert_made_locally(
        app.runtime.database, details["generation_id"], [Image.open(path) for path in files], price=price
    )


def test_the_rest_api_makes_avatars_locally(served: tuple[ServedApp, int], api: httpx.Client) -> None:
    app, price = served
    before = api.get("/me").raise_for_status().json()["credits"]
    project = api.post("/projects", json={"name": "Local"}).raise_for_status().json()
    answer = api.post(
        f"/projects/{project['id']}/avatars/generate-from-photos",
        files=[("photos", (FACE.name, FACE.read_bytes(), "image/png"))],
        data={"prompt": PROMPT, "tier": "basic"},
        params={"wait": 60},
    )
    assert answer.status_code == 200, answer.text
    made = answer.json()
    assert made["status"] == "completed" and made["details"]["engine"] == "local"
    assert api.get("/me").json()["credits"] == before - price
    images = [Image.open(io.BytesIO(api.get(avatar["url"].removeprefix(PREFIX)).content)) for avatar in made["avatars"]]
    assert_made_locally(app.runtime.database, made["id"], images, price=price)


def test_the_cli_makes_avatars_locally(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = local_settings(tmp_path / "data", tiny_model_dir)
    environment = {
        "DATA_DIR": settings.data_dir,
        "PHOTOMAKER_ENGINE": "local",
        "LOCAL_MODEL_DIR": tiny_model_dir,
        "LOCAL_ALLOW_CPU": "1",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, str(value))
    prices: list[int] = []

    def shrunk(records: Records) -> Runtime:
        """The CLI's runtime, with the photo models made small after it seeded them, and its engine still
        downloading for a moment when the command starts."""
        runtime = start_engines(records)
        prices.append(shrink_photo_models(runtime.database))
        loaded = runtime.service.engine.model  # type: ignore[attr-defined]
        loaded.wait()
        blocked = BlockedLoad(loaded.pipeline())
        runtime.service.engine = LocalEngine(LocalModel(blocked))
        assert blocked.reported.wait(10)
        threading.Timer(0.5, blocked.release.set).start()
        return runtime

    monkeypatch.setattr(runtime_module, "start_engines", shrunk)  # `generate` builds the engines on the records
    out = tmp_path / "out"
    assert cli.main(["generate", "--photo", str(FACE), "--prompt", PROMPT, "--tier", "basic", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "Downloading the base model RealVisXL: 2.0 of 7.0 GB." in err and "Waiting." in err
    details = json.loads(err[err.index("{") :])
    assert (details["engine"], details["credits_charged"]) == ("local", prices[0])
    database = Database.connect(settings.resolved_database_url)
    try:
        assert_made_locally(
            database,
            details["generation_id"],
            [Image.open(path) for path in sorted(out.glob("*.png"))],
            price=prices[0],
        )
    finally:
        database.dispose()
    assert FACE.exists(), "the user's own photo is never deleted"


@pytest.fixture
def loading(served: tuple[ServedApp, int], monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """The served app's runtime with an engine whose model is still loading."""
    app, _ = served
    ready = app.runtime.service.engine
    blocked = BlockedLoad(ready.model.pipeline())  # type: ignore[attr-defined]
    monkeypatch.setattr(app.runtime.service, "engine", LocalEngine(LocalModel(blocked)))
    assert blocked.reported.wait(10)
    yield app.runtime
    blocked.release.set()


def rejected_rows(database: Database) -> list[tuple[str, str, int]]:
    with database.reading() as session:
        rows = session.exec(select(Generation).where(Generation.status == "rejected").order_by(col(Generation.id)))
        return [(row.engine, row.error_code or "", row.credits_charged) for row in rows]


def test_while_the_model_loads_generations_are_refused_free_and_recorded(loading: Runtime, api: httpx.Client) -> None:
    service, database = loading.service, loading.database
    before = loading.accounts.account("local").credits
    rejected = rejected_rows(database)
    with pytest.raises(RefusedError) as refused:
        service.generate_avatar("local", [PhotoUpload.from_path(FACE)], {"prompt": PROMPT, "tier": "basic"})
    assert refused.value.code == "MODEL_LOADING"
    assert "Downloading the base model RealVisXL: 2.0 of 7.0 GB." in refused.value.message
    assert "Try again in about" in refused.value.message
    assert rejected_rows(database) == [*rejected, ("local", "MODEL_LOADING", 0)]
    assert loading.accounts.account("local").credits == before

    project = api.post("/projects", json={"name": "While loading"}).raise_for_status().json()
    answer = api.post(
        f"/projects/{project['id']}/avatars/generate-from-photos",
        files=[("photos", (FACE.name, FACE.read_bytes(), "image/png"))],
        data={"prompt": PROMPT, "tier": "basic"},
    )
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    body = answer.json()
    assert body["code"] == "MODEL_LOADING" and "Downloading the base model" in body["detail"]
    assert int(answer.headers["Retry-After"]) == body["retry_after"] >= 1
    assert loading.accounts.account("local").credits == before, "the REST refusal charges nothing either"
    assert rejected_rows(database)[-1] == ("local", "MODEL_LOADING", 0)
