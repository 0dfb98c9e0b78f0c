"""The cockpit websocket at /ws: subscribe with a filter, receive hub events as JSON text."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from contextlib import suppress
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, WebSocket
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app.core.events import Slug, explain
from app.hub.fanout import Fanout, Filter, Subscriber

log = logging.getLogger(__name__)

router = APIRouter(tags=["websocket"])

MAX_FILTER_VALUES = 1000


class SubscribeMessage(BaseModel):
    """What a client sends to subscribe, or to change its filter; every field is optional."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["subscribe"] = "subscribe"
    org_units: list[Slug] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    touchpoints: list[Slug] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    last_id: StrictInt | None = Field(default=None, ge=0)


def get_fanout(websocket: WebSocket) -> Fanout:
    """The fanout the app factory keeps in `app.state.runtime`."""
    # Read by attribute, not through app.api.deps: this route needs no broker or database code.
    fanout: Fanout = websocket.app.state.runtime.fanout
    return fanout


FanoutDep = Annotated[Fanout, Depends(get_fanout)]


@router.websocket("/ws")
async def cockpit_events(websocket: WebSocket, fanout: FanoutDep) -> None:
    """Hub events for one cockpit; the protocol is in docs/websocket.md."""
    await websocket.accept()
    with fanout.connect() as subscriber:
        failures = await _first_done(
            _receive(websocket, fanout, subscriber),
            _send(websocket, subscriber),
            subscriber.closed.wait(),
        )
        for failure in failures:
            log.error("websocket connection failed", exc_info=failure)
        if subscriber.closed.is_set():
            await _close(websocket, subscriber)


async def _receive(websocket: WebSocket, fanout: Fanout, subscriber: Subscriber) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        data = message.get("text")
        if data is None:
            data = message.get("bytes") or b""
        try:
            request = SubscribeMessage.model_validate_json(data)
        except ValidationError as exc:
            error = {"type": "error", "message": explain(exc, whole="message")}
            subscriber.offer(json.dumps(error))
            continue
        watch = Filter(frozenset(request.org_units), frozenset(request.touchpoints))
        fanout.subscribe(subscriber, watch, request.last_id)


async def _send(websocket: WebSocket, subscriber: Subscriber) -> None:
    # The only writer to the socket: replies and errors come through the queue as well.
    while True:
        for frame in await subscriber.get():
            await websocket.send_text(frame)


async def _first_done(*coroutines: Coroutine[Any, Any, object]) -> list[BaseException]:
    """Run until one finishes, cancel the rest; the unexpected errors they raised."""
    tasks = [asyncio.create_task(c) for c in coroutines]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    # WebSocketDisconnect: the client went away while we were sending, an ordinary end.
    ordinary = (asyncio.CancelledError, WebSocketDisconnect)
    return [r for r in results if isinstance(r, BaseException) and not isinstance(r, ordinary)]


async def _close(websocket: WebSocket, subscriber: Subscriber) -> None:
    connected = WebSocketState.CONNECTED
    if websocket.client_state is connected and websocket.application_state is connected:
        with suppress(WebSocketDisconnect):
            await websocket.close(subscriber.close_code, subscriber.close_reason)
