"""The retry policy the channels share: bounded attempts, exponential backoff, then give up."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from alerts.notify.base import DeliveryResult


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one try came to; `retryable` says whether another try could do better."""

    ok: bool
    retryable: bool = False
    status_code: int | None = None
    error: str | None = None
    # What the server asked for (HTTP Retry-After), in seconds.
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most `max_attempts` tries; before try n+1 wait `backoff_s * 2**(n-1)`, capped.

    With `jitter`, each wait is drawn uniformly from its upper half, so that many workers
    failing together do not retry together; `rand` is injectable to keep tests exact.
    A server's Retry-After replaces the computed wait, capped the same way.
    """

    max_attempts: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    jitter: bool = False
    rand: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_s < 0 or self.max_backoff_s < 0:
            raise ValueError("backoff times cannot be negative")

    def delay(self, failed_attempts: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait after the `failed_attempts`-th failure (1 for the first)."""
        if retry_after_s is not None:
            return min(max(retry_after_s, 0.0), self.max_backoff_s)
        wait = min(self.backoff_s * 2.0 ** (failed_attempts - 1), self.max_backoff_s)
        if self.jitter:
            wait *= 0.5 + self.rand() / 2
        return wait


def run(
    channel: str,
    attempt: Callable[[int], Attempt],
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> DeliveryResult:
    """Call `attempt(n)` for n = 1, 2, … until it succeeds, fails for good or the policy ends.

    A non-retryable failure gives up at once; running out of attempts gives up with
    "gave up after N attempts: <last error>".
    """
    number = 0
    while True:
        number += 1
        outcome = attempt(number)
        if outcome.ok:
            return DeliveryResult(channel, True, number, outcome.status_code, outcome.error)
        if not outcome.retryable:
            return DeliveryResult(channel, False, number, outcome.status_code, outcome.error)
        if number >= policy.max_attempts:
            error = f"gave up after {number} attempts: {outcome.error}"
            return DeliveryResult(channel, False, number, outcome.status_code, error)
        sleep(policy.delay(number, outcome.retry_after_s))
