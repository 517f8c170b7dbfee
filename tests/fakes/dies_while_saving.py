"""A generation that is killed while its avatars are saved, for tests/test_recovery.py.

    python -m tests.fakes.dies_while_saving DATA_DIR [DATABASE_URL]

Starts the app's runtime, receives an upload as the page would, and generates two Basic avatars
from it; saving writes the first avatar and half of the second, prints `saving <generation id>`,
and then waits for ever, to be killed (`kill -9`) by the test.
"""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from photomaker.core.settings import Settings
from photomaker.images.avatar_files import EncodedAvatar
from photomaker.images.uploaded_photos import PhotoUpload
from photomaker.startup.runtime import start_runtime
from photomaker.ui.cache import cache_dir
from photomaker.ui.uploads import REGISTRY

PHOTO = Path(__file__).parents[1] / "fixtures" / "astronaut.png"


def main(data_dir: str, database_url: str | None = None) -> None:
    runtime = start_runtime(Settings(data_dir=Path(data_dir), database_url=database_url, hf_token=None))
    storage = runtime.service.storage
    save = storage.save

    def save_half_then_hang(
        avatars: Sequence[Image.Image | EncodedAvatar], *, user_id: int, generation_id: int, first: int
    ) -> None:
        save(avatars[:1], user_id=user_id, generation_id=generation_id, first=first)
        (storage.root / f"u{user_id}" / f"g{generation_id}" / ".avatar-2.png.tmp").write_bytes(b"half a PNG")
        print(f"saving {generation_id}", flush=True)
        threading.Event().wait()

    storage.save = save_half_then_hang  # type: ignore[method-assign]
    received = cache_dir() / "as-gradio-stores-it" / PHOTO.name
    received.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PHOTO, received)
    upload = REGISTRY.adopt(received, owner=None)
    print(f"upload {upload}", flush=True)
    values = {"prompt": "a professional headshot", "tier": "basic", "num_images": 2}
    runtime.service.generate_avatar("local", [PhotoUpload.from_path(upload)], values)


if __name__ == "__main__":
    main(*sys.argv[1:])
