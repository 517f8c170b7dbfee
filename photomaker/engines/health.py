"""Whether a remote engine can be reached at all, checked once at start, off the start-up path.

The app never waits on the network to start: the check runs in a background thread. When it
fails (a refused token, an unknown Space, an address that does not answer) one clear line goes
to the log and the page says so; the app keeps running and generations refund on failure.
"""

from __future__ import annotations

import logging
import threading

from photomaker.core.errors import ErrorCode, PhotoMakerError
from photomaker.engines.base import Engine

log = logging.getLogger(__name__)

STARTUP_PROBLEMS: dict[ErrorCode, str] = {
    "AUTH_FAILED": "it refused the token; check HF_TOKEN",
    "BACKEND_UNAVAILABLE": "it did not answer or does not exist; check its name or address",
    "GENERATION_TIMEOUT": "it did not answer in time",
    "RATE_LIMIT_EXCEEDED": "it is rate-limiting this app",
    "MODEL_LOADING": "its model is still loading",
}


class EngineHealth:
    """The start-up check of one engine; `problem` is None until the check fails."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.problem: str | None = None
        self._done = threading.Event()

    def start(self) -> EngineHealth:
        """Run the check in a daemon thread and return at once."""
        threading.Thread(target=self._run, name=f"check-{self.engine.name}", daemon=True).start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the check to finish; True if it has."""
        return self._done.wait(timeout)

    def _run(self) -> None:
        try:
            self.engine.check()
        except PhotoMakerError as error:
            self._fail(f"{STARTUP_PROBLEMS.get(error.code, error.message)} [{error.code}]")
        except Exception:
            log.debug("the start-up check of engine %s broke", self.engine.name, exc_info=True)
            self._fail("its start-up check failed unexpectedly [INTERNAL]")
        finally:
            self._done.set()

    def _fail(self, problem: str) -> None:
        self.problem = problem
        log.error(
            "engine %s cannot be used: %s; the app runs, but its generations will fail until this is fixed",
            self.engine.name,
            problem,
        )
