"""Hub events to websocket clients: filters, a replay ring, bounded per-client queues."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from typing import NamedTuple

from app.core.settings import Settings
from app.hub.base import HubBackend, HubItem, Interruption
from app.metrics import HUB_GAPS, WS_CLIENTS, WS_SLOW_DISCONNECTS

log = logging.getLogger(__name__)

SLOW_CLOSE = (1013, "too slow: reconnect and subscribe with last_id to resume")
STOP_CLOSE = (1012, "server restarting: reconnect and subscribe with last_id to resume")
FAILED_CLOSE = (1011, "event hub failed: reconnect and subscribe with last_id to resume")

Outgoing = str | tuple[str, ...]
# Told the routing fields (org_unit, touchpoint, type) of every event read from the hub.
Observer = Callable[[str, str | None, str], None]
MANAGERS_ONLY = frozenset({"alert", "loop"})


@dataclass(frozen=True, slots=True)
class Filter:
    """What a client watches: an empty set means all.

    An event without touchpoint (the barometer of a whole org unit) matches any touchpoints.
    """

    org_units: frozenset[str] = frozenset()
    touchpoints: frozenset[str] = frozenset()
    # Alert and closed-loop events go to managers and admins only.
    alerts: bool = True

    def matches(self, org_unit: str, touchpoint: str | None, kind: str = "") -> bool:
        if kind in MANAGERS_ONLY and not self.alerts:
            return False
        return (not self.org_units or org_unit in self.org_units) and (
            not self.touchpoints or touchpoint is None or touchpoint in self.touchpoints
        )


class Subscriber:
    """One client's end of the fanout: a bounded queue of JSON text frames and a close signal.

    Drop policy: when the fanout finds the queue full it does not wait. It closes the subscriber
    with 1013 (counted in `voc_ws_slow_disconnects`); the client resumes with its last id.
    """

    def __init__(self, queue_size: int) -> None:
        self._queue: asyncio.Queue[Outgoing] = asyncio.Queue(queue_size)
        self.closed = asyncio.Event()
        self.close_code = 1000
        self.close_reason = ""

    @property
    def pending(self) -> int:
        """Queued items (a subscribe reply with its replay counts as one)."""
        return self._queue.qsize()

    async def get(self) -> tuple[str, ...]:
        """The next frames to send, in order."""
        item = await self._queue.get()
        return (item,) if isinstance(item, str) else item

    def offer(self, item: Outgoing) -> bool:
        """Queue `item` without waiting; a full queue closes the subscriber. False once closed."""
        if self.closed.is_set():
            return False
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            WS_SLOW_DISCONNECTS.inc()
            self.close(*SLOW_CLOSE)
            return False
        return True

    def close(self, code: int, reason: str) -> None:
        if not self.closed.is_set():
            self.close_code, self.close_reason = code, reason
            self.closed.set()


class _Entry(NamedTuple):
    id: int
    org_unit: str
    touchpoint: str | None
    kind: str
    text: str


class Fanout:
    """Reads the hub once for this app instance and hands every event to the matching clients.

    Each event is decoded and parsed once; all clients get the same text. Clients receive events
    in id order. Subscribing (reply, replay from the ring, registration for live events) happens
    in one step on the event loop, so a resume neither misses nor repeats an event.
    When ids break continuity (a lost Redis connection, a restarted Redis), the ring is emptied and
    every client gets a `gap` message telling it to reload history from the REST API.
    An `observer` hears of every event, once, whether or not a client watches it; it runs on the
    event loop and must not block.
    """

    def __init__(
        self, backend: HubBackend, settings: Settings, observer: Observer | None = None
    ) -> None:
        self._backend = backend
        self._observer = observer
        self._queue_size = settings.ws_client_queue
        self._ring: deque[_Entry] = deque(maxlen=settings.ws_replay_events)
        self._subscribers: dict[Subscriber, Filter] = {}
        self._latest = 0
        self._interrupted = False
        self._refusal: tuple[int, str] | None = None
        self._exit = AsyncExitStack()
        self._task: asyncio.Task[None] | None = None

    @property
    def latest_id(self) -> int:
        """The id of the newest event seen; 0 before the first."""
        return self._latest

    @property
    def oldest_id(self) -> int:
        """The oldest id a resume can replay; `latest_id + 1` when the ring is empty."""
        return self._ring[0].id if self._ring else self._latest + 1

    async def start(self) -> None:
        """Subscribe to the backend (in place when this returns) and start reading."""
        events = await self._exit.enter_async_context(self._backend.subscribe())
        self._task = asyncio.create_task(self._run(events), name="hub-fanout")

    async def stop(self) -> None:
        """Stop reading and close every client with 1012 (service restart)."""
        self._refuse(*STOP_CLOSE)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._exit.aclose()

    @contextmanager
    def connect(self) -> Iterator[Subscriber]:
        """A subscriber for one connection; it receives nothing until `subscribe`."""
        subscriber = Subscriber(self._queue_size)
        if self._refusal is not None:
            subscriber.close(*self._refusal)
        WS_CLIENTS.inc()
        try:
            yield subscriber
        finally:
            self._subscribers.pop(subscriber, None)
            WS_CLIENTS.dec()

    def subscribe(self, subscriber: Subscriber, watch: Filter, last_id: int | None = None) -> None:
        """Set the subscriber's filter and queue the `subscribed` reply.

        With `last_id` (a resume), the reply is followed by the matching ring events after it, or
        by a `gap` when the ring cannot cover them: too old, or newer than anything seen here
        (the hub restarted). Live events come after, in the same queue.
        """
        replay: tuple[str, ...] = ()
        gap: tuple[str, ...] = ()
        if last_id is not None:
            if last_id > self._latest or last_id + 1 < self.oldest_id:
                gap = (_gap(last_id, self.oldest_id, self._latest),)
            else:
                replay = tuple(
                    e.text
                    for e in self._ring
                    if e.id > last_id and watch.matches(e.org_unit, e.touchpoint, e.kind)
                )
        reply = {
            "type": "subscribed",
            "org_units": sorted(watch.org_units),
            "touchpoints": sorted(watch.touchpoints),
            "latest_id": self._latest,
            "replayed": len(replay),
        }
        if subscriber.offer((json.dumps(reply), *replay, *gap)):
            self._subscribers[subscriber] = watch
        else:
            self._subscribers.pop(subscriber, None)

    async def _run(self, events: AsyncIterator[HubItem]) -> None:
        try:
            async for item in events:
                if isinstance(item, Interruption):
                    self._interrupted = True
                    log.warning("hub subscription interrupted", extra={"reason": item.reason})
                    continue
                self._dispatch(*item)
                # Let client senders run between events: a burst already buffered by the backend
                # would otherwise be dispatched in one loop step and fill every client's queue.
                await asyncio.sleep(0)
        except Exception:
            log.exception("hub fanout failed; closing websocket clients")
        else:
            log.error("hub subscription ended; closing websocket clients")
        self._refuse(*FAILED_CLOSE)

    def _dispatch(self, event_id: int, framed: bytes) -> None:
        if self._interrupted or (self._latest and event_id != self._latest + 1):
            self._announce_gap(event_id)
        self._latest = event_id
        entry = _parse(event_id, framed)
        if entry is None:
            return
        self._ring.append(entry)
        if self._observer is not None:
            self._observer(entry.org_unit, entry.touchpoint, entry.kind)
        dropped = []
        for subscriber, watch in self._subscribers.items():
            matched = watch.matches(entry.org_unit, entry.touchpoint, entry.kind)
            if matched and not subscriber.offer(entry.text):
                dropped.append(subscriber)
        for subscriber in dropped:
            del self._subscribers[subscriber]

    def _announce_gap(self, event_id: int) -> None:
        HUB_GAPS.inc()
        log.warning(
            "hub event ids broke continuity; telling clients to reload",
            extra={"after": self._latest, "next": event_id, "clients": len(self._subscribers)},
        )
        self._interrupted = False
        self._ring.clear()
        gap = _gap(self._latest, event_id, event_id)
        for subscriber in [s for s in self._subscribers if not s.offer(gap)]:
            del self._subscribers[subscriber]

    def _refuse(self, code: int, reason: str) -> None:
        self._refusal = (code, reason)
        for subscriber in self._subscribers:
            subscriber.close(code, reason)
        self._subscribers.clear()


def _parse(event_id: int, framed: bytes) -> _Entry | None:
    try:
        text = framed.decode()
        fields = json.loads(text)
    except ValueError:
        fields = None
    if isinstance(fields, dict):
        org_unit, touchpoint = fields.get("org_unit"), fields.get("touchpoint")
        kind = fields.get("type")
        if isinstance(org_unit, str) and (touchpoint is None or isinstance(touchpoint, str)):
            return _Entry(
                event_id, org_unit, touchpoint, kind if isinstance(kind, str) else "", text
            )
    log.warning("skipping a hub event without routing fields", extra={"id": event_id})
    return None


def _gap(last_id: int, oldest_id: int, latest_id: int) -> str:
    message = {"type": "gap", "last_id": last_id, "oldest_id": oldest_id, "latest_id": latest_id}
    return json.dumps(message)
