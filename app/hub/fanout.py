"""Hub events to websocket clients: routing by unit, a replay ring, gaps, bounded outboxes."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from itertools import chain
from typing import NamedTuple

from app.core.settings import Settings
from app.hub.base import HubBackend, HubItem, Interruption
from app.hub.outbox import Flusher, Send, Subscriber, batch
from app.metrics import HUB_GAPS, WS_CLIENTS, WS_DELIVERY_LAG

log = logging.getLogger(__name__)

__all__ = ["Fanout", "Filter", "Subscriber"]

STOP_CLOSE = (1012, "server restarting: reconnect and subscribe with last_id to resume")
FAILED_CLOSE = (1011, "event hub failed: reconnect and subscribe with last_id to resume")

# Told the routing fields (org_unit, touchpoint, type) of every event read from the hub.
Observer = Callable[[str, str | None, str], None]
MANAGERS_ONLY = frozenset({"alert", "loop"})
# Events of which only the newest per unit matters to a client that has not received it yet.
COALESCED = frozenset({"loop"})
# Events dispatched between two turns of the loop during a burst, so flushes and requests run.
TURN_EVENTS = 32


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
        return (not self.org_units or org_unit in self.org_units) and self.wants(touchpoint, kind)

    def wants(self, touchpoint: str | None, kind: str) -> bool:
        """What is left to check once the unit index has found this filter."""
        if kind in MANAGERS_ONLY and not self.alerts:
            return False
        return not self.touchpoints or touchpoint is None or touchpoint in self.touchpoints


class _Routes:
    """Which subscribers' filters hold a unit: an event costs the clients watching its unit."""

    def __init__(self) -> None:
        self.filters: dict[Subscriber, Filter] = {}
        self._by_unit: dict[str, dict[Subscriber, Filter]] = {}
        self._everywhere: dict[Subscriber, Filter] = {}

    def set(self, subscriber: Subscriber, watch: Filter) -> None:
        self.discard(subscriber)
        self.filters[subscriber] = watch
        if not watch.org_units:
            self._everywhere[subscriber] = watch
        for unit in watch.org_units:
            self._by_unit.setdefault(unit, {})[subscriber] = watch

    def discard(self, subscriber: Subscriber) -> None:
        watch = self.filters.pop(subscriber, None)
        if watch is None:
            return
        self._everywhere.pop(subscriber, None)
        for unit in watch.org_units:
            watching = self._by_unit[unit]
            del watching[subscriber]
            if not watching:
                del self._by_unit[unit]

    def of(self, org_unit: str) -> Iterator[tuple[Subscriber, Filter]]:
        """The subscribers whose filter holds `org_unit`, with their filters."""
        watching = self._by_unit.get(org_unit)
        if watching is None:
            return iter(self._everywhere.items())
        return chain(watching.items(), self._everywhere.items())


class _Entry(NamedTuple):
    id: int
    org_unit: str
    touchpoint: str | None
    kind: str
    text: str


class Fanout:
    """Reads the hub once for this app instance and hands every event to the matching clients.

    Each event is decoded and parsed once; all clients get the same text, found by the unit index,
    queued in their outboxes and written by one flusher (`app.hub.outbox`). Clients receive events
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
        # A client that keeps up must never hold more than its bound between two flushes.
        self._turn = max(1, min(TURN_EVENTS, self._queue_size // 2))
        self._ring: deque[_Entry] = deque(maxlen=settings.ws_replay_events)
        self._routes = _Routes()
        self._flusher = Flusher()
        self._latest = 0
        self._resync = False
        self._refusal: tuple[int, str] | None = None
        self._exit = AsyncExitStack()
        self._task: asyncio.Task[None] | None = None

    @property
    def latest_id(self) -> int:
        """The id of the newest event seen; 0 before the first."""
        return self._latest

    @property
    def clients(self) -> int:
        """Clients subscribed here."""
        return len(self._routes.filters)

    @property
    def oldest_id(self) -> int:
        """The oldest id a resume can replay; `latest_id + 1` when the ring is empty."""
        return self._ring[0].id if self._ring else self._latest + 1

    async def start(self) -> None:
        """Subscribe to the backend (in place when this returns) and start reading."""
        events = await self._exit.enter_async_context(self._backend.subscribe())
        self._task = asyncio.create_task(self._run(events), name="hub-fanout")
        WS_DELIVERY_LAG.set_function(self.lag)

    def lag(self) -> float:
        """Seconds the oldest event read here has been waiting for a socket write; 0 if none."""
        return self._flusher.lag()

    async def stop(self) -> None:
        """Stop reading and close every client with 1012 (service restart)."""
        self._refuse(*STOP_CLOSE)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._exit.aclose()

    @contextmanager
    def connect(
        self, send: Send, on_close: Callable[[int, str], object] = lambda code, reason: None
    ) -> Iterator[Subscriber]:
        """A subscriber for one connection, written with `send` and closed with `on_close`; it
        receives nothing until `subscribe`, except the replies and errors offered to it."""
        subscriber = Subscriber(self._queue_size, send, self._flusher.mark, on_close)
        if self._refusal is not None:
            subscriber.close(*self._refusal)
        WS_CLIENTS.inc()
        try:
            yield subscriber
        finally:
            self._routes.discard(subscriber)
            self._flusher.forget(subscriber)
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
        frames = (json.dumps(reply), *replay, *gap)
        # One frame, one place in the outbox: a replay is bounded by the ring, not the outbox.
        if subscriber.offer(frames[0] if len(frames) == 1 else batch(frames)):
            self._routes.set(subscriber, watch)
        else:
            self._routes.discard(subscriber)

    async def _run(self, events: AsyncIterator[HubItem]) -> None:
        dispatched = 0
        try:
            async for item in events:
                if isinstance(item, Interruption):
                    log.warning("hub subscription interrupted", extra={"reason": item.reason})
                    # Tell clients now, not with the next event, which may be a while coming.
                    self._announce_gap(self._latest + 1, latest_id=self._latest)
                    self._resync = True
                    continue
                self._dispatch(*item)
                dispatched += 1
                if dispatched % self._turn == 0:
                    # A burst the backend already holds is read without waiting: give the loop
                    # a turn now and then, so the flusher writes before outboxes fill up.
                    await asyncio.sleep(0)
        except Exception:
            log.exception("hub fanout failed; closing websocket clients")
        else:
            log.error("hub subscription ended; closing websocket clients")
        self._refuse(*FAILED_CLOSE)

    def _dispatch(self, event_id: int, framed: bytes) -> None:
        if self._resync:
            self._resync = False  # whatever id comes after an interruption is the new baseline
        elif self._latest and event_id != self._latest + 1:
            self._announce_gap(event_id)
        self._latest = event_id
        entry = _parse(event_id, framed)
        if entry is None:
            return
        self._ring.append(entry)
        if self._observer is not None:
            self._observer(entry.org_unit, entry.touchpoint, entry.kind)
        key = f"{entry.kind}:{entry.org_unit}" if entry.kind in COALESCED else None
        dropped = [
            subscriber
            for subscriber, watch in self._routes.of(entry.org_unit)
            if watch.wants(entry.touchpoint, entry.kind) and not subscriber.offer(entry.text, key)
        ]
        for subscriber in dropped:
            self._routes.discard(subscriber)

    def _announce_gap(self, event_id: int, latest_id: int | None = None) -> None:
        """Tell every client to reload: events before `event_id` may be lost to them."""
        HUB_GAPS.inc()
        log.warning(
            "hub event ids broke continuity; telling clients to reload",
            extra={"after": self._latest, "next": event_id, "clients": len(self._routes.filters)},
        )
        self._ring.clear()
        gap = _gap(self._latest, event_id, event_id if latest_id is None else latest_id)
        for subscriber in [s for s in self._routes.filters if not s.offer(gap)]:
            self._routes.discard(subscriber)

    def _refuse(self, code: int, reason: str) -> None:
        self._refusal = (code, reason)
        for subscriber in list(self._routes.filters):
            subscriber.close(code, reason)
            self._routes.discard(subscriber)


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
