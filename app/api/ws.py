"""The cockpit websocket at /ws: subscribe with a filter, receive hub events and live barometers."""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import WebSocket
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as ASGIScope
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app.api.deps import (
    UNAUTHORIZED,
    CloseReason,
    Runtime,
    authenticate,
    get_runtime,
    origin_allowed,
    presented_token,
)
from app.api.errors import Code, reader
from app.api.live import Scope
from app.core.access import OutOfScope, Principal, UnknownUnits, resolve_units
from app.core.events import Slug, explain
from app.core.i18n import Texts
from app.hub.fanout import Fanout, Filter, Subscriber
from app.hub.outbox import run_eagerly

log = logging.getLogger(__name__)

PATH = "/ws"

MAX_FILTER_VALUES = 1000
# How often open connections' sessions are re-checked, so a sign-out or a disabled user ends them.
SESSION_RECHECK_S = 60.0
# Closes waiting for a socket's buffer to drain, held so they are not collected half-way.
_CLOSING: set[asyncio.Future[None]] = set()


class SubscribeMessage(BaseModel):
    """What a client sends to subscribe, or to change its filter; every field is optional."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["subscribe"] = "subscribe"
    org_units: list[Slug] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    touchpoints: list[Slug] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    last_id: StrictInt | None = Field(default=None, ge=0)


class CockpitSocket:
    """ASGI middleware, the outermost: `/ws` goes straight to its handler.

    The HTTP middleware and routing do nothing for this websocket, yet each layer would keep a
    frame on its stack, in memory, for as long as it is open: hours, for thousands of phones.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == PATH:
            await cockpit_events(WebSocket(scope, receive, send))
        else:
            await self.app(scope, receive, send)


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
        await websocket.close(UNAUTHORIZED, CloseReason.NOT_SIGNED_IN)
        return
    principal, expires_at = found
    assert token is not None

    def closing(code: int, reason: str) -> None:
        # Sending the close also ends `_receive`: the server then reads a disconnect.
        waiting = run_eagerly(_close(websocket, code, reason))
        if waiting is not None:
            _CLOSING.add(waiting)
            waiting.add_done_callback(_CLOSING.discard)

    # The fanout's flusher is the only writer of events: replies and errors go through the
    # subscriber's outbox too. One task per connection, this one, reading what the client sends.
    with runtime.fanout.connect(websocket.send_text, closing) as subscriber:
        runtime.sockets.add(principal.user_id, token, expires_at, subscriber)
        try:
            # Refusals are worded in the language of the handshake's Accept-Language.
            await _receive(websocket, runtime, principal, subscriber, reader(websocket))
        except WebSocketDisconnect:
            pass  # the client went away while we were sending or closing: an ordinary end
        except Exception:
            log.exception("websocket connection failed")
        finally:
            runtime.sockets.remove(principal.user_id, subscriber)
            runtime.live.leave(subscriber)


async def watch_sessions(runtime: Runtime) -> None:
    """Close the sockets whose session ended: each session is re-checked once for all its sockets,
    every `SESSION_RECHECK_S` and when it expires, so a sign-out on another instance or a disabled
    user ends them. Runs as long as the app."""
    sockets = runtime.sockets
    while True:
        now = datetime.now(UTC)
        sessions = sockets.sessions()
        for token, expires_at in sessions.items():
            if now >= expires_at or await authenticate(runtime, token) is None:
                sockets.close(CloseReason.SESSION_ENDED, token=token)
        soonest = min((e for e in sessions.values() if e > now), default=None)
        wait = SESSION_RECHECK_S
        if soonest is not None:
            wait = min(wait, (soonest - now).total_seconds())
        sockets.next_check = now + timedelta(seconds=wait)
        sockets.sooner.clear()
        with suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await sockets.sooner.wait()


async def _receive(
    websocket: WebSocket,
    runtime: Runtime,
    principal: Principal,
    subscriber: Subscriber,
    words: Texts,
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
            not_json = any(e["type"] == "json_invalid" for e in exc.errors())
            code = Code.INVALID_JSON if not_json else Code.INVALID_INPUT
            _error(subscriber, code, explain(exc, whole="message"))
            continue
        tree = await run_in_threadpool(runtime.units.get)
        try:
            covered = resolve_units(
                request.org_units, tree=tree, visible=principal.visible(tree), field="org_units"
            )
        except (OutOfScope, UnknownUnits) as exc:
            # The previous subscription, if any, stays as it was.
            code = Code.OUT_OF_SCOPE if isinstance(exc, OutOfScope) else Code.UNKNOWN_UNITS
            _error(subscriber, code, words.t(exc.message, **exc.params))
            continue
        watch = Filter(
            frozenset(covered or ()),
            frozenset(request.touchpoints),
            # Frontline staff follow their units' callbacks where they take them.
            alerts=principal.reads_alerts(runtime.settings.frontline_callbacks),
        )
        fanout.subscribe(subscriber, watch, request.last_id)
        scope = Scope.of(principal, request.org_units, request.touchpoints)
        runtime.live.watch(subscriber, scope, covered)


def _error(subscriber: Subscriber, code: Code, message: str) -> None:
    subscriber.offer(json.dumps({"type": "error", "code": code, "message": message}))


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    connected = WebSocketState.CONNECTED
    if websocket.client_state is connected and websocket.application_state is connected:
        with suppress(WebSocketDisconnect, RuntimeError):
            await websocket.close(code, reason)
