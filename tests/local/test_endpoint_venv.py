"""deploy/endpoint from a fresh virtual environment holding only its own requirements (and this CPU torch):
the handler built and called as the Hugging Face inference toolkit does, and the Dockerfile's command serving
over HTTP. Tiny weights, no dlib, no gradio, no store."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch

from tests.local.test_endpoint_handler import body

ROOT = Path(__file__).parents[2]
ENDPOINT = ROOT / "deploy" / "endpoint"
TOOLKIT_LOAD = Path(__file__).with_name("toolkit_load.py")
INSTALL_TIMEOUT_S = 1200
START_TIMEOUT_S = 120

pytestmark = pytest.mark.timeout(INSTALL_TIMEOUT_S + 600)


def _pip(python: Path, *requirements: str) -> None:
    """Install into `python`'s environment, always with this torch (its CPU build where one lies on disk); skips
    the test, saying why, when the package index cannot be reached."""
    pinned = f"torch=={torch.__version__.split('+')[0]}"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", pinned, *requirements],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
    )
    if done.returncode != 0:
        pytest.skip(f"pip could not install the endpoint's requirements: {done.stderr.strip()[-600:]}")


@pytest.fixture(scope="module")
def endpoint_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a new virtual environment with `deploy/endpoint/requirements.txt` alone (plus torch)."""
    venv = tmp_path_factory.mktemp("endpoint-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    _pip(python, "-r", str(ENDPOINT / "requirements.txt"))
    return python


def _code(folder: Path, *files: str) -> Path:
    """`folder` with our package and these files of deploy/endpoint, as a deployer copies them."""
    shutil.copytree(ROOT / "photomaker", folder / "photomaker", ignore=shutil.ignore_patterns("__pycache__"))
    for name in files:
        shutil.copy(ENDPOINT / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """An endpoint's model repository: handler.py, requirements.txt, photomaker/ and the tiny weights."""
    folder = tmp_path_factory.mktemp("repository")
    shutil.copytree(tiny_model_dir, folder, dirs_exist_ok=True)
    return _code(folder, "handler.py", "requirements.txt")


def toolkit_answer(python: Path, repository: Path, cwd: Path) -> dict[str, Any]:
    """What `toolkit_load.py` prints after answering `body()` with the repository's handler."""
    done = subprocess.run(
        [str(python), str(TOOLKIT_LOAD), str(repository)],
        input=json.dumps(body()),
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "LOCAL_ALLOW_CPU": "1", "HF_HUB_OFFLINE": "1", "HOME": str(cwd)},
        timeout=START_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_handler_answers_the_toolkits_way_from_its_own_requirements(
    endpoint_python: Path, repository: Path, tmp_path: Path
) -> None:
    answer = toolkit_answer(endpoint_python, repository, tmp_path)

    assert answer["size"] == [64, 64]
    assert answer["photomaker"].startswith(str(repository)), "the repository's own copy of the package"
    assert answer["importable"] == [], "the endpoint needs none of the app's own dependencies"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def dockerfile_command(*, model_dir: Path, port: int) -> list[str]:
    """The Dockerfile's CMD, with this machine's weights, loopback and `port`."""
    line = next(line for line in (ENDPOINT / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    swaps = {"/repository": str(model_dir), "0.0.0.0": "127.0.0.1", "80": str(port)}
    return [swaps.get(part, part) for part in json.loads(line.removeprefix("CMD "))]


@pytest.fixture
def container(endpoint_python: Path, tmp_path: Path, tiny_model_dir: Path) -> Iterator[str]:
    """serve.py run by the Dockerfile's command in the endpoint's environment, from a folder laid out as its /app."""
    app = tmp_path / "app"
    app.mkdir()
    _code(app, "handler.py", "serve.py")
    port = _free_port()
    program, *arguments = dockerfile_command(model_dir=tiny_model_dir, port=port)
    assert program == "python"
    with (tmp_path / "serve.log").open("w") as log:
        process = subprocess.Popen(
            [str(endpoint_python), *arguments],
            cwd=app,
            env={"PATH": "/usr/bin:/bin", "LOCAL_ALLOW_CPU": "1", "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(30)


def _healthy(address: str) -> list[int]:
    """The health route's statuses until it answers 200 (connection refused while the process starts)."""
    seen: list[int] = []
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and seen[-1:] != [200]:
        try:
            seen.append(httpx.get(f"{address}/health", timeout=5).status_code)
        except httpx.TransportError:
            time.sleep(0.5)
            continue
        time.sleep(0.2)
    return seen


def test_the_dockerfiles_command_serves_from_the_same_environment(container: str) -> None:
    statuses = _healthy(container)

    assert statuses and statuses[-1] == 200 and set(statuses) <= {200, 503}
    answer = httpx.post(container, json=body(), timeout=60)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    assert httpx.get(container).json() == {"status": "ok"}
