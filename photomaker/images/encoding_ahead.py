"""Avatars encoded while their likeness is measured, so that saving the ones kept is mostly writing bytes.

The likeness is measured in the face workers' processes, and the generation's thread waits for it; a thread of
this module's uses that time to encode each image the engine hands over (PNG and thumbnail,
`avatar_files.encode`). Most images are kept; an image that is not was encoded for nothing, and its bytes are
dropped when the generation ends: only the images kept are ever written.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from PIL import Image

from photomaker.images.avatar_files import EncodedAvatar, encode


class EncodingAhead:
    """One generation's images, encoded in the background as they are made; `taken` when they are saved. Used by
    that generation's own thread alone."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="avatar-encoding")
        self._started: list[tuple[Image.Image, Future[EncodedAvatar]]] = []

    def start(self, images: Sequence[Image.Image]) -> None:
        """Begin encoding these images, in order, behind the ones begun before. Each is loaded here first, so that
        the encoding thread and the likeness's workers only ever read it."""
        for image in images:
            image.load()
            self._started.append((image, self._pool.submit(encode, image)))

    def taken(self, images: Sequence[Image.Image]) -> list[EncodedAvatar | Image.Image]:
        """Each image's encoding, waited for, and forgotten here; an image not started is handed back as it is
        (`AvatarStorage.save` encodes it). Raises what encoding raised."""
        return [self._take(image) for image in images]

    def _take(self, image: Image.Image) -> EncodedAvatar | Image.Image:
        for index, (started, future) in enumerate(self._started):
            if started is image:
                del self._started[index]
                return future.result()
        return image

    def close(self) -> None:
        """Drop the encodings not taken (the images not kept): those not begun are cancelled."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._started.clear()

    def __enter__(self) -> EncodingAhead:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
