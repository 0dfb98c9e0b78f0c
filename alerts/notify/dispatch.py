"""Notifications delivered off the caller's thread: one bounded lane of workers per channel."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from alerts.notify.base import DeliveryResult, Notifier
from alerts.notify.message import Notification

log = logging.getLogger(__name__)

OnResult = Callable[[Notification, DeliveryResult], None]


class Dispatcher:
    """Hands notifications to background threads; `submit` never blocks and never raises.

    Each notifier gets its own lane: a queue of at most `queue_size` notifications and
    `workers` threads, so a dead webhook, retrying with backoff, holds up neither the
    caller nor the e-mail. Drop policy: a notification that does not fit in a lane's queue is
    not delivered on that channel and `on_result` hears so at once (ok=False, "queue full");
    `dropped` counts them. Every submitted notification gets exactly one `on_result` call per
    channel, from a worker thread (or from the caller's, when refused): it must be thread-safe
    and should be quick; an exception it raises is logged and ignored.
    """

    def __init__(
        self,
        notifiers: Sequence[Notifier],
        on_result: OnResult,
        *,
        queue_size: int = 10_000,
        workers: int = 2,
    ) -> None:
        if queue_size < 1 or workers < 1:
            raise ValueError("queue_size and workers must be at least 1")
        self._on_result = on_result
        self._lanes = [_Lane(n, self._report, queue_size, workers) for n in notifiers]
        self._lock = threading.Lock()
        self._dropped = 0

    @property
    def dropped(self) -> int:
        """Deliveries refused because a lane's queue was full, since the start."""
        with self._lock:
            return self._dropped

    @property
    def pending(self) -> int:
        """Deliveries waiting in the queues (not counting those being attempted)."""
        return sum(lane.pending for lane in self._lanes)

    def submit(self, notification: Notification) -> bool:
        """Queue `notification` on every channel; False if some channel refused it."""
        accepted = True
        for lane in self._lanes:
            refusal = lane.offer(notification)
            if refusal is not None:
                accepted = False
                if refusal == "queue full":
                    with self._lock:
                        self._dropped += 1
                self._report(notification, DeliveryResult(lane.channel, False, 0, error=refusal))
        return accepted

    def close(self, timeout_s: float = 30.0) -> bool:
        """Stop taking notifications and deliver those queued, waiting at most `timeout_s`.

        Whatever is still queued at the deadline is reported as not delivered ("dispatcher
        closed"); deliveries under way then finish in the background (daemon threads).
        True if every queued notification was delivered in time.
        """
        for lane in self._lanes:
            lane.close()
        deadline = time.monotonic() + timeout_s
        drained = True
        for lane in self._lanes:
            drained = lane.join(deadline) and drained
        return drained

    def _report(self, notification: Notification, result: DeliveryResult) -> None:
        try:
            self._on_result(notification, result)
        except Exception:
            log.exception(
                "recording a notification result failed",
                extra={"alert_id": notification.alert_id, "channel": result.channel},
            )


class _Lane:
    """One channel's bounded queue and its worker threads."""

    def __init__(self, notifier: Notifier, report: OnResult, size: int, workers: int) -> None:
        self.channel = notifier.channel
        self._notifier = notifier
        self._report = report
        self._size = size
        self._items: deque[Notification] = deque()
        self._ready = threading.Condition()
        self._closing = False
        self._threads = [
            threading.Thread(target=self._work, name=f"notify-{self.channel}-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def pending(self) -> int:
        with self._ready:
            return len(self._items)

    def offer(self, notification: Notification) -> str | None:
        """Queue it; or say why not."""
        with self._ready:
            if self._closing:
                return "dispatcher closed"
            if len(self._items) >= self._size:
                return "queue full"
            self._items.append(notification)
            self._ready.notify()
        return None

    def close(self) -> None:
        with self._ready:
            self._closing = True
            self._ready.notify_all()

    def join(self, deadline: float) -> bool:
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0))
        with self._ready:
            left = list(self._items)
            self._items.clear()
        for notification in left:
            self._report(
                notification, DeliveryResult(self.channel, False, 0, error="dispatcher closed")
            )
        return not left and not any(thread.is_alive() for thread in self._threads)

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._items and not self._closing:
                    self._ready.wait()
                if not self._items:
                    return
                notification = self._items.popleft()
            self._report(notification, self._deliver(notification))

    def _deliver(self, notification: Notification) -> DeliveryResult:
        try:
            return self._notifier.deliver(notification)
        except Exception as exc:
            # A notifier must not raise; if one does, the worker lives on and says so.
            log.exception("notifier raised", extra={"channel": self.channel})
            return DeliveryResult(self.channel, False, 0, error=f"{type(exc).__name__}: {exc}")
