"""workers: work runs in other processes, at a lower CPU priority, and a dead worker's pool is replaced."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool

import pytest

from photomaker.core.workers import NICE, Workers

PARENT = """
import multiprocessing, time
from photomaker.core.workers import Workers
workers = Workers(processes=2)
workers.map(abs, range(2))
print(*(child.pid for child in multiprocessing.active_children()), flush=True)
time.sleep(120)
"""

READY = False


def _get_ready() -> None:
    global READY
    READY = True


def _ready(_: object) -> bool:
    return READY


def _pid(_: object) -> int:
    return os.getpid()


@pytest.fixture
def pool() -> Iterator[Workers]:
    workers = Workers(processes=2, setup=_get_ready)
    yield workers
    workers.close()


def test_work_runs_in_other_processes_in_order(pool: Workers) -> None:
    assert pool.map(abs, [-3, 2, -1]) == [3, 2, 1]
    assert pool.call(_pid, None) != os.getpid()


def test_a_map_says_how_many_results_are_in_as_each_comes(pool: Workers) -> None:
    heard: list[int] = []
    assert pool.map(abs, [-3, 2, -1], done=heard.append) == [3, 2, 1]
    assert heard == [1, 2, 3]


def test_workers_run_at_a_lower_priority(pool: Workers) -> None:
    assert pool.call(os.nice, 0) == min(19, os.nice(0) + NICE)


def test_a_dead_worker_fails_its_call_and_the_next_call_gets_a_fresh_pool(pool: Workers) -> None:
    with pytest.raises(BrokenProcessPool):
        pool.call(os._exit, 1)
    assert pool.call(abs, -5) == 5


def test_each_worker_is_set_up_before_its_first_call(pool: Workers) -> None:
    assert pool.map(_ready, range(4)) == [True] * 4
    assert not READY, "set up there, not here"


def test_start_starts_every_worker_without_waiting_for_a_call(pool: Workers) -> None:
    before = set(multiprocessing.active_children())
    pool.start()
    deadline = time.monotonic() + 30
    while len(set(multiprocessing.active_children()) - before) < pool.processes and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(set(multiprocessing.active_children()) - before) == pool.processes


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for whoever adopted it to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_end_when_their_parent_is_killed_at_once() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(workers) == 2 and all(_alive(pid) for pid in workers)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)
