"""The page with the local engine: what its note says while the model loads, once it is ready, when loading failed,
and the note's timer, which runs only while the model loads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from photomaker.core.settings import Settings
from photomaker.engines.entries import INSIGHTFACE_LICENCE
from photomaker.engines.local.engine import LocalEngine
from photomaker.engines.local.loader import LocalModel
from photomaker.engines.local.pipeline import PhotoMakerPipeline
from photomaker.startup.runtime import Runtime, start_runtime
from photomaker.ui import build_app, engine_note
from photomaker.ui.my_data import privacy_markdown
from tests.local.conftest import BlockedLoad
from tests.ui.page_events import PageEvents


@pytest.fixture
def blocked(tiny_pipeline: PhotoMakerPipeline) -> Iterator[BlockedLoad]:
    load = BlockedLoad(tiny_pipeline)
    yield load
    load.release.set()


@pytest.fixture
def with_engine(runtime: Runtime) -> Callable[[LocalEngine], Runtime]:
    """The test's runtime with its photo engine replaced by a local one."""

    def replace(engine: LocalEngine) -> Runtime:
        runtime.service.engine = engine
        return runtime

    return replace


def note_tick(runtime: Runtime) -> tuple[str, bool]:
    """What the note's timer shows when it ticks: the note, and whether the timer keeps running."""
    (tick,) = [block for block in build_app(runtime).fns.values() if block.api_name == "ui_engine_note"]
    assert tick.api_visibility == "private" and tick.targets[0][1] == "tick"
    note, timer = tick.outputs
    out = tick.fn()
    return out[note], out[timer].active


def test_while_loading_the_note_says_what_how_many_gb_and_when_to_come_back(
    with_engine: Callable[[LocalEngine], Runtime], blocked: BlockedLoad
) -> None:
    engine = LocalEngine(LocalModel(blocked))
    assert blocked.reported.wait(10)
    runtime = with_engine(engine)
    note, ticking = note_tick(runtime)
    assert "⏳ **Engine: local.** Avatars are made by PhotoMaker V2 on this machine's GPU." in note
    assert "**Downloading the base model RealVisXL: 2.0 of 7.0 GB.** Avatars can be made once it is loaded." in note
    # 5 GB left at 0.02 GB/s is 250 s, and about 17 s to load 7 GB: 267 s, in whole minutes.
    assert "Try again in about 5 min." in note
    assert ticking, "the note is refreshed while the model loads"
    blocked.release.set()
    assert engine.model.wait(30).state == "ready"
    note, ticking = note_tick(runtime)
    assert note.startswith("🟢 **Engine: local.**") and "Downloading" not in note and "Try again" not in note
    assert not ticking, "the timer stops once the model is ready"


def test_the_page_opened_while_loading_starts_the_timer(
    with_engine: Callable[[LocalEngine], Runtime], blocked: BlockedLoad
) -> None:
    runtime = with_engine(LocalEngine(LocalModel(blocked)))
    assert blocked.reported.wait(10)
    out = PageEvents(build_app(runtime))("ui_load", mode="Photo to Avatar", tier="pro", model=None, num_images=1)
    assert "Downloading the base model RealVisXL" in out["note"] and out["note_timer"].active


def test_a_ready_engine_shows_where_it_runs_and_the_insightface_licence(
    with_engine: Callable[[LocalEngine], Runtime], tiny_pipeline: PhotoMakerPipeline
) -> None:
    engine = LocalEngine(LocalModel(lambda report: tiny_pipeline))
    assert engine.model.wait(10).state == "ready"
    note = engine_note(with_engine(engine))
    assert note.startswith("🟢 **Engine: local.** Avatars are made by PhotoMaker V2 on this machine's GPU.")
    assert INSIGHTFACE_LICENCE in note
    assert "[InsightFace](https://github.com/deepinsight/insightface)" in note and "non-commercial research" in note


def test_a_failed_load_says_why_once(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        photomaker_engine="local",
        local_model_dir=tmp_path / "empty",
        local_allow_cpu=True,
        hf_token=None,
    )
    runtime = start_runtime(settings)
    try:
        assert runtime.service.engine.model.wait(10).state == "failed"  # type: ignore[attr-defined]
        assert all(check.wait(10) for check in runtime.health)
        note = engine_note(runtime)
    finally:
        runtime.close()
    assert note.startswith("🔴 **Engine: local.**")
    assert "⚠️ **PhotoMaker V2 could not be loaded: LOCAL_MODEL_DIR lacks" in note
    assert "No avatars can be made until this is fixed" in note
    assert "could not be reached at start-up" not in note, "the failure is said once, as a failed load"


def test_the_privacy_note_says_photos_stay_on_this_server(
    with_engine: Callable[[LocalEngine], Runtime], blocked: BlockedLoad
) -> None:
    runtime = with_engine(LocalEngine(LocalModel(blocked)))

    assert "**Your photos** are sent to nowhere: PhotoMaker V2 runs on this server itself." in privacy_markdown(runtime)


def test_the_preview_engine_claims_no_insightface_models(runtime: Runtime) -> None:
    note = engine_note(runtime)
    assert "Preview engine (offline)" in note and "InsightFace" not in note
    assert note_tick(runtime) == (note, False), "no model to wait for: the timer stays off"


def prompt_tokens(runtime: Runtime, prompt: str, **values: object) -> str:
    """What the counter under the prompt says for `prompt` (the default style and subject, one photo)."""
    events = PageEvents(build_app(runtime))
    return str(events("ui_prompt_tokens", prompt=prompt, **{"mode": "Photo to Avatar", **values})["prompt_tokens"])


def test_the_prompt_is_counted_with_the_models_tokenizer_once_it_is_loaded_and_estimated_before(
    with_engine: Callable[[LocalEngine], Runtime], blocked: BlockedLoad
) -> None:
    engine = LocalEngine(LocalModel(blocked))
    assert blocked.reported.wait(10)
    runtime = with_engine(engine)
    long = "a woman " + "x " * 80

    estimated = prompt_tokens(runtime, long, styles=["(No style)"])
    blocked.release.set()
    assert engine.model.wait(30).state == "ready"
    counted = prompt_tokens(runtime, long, styles=["(No style)"])
    with_style = prompt_tokens(runtime, "a woman, a headshot")

    assert estimated.startswith("⚠️ about 85 of 77 tokens (estimated") and estimated.endswith(": x x x x x x x x")
    assert counted == ("⚠️ 85 of 77 tokens: the prompt is over 77 tokens; these words will not be used: x x x x x x x x")
    # The style's words count too (the tiny test tokenizer spells most of them letter by letter).
    assert with_style == "70 of 77 tokens"
    assert prompt_tokens(runtime, "x " * 80 + "a woman").startswith("⛔ The prompt is too long for PhotoMaker")
    assert prompt_tokens(runtime, "a woman", mode="Text to Image") == ""
    # The tokenizers split `img` out of a word: a second trigger word, refused as Generate would refuse it.
    assert prompt_tokens(runtime, "a woman, pimgs").startswith("⚠️ The prompt must contain the trigger word 'img' once")


def test_the_preview_engine_counts_no_tokens(runtime: Runtime) -> None:
    assert prompt_tokens(runtime, "a woman, a headshot") == ""
