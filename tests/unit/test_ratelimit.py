"""Token buckets: a burst passes, then the rate holds, and the wait to announce is right."""

from __future__ import annotations

import math

from app.core.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_caller_waits_for_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2, burst=4, clock=clock)
    assert [limiter.take("k") for _ in range(4)] == [0, 0, 0, 0]
    assert limiter.take("k") == 0.5  # one token comes back every half second
    clock.now += 0.5
    assert limiter.take("k") == 0


def test_a_batch_costs_its_size_and_is_refused_whole() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=10, burst=100, clock=clock)
    assert limiter.take("k", cost=80) == 0
    assert limiter.take("k", cost=30) == 1.0  # 20 left, 10 more needed at 10/s
    assert limiter.take("k", cost=20) == 0  # the refused batch took nothing
    assert limiter.take("k", cost=101) == math.inf


def test_keys_have_their_own_buckets() -> None:
    limiter = RateLimiter(rate=1, burst=1, clock=Clock())
    assert limiter.take("a") == 0
    assert limiter.take("a") > 0
    assert limiter.take("b") == 0


def test_idle_buckets_are_forgotten_so_memory_follows_active_callers() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1, burst=1, clock=clock)
    for i in range(2000):
        limiter.take(f"client-{i}")
    clock.now += 5
    limiter.take("new")
    assert len(limiter._buckets) == 1
