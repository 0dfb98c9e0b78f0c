"""The contract every hub backend keeps: how events are published, numbered and read back."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from app import metrics
from app.core.errors import HubUnavailable
from app.core.ports import EventSink

log = logging.getLogger(__name__)

FramedEvent = tuple[int, bytes]
"""An event as the hub hands it out: its id, and its bytes `{"id":<id>,...}` ready to send."""


@dataclass(frozen=True, slots=True)
class Interruption:
    """The subscription was lost and re-established: events published meanwhile were not seen.

    The next event's id may be anything (Redis may even have restarted and begun again at 1).
    """

    reason: str


HubItem = FramedEvent | Interruption


class HubBackend(ABC):
    """One event hub: publishers hand it serialized events, it numbers them and fans them in.

    Ids: the hub gives each published event the next integer id, in publish order, and frames it
    once as `{"id":<id>,` + the payload without its opening brace. Every subscriber receives the
    same bytes. Ids of one backend instance only grow; a restart of the backend's store (the
    process for memory://, the server for redis://) may begin again at 1.

    Delivery is live only, like Redis pub/sub: a subscription sees the events published while it
    is subscribed, in id order, and nothing from before. The database holds the history.
    """

    @abstractmethod
    async def start(self) -> None:
        """Prepare clients; call on the event loop that will read the events."""

    @abstractmethod
    async def stop(self) -> None:
        """Release connections. Sinks handed out before raise `HubUnavailable` afterwards."""

    @abstractmethod
    def sink(self) -> EventSink:
        """A publisher for worker threads: blocking, thread-safe, raises `HubUnavailable`."""

    @abstractmethod
    def subscribe(self) -> AbstractAsyncContextManager[AsyncIterator[HubItem]]:
        """Subscribe; on entry the subscription is in place, so every later publish is seen.

        The iterator yields `(id, framed_bytes)` in id order. After a lost connection it yields
        an `Interruption` once it is subscribed again, then carries on.
        """

    @abstractmethod
    async def ping(self) -> None:
        """Return when the backend answers; raise `HubUnavailable` otherwise (for /readyz)."""


def check_payloads(payloads: Sequence[bytes]) -> list[bytes]:
    """The payloads as a list, refusing any that framing would turn into invalid JSON."""
    checked = list(payloads)
    for payload in checked:
        # Framing splices `"id":N,` after the opening brace; it needs a compact object with a key.
        if not payload.startswith(b'{"'):
            raise ValueError(f"hub payload must be a JSON object with a field: {payload[:40]!r}")
    return checked


def frame(event_id: int, payload: bytes) -> bytes:
    """`payload` with `"id":event_id` as its first field."""
    return b'{"id":%d,%s' % (event_id, payload[1:])


def publish_saved(publish: Callable[[Sequence[bytes]], None], payloads: Sequence[bytes]) -> None:
    """Push events of a change already saved. A hub outage loses only the live push (cockpits
    see the change on their next reload): it is logged and counted, never raised, so that the
    caller does not have a person retry a step already made."""
    try:
        publish(payloads)
    except HubUnavailable as exc:
        metrics.HUB_PUBLISH_FAILURES.inc()
        log.error("hub unavailable; change saved but not pushed live", extra={"error": str(exc)})
