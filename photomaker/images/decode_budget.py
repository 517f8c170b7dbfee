"""A bound on the memory that photos being decoded hold at once, across every request of the process.

Each decode holds its estimate (`photomaker.images.decode_cost`) from before its first pixel until its full-size
pixels are freed. A decode that does not fit waits for room, in the order the decodes arrived, so
a large photo is not passed over for ever by small ones.

The budget alone does not bound the process: glibc keeps what a thread frees for that thread's heap to
reuse, so decodes in many threads leave many heaps at their peak (2.3 GB, and staying there, in
`benchmarks/photo_memory.py`). So when a large decode ends, the heaps' free pages go back to the system
(`malloc_trim`), and the server keeps its threads to two heaps (`share_heaps`): see
docs/measurements.md.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from photomaker.core.fair_queue import Turns

M_ARENA_MAX = -8
"""`mallopt`'s parameter for the most heaps (arenas) glibc makes, the main one included."""
SHARED_HEAPS = 2
GIVE_BACK_FROM = 64 << 20
"""Decodes that held less leave little to give back, and giving it back costs the next one its page faults:
after every decode, four 12-megapixel JPEGs (60 MB each) took 0.23 s to prepare instead of 0.18 s."""


@cache
def _glibc() -> ctypes.CDLL | None:
    """The C library where it is glibc, else None: elsewhere the calls below do nothing."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def give_back_freed_memory() -> None:
    """Return the heaps' free pages to the system."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def share_heaps() -> None:
    """Keep threads started from now on to `SHARED_HEAPS` heaps, so that what one frees the others reuse."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(M_ARENA_MAX, SHARED_HEAPS)


class DecodeBudget:
    """`total_bytes` that decodes may hold at once; `held(size)` waits its turn for `size` of them."""

    def __init__(self, total_bytes: int) -> None:
        self.total_bytes = total_bytes
        self._turns = Turns(total_bytes)

    @property
    def held_bytes(self) -> int:
        """Bytes held now by decodes under way."""
        return self._turns.held

    @contextmanager
    def held(self, size: int) -> Iterator[None]:
        """Hold `size` bytes for the block, once every decode that came before has its room and this one fits; then,
        from `GIVE_BACK_FROM` bytes, give what the decode freed back to the system."""
        try:
            with self._turns.turn(lambda ahead: None, units=size):
                yield
        finally:
            if size >= GIVE_BACK_FROM:
                give_back_freed_memory()
