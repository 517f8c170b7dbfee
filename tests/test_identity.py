"""Who is asking: the local user off a Space; on a Space the signed-in user or a token's owner, cached.

Asking the Hub is bounded: refusals are remembered, a lookup gives up, and only a few callers wait on
the Hub at once (tested against a stand-in Hub that never answers for tokens it does not know).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from photomaker.accounts.requester import Identity
from photomaker.core.errors import AccessError
from photomaker.core.settings import Settings
from tests.fakes.hub import FakeHub

TOKEN = "hf_dana_token_0042"
ERIN = "hf_erin_token_0043"
JUNK = "hf_junk_token_0666"


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    fake = FakeHub({TOKEN: "dana"}).start()
    yield fake
    fake.close()


@pytest.fixture
def hanging_hub() -> Iterator[FakeHub]:
    fake = FakeHub({TOKEN: "dana", ERIN: "erin"}, hang=True).start()
    yield fake
    fake.close()


def _space(tmp_path: Path, hub_url: str, **extra: object) -> Settings:
    return Settings(
        data_dir=tmp_path, space_id="studio/photomaker", oauth_client_id="cid", hf_endpoint=hub_url, **extra
    )


def test_off_a_space_everyone_is_the_local_operator(tmp_path: Path) -> None:
    identity = Identity(Settings(data_dir=tmp_path, admin_users="someone"))
    assert identity.username() == identity.username(session_user="eve", token="hf_x") == "local"
    assert identity.is_operator("local")
    identity.require_operator("local")


def test_a_space_needs_both_variables_the_sign_in_sets(tmp_path: Path) -> None:
    assert not Settings(data_dir=tmp_path, space_id="studio/photomaker").sign_in_required
    assert not Settings(data_dir=tmp_path, oauth_client_id="cid").sign_in_required
    assert Settings(data_dir=tmp_path, space_id="studio/photomaker", oauth_client_id="cid").sign_in_required


def test_on_a_space_the_session_wins_then_the_token(tmp_path: Path, hub: FakeHub) -> None:
    identity = Identity(_space(tmp_path, hub.url))
    assert identity.username(session_user="bob", token=TOKEN) == "bob"
    assert identity.username(token=TOKEN) == "dana"
    with pytest.raises(AccessError) as caught:
        identity.username()
    assert caught.value.code == "SIGN_IN_REQUIRED" and "oauth_token" in caught.value.message


def test_a_token_is_looked_up_once_until_its_answer_expires(tmp_path: Path, hub: FakeHub) -> None:
    identity = Identity(_space(tmp_path, hub.url))
    for _ in range(3):
        assert identity.username(token=TOKEN) == "dana"
    assert hub.lookups[TOKEN] == 1
    expiring = Identity(_space(tmp_path, hub.url), ttl_s=0)
    expiring.username(token=TOKEN)
    expiring.username(token=TOKEN)
    assert hub.lookups[TOKEN] == 3


def test_a_refused_token_is_refused_and_never_logged(
    tmp_path: Path, hub: FakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    identity = Identity(_space(tmp_path, hub.url))
    for _ in range(100):
        with pytest.raises(AccessError) as caught:
            identity.username(token=JUNK)
        assert caught.value.code == "SIGN_IN_REQUIRED" and "did not accept" in caught.value.message
    assert hub.lookups[JUNK] == 1, "the refusal is remembered"
    assert JUNK not in caplog.text


def test_a_refusal_is_remembered_briefly(tmp_path: Path, hub: FakeHub) -> None:
    identity = Identity(_space(tmp_path, hub.url, hub_refusal_cache_s=0.3))
    for _ in range(2):
        with pytest.raises(AccessError, match="did not accept"):
            identity.username(token=JUNK)
    assert hub.lookups[JUNK] == 1
    time.sleep(0.4)
    with pytest.raises(AccessError, match="did not accept"):
        identity.username(token=JUNK)
    assert hub.lookups[JUNK] == 2, "asked again once the refusal is forgotten: the token may be valid by now"


def _timed(call: Callable[[], object]) -> tuple[AccessError, float]:
    """The AccessError `call` raises, and how long it took to raise it."""
    start = time.monotonic()
    with pytest.raises(AccessError) as caught:
        call()
    return caught.value, time.monotonic() - start


def test_a_lookup_gives_up_on_a_hub_that_does_not_answer(
    tmp_path: Path, hanging_hub: FakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    identity = Identity(_space(tmp_path, hanging_hub.url, hub_lookup_timeout_s=0.3))
    for attempt in (1, 2):
        error, seconds = _timed(lambda: identity.username(token=JUNK))
        assert error.code == "BACKEND_UNAVAILABLE" and "try again" in error.message
        assert 0.3 <= seconds < 2
        assert hanging_hub.lookups[JUNK] == attempt, "a Hub that failed is asked again: it may answer by now"
    assert JUNK not in caplog.text and JUNK not in error.message


def test_callers_beyond_the_bound_are_refused_at_once_while_the_others_wait(
    tmp_path: Path, hanging_hub: FakeHub
) -> None:
    identity = Identity(_space(tmp_path, hanging_hub.url, hub_lookup_timeout_s=2.5, hub_lookup_concurrency=3))
    assert identity.username(token=TOKEN) == "dana", "known before the Hub stops answering"
    with ThreadPoolExecutor(3) as pool:
        waiting = [pool.submit(identity.username, token=f"{JUNK}_{n}") for n in range(3)]
        while hanging_hub.asked < 4:
            time.sleep(0.01)
        refused, seconds = _timed(lambda: identity.username(token=f"{JUNK}_late"))
        assert refused.code == "BACKEND_UNAVAILABLE" and refused.retry_after == 3 and seconds < 0.5
        assert identity.username(token=TOKEN) == "dana", "a known user is answered from the cache"
        assert identity.username(session_user="bob") == "bob"
        assert not any(call.done() for call in waiting), "the three within the bound still wait on the Hub"
        for call in waiting:
            error = call.exception(5)
            assert isinstance(error, AccessError) and error.code == "BACKEND_UNAVAILABLE"
    assert f"{JUNK}_late" not in hanging_hub.lookups and hanging_hub.most_hanging == 3
    assert identity.username(token=ERIN) == "erin", "their places are free again"


def test_one_token_asked_for_at_once_is_looked_up_once(tmp_path: Path, hanging_hub: FakeHub) -> None:
    identity = Identity(_space(tmp_path, hanging_hub.url, hub_lookup_timeout_s=1))
    with ThreadPoolExecutor(5) as pool:
        calls = [pool.submit(identity.username, token=JUNK) for _ in range(5)]
        codes = {getattr(call.exception(5), "code", None) for call in calls}
    assert codes == {"BACKEND_UNAVAILABLE"}
    assert hanging_hub.lookups[JUNK] == 1


def test_a_hub_that_does_not_answer_is_not_the_users_fault(tmp_path: Path, hub: FakeHub) -> None:
    hub.close()
    with pytest.raises(AccessError) as caught:
        Identity(_space(tmp_path, hub.url)).username(token=TOKEN)
    assert caught.value.code == "BACKEND_UNAVAILABLE" and "try again" in caught.value.message


def test_on_a_space_operators_are_the_admin_users(tmp_path: Path, hub: FakeHub) -> None:
    identity = Identity(_space(tmp_path, hub.url, admin_users="carol, dana"))
    assert identity.is_operator("dana") and not identity.is_operator("local")
    with pytest.raises(AccessError) as caught:
        identity.require_operator("bob")
    assert caught.value.code == "FORBIDDEN"
