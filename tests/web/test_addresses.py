"""A client's address is what the proxy in front of the app saw, not what the client wrote, and refusals count
against it: the REST API and the Gradio API alike."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from photomaker.web.addresses import client_address
from stand_ins.serving import ServedApp
from tests.web.conftest import TOKENS

(TOKEN,) = TOKENS


@pytest.mark.parametrize(
    ("forwarded", "proxies", "expected"),
    [
        (None, 0, "10.0.0.9"),
        ("203.0.113.7", 0, "10.0.0.9"),
        ("203.0.113.7", 1, "203.0.113.7"),
        ("1.2.3.4, 203.0.113.7", 1, "203.0.113.7"),
        ("1.2.3.4, 203.0.113.7, 10.1.1.1", 2, "203.0.113.7"),
        ("203.0.113.7", 2, "203.0.113.7"),
        (None, 1, "10.0.0.9"),
        (" , ", 1, "10.0.0.9"),
    ],
)
def test_the_address_is_the_one_the_trusted_proxy_saw(forwarded: str | None, proxies: int, expected: str) -> None:
    headers = {"x-forwarded-for": forwarded} if forwarded is not None else {}
    assert client_address(headers, "10.0.0.9", proxies=proxies) == expected


@pytest.fixture
def two_refusals_per_address(space: ServedApp) -> Iterator[None]:
    limits = space.runtime.service.refusals.limit.limits
    saved = dict(limits)
    limits["address"] = 2
    yield
    limits.update(saved)


def _refused_text_request(space: ServedApp, address: str) -> dict:
    answer = httpx.post(
        space.url + "api/v1/text-to-image",
        json={"prompt": "a lighthouse", "width": 13},
        headers={"authorization": f"Bearer {TOKEN}", "x-forwarded-for": address},
        timeout=30,
    )
    return answer.json()


def test_refusals_count_against_the_address_the_space_proxy_saw(
    space: ServedApp, two_refusals_per_address: None
) -> None:
    """On a Space one proxy is trusted (PROXY_HOPS defaults to 1 there): the last X-Forwarded-For entry."""
    assert [_refused_text_request(space, "198.51.100.1")["code"] for _ in range(2)] == ["NOT_OFFERED"] * 2
    turned = _refused_text_request(space, "198.51.100.1")
    assert turned["code"] == "USER_RATE_LIMITED" and turned["detail"].startswith("Requests from your address")
    assert _refused_text_request(space, "198.51.100.2")["code"] == "NOT_OFFERED", "another address is not affected"
    spoofed = _refused_text_request(space, "6.6.6.6, 198.51.100.1")
    assert spoofed["code"] == "USER_RATE_LIMITED", "what the client wrote in front changes nothing"
