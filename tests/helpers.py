"""Small builders shared by tests."""

from __future__ import annotations

import struct
import threading
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import select

from photomaker.accounts.account import Accounts
from photomaker.accounts.gallery import Gallery
from photomaker.engines.base import GenerationRequest, GenerationResult, ProgressFn
from photomaker.generation.service import GenerationService
from photomaker.generation.work_leases import Owner
from photomaker.store import Avatar, Database, Generation, rollups, row_id
from photomaker.store.models import utcnow
from photomaker.store.rollup_schema import rollup_table


def accounts_of(service: GenerationService) -> Accounts:
    """The accounts beside a service a test built: the same settings, database and storage."""
    return Accounts(settings=service.settings, database=service.database, storage=service.storage)


def gallery_of(service: GenerationService) -> Gallery:
    """The gallery beside a service a test built."""
    return Gallery(database=service.database, storage=service.storage)


def held(*, minutes: float = 5) -> dict[str, Any]:
    """The owner and lease `generations.start` takes: this process, for `minutes` from now."""
    return {"owner": str(Owner.of_this_process()), "lease_until": utcnow() + timedelta(minutes=minutes)}


def processing_generation(database: Database, user_id: int) -> int:
    """A generation row still `processing`, as `start` leaves it before the charge (for ledger tests)."""
    with database.session() as session:
        row = Generation(user_id=user_id, model_key="k", mode="photo", engine="preview", status="processing")
        session.add(row)
        session.flush()
        return row.id


def add_finished(database: Database, user_id: int, *, avatars: int = 0, **fields: Any) -> int:
    """A finished generation with any created time, counted in the rollups as the lifecycle would,
    and `avatars` avatar rows (without files) for retention or a user's deletion to remove."""
    values = {"engine": "preview", "credits_charged": 0, "processing_ms": None, "error_code": None, **fields}
    with database.session() as session:
        row = Generation(user_id=user_id, **values)
        session.add(row)
        session.flush()
        generation_id = row_id(row)
        session.add_all(
            Avatar(generation_id=generation_id, image_path=f"{n}.png", thumbnail_path=f"{n}.webp", width=8, height=8)
            for n in range(avatars)
        )
        rollups.add(session, row)
        return generation_id


def snapshot(database: Database) -> list[tuple[Any, ...]]:
    """Every rollup row without its id, sorted: two snapshots are equal when the rollups are."""
    with database.session() as session:
        rows = session.execute(select(*(c for c in rollup_table.c if c.name != "id"))).all()
    return sorted(tuple(row) for row in rows)


class CountingEngine:
    """An engine that makes tiny images and keeps every request: a refused request must never reach it."""

    preview = False

    def __init__(self, name: str = "counting") -> None:
        self.name = name
        self.requests: list[GenerationRequest] = []

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> GenerationResult:
        self.requests.append(request)
        images = [Image.new("RGB", (8, 8), (40, 90, 160)) for _ in range(request.num_images)]
        return GenerationResult(images=images, seed=request.seed, engine=self.name)


class GatedEngine(CountingEngine):
    """Makes its images only when the test opens the gate, reporting progress while it waits: a generation a test
    can catch running (to cancel it, say)."""

    def __init__(self) -> None:
        super().__init__("gated")
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> GenerationResult:
        self.started.release()
        progress(0.5, "Painting")
        if not self.gate.wait(20):
            raise AssertionError("the test never opened the gate")
        return super().generate(request, progress)


PNG_GREY, PNG_RGBA = 0, 6
"""PNG colour types."""


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int, height: int, data: bytes, *, colour_type: int) -> bytes:
    """A PNG of 8-bit samples whose compressed pixel data is `data`."""
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b"")


def flat_rgba_png(path: Path, side: int, colour: tuple[int, int, int, int] = (120, 80, 200, 255)) -> Path:
    """The probe's worst case: a one-colour RGBA PNG (7000 px: 208 KB of file, 196 MB of pixels), written a row at
    a time."""
    deflate, row = zlib.compressobj(), b"\x00" + bytes(colour) * side
    data = b"".join(deflate.compress(row) for _ in range(side)) + deflate.flush()
    path.write_bytes(png_bytes(side, side, data, colour_type=PNG_RGBA))
    return path


def served_spellings(url: str, path: str, client: httpx.Client) -> list[str]:
    """The URL spellings of one file under which the app at `url` serves it to `client` (should be none)."""
    quoted = path.replace("/", "%2F")
    spellings = [
        f"gradio_api/file={path}",
        f"gradio_api/file={path.replace('/', '//')}",
        f"gradio_api/file={Path(path).parent}/./{Path(path).name}",
        f"gradio_api/file={Path(path).parent}/../{Path(path).parent.name}/{Path(path).name}",
        f"gradio_api/file={quoted}",
        f"file={path}",
        f"gradio_api/file/{path}",
        f"gradio_api/file={path.upper()}",
    ]
    return [s for s in spellings if client.get(url + s).status_code == 200]
