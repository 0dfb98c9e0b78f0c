"""Token buckets per caller: how ingest keys and sign-in attempts are slowed (clock injectable)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`rate` tokens a second up to `burst`, one bucket per key, kept in this process.

    `take` answers 0 when the cost was taken, else the seconds to wait before it could be: the
    value of a Retry-After header. Buckets that have refilled are forgotten, so memory follows
    the active keys only.
    """

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        self._rate, self._burst, self._clock = rate, burst, clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, cost: float = 1.0) -> float:
        now = self._clock()
        self._forget_full(now)
        bucket = self._buckets.get(key) or _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        self._buckets[key] = bucket
        if cost > self._burst:
            # Never affordable: say how long a full bucket takes, the caller must split it.
            return math.inf
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return 0.0
        return (cost - bucket.tokens) / self._rate

    def _forget_full(self, now: float) -> None:
        if len(self._buckets) < 1024:
            return
        refill_s = self._burst / self._rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < refill_s}
