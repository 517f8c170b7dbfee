"""The served app's memory while 8 requests of 4 worst-case photos arrive at once (issue 24).

A worst-case photo is a 7000x7000 one-colour RGBA PNG: about 200 KB of file, under the 50-megapixel
limit, 196 MB of pixels once decoded. The app runs in a process of its own (preview engine, SQLite in
a temporary `DATA_DIR`, every request's generation let through at once: `PREVIEW_CONCURRENCY` is
the number of requests, as on a larger machine or with a remote engine), and the memory of that
process and of its children (the face workers) is summed every 50 ms. One ordinary photo is sent
first, so that the face models are loaded before the base is read; then the same burst of requests
with 1000 px photos, to show what any burst leaves behind; then the worst case. Prints JSON: the
memory before, at the peak and some seconds after the last answer, the app's CPU seconds, and each
request's seconds and outcome code.

    python -m benchmarks.photo_memory
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
from gradio_client import Client, handle_file
from PIL import Image

REQUESTS = 8
PHOTOS_EACH = 4
SIDE = 7000
ORDINARY_SIDE = 1000
"""The same requests with photos of this size first: what they leave behind is the app's, not the photos'."""
SAMPLE_EVERY_S = 0.05
SETTLE_S = 5.0
"""How long after the last answer the memory is read again."""
MB = 1 << 20


def flat_photos(folder: Path, side: int) -> list[Path]:
    """`PHOTOS_EACH` one-colour RGBA PNGs of `side` x `side` pixels, each its own colour."""
    paths = []
    for index in range(PHOTOS_EACH):
        path = folder / f"flat-{side}-{index}.png"
        Image.new("RGBA", (side, side), (40 * index, 90, 200, 255)).save(path)
        paths.append(path)
    return paths


def serve(port: int) -> None:
    """Run the app on 127.0.0.1:`port` until SIGTERM (in the app's process; settings from the environment)."""
    from photomaker.core.settings import Settings
    from photomaker.startup.runtime import start_runtime
    from photomaker.ui import build_app, launch

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    runtime = start_runtime(Settings())
    server = launch(build_app(runtime), runtime, host="127.0.0.1", port=port)
    stop.wait()
    server.close()
    runtime.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen[bytes], *, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the app stopped with exit code {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"the app did not answer at {url} within {timeout_s:g} s")


class Sampler:
    """The resident memory of a process and all its descendants, summed every `SAMPLE_EVERY_S` seconds."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self) -> list[psutil.Process]:
        return [self._process, *self._process.children(recursive=True)]

    def now(self) -> int:
        """Resident bytes now."""
        total = 0
        for process in self._tree():
            with contextlib.suppress(psutil.NoSuchProcess):  # a process that ended between the two calls
                total += process.memory_info().rss
        return total

    def cpu_s(self) -> float:
        """CPU seconds used so far, user and system, by the processes alive now."""
        total = 0.0
        for process in self._tree():
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            self.samples.append((time.monotonic(), self.now()))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def send(url: str, photos: list[Path]) -> tuple[float, str]:
    """One Photo to Avatar request: its seconds and its outcome (the refusal's code, or `completed`)."""
    client = Client(url, verbose=False, ssl_verify=False)
    start = time.perf_counter()
    try:
        client.predict(
            photos=[handle_file(str(path)) for path in photos], prompt="a portrait", api_name="/generate_avatar"
        )
        outcome = "completed"
    except Exception as error:  # the refusal's code is the outcome measured
        found = re.search(r"\[([A-Z_]+)\]", str(error))
        outcome = found.group(1) if found else type(error).__name__
    return time.perf_counter() - start, outcome


def burst(url: str, photos: list[Path], sampler: Sampler) -> dict[str, Any]:
    """`REQUESTS` requests of `photos` at once, then `SETTLE_S` of quiet: the memory at the peak and after, the
    app's CPU seconds, and each request's seconds and outcome."""
    start, cpu_before = time.monotonic(), sampler.cpu_s()
    with ThreadPoolExecutor(REQUESTS) as pool:
        answers = list(pool.map(lambda _: send(url, photos), range(REQUESTS)))
    cpu_s = sampler.cpu_s() - cpu_before
    time.sleep(SETTLE_S)
    return {
        "peak_mb": round(max(size for at, size in sampler.samples if at >= start) / MB),
        "after_mb": round(sampler.now() / MB),
        "seconds": [round(seconds, 1) for seconds, _ in answers],
        "app_cpu_s": round(cpu_s, 1),
        "outcomes": dict(Counter(outcome for _, outcome in answers)),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root)
        photos = flat_photos(folder, SIDE)
        ordinary = flat_photos(folder, ORDINARY_SIDE)
        photo_bytes = photos[0].stat().st_size
        port = free_port()
        environment = {
            **os.environ,
            "DATA_DIR": str(folder / "data"),
            "GRADIO_TEMP_DIR": str(folder / "gradio"),
            "PHOTOMAKER_ENGINE": "preview",
            "PREVIEW_CONCURRENCY": str(REQUESTS),
            "USER_RATE_LIMIT_PER_MIN": "1000",
        }
        code = f"from benchmarks.photo_memory import serve; serve({port})"
        server = subprocess.Popen(
            [sys.executable, "-c", code], env=environment, cwd=Path(__file__).parents[1], stdout=sys.stderr
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            wait_until_up(url, server)
            send(url, ordinary[:1])  # loads the face models in the workers
            with Sampler(server.pid) as sampler:
                time.sleep(1)
                base = max(size for _, size in sampler.samples)
                ordinary_round = burst(url, ordinary, sampler)
                worst_round = burst(url, photos, sampler)
        finally:
            server.terminate()
            server.wait(timeout=60)
    print(
        json.dumps(
            {
                "requests": REQUESTS,
                "photos_each": PHOTOS_EACH,
                "photo": f"{SIDE}x{SIDE} one-colour RGBA PNG of {photo_bytes} bytes",
                "base_mb": round(base / MB),
                **worst_round,
                "after_s": SETTLE_S,
                f"ordinary_round_{ORDINARY_SIDE}px": ordinary_round,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
