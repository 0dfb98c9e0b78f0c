"""The in-process hub: ids and delivery inside one process, for a single app instance."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from app.core.errors import HubUnavailable
from app.core.ports import EventSink
from app.hub.base import FramedEvent, HubBackend, HubItem, check_payloads, frame


class MemoryHub(HubBackend):
    """Ids are assigned on the event loop's thread, counting up from the start time in µs.

    Starting from the clock rather than 1 makes every id of a restarted app larger than any id
    the previous process handed out, so a client resuming with an old `last_id` gets a `gap`
    instead of silently receiving the new process's events as the ones it missed.

    Worker threads only hand their payloads to the loop (`call_soon_threadsafe` runs callbacks
    in call order), so the events of one sink keep their order.
    """

    def __init__(self, last_id: int | None = None) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_id = time.time_ns() // 1000 if last_id is None else last_id
        # Unbounded: the one reader, the fanout, never waits on a client, so it keeps up with
        # the loop. The bounds that matter are the per-client queues behind it.
        self._queues: set[asyncio.Queue[FramedEvent]] = set()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        self._loop = None

    def sink(self) -> EventSink:
        return _MemorySink(self)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[HubItem]]:
        queue: asyncio.Queue[FramedEvent] = asyncio.Queue()
        self._queues.add(queue)
        try:
            yield _QueueReader(queue)
        finally:
            self._queues.discard(queue)

    async def ping(self) -> None:
        if self._loop is None:
            raise HubUnavailable("the in-memory hub is not running")

    def _hand_off(self, payloads: Sequence[bytes]) -> None:
        checked = check_payloads(payloads)
        loop = self._loop
        if loop is None:
            raise HubUnavailable("the in-memory hub is not running")
        try:
            loop.call_soon_threadsafe(self._deliver, checked)
        except RuntimeError as exc:
            raise HubUnavailable("the in-memory hub's event loop is closed") from exc

    def _deliver(self, payloads: list[bytes]) -> None:
        for payload in payloads:
            self._last_id += 1
            event = (self._last_id, frame(self._last_id, payload))
            for queue in self._queues:
                queue.put_nowait(event)


class _MemorySink:
    def __init__(self, hub: MemoryHub) -> None:
        self._hub = hub

    def publish(self, payloads: Sequence[bytes]) -> None:
        if payloads:
            self._hub._hand_off(payloads)


class _QueueReader:
    def __init__(self, queue: asyncio.Queue[FramedEvent]) -> None:
        self._queue = queue

    def __aiter__(self) -> _QueueReader:
        return self

    async def __anext__(self) -> HubItem:
        return await self._queue.get()
