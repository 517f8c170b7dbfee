"""Concurrency groups: generations wait in one line per engine; light calls never wait behind them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from gradio_client import handle_file
from pydantic import SecretStr

from photomaker.core.settings import Settings
from photomaker.engines.base import GenerationRequest, GenerationResult, ProgressFn
from photomaker.startup.runtime import Runtime, start_runtime
from photomaker.ui import build_app, concurrency
from stand_ins.engine_inputs import FAKE_TOKEN
from stand_ins.inference_server import FakeInferenceServer
from stand_ins.serving import ServedApp, serve

PHOTO_GENERATIONS = {"generate_avatar", "generate_pack", "ui_generate"}
TEXT_GENERATIONS = {"generate_from_text", "ui_generate_text"}
LIGHT = {
    "cancel_generation",
    "ui_cancel",
    "ui_styles",
    "ui_preset",
    "account",
    "credit_history",
    "rate_generation",
    "export_my_data",
    "delete_my_data",
    "grant_credits",
    "metrics_summary",
    "ui_load",
    "ui_rate",
    "ui_cost",
    "ui_tier",
    "ui_mode",
}
AT_ONCE = 8


def _groups(demo: gr.Blocks) -> dict[str, tuple[str, Any]]:
    """Each named event's (concurrency_id, concurrency_limit)."""
    return {fn.api_name: (fn.concurrency_id, fn.concurrency_limit) for fn in demo.fns.values() if fn.api_name}


@pytest.fixture
def remote_runtime(tmp_path: Path) -> Iterator[Runtime]:
    with FakeInferenceServer() as server:
        started = start_runtime(
            Settings(
                data_dir=tmp_path / "data",
                hf_token=SecretStr(FAKE_TOKEN),
                photomaker_endpoint_url=server.url,
                text_to_image_endpoint_url=server.url,
            )
        )
        yield started
        started.close()


def test_the_preview_engines_generations_share_its_group_and_limit(runtime: Runtime) -> None:
    groups = _groups(build_app(runtime))
    assert {groups[name] for name in PHOTO_GENERATIONS} == {("generate:preview", runtime.settings.preview_concurrency)}
    assert {groups[name] for name in TEXT_GENERATIONS} == {(concurrency.TEXT_OFF, None)}, "refused at once"


def test_remote_engines_have_a_group_each(remote_runtime: Runtime) -> None:
    groups = _groups(build_app(remote_runtime))
    limit = remote_runtime.settings.remote_concurrency
    assert {groups[name] for name in PHOTO_GENERATIONS} == {("generate:endpoint", limit)}
    assert {groups[name] for name in TEXT_GENERATIONS} == {("generate:text-endpoint", limit)}
    assert concurrency.threads(remote_runtime) == concurrency.LIGHT_THREADS + 2 * limit


def test_light_calls_have_groups_of_their_own_without_a_limit_of_their_own(runtime: Runtime) -> None:
    groups = _groups(build_app(runtime))
    generations = PHOTO_GENERATIONS | TEXT_GENERATIONS
    generation_ids = {groups[name][0] for name in generations}
    light = {name: group for name, group in groups.items() if name not in {*generations, "ui_monitoring"}}
    assert set(light) >= LIGHT
    assert {limit for _, limit in light.values()} == {"default"}, "the queue's default: none, set at launch"
    ids = [group_id for group_id, _ in light.values()]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & generation_ids
    assert groups["ui_monitoring"] == ("monitoring", 1), "one refresh at a time, in order"
    assert concurrency.threads(runtime) == concurrency.LIGHT_THREADS + runtime.settings.preview_concurrency


def test_light_calls_run_side_by_side_while_generations_wait(
    tmp_path: Path, face_photo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`AT_ONCE` calls to /account must all be running at once to return, while one generation runs, held, and
    another waits for it."""
    settings = Settings(data_dir=tmp_path / "data", user_rate_limit_per_min=100, hf_token=None, preview_concurrency=1)
    with serve(settings) as app:
        engine, accounts = app.runtime.service.engine, app.runtime.accounts
        generating, release = threading.Event(), threading.Event()
        generate, account = engine.generate, accounts.account

        def held(request: GenerationRequest, progress: ProgressFn) -> GenerationResult:
            generating.set()
            assert release.wait(60)
            return generate(request, progress)

        together = threading.Barrier(AT_ONCE, timeout=15)

        def side_by_side(username: str) -> Any:
            together.wait()
            return account(username)

        monkeypatch.setattr(engine, "generate", held)
        monkeypatch.setattr(accounts, "account", side_by_side)
        client = app.client()
        arguments = {"photos": [handle_file(str(face_photo))], "prompt": "a headshot", "tier": "basic"}
        generations = [client.submit(**arguments, api_name="/generate_avatar") for _ in range(2)]
        assert generating.wait(60)
        calls = [client.submit(api_name="/account") for _ in range(AT_ONCE)]
        assert [call.result(timeout=60)["username"] for call in calls] == [settings.local_username] * AT_ONCE
        assert not any(generation.done() for generation in generations), "both generations were still waiting"
        release.set()
        assert [generation.result(timeout=120)[1]["status"] for generation in generations] == ["completed"] * 2


def test_two_identical_uploads_at_once_both_complete(served_app: ServedApp, face_photo: Path) -> None:
    client = served_app.client()
    arguments = {"photos": [handle_file(str(face_photo))], "prompt": "a headshot", "tier": "basic"}
    jobs = [client.submit(**arguments, api_name="/generate_avatar") for _ in range(2)]
    details = [job.result(timeout=120)[1] for job in jobs]
    assert [item["status"] for item in details] == ["completed"] * 2
    assert details[0]["generation_id"] != details[1]["generation_id"]
    assert all(score is not None for item in details for score in item["likeness"])
