"""Who is asking: the local user off a Space; on a Space the signed-in user or a token's owner, cached."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from photomaker.errors import AccessError
from photomaker.identity import Identity
from photomaker.settings import Settings
from tests.fakes.hub import FakeHub

TOKEN = "hf_dana_token_0042"


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    fake = FakeHub({TOKEN: "dana"}).start()
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
    for _ in range(2):
        with pytest.raises(AccessError) as caught:
            identity.username(token="hf_revoked_token_777")
        assert caught.value.code == "SIGN_IN_REQUIRED" and "did not accept" in caught.value.message
    assert hub.lookups["hf_revoked_token_777"] == 2, "a refusal is not cached"
    assert "hf_revoked_token_777" not in caplog.text


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
