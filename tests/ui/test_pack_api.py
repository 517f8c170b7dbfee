"""Packs for programs, against the app served on 127.0.0.1: `/generate_pack` and `/cancel_generation` through
gradio_client, and the MCP server through the `mcp` SDK's own client (tools listed, a pack made from a photo sent
inline, images and credits and likeness back, a refusal in our words)."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client
from mcp.types import CallToolResult, ImageContent, TextContent
from PIL import Image

from photomaker.generation.params import PackParams
from photomaker.ui.mcp_tools import MCP_TOOLS
from photomaker.ui.uploads import PRIVATE_PREFIX
from stand_ins.serving import ServedApp

FIXTURES = Path(__file__).parents[1] / "fixtures"
PACK = ["Cinematic", "Enhance"]


def _balance(app: ServedApp) -> int:
    return app.client().predict(api_name="/account")["credits"]


def _basic_price(app: ServedApp, count: int) -> int:
    return next(model for model in app.runtime.service.models() if model.tier == "basic").price(count)


def test_generate_pack_takes_the_pack_models_fields_and_returns_avatars_by_style(served_app: ServedApp) -> None:
    info = served_app.client().view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert [p["parameter_name"] for p in info["/generate_pack"]["parameters"]] == ["photos", *PackParams.model_fields]
    assert [p["parameter_name"] for p in info["/cancel_generation"]["parameters"]] == ["generation_id"]
    before = _balance(served_app)
    files, details = served_app.client().predict(
        photos=[handle_file(FIXTURES / "astronaut.png")],
        prompt="a professional headshot",
        tier="basic",
        styles=PACK,
        api_name="/generate_pack",
    )
    basic = next(model for model in served_app.runtime.service.models() if model.tier == "basic")
    assert len(files) == 2
    for path in files:
        with Image.open(path) as image:
            assert image.size == (basic.width, basic.height)
    assert (details["styles"], details["avatar_styles"], details["style"]) == (PACK, PACK, None)
    assert details["credits_charged"] == _basic_price(served_app, 2) and details["credits_refunded"] == 0
    assert len(details["likeness"]) == 2 and details["likeness_ok"] == [True, True]
    assert _balance(served_app) == before - _basic_price(served_app, 2)


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"styles": ["Cinematic", "Cinematic"]}, "listed twice"),
        ({"styles": "Cinematic, Nope"}, "Unknown style 'Nope'"),
        ({"preset": "Professional", "images_per_style": 4, "tier": "enterprise", "styles": ["Enhance"]}, "not both"),
        ({"preset": "Every style", "images_per_style": 4, "tier": "enterprise"}, "you have"),
    ],
)
def test_a_bad_pack_is_refused_in_our_words_and_costs_nothing(
    served_app: ServedApp, values: dict[str, Any], said: str
) -> None:
    before = _balance(served_app)
    with pytest.raises(AppError) as caught:
        served_app.client().predict(
            photos=[handle_file(FIXTURES / "astronaut.png")], prompt="a headshot", api_name="/generate_pack", **values
        )
    assert said in str(caught.value) and "[" in str(caught.value)
    assert _balance(served_app) == before


def test_cancelling_what_is_not_running_is_refused(served_app: ServedApp) -> None:
    with pytest.raises(AppError) as caught:
        served_app.client().predict(generation_id=123456, api_name="/cancel_generation")
    assert "[NOT_RUNNING]" in str(caught.value)


def _inline(photo: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(photo.read_bytes()).decode("ascii")


async def _mcp(app: ServedApp, calls: list[tuple[str, dict[str, Any]]]) -> tuple[list[str], list[CallToolResult]]:
    """The tools the app's MCP server lists, and what each call answered."""
    async with (
        streamablehttp_client(f"{app.url}gradio_api/mcp/") as (reading, writing, _),
        ClientSession(reading, writing) as session,
    ):
        await session.initialize()
        tools = [tool.name for tool in (await session.list_tools()).tools]
        return tools, [await session.call_tool(name, arguments) for name, arguments in calls]


def test_an_mcp_client_makes_a_pack_from_a_photo_and_is_told_credits_and_likeness(
    served_app: ServedApp, upload_dir: Path
) -> None:
    before = _balance(served_app)
    photo = _inline(FIXTURES / "astronaut.png")
    pack = {"photos": [photo], "prompt": "a professional headshot", "tier": "basic", "styles": PACK}
    tools, (made, refused, hidden) = asyncio.run(
        _mcp(
            served_app,
            [
                ("generate_pack", pack),
                ("generate_pack", {**pack, "styles": ["Nope"]}),
                ("delete_my_data", {"confirm": True}),
            ],
        )
    )
    assert sorted(tools) == sorted(MCP_TOOLS), "deleting one's data, ratings and operators' endpoints are no tools"
    assert not made.isError
    images = [item for item in made.content if isinstance(item, ImageContent)]
    assert len(images) == 2 and {image.mimeType for image in images} == {"image/png"}
    texts = [item.text for item in made.content if isinstance(item, TextContent)]
    details = json.loads(texts[-1])
    assert details["credits_charged"] == _basic_price(served_app, 2) and details["avatar_styles"] == PACK
    assert details["likeness_ok"] == [True, True] and all(0.5 < score <= 1 for score in details["likeness"])
    assert refused.isError and "Unknown style 'Nope'" in refused.content[0].text  # type: ignore[union-attr]
    assert "[INVALID_PARAMS]" in refused.content[0].text  # type: ignore[union-attr]
    assert hidden.isError and "Unknown tool" in hidden.content[0].text  # type: ignore[union-attr]
    assert _balance(served_app) == before - _basic_price(served_app, 2), "the refusal charged nothing"
    left = [path for path in upload_dir.rglob("*") if path.name.startswith(("inline-", PRIVATE_PREFIX))]
    assert not left, "the photos sent inline are deleted with the request, refused or not"
