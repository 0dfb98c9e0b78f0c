"""Each websocket client's pending frames, and the one writer that flushes them all.

Nothing here waits on a client. Events are queued into a bounded outbox per client; a flush,
scheduled once per loop turn however many events arrived, writes each outbox that has
something as one frame: the event alone, or a batch frame holding all its pending events in
order. A client that keeps up gets one frame per event; a client behind by k events gets one
frame for the k, so a burst costs frames per client, not frames per event.

A write is started on the spot and runs to its end within the flush when the socket can take
it (the usual case: writing to a socket whose buffer is not full does not wait). Only a write
the socket makes wait is carried on by a task of its own; its client gets nothing more until
that write is done, and meanwhile its events pile up in its outbox, up to the bound.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Generator, Iterable
from typing import Any

from app.metrics import WS_BATCHES, WS_COALESCED, WS_SLOW_DISCONNECTS

log = logging.getLogger(__name__)

SLOW_CLOSE = (1013, "too slow: reconnect and subscribe with last_id to resume")

Send = Callable[[str], Coroutine[Any, Any, None]]
# Told a subscriber has something to write (called once, when its outbox stops being empty).
Ready = Callable[["Subscriber"], None]


def batch(frames: Iterable[str]) -> str:
    """One frame carrying `frames`, in order: `{"type":"batch","events":[...]}`."""
    return '{"type":"batch","events":[' + ",".join(frames) + "]}"


class Subscriber:
    """One client's outbox: its pending frames, its close signal, its write in flight.

    Two kinds of frames, two policies:
    - events (comments, flags, alerts, replies) are kept in order and never dropped. More than
      `limit` of them waiting means the client does not keep up: it is closed with 1013
      (counted in `voc_ws_slow_disconnects`), and resumes from the replay ring with its last id;
    - frames offered with a `key` (a barometer, a unit's loop figures) keep only the newest per
      key: an unsent older one is replaced (counted in `voc_ws_coalesced`). They go after the
      pending events of the same write.
    """

    # Thousands live for hours: no per-instance dict.
    __slots__ = (
        "_events",
        "_latest",
        "_limit",
        "_on_close",
        "_ready",
        "_send",
        "close_code",
        "close_reason",
        "closed",
        "since",
        "writing",
    )

    def __init__(
        self,
        limit: int,
        send: Send,
        ready: Ready = lambda _: None,
        on_close: Callable[[int, str], object] = lambda code, reason: None,
    ) -> None:
        self._limit = limit
        self._send = send
        self._ready = ready
        self._on_close = on_close
        self._events: list[str] = []
        self._latest: dict[str, str] = {}
        # When the oldest frame still waiting here was queued (monotonic), None when empty.
        self.since: float | None = None
        self.writing: asyncio.Future[None] | None = None
        self.closed = False
        self.close_code = 1000
        self.close_reason = ""

    @property
    def pending(self) -> int:
        """Frames waiting to be written."""
        return len(self._events) + len(self._latest)

    def offer(self, frame: str, key: str | None = None) -> bool:
        """Queue `frame` without waiting; False once the client is closed (or closed by this)."""
        if self.closed:
            return False
        if key is None:
            if len(self._events) >= self._limit:
                WS_SLOW_DISCONNECTS.inc()
                self.close(*SLOW_CLOSE)
                return False
            self._events.append(frame)
        else:
            if key in self._latest:
                WS_COALESCED.inc()
                del self._latest[key]  # so the newest goes last
            self._latest[key] = frame
        if self.since is None:
            self.since = time.monotonic()
            self._ready(self)
        return True

    def take(self) -> list[str]:
        """Everything pending, in the order to write it, emptying the outbox."""
        frames = self._events
        if self._latest:
            frames = [*frames, *self._latest.values()]
            self._latest = {}
        self._events = []
        self.since = None
        return frames

    def start_write(self, frame: str) -> asyncio.Future[None] | None:
        """Write `frame` now; a future when the socket made the write wait, else None."""
        return run_eagerly(self._send(frame))

    def close(self, code: int, reason: str) -> None:
        if not self.closed:
            self.close_code, self.close_reason = code, reason
            self._events, self._latest, self.since = [], {}, None
            self.closed = True
            self._on_close(code, reason)


class Flusher:
    """Writes every subscriber that has something pending, once per loop turn."""

    def __init__(self) -> None:
        self._ready: dict[Subscriber, None] = {}
        self._writing: set[Subscriber] = set()
        self._scheduled = False

    def mark(self, subscriber: Subscriber) -> None:
        """`subscriber` has something to write: flush it on the next loop turn."""
        self._ready[subscriber] = None
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def forget(self, subscriber: Subscriber) -> None:
        """The client is gone: drop its pending write."""
        self._ready.pop(subscriber, None)
        self._writing.discard(subscriber)
        if subscriber.writing is not None:
            subscriber.writing.cancel()

    def lag(self) -> float:
        """Age in seconds of the oldest frame queued here and not yet written; 0 when none."""
        oldest = min(
            (s.since for s in (*self._ready, *self._writing) if s.since is not None),
            default=None,
        )
        return 0.0 if oldest is None else time.monotonic() - oldest

    def flush(self) -> None:
        self._scheduled = False
        ready, self._ready = self._ready, {}
        # Clients watching the same thing have the same frames pending: join them once.
        batches: dict[tuple[str, ...], str] = {}
        batched = 0
        for subscriber in ready:
            if subscriber.writing is not None or subscriber.closed:
                continue  # its write in flight re-marks it when done
            frames = subscriber.take()
            if len(frames) == 1:
                self._start(subscriber, frames[0])
            elif frames:
                key = tuple(frames)
                joined = batches.get(key)
                if joined is None:
                    joined = batches[key] = batch(frames)
                batched += 1
                self._start(subscriber, joined)
        if batched:
            WS_BATCHES.inc(batched)

    def _start(self, subscriber: Subscriber, frame: str) -> None:
        try:
            waiting = subscriber.start_write(frame)
        except Exception as exc:
            # The socket is gone; its handler sees the disconnect and cleans up.
            log.debug("websocket write failed", extra={"error": repr(exc)})
            subscriber.close(1011, "write failed")
            return
        if waiting is not None:
            subscriber.writing = waiting
            self._writing.add(subscriber)
            waiting.add_done_callback(lambda done: self._written(subscriber, done))

    def _written(self, subscriber: Subscriber, done: asyncio.Future[None]) -> None:
        subscriber.writing = None
        self._writing.discard(subscriber)
        if done.cancelled():
            return
        if done.exception() is not None:
            subscriber.close(1011, "write failed")
        elif subscriber.since is not None:
            self.mark(subscriber)


def run_eagerly(coroutine: Coroutine[Any, Any, None]) -> asyncio.Future[None] | None:
    """Run `coroutine` on the spot until it first waits; None if it finished without waiting.

    Otherwise a task carries it on from where it stopped. This is what Python 3.12's eager
    tasks do: a write to a socket with room to spare costs no task and no loop turn.
    """
    try:
        waiting = coroutine.send(None)
    except StopIteration:
        return None
    carried = asyncio.ensure_future(_carry_on(coroutine, waiting))
    # Cancelled before its first step, the task never reached `coroutine`: end it here.
    carried.add_done_callback(lambda _: coroutine.close())
    return carried


async def _carry_on(coroutine: Coroutine[Any, Any, None], waiting: Any) -> None:
    await _Resumed(coroutine, waiting)


class _Resumed:
    """Awaits what a started coroutine was waiting for, then drives it to its end."""

    def __init__(self, coroutine: Coroutine[Any, Any, None], waiting: Any) -> None:
        self._coroutine = coroutine
        self._waiting = waiting

    def __await__(self) -> Generator[Any, None, None]:
        coroutine, waiting = self._coroutine, self._waiting
        while True:
            try:
                yield waiting
            except BaseException as exc:  # a cancellation: hand it to the coroutine
                try:
                    waiting = coroutine.throw(exc)
                except StopIteration:
                    return
                continue
            try:
                waiting = coroutine.send(None)
            except StopIteration:
                return
