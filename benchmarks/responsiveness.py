"""Whether light calls wait behind generations: `/account`'s latency idle and while preview generations run.

50 clients (each its own `gradio_client.Client`, so its own session) call `/account` a few times
each, all at once: first with nothing else running, then while 10 Enterprise x4 preview generations
(1536 px, CPU-bound on this machine) run or wait in the queue. For scale, one client alone first.
The clients run in a process of their own, as real clients would: in the app's process their
threads would compete with the app for its interpreter lock and blur what is measured. They skip
loading the system's certificates (plain HTTP on the loopback; gradio_client loads them for every
request, which cost more CPU than the call). Prints JSON: p50, p95 and max of each phase, the
ratio of the p95s (the aim: at most 3), and how many generations were still running or waiting
when the last call under load finished.

    python -m benchmarks.responsiveness
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from gradio_client import Client, handle_file
from gradio_client.utils import Status

from photomaker.core.settings import Settings
from stand_ins.serving import serve

ROOT = Path(__file__).parents[1]
PHOTO = ROOT / "tests" / "fixtures" / "astronaut.png"
CLIENTS = 50
CALLS_EACH = 4
GENERATIONS = 10
RUNNING = (Status.PROCESSING, Status.PROGRESS)
GENERATION = {"prompt": "a professional headshot", "tier": "enterprise", "num_images": 4}


_clients: list[Client] = []
"""The clients, in the clients' process: connected once, as a client's session outlives its calls."""


def connect(url: str) -> None:
    """Connect `CLIENTS` clients, one after the other (run once, in the clients' process)."""
    _clients.extend(Client(url, verbose=False, ssl_verify=False) for _ in range(CLIENTS))


def _calls(client: Client) -> list[float]:
    """One client's `CALLS_EACH` sequential `/account` calls, in seconds each."""
    times = []
    for _ in range(CALLS_EACH):
        start = time.perf_counter()
        client.predict(api_name="/account")
        times.append(time.perf_counter() - start)
    return times


def account_latencies() -> list[float]:
    """Every `/account` call of the clients, all calling at once (run in the clients' process)."""
    with ThreadPoolExecutor(CLIENTS) as pool:
        return [seconds for times in pool.map(_calls, _clients) for seconds in times]


def alone() -> list[float]:
    """One client's calls with no other client calling (run in the clients' process)."""
    return [seconds for _ in range(5) for seconds in _calls(_clients[0])]


def callers(url: str) -> ProcessPoolExecutor:
    """The clients' process, its clients connected to `url`."""
    return ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=connect, initargs=(url,))


def percentiles(times: list[float]) -> dict[str, float]:
    """p50, p95 and max in milliseconds."""
    return {
        "calls": len(times),
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(statistics.quantiles(times, n=20)[-1] * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(data_dir=Path(data), starting_credits=1_000_000, user_rate_limit_per_min=1000)
        with serve(settings) as app, callers(app.url) as clients:
            clients.submit(account_latencies).result()  # warm-up: the first queries of each session
            single = clients.submit(alone).result()
            idle = clients.submit(account_latencies).result()
            client = Client(app.url, verbose=False, ssl_verify=False)
            arguments: dict[str, Any] = {"photos": [handle_file(str(PHOTO))], **GENERATION}
            client.predict(**arguments, api_name="/generate_avatar")
            start = time.perf_counter()
            jobs = [client.submit(**arguments, api_name="/generate_avatar") for _ in range(GENERATIONS)]
            while not any(job.status().code in RUNNING for job in jobs):
                time.sleep(0.01)
            loaded = clients.submit(account_latencies).result()
            calls_done = time.perf_counter() - start
            running_after = sum(not job.done() for job in jobs)
            details = [job.result()[1] for job in jobs]
            generations_done = time.perf_counter() - start
    idle_figures, loaded_figures = percentiles(idle), percentiles(loaded)
    print(
        json.dumps(
            {
                "clients": CLIENTS,
                "calls_each": CALLS_EACH,
                "preview_concurrency": settings.preview_concurrency,
                "one_client_alone": percentiles(single),
                "idle": idle_figures,
                "under_load": loaded_figures,
                "p95_under_load_over_idle": round(loaded_figures["p95_ms"] / idle_figures["p95_ms"], 2),
                "generations": {
                    "count": GENERATIONS,
                    **GENERATION,
                    "completed": sum(item["status"] == "completed" for item in details),
                    "not_finished_when_calls_finished": running_after,
                    "calls_finished_after_s": round(calls_done, 2),
                    "all_finished_after_s": round(generations_done, 2),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
