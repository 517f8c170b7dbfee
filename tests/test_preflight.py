"""Settings that cannot work together refuse to start with one line that names them; good ones still start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from photomaker.cli.main import main as cli
from photomaker.core.settings import Settings
from photomaker.startup.preflight import SettingsError, check_port, check_temp_dir, load_settings
from photomaker.startup.records import open_records
from photomaker.startup.runtime import Runtime
from photomaker.store.db import CONNECT_TIMEOUT_S
from photomaker.ui import build_app, launch
from stand_ins.serving import free_port

ROOT = Path(__file__).parents[1]
APP_START_S = 120


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another program listens on, on 127.0.0.1."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def _environment(tmp_path: Path, **values: str) -> dict[str, str]:
    """The test's environment for `python app.py`: a private DATA_DIR, a free port, no DATABASE_URL."""
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    environment |= {"DATA_DIR": str(tmp_path / "data"), "GRADIO_SERVER_NAME": "127.0.0.1"}
    return environment | {"GRADIO_SERVER_PORT": str(free_port())} | values


def _refusal(environment: dict[str, str]) -> str:
    """The one line `python app.py` prints when it refuses to start (exit status 2, no traceback)."""
    done = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=APP_START_S
    )
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("PhotoMaker Studio cannot start: "), done.stderr
    return lines[0]


def test_a_temp_dir_inside_the_data_dir_is_refused_by_name(tmp_path: Path) -> None:
    line = _refusal(_environment(tmp_path, GRADIO_TEMP_DIR=str(tmp_path / "data" / "uploads")))
    assert "GRADIO_TEMP_DIR" in line and "DATA_DIR" in line and str(tmp_path / "data" / "uploads") in line
    assert not (tmp_path / "data" / "photomaker.db").exists(), "refused before the database is made"


@pytest.mark.parametrize(
    ("data", "uploads", "refused"),
    [
        ("data", "data", True),
        ("data", "data/a/b", True),
        ("data", "data/../data/x", True),
        ("data", "data-uploads", False),
        ("data/inner", "data", False),
    ],
)
def test_only_a_temp_dir_at_or_under_the_data_dir_is_refused(
    tmp_path: Path, data: str, uploads: str, refused: bool
) -> None:
    settings = Settings(data_dir=tmp_path / data, gradio_temp_dir=tmp_path / uploads)
    if refused:
        with pytest.raises(SettingsError, match=r"GRADIO_TEMP_DIR .* inside DATA_DIR"):
            check_temp_dir(settings)
    else:
        check_temp_dir(settings)


def test_gradios_default_temp_dir_counts_when_the_variable_is_unset() -> None:
    settings = Settings(data_dir=Path(tempfile.gettempdir()), gradio_temp_dir=None)
    assert settings.upload_dir == Path(tempfile.gettempdir()) / "gradio"
    with pytest.raises(SettingsError, match="GRADIO_TEMP_DIR"):
        check_temp_dir(settings)


def test_a_taken_port_is_refused_by_name(tmp_path: Path, taken_port: int) -> None:
    line = _refusal(_environment(tmp_path, GRADIO_SERVER_PORT=str(taken_port)))
    assert f"GRADIO_SERVER_PORT {taken_port}" in line and "127.0.0.1" in line and "taken" in line


def test_launch_refuses_a_taken_port_before_serving(runtime: Runtime, taken_port: int) -> None:
    with pytest.raises(SettingsError, match=rf"GRADIO_SERVER_PORT {taken_port} .* is taken"):
        launch(build_app(runtime), runtime, host="127.0.0.1", port=taken_port)
    check_port("127.0.0.1", free_port())


def _closed_postgres_url() -> tuple[str, int]:
    port = free_port()
    return f"postgresql+psycopg://postgres:secret@127.0.0.1:{port}/test", port


def test_a_database_that_does_not_answer_is_refused_by_name(tmp_path: Path) -> None:
    url, port = _closed_postgres_url()
    with pytest.raises(SettingsError) as caught:
        open_records(Settings(data_dir=tmp_path / "data", database_url=url))
    message = str(caught.value)
    assert "DATABASE_URL" in message and f"127.0.0.1:{port}" in message and "does not answer" in message
    assert "secret" not in message, "the password is never shown"


def test_a_database_that_never_speaks_is_given_up_on_after_the_connect_timeout(tmp_path: Path) -> None:
    with socket.socket() as silent:  # listens, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"postgresql+psycopg://postgres@127.0.0.1:{silent.getsockname()[1]}/test"
        started = time.monotonic()
        with pytest.raises(SettingsError, match="DATABASE_URL"):
            open_records(Settings(data_dir=tmp_path / "data", database_url=url))
    assert time.monotonic() - started < CONNECT_TIMEOUT_S * 6, "a generous bound: without a timeout it never ends"


def test_the_app_and_the_cli_refuse_a_database_that_does_not_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url, port = _closed_postgres_url()
    line = _refusal(_environment(tmp_path, DATABASE_URL=url))
    assert "DATABASE_URL" in line and f"127.0.0.1:{port}" in line
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", url)
    assert cli(["account"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "DATABASE_URL" in err and f"127.0.0.1:{port}" in err


def test_a_value_that_cannot_be_read_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_SERVER_PORT", "seventy")
    with pytest.raises(SettingsError, match="GRADIO_SERVER_PORT"):
        load_settings()


def test_a_good_configuration_starts_and_serves(tmp_path: Path) -> None:
    environment = _environment(tmp_path, PHOTOMAKER_ENGINE="preview")
    with subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as app:
        try:
            assert app.stdout is not None
            lines = iter(app.stdout.readline, "")
            said = next((line for line in lines if "is serving on" in line), None)
            assert said is not None and f":{environment['GRADIO_SERVER_PORT']}/" in said
            assert (tmp_path / "data" / "photomaker.db").exists()
        finally:
            app.terminate()
            app.wait(timeout=APP_START_S)
