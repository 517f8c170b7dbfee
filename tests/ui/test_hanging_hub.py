"""A Hub that stops answering cannot stall the app: junk tokens wait on it a short while, a few at a time.

The app is served as a Space with sign-in, its `HF_ENDPOINT` a stand-in Hub that answers alice's token
and never answers any other. While 50 requests with junk tokens (REST and the Gradio API) wait on it,
the page, `/metrics`, alice's REST calls (her token already known) and a signed-in browser's event
are all answered promptly; the junk requests get 503 (REST, with Retry-After) or
`[BACKEND_UNAVAILABLE]` within the lookup's timeout, and few of them reach the Hub at all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from photomaker.rest.schemas import PREFIX
from photomaker.ui.signin import session_cookie
from stand_ins.serving import ServedApp, serve
from tests.fakes.hub import FakeHub
from tests.signin import METRICS_TOKEN, space_settings

ALICE = "hf_alice_hanging_1234"
LOOKUP_TIMEOUT_S = 6.0
"""Longer than any junk request takes to arrive: the lookups that give up are not replaced by others."""
PROMPT_S = 3.0
"""How soon everyone else is answered while the Hub hangs: well before a lookup gives up, so a thread
freed by the timeout alone would come too late."""
JUNK_REST = 40
"""As many as the threads that serve the page, `/metrics` and REST: they froze all three before."""
JUNK_GRADIO = 10


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeHub]:
    fake = FakeHub({ALICE: "alice"}, hang=True).start()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def space(hub: FakeHub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    folder = tmp_path_factory.mktemp("hanging-hub")
    settings = space_settings(
        folder, database_url=f"sqlite:///{folder / 'test.db'}", hub_url=hub.url, hub_lookup_timeout_s=LOOKUP_TIMEOUT_S
    )
    with serve(settings) as app:
        yield app


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _prompt(what: str, probe: Callable[[], Any]) -> Any:
    """What `probe` returns, checking that it came within `PROMPT_S`."""
    start = time.monotonic()
    answer = probe()
    assert time.monotonic() - start < PROMPT_S, f"{what} took {time.monotonic() - start:.1f} s"
    return answer


def test_junk_tokens_on_a_hanging_hub_leave_everyone_else_served(
    space: ServedApp, hub: FakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    base = space.url.rstrip("/")
    signed_in = Client(
        space.url, verbose=False, httpx_kwargs={"cookies": {"session": session_cookie(space.runtime.settings, "bob")}}
    )
    junk_clients = [Client(space.url, verbose=False, oauth_token=f"hf_junk_gradio_{n}") for n in range(JUNK_GRADIO)]
    with httpx.Client(base_url=base, timeout=10) as http, ThreadPoolExecutor(JUNK_REST) as pool:
        assert http.get(f"{PREFIX}/me", headers=_bearer(ALICE)).json()["username"] == "alice", "known from now on"
        started = time.monotonic()
        junk_rest = [
            pool.submit(http.get, f"{PREFIX}/me", headers=_bearer(f"hf_junk_rest_{n}")) for n in range(JUNK_REST)
        ]
        junk_gradio = [client.submit(api_name="/account") for client in junk_clients]
        while hub.asked < 2:
            time.sleep(0.01)  # the Hub is hanging on junk now
        assert _prompt("the page", lambda: http.get("/")).status_code == 200
        assert _prompt("/metrics", lambda: http.get("/metrics", headers=_bearer(METRICS_TOKEN))).status_code == 200
        assert _prompt("alice", lambda: http.get(f"{PREFIX}/me", headers=_bearer(ALICE))).json()["username"] == "alice"
        assert _prompt("bob", lambda: signed_in.predict(api_name="/account"))["username"] == "bob"
        answers = [call.result(timeout=LOOKUP_TIMEOUT_S + 10) for call in junk_rest]
        failures = [_failure(job) for job in junk_gradio]
        elapsed = time.monotonic() - started
    assert {answer.status_code for answer in answers} == {503}
    assert {answer.json()["code"] for answer in answers} == {"BACKEND_UNAVAILABLE"}
    assert all(int(answer.headers["retry-after"]) >= 1 for answer in answers)
    assert all("[BACKEND_UNAVAILABLE]" in failure for failure in failures), failures
    assert elapsed < LOOKUP_TIMEOUT_S + PROMPT_S * 3
    assert hub.most_hanging <= space.runtime.settings.hub_lookup_concurrency, "the others were refused at once"
    assert "hf_junk" not in caplog.text + "".join(answer.text for answer in answers) + "".join(failures)


def _failure(job: Future[Any]) -> str:
    """The error text a Gradio API call of a junk token ended with."""
    with pytest.raises(AppError) as caught:
        job.result(timeout=LOOKUP_TIMEOUT_S + 10)
    return str(caught.value)
