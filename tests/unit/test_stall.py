"""A worker failing on one batch: how long, when it is logged, when /readyz calls it degraded."""

from __future__ import annotations

from ingest.stall import DEGRADED_AFTER_S, LOG_EVERY_S, Stall


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_retries_are_logged_once_then_once_a_minute() -> None:
    clock = Clock()
    stall = Stall(clock)
    logged = []
    for _ in range(240):  # four retries a second for a minute
        logged.append(stall.failed("database is locked"))
        clock.now += 0.25
    logged.append(stall.failed("database is locked"))
    assert logged.count(True) == 2
    assert logged[0] is True
    assert logged[-1] is True
    assert stall.seconds() == 60


def test_progress_ends_the_stall_and_says_how_long_it_lasted() -> None:
    clock = Clock()
    stall = Stall(clock)
    assert stall.progressed() is None
    stall.failed("broker down")
    clock.now += 42
    assert stall.progressed() == 42
    assert stall.seconds() == 0
    assert stall.failed("broker down again") is True


def test_degraded_only_after_failing_a_while_and_not_after_recovery() -> None:
    clock = Clock()
    stall = Stall(clock)
    stall.failed("disk full")
    clock.now += DEGRADED_AFTER_S - 1
    assert stall.degraded() is None
    clock.now += 1
    assert stall.degraded() == f"stuck for {DEGRADED_AFTER_S:.0f} s on one batch: disk full"
    stall.progressed()
    assert stall.degraded() is None
    assert LOG_EVERY_S >= DEGRADED_AFTER_S
