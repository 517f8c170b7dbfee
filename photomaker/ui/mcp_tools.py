"""The MCP server's tools (`/gradio_api/mcp`): Gradio makes one of each API endpoint; we keep those of
`MCP_TOOLS`, take photos sent inline, and answer with images.

An MCP client sends a file as text: a `data:` URL (base64). Gradio turns such text into a file only where an
argument is one file, not in a list of files as `photos` is; here each photo in a list becomes an upload of the
client that called the tool, private to it like any upload, and deleted when its generation ends (or, unclaimed,
by `uploads.sweep`). Gradio answers with images only where an output is one file; our endpoints answer a list of
them and the details, so these are laid out flat first: each avatar an image, the details JSON text.
"""

from __future__ import annotations

import binascii
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from gradio_client import utils as client_utils

from photomaker.ui import uploads
from photomaker.ui.cache import cache_dir
from photomaker.ui.upload_keys import uploader

MCP_TOOLS = ("generate_avatar", "generate_pack", "generate_from_text", "account", "credit_history")
"""The endpoints an MCP client sees as tools: making images, and the credits they cost. Cancelling (a tool call
waits for its generation), ratings, exports, deleting one's data and the operators' endpoints are not tools."""

Positions = list[list[str | int]]


def serve_tools(demo: gr.Blocks) -> None:
    """Fit the app's MCP server to our endpoints: only `MCP_TOOLS`, lists of photos inline, images back."""
    server = demo.mcp_server_obj
    if server is None:
        raise RuntimeError(demo.mcp_error or "the MCP server did not start")
    server.tool_to_endpoint = {
        tool: endpoint for tool, endpoint in server.tool_to_endpoint.items() if endpoint.lstrip("/") in MCP_TOOLS
    }
    convert, postprocess = server.convert_strings_to_filedata, server.postprocess_output_data

    def converting(arguments: Any, positions: Positions) -> Any:
        # The key `PrivateUploads` gave the tool call's request, which Gradio passes on to the call it makes.
        owner = uploader(server.mcp_server.request_context.request)
        return convert(_inline_photos(arguments, positions, owner), positions)

    def answering(data: Any, root_url: str) -> Any:
        served = f"{root_url.rstrip('/')}/gradio_api/file="
        return postprocess([_addressed(item, served) for item in _flattened(data)], root_url)

    # Set on the instance, where Gradio looks them up (mypy takes an assigned method for a mistake).
    setattr(server, "convert_strings_to_filedata", converting)  # noqa: B010
    setattr(server, "postprocess_output_data", answering)  # noqa: B010


def _inline_photos(arguments: Any, positions: Positions, owner: str | None) -> Any:
    """The tool's arguments, each `data:` URL in a list of files (a `[name, "items"]` position) made `owner`'s
    upload."""
    if not isinstance(arguments, dict):
        return arguments
    listed = {position[0] for position in positions if position[1:] == ["items"]}
    return {
        name: [_uploaded(item, owner) for item in value] if name in listed and isinstance(value, list) else value
        for name, value in arguments.items()
    }


def _uploaded(item: Any, owner: str | None) -> Any:
    """A `data:` URL as an upload of `owner`'s, which the endpoint claims as any upload; anything else as it came
    (the endpoint refuses what it cannot use)."""
    if not (isinstance(item, str) and item.startswith("data:")):
        return item
    try:
        data, _ = client_utils.decode_base64_to_binary(item)
    except (binascii.Error, ValueError):
        return item
    suffix = f".{client_utils.get_extension(item) or 'png'}"
    with tempfile.NamedTemporaryFile(dir=cache_dir(), prefix="inline-", suffix=suffix, delete=False) as received:
        received.write(data)
    private = uploads.REGISTRY.adopt(Path(received.name), owner=owner)
    return {"path": str(private), "orig_name": f"photo{suffix}"}  # no FileData meta: gradio_client sends it as is


def _addressed(item: Any, served: str) -> Any:
    """A file with the address it is served at (Gradio would say where it lies on the server)."""
    if client_utils.is_file_obj_with_meta(item) and not item.get("url"):
        return {**item, "url": served + client_utils.encode_file_path(item["path"])}
    return item


def _flattened(data: Any) -> Iterator[Any]:
    """The files in `data` one by one, and anything else as JSON text."""
    if isinstance(data, list | tuple):
        for item in data:
            yield from _flattened(item)
    elif client_utils.is_file_obj_with_meta(data):
        yield data
    else:
        yield json.dumps(data)
