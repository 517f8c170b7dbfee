"""A Space with sign-in served on loopback, asked as browsers on the Space's own host and on other websites."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from photomaker.ui.signin import session_cookie
from stand_ins.serving import ServedApp
from tests.signin import SPACE_HOST, served_space

FIXTURES = Path(__file__).parents[1] / "fixtures"
TOKENS = {"hf_alice_token_1234": "alice"}
SPACE_ORIGIN = f"https://{SPACE_HOST}"
EVIL_ORIGIN = "https://evil.example"


@pytest.fixture(scope="module")
def space(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    with served_space(tmp_path_factory.mktemp("space"), tokens=TOKENS) as app:
        yield app


class Browser:
    """A browser on the Space's host: its requests carry a Host, an Origin (a page's site) and cookies."""

    def __init__(self, app: ServedApp, *, origin: str | None, user: str | None = None) -> None:
        self.app = app
        self.headers = {"host": SPACE_HOST, **({"origin": origin} if origin else {})}
        self.cookies = {"session": session_cookie(app.runtime.settings, user)} if user else {}
        self.client = httpx.Client(base_url=app.url, timeout=30)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        cookies = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if cookies:
            headers["cookie"] = cookies
        answer = self.client.request(method, path, headers=headers, **kwargs)
        for name, value in answer.cookies.items():  # a browser keeps what it is given, Secure or not, here
            self.cookies[name] = value
        return answer

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def browser(space: ServedApp) -> Iterator[Any]:
    """`browser(origin=..., user=...)` makes browsers, closed after the test."""
    made: list[Browser] = []

    def make(*, origin: str | None, user: str | None = None) -> Browser:
        made.append(Browser(space, origin=origin, user=user))
        return made[-1]

    yield make
    for one in made:
        one.close()
