"""Issue 24's reproduction against the served app: requests of four worst-case photos at once.

A one-colour RGBA PNG is tiny as a file and huge once decoded; four to a request, several requests at
once took the server from 0.8 GB to 4.6 GB and left it there. Here the app's decode budget is 256 MB
and three such requests arrive together: the process grows by about the budget, not by gigabytes,
each request is refused (no face) and charged nothing.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from photomaker.core.settings import Settings
from stand_ins.serving import ServedApp, serve
from tests.helpers import flat_rgba_png

MIB = 1024 * 1024
REQUESTS = 3
SIDE = 5000
"""100 MB of pixels each: the probe's 7000 px would show the same at twice the time."""
BUDGET_MB = 256
SERVING_ALLOWANCE = 160 * MIB
"""What three requests at once take besides their photos' pixels (uploads, sessions, threads, results)."""


def _resident() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096


class Peak:
    """The most this process's resident memory grows over `start`, sampled every 10 ms while the block runs."""

    def __init__(self) -> None:
        self.start = _resident()
        self.most = self.start
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.01):
            self.most = max(self.most, _resident())

    def __enter__(self) -> Peak:
        self._sampler.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._sampler.join()

    @property
    def growth(self) -> int:
        return self.most - self.start


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("worst-case") / "data",
        user_rate_limit_per_min=100,
        hf_token=None,
        preview_concurrency=REQUESTS,
        decode_budget_mb=BUDGET_MB,
    )
    with serve(settings) as served:
        yield served


def _refusal_code(app: ServedApp, photos: list[Path]) -> str:
    with pytest.raises(AppError) as caught:
        app.client().predict(photos=[handle_file(p) for p in photos], prompt="a portrait", api_name="/generate_avatar")
    found = re.search(r"\[([A-Z_]+)\]", str(caught.value))
    return found[1] if found else str(caught.value)


def test_requests_of_worst_case_photos_at_once_stay_within_the_decode_budget(app: ServedApp, tmp_path: Path) -> None:
    photos = [flat_rgba_png(tmp_path / f"flat-{n}.png", SIDE, (60 * n, 90, 200, 255)) for n in range(4)]
    assert all(photo.stat().st_size < 120_000 for photo in photos)
    credits = app.client().predict(api_name="/account")["credits"]
    with Peak() as peak, ThreadPoolExecutor(REQUESTS) as pool:
        codes = list(pool.map(lambda _: _refusal_code(app, photos), range(REQUESTS)))
    assert codes == ["NO_FACE"] * REQUESTS
    assert app.client().predict(api_name="/account")["credits"] == credits
    assert peak.growth < BUDGET_MB * MIB + SERVING_ALLOWANCE, f"grew {peak.growth / MIB:.0f} MB"
