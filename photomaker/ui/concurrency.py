"""Which calls run side by side: the concurrency groups of the page's events and the API's endpoints.

Gradio's queue puts every call in its event's group (`concurrency_id`, each event its own unless
named) and runs at most the group's `concurrency_limit` of them at once; the others wait in that
group's line.

- **Generations**: one group per engine, shared by the page's button and the API, limited to what
  the engine takes at once (`registry.concurrency_limit`: the cores for the CPU-bound preview).
- **The Monitoring tab's refresh**: one at a time, in order (`monitoring_tab`).
- **Everything else** (account, credit history, ratings, exports, page loads, the cost shown, ...):
  the queue's default, no limit. They take milliseconds and never wait behind generations or each
  other; with a limit of 2, 50 clients calling `/account` queued behind one another.

Every queued call also takes one of the queue's `max_threads` slots (a thread for a sync function):
there are enough for every generation group at its limit and `LIGHT_THREADS` more, so generations
never take them all.
"""

from __future__ import annotations

from typing import Any

from photomaker.core.settings import Settings
from photomaker.engines.base import Engine
from photomaker.engines.registry import concurrency_limit, generation_slots
from photomaker.startup.runtime import Runtime

LIGHT_THREADS = 40
"""Slots kept for the calls that are not generations: Gradio's default for all calls together."""
TEXT_OFF = "generate:text-off"
"""The group of Text to Image requests when it is off: each is refused at once, so it has no limit."""


def generations(engine: Engine | None, settings: Settings) -> dict[str, Any]:
    """The concurrency arguments of every event or endpoint that generates with `engine`."""
    if engine is None:
        return {"concurrency_id": TEXT_OFF, "concurrency_limit": None}
    return {"concurrency_id": f"generate:{engine.name}", "concurrency_limit": concurrency_limit(engine, settings)}


def threads(runtime: Runtime) -> int:
    """The queue's slots: every generation group at its limit, and `LIGHT_THREADS` for everything else."""
    return LIGHT_THREADS + generation_slots((runtime.service.engine, runtime.service.text_engine), runtime.settings)
