"""The writing end of a websocket as the fanout sees it, recording what it was sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.hub.fanout import Fanout, Subscriber

Event = dict[str, Any]


class Socket:
    """What was written to one socket, frame by frame and as the page reads it (a batch frame's
    events one by one). A `stalled` socket never finishes a write, like a client that stopped
    reading once its buffers are full."""

    def __init__(self, stalled: bool = False) -> None:
        self.frames: list[str] = []
        self.messages: list[Event] = []
        self.read = 0
        self.stalled = stalled
        self._arrived = asyncio.Event()
        self.subscriber: Subscriber
        # Set when the server closes the socket, with the code and reason it sent.
        self.closing = asyncio.Event()
        self.close_code = 0
        self.close_reason = ""

    def close(self, code: int, reason: str) -> None:
        self.close_code, self.close_reason = code, reason
        self.closing.set()

    async def send(self, frame: str) -> None:
        if self.stalled:
            await asyncio.Event().wait()
        self.frames.append(frame)
        decoded = json.loads(frame)
        self.messages.extend(decoded["events"] if decoded.get("type") == "batch" else [decoded])
        self._arrived.set()

    async def get(self) -> list[Event]:
        """The messages not read yet, waiting for at least one."""
        while self.read == len(self.messages):
            self._arrived.clear()
            await self._arrived.wait()
        unread = self.messages[self.read :]
        self.read = len(self.messages)
        return unread

    async def take(self, count: int) -> list[Event]:
        """The next `count` messages, waiting up to 5 s for them."""
        async with asyncio.timeout(5):
            while len(self.messages) < self.read + count:
                self._arrived.clear()
                await self._arrived.wait()
        taken = self.messages[self.read : self.read + count]
        self.read += count
        return taken


@contextmanager
def connected(fanout: Fanout, stalled: bool = False) -> Iterator[Socket]:
    """A socket connected to `fanout`; it receives nothing until subscribed."""
    socket = Socket(stalled)
    with fanout.connect(socket.send, socket.close) as subscriber:
        socket.subscriber = subscriber
        yield socket
