"""CPU-heavy work in worker processes: off the server's interpreter lock, and behind its requests for the CPU.

dlib holds the interpreter lock while it finds or describes a face (100-150 ms each), so in the
server's own process every other request (a page load, `/account`, the event loop itself) waited
for it, and concurrent generations took turns on one core. Worker processes run that work on
every core at once, at a lower CPU priority (`NICE`), so the server's own requests come first.

Workers start with `spawn` (forking a server full of threads is unsafe), on first use or when
`start` asks. `spawn` imports the main script again in each worker, so a script that serves must do
its work under `if __name__ == "__main__":` (as `app.py` does). A worker that dies (killed for
memory, say) breaks the pool: its calls fail, and the next call gets a fresh pool.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

NICE = 10
"""How much lower the workers' CPU priority is than the server's (Unix nice values: 0 normal, 19 lowest)."""


def _exit_with_parent() -> None:
    """Wait for the parent to end, then end: a worker whose parent was killed at once (`kill -9`) would otherwise
    wait for work for ever, as it holds the work queue's writing end itself."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        parent.join()
        os._exit(0)


def _begin(setup: Callable[[], object] | None) -> None:
    # Ctrl-C in a terminal interrupts every process of the command; what it means is the parent's to decide (the
    # CLI asks whether to cancel a pack), and a worker that died of it would break the pool under a running job.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICE)
    threading.Thread(target=_exit_with_parent, name="exit-with-parent", daemon=True).start()
    if setup is not None:
        setup()


class Workers:
    """A pool of `processes` worker processes, each running `setup` first (loading models, say)."""

    def __init__(self, *, processes: int, setup: Callable[[], object] | None = None) -> None:
        self.processes = processes
        self.setup = setup
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_begin,
                    initargs=(self.setup,),
                )
            return self._pool

    def start(self) -> None:
        """Start every worker now, without waiting for them, so that the first calls need not."""
        pool = self._executor()
        for _ in range(self.processes):
            pool.submit(int)

    def map(
        self, fn: Callable[[T], R], items: Iterable[T], *, done: Callable[[int], None] = lambda count: None
    ) -> list[R]:
        """`fn` of each item, in order, spread over the workers (`fn` and the items must pickle); `done` hears how
        many results are in as each comes, in order."""
        pool = self._executor()
        results: list[R] = []
        try:
            for result in pool.map(fn, items):
                results.append(result)
                done(len(results))
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        return results

    def call(self, fn: Callable[[T], R], item: T) -> R:
        """`fn(item)` in a worker."""
        return self.map(fn, [item])[0]

    def close(self) -> None:
        """Stop the workers once their work is done; a later call starts new ones."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown()
