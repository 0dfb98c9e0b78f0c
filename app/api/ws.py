"""The cockpit websocket at /ws: subscribe with a filter, receive hub events and live barometers."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, WebSocket
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app.api.deps import (
    UNAUTHORIZED,
    Runtime,
    authenticate,
    get_runtime,
    origin_allowed,
    presented_token,
)
from app.api.live import Scope
from app.core.access import OutOfScope, Principal, Role, UnknownUnits, resolve_units
from app.core.events import Slug, explain
from app.hub.fanout import Fanout, Filter, Subscriber

log = logging.getLogger(__name__)

router = APIRouter(tags=["websocket"])

MAX_FILTER_VALUES = 1000
# How often an open connection re-checks its session, so a sign-out or a disabled user ends it.
SESSION_RECHECK_S = 60.0


class SubscribeMessage(BaseModel):
    """What a client sends to subscribe, or to change its filter; every field is optional."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["subscribe"] = "subscribe"
    org_units: list[Slug] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    touchpoints: list[Slug] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    last_id: StrictInt | None = Field(default=None, ge=0)


@router.websocket("/ws")
async def cockpit_events(websocket: WebSocket) -> None:
    """Hub events for one signed-in cockpit; the protocol is in docs/websocket.md.

    A foreign Origin is refused at the handshake (403). A missing or ended session gets the
    socket closed with 4401, so the page knows to sign in again.
    """
    runtime = get_runtime(websocket)
    if not origin_allowed(websocket, runtime.settings):
        log.warning(
            "websocket from a foreign origin refused",
            extra={"origin": websocket.headers.get("origin")},
        )
        await websocket.close(code=1008)
        return
    token = presented_token(websocket).value
    found = await authenticate(runtime, token) if token else None
    await websocket.accept()
    if found is None:
        await websocket.close(UNAUTHORIZED, "sign in first")
        return
    principal, expires_at = found
    assert token is not None
    with runtime.fanout.connect() as subscriber:
        runtime.sockets.add(principal.user_id, token, subscriber)
        try:
            failures = await _first_done(
                _receive(websocket, runtime, principal, subscriber),
                _send(websocket, subscriber),
                subscriber.closed.wait(),
                _watch_session(runtime, token, expires_at, subscriber),
            )
        finally:
            runtime.sockets.remove(principal.user_id, subscriber)
            runtime.live.leave(subscriber)
        for failure in failures:
            log.error("websocket connection failed", exc_info=failure)
        if subscriber.closed.is_set():
            await _close(websocket, subscriber)


async def _watch_session(
    runtime: Runtime, token: str, expires_at: datetime, subscriber: Subscriber
) -> None:
    while True:
        left = (expires_at - datetime.now(UTC)).total_seconds()
        await asyncio.sleep(max(0.0, min(left, SESSION_RECHECK_S)))
        if datetime.now(UTC) >= expires_at or await authenticate(runtime, token) is None:
            subscriber.close(UNAUTHORIZED, "session ended: sign in again")
            return


async def _receive(
    websocket: WebSocket, runtime: Runtime, principal: Principal, subscriber: Subscriber
) -> None:
    fanout: Fanout = runtime.fanout
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
            _error(subscriber, explain(exc, whole="message"))
            continue
        tree = await run_in_threadpool(runtime.units.get)
        try:
            covered = resolve_units(
                request.org_units, tree=tree, visible=principal.visible(tree), field="org_units"
            )
        except (OutOfScope, UnknownUnits) as exc:
            # The previous subscription, if any, stays as it was.
            _error(subscriber, str(exc))
            continue
        watch = Filter(
            frozenset(covered or ()),
            frozenset(request.touchpoints),
            alerts=principal.role is not Role.FRONTLINE,
        )
        fanout.subscribe(subscriber, watch, request.last_id)
        scope = Scope.of(principal, request.org_units, request.touchpoints)
        runtime.live.watch(subscriber, scope, covered)


def _error(subscriber: Subscriber, message: str) -> None:
    subscriber.offer(json.dumps({"type": "error", "message": message}))


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
