"""Recovery touches only dead work: commands and a second instance leave a live generation alone, and a
killed app's generation is refunded once on restart, with no file left. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from photomaker.cli.main import main
from photomaker.core.settings import Settings
from photomaker.engines.base import GenerationRequest, GenerationResult, ProgressFn
from photomaker.engines.preview.engine import PreviewEngine
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.startup.runtime import Runtime, start_runtime
from photomaker.store import CreditTransaction, Generation
from photomaker.ui import uploads
from tests.conftest import FIXTURES

pytestmark = pytest.mark.both_databases  # the store's own behaviour: on SQLite and PostgreSQL

ROOT = Path(__file__).parents[1]
WAIT_S = 60


class HeldEngine(PreviewEngine):
    """The preview engine, holding each generation until `release` is set: a slow remote server."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> GenerationResult:
        self.started.set()
        assert self.release.wait(WAIT_S), "the test never released the generation"
        return super().generate(request, progress)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, hf_token=None, generation_lease_s=0.6)


def _environment(settings: Settings) -> dict[str, str]:
    """The settings for a process of its own, with the preview engine named: what `auto` picks without a GPU,
    without importing torch to look for one."""
    return {
        **os.environ,
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url or "",
        "GENERATION_LEASE_S": str(settings.generation_lease_s),
        "PHOTOMAKER_ENGINE": "preview",
    }


def _command(settings: Settings, *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "photomaker", *arguments],
        env=_environment(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _rows(runtime: Runtime) -> list[Generation]:
    with runtime.database.reading() as session:
        return list(session.exec(select(Generation).order_by(Generation.id)).all())


def _ledger(runtime: Runtime, generation_id: int) -> list[tuple[str, int]]:
    with runtime.database.reading() as session:
        lines = session.exec(select(CreditTransaction).where(CreditTransaction.generation_id == generation_id))
        return sorted((line.kind, line.delta) for line in lines)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    started = start_runtime(settings)
    yield started
    started.close()


def test_commands_and_a_second_instance_leave_a_live_generation_alone(
    runtime: Runtime, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in _environment(settings).items():
        monkeypatch.setenv(name, value)
    engine = HeldEngine()
    runtime.service.engine = engine
    outcome: dict[str, object] = {}

    def generate() -> None:
        photo = PhotoUpload.from_path(FIXTURES / "astronaut.png")
        outcome["result"] = runtime.service.generate_avatar("local", [photo], {"prompt": "a headshot"})

    worker = threading.Thread(target=generate)
    worker.start()
    try:
        assert engine.started.wait(WAIT_S)
        (live,) = _rows(runtime)
        for command in (["stats"], ["account"], ["credits", "history", "local"]):
            assert main(command) == 0  # in this process: reading commands never tidy, whoever runs them
        _command(settings, "cleanup")  # another process, that tidies
        second = start_runtime(settings)  # another app instance on the same database starts, and tidies
        second.housekeeping.tidy()
        second.close()
        time.sleep(3 * settings.generation_lease_s)  # several lease lengths: only renewals keep it alive
        assert [(row.id, row.status) for row in _rows(runtime)] == [(live.id, "processing")]
    finally:
        engine.release.set()
        worker.join(WAIT_S)
    (done,) = _rows(runtime)
    assert done.status == "completed", outcome
    assert _ledger(runtime, done.id) == [("charge", -done.credits_charged)], "charged once, never refunded"


def test_a_killed_app_is_refunded_once_on_restart_and_leaves_no_file(settings: Settings) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.dies_while_saving", str(settings.data_dir), settings.database_url or ""],
        env=_environment(settings),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        said = dict(child.stdout.readline().split(" ", 1) for _ in range(2))
        generation_id, upload = int(said["saving"]), Path(said["upload"].strip())
        folder = next(settings.avatars_dir.glob(f"u*/g{generation_id}"))
        assert {path.name for path in folder.iterdir()} == {"avatar-1.png", "avatar-1.thumb.webp", ".avatar-2.png.tmp"}
        assert upload.exists()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(WAIT_S)

    restarted = start_runtime(settings)
    try:
        (row,) = _rows(restarted)
        assert (row.id, row.status, row.error_code) == (generation_id, "failed", "INTERRUPTED")
        assert _ledger(restarted, generation_id) == [("charge", -row.credits_charged), ("refund", row.credits_charged)]
        assert restarted.accounts.account("local").credits == settings.starting_credits
        assert not folder.exists(), "the half-saved avatars are gone"
        assert uploads.sweep(older_than_s=3600) >= 1 and not upload.parent.exists(), "and the upload it was reading"
        restarted.housekeeping.tidy()
        assert _ledger(restarted, generation_id)[-1] == ("refund", row.credits_charged), "refunded once"
        assert len(_ledger(restarted, generation_id)) == 2
    finally:
        restarted.close()


def test_the_tidy_deletes_orphan_files_and_keeps_the_avatars_of_completed_rows(runtime: Runtime) -> None:
    photo = PhotoUpload.from_path(FIXTURES / "astronaut.png")
    outcome = runtime.service.generate_avatar("local", [photo], {"prompt": "a headshot", "tier": "basic"})
    (kept,) = outcome.images
    stray = kept.parent / ".avatar-9.png.tmp"
    stray.write_bytes(b"x")
    nobodys = runtime.service.storage.root / "u1" / "g999"
    nobodys.mkdir(parents=True)
    (nobodys / "avatar-1.png").write_bytes(b"x")
    tidied = runtime.housekeeping.tidy()
    assert (tidied.recovered, tidied.orphan_files) == (0, 2)
    assert kept.exists() and kept.with_name("avatar-1.thumb.webp").exists()
    assert not stray.exists() and not nobodys.exists()
