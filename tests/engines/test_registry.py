"""Which engines the settings pick, how many generations may run at once, and the start-up check."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from photomaker.core.settings import Settings
from photomaker.engines.entries import ENGINE_CHOICES, ENGINES, ENTRIES
from photomaker.engines.inference import InferenceEngine
from photomaker.engines.preview.engine import PreviewEngine
from photomaker.engines.registry import (
    concurrency_limit,
    create_engine,
    create_text_engine,
    resolve_engine_name,
)
from photomaker.engines.space import SpaceEngine
from photomaker.startup.runtime import start_runtime
from photomaker.ui import engine_note
from stand_ins.engine_inputs import FAKE_TOKEN
from stand_ins.inference_server import FakeInferenceServer

URL = "http://127.0.0.1:9/"


@pytest.mark.parametrize(
    ("choice", "token", "url", "expected"),
    [
        ("auto", None, None, "preview"),
        ("auto", FAKE_TOKEN, None, "space"),
        ("auto", None, URL, "endpoint"),
        ("auto", FAKE_TOKEN, URL, "endpoint"),
        ("preview", FAKE_TOKEN, URL, "preview"),
        ("space", None, URL, "space"),
        ("endpoint", FAKE_TOKEN, URL, "endpoint"),
    ],
)
def test_engine_choice(choice: str, token: str | None, url: str | None, expected: str) -> None:
    settings = Settings(photomaker_engine=choice, hf_token=token and SecretStr(token), photomaker_endpoint_url=url)
    assert resolve_engine_name(settings) == expected
    engine = create_engine(settings)
    assert engine.name == expected
    assert isinstance(engine, {"preview": PreviewEngine, "space": SpaceEngine, "endpoint": InferenceEngine}[expected])


def test_the_environment_chooses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOTOMAKER_ENGINE", "space")
    monkeypatch.setenv("PHOTOMAKER_SPACE", "http://127.0.0.1:9/")
    engine = create_engine(Settings())
    assert isinstance(engine, SpaceEngine) and engine.space == "http://127.0.0.1:9/"


def test_the_endpoint_needs_its_url() -> None:
    with pytest.raises(ValueError, match="PHOTOMAKER_ENDPOINT_URL"):
        create_engine(Settings(photomaker_engine="endpoint"))


def test_text_engine_choice() -> None:
    assert create_text_engine(Settings()) is None
    providers = create_text_engine(Settings(hf_token=SecretStr(FAKE_TOKEN)))
    endpoint = create_text_engine(Settings(text_to_image_endpoint_url=URL))
    assert providers is not None and providers.name == "inference-providers"
    assert endpoint is not None and endpoint.name == "text-endpoint"


def test_remote_generations_run_many_at_once() -> None:
    settings = Settings(preview_concurrency=2)
    assert settings.remote_concurrency >= 16
    assert concurrency_limit(PreviewEngine(), settings) == 2
    remote = create_engine(Settings(hf_token=SecretStr(FAKE_TOKEN)))
    assert concurrency_limit(remote, settings) == settings.remote_concurrency


def test_every_engine_is_one_entry_whose_name_the_settings_accept() -> None:
    assert ENGINE_CHOICES == ("auto", *(entry.name for entry in ENTRIES)) == ("auto", *ENGINES)
    assert set(ENGINES) == {"local", "endpoint", "space", "preview"}
    assert [Settings(photomaker_engine=name).photomaker_engine for name in ENGINE_CHOICES] == list(ENGINE_CHOICES)
    assert all(entry.description and entry.photo_destination for entry in ENTRIES)


def test_an_unknown_engine_is_refused_naming_every_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOTOMAKER_ENGINE", "gpu")

    with pytest.raises(ValidationError) as refused:
        Settings()

    assert "PHOTOMAKER_ENGINE must be one of auto, local, endpoint, space, preview; got 'gpu'" in str(refused.value)


@pytest.mark.parametrize("name", ["endpoint", "space", "preview"])
def test_each_entry_builds_an_engine_of_its_own_name(name: str) -> None:
    settings = Settings(photomaker_endpoint_url=URL, photomaker_space="no-such/space")

    assert create_engine(settings, name=name).name == name


def test_engines_without_an_entry_run_as_remote_ones() -> None:
    settings = Settings(hf_token=SecretStr(FAKE_TOKEN), remote_concurrency=7)
    text = create_text_engine(settings)

    assert text is not None and text.name not in ENGINES
    assert concurrency_limit(text, settings) == 7
    assert ENGINES["local"].concurrency(settings) == 1


def test_creating_engines_touches_no_network() -> None:
    engine = create_engine(Settings(photomaker_engine="space", photomaker_space="no-such/space"))
    assert isinstance(engine, SpaceEngine) and engine._client is None


@pytest.mark.parametrize(
    ("health_status", "problem"),
    [(401, "it refused the token; check HF_TOKEN [AUTH_FAILED]"), (200, None)],
)
def test_start_up_check(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, health_status: int, problem: str | None
) -> None:
    with FakeInferenceServer() as server:
        server.health_status = health_status
        settings = Settings(
            data_dir=tmp_path,
            photomaker_endpoint_url=server.url,
            text_to_image_endpoint_url=server.url,
            hf_token=SecretStr(FAKE_TOKEN),
        )
        runtime = start_runtime(settings)
        assert [check.engine.name for check in runtime.health] == ["endpoint", "text-endpoint"]
        assert all(check.wait(10) for check in runtime.health)
    assert [check.problem for check in runtime.health] == [problem, problem]
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    note = engine_note(runtime)
    if problem:
        assert sorted(errors) == [
            f"engine {name} cannot be used: {problem}; the app runs, but its generations will fail until this is fixed"
            for name in ("endpoint", "text-endpoint")
        ], "one clear line per engine"
        assert "The endpoint engine could not be reached at start-up" in note and "AUTH_FAILED" in note
    else:
        assert errors == [] and "could not be reached" not in note
    assert FAKE_TOKEN not in caplog.text + note
    runtime.database.dispose()


def test_an_engine_that_is_not_there_still_lets_the_app_start(tmp_path: Path) -> None:
    with FakeInferenceServer() as server:
        url = server.url
    runtime = start_runtime(Settings(data_dir=tmp_path, photomaker_engine="space", photomaker_space=url))
    (check,) = runtime.health
    assert check.wait(10)
    assert check.problem is not None and "BACKEND_UNAVAILABLE" in check.problem
    assert runtime.accounts.account("local").credits == 250
    runtime.database.dispose()
