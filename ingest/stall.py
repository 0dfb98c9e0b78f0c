"""How long a worker has been failing to get past the batch in hand, and when to say so again."""

from __future__ import annotations

import time
from collections.abc import Callable

# Retries come several a second at first; a log line each would bury everything else.
LOG_EVERY_S = 60.0
# Shorter failures are the retries a database or broker restart costs, not a stuck worker.
DEGRADED_AFTER_S = 10.0


class Stall:
    """Failures since the worker last made progress (committed a batch, or caught up).

    Read from other threads (/readyz, /metrics): each read is of one attribute, so it needs no
    lock under the GIL.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._since: float | None = None
        self._logged_at = 0.0
        self.error = ""

    def failed(self, error: str) -> bool:
        """Count a failure; whether to log it (the first, then one a minute while they last)."""
        now = self._clock()
        self.error = error
        if self._since is None:
            self._since = now
        elif now - self._logged_at < LOG_EVERY_S:
            return False
        self._logged_at = now
        return True

    def progressed(self) -> float | None:
        """Count progress; the seconds it had been stalled, when it was."""
        since, self._since = self._since, None
        return None if since is None else self._clock() - since

    def seconds(self) -> float:
        since = self._since
        return 0.0 if since is None else self._clock() - since

    def degraded(self) -> str | None:
        """Why the worker is not doing its job, once it has failed for `DEGRADED_AFTER_S`."""
        stalled = self.seconds()
        if stalled < DEGRADED_AFTER_S:
            return None
        return f"stuck for {stalled:.0f} s on one batch: {self.error}"
