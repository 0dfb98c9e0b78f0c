"""The in-process hub: ids and delivery inside one process, for a single app instance."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from app.core.errors import HubUnavailable
from app.core.ports import EventSink
from app.hub.base import FramedEvent, HubBackend, HubItem, Interruption, check_payloads, frame
from app.metrics import HUB_DROPPED


class MemoryHub(HubBackend):
    """Ids are assigned on the event loop's thread, counting up from the start time in µs.

    Starting from the clock rather than 1 makes every id of a restarted app larger than any id
    the previous process handed out, so a client resuming with an old `last_id` gets a `gap`
    instead of silently receiving the new process's events as the ones it missed.

    Worker threads only hand their payloads to the loop (`call_soon_threadsafe` runs callbacks
    in call order), so the events of one sink keep their order.
    """

    def __init__(self, last_id: int | None = None, backlog: int = 10_000) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_id = time.time_ns() // 1000 if last_id is None else last_id
        # The reader, the fanout, never waits on a client; it falls this far behind only when
        # the loop itself is overloaded. Events beyond are dropped and counted: the jump in ids
        # then makes the fanout tell its clients to reload.
        self._backlog = backlog
        self._backlogs: set[_Backlog] = set()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        self._loop = None

    def sink(self) -> EventSink:
        return _MemorySink(self)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[HubItem]]:
        backlog = _Backlog(self._backlog)
        self._backlogs.add(backlog)
        try:
            yield backlog
        finally:
            self._backlogs.discard(backlog)

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
            for backlog in self._backlogs:
                backlog.put(event)


class _MemorySink:
    def __init__(self, hub: MemoryHub) -> None:
        self._hub = hub

    def publish(self, payloads: Sequence[bytes]) -> None:
        if payloads:
            self._hub._hand_off(payloads)


class _Backlog:
    """One subscription's unread events, at most `bound`. Past it, events are dropped until the
    reader catches up, and it reads an `Interruption` where they would have been."""

    def __init__(self, bound: int) -> None:
        self._bound = bound
        self._queue: asyncio.Queue[HubItem] = asyncio.Queue()
        self._overrun = False

    def put(self, event: FramedEvent) -> None:
        if self._overrun or self._queue.qsize() >= self._bound:
            HUB_DROPPED.inc()
            if not self._overrun:
                self._overrun = True
                self._queue.put_nowait(Interruption("the reader fell behind; events dropped"))
            return
        self._queue.put_nowait(event)

    def __aiter__(self) -> _Backlog:
        return self

    async def __anext__(self) -> HubItem:
        item = await self._queue.get()
        if isinstance(item, Interruption):
            self._overrun = False
        return item
