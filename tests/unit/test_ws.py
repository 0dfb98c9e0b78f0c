"""The /ws route, driven in-process through ASGI over the real fanout and in-memory hub."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from app.api import ws
from app.core.settings import Settings
from app.hub.fanout import Fanout
from app.hub.memory import MemoryHub

Message = MutableMapping[str, Any]


class Client:
    """A websocket client speaking ASGI to the app; `stalled` stops it from reading frames."""

    def __init__(self, app: FastAPI, stalled: bool = False) -> None:
        self._app = app
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._stalled = stalled
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Client:
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "path": "/ws",
            "raw_path": b"/ws",
            "root_path": "",
            "query_string": b"",
            "headers": [],
            "scheme": "ws",
            "server": ("test", 80),
            "client": ("test", 1),
            "subprotocols": [],
        }
        self._task = asyncio.create_task(self._app(scope, self._to_app.get, self._send))
        await self._to_app.put({"type": "websocket.connect"})
        assert (await self.receive())["type"] == "websocket.accept"
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        async with asyncio.timeout(5):
            await self._task

    async def _send(self, message: Message) -> None:
        if self._stalled and message["type"] == "websocket.send":
            await asyncio.Event().wait()
        await self._from_app.put(message)

    async def send(self, text: str) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": text})

    async def receive(self) -> Message:
        async with asyncio.timeout(5):
            return await self._from_app.get()

    async def receive_json(self) -> Any:
        message = await self.receive()
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])


MakeApp = Callable[..., Awaitable[tuple[FastAPI, MemoryHub]]]


@pytest.fixture
async def make_app() -> AsyncIterator[MakeApp]:
    hub = MemoryHub(last_id=0)
    await hub.start()
    fanouts: list[Fanout] = []

    async def make(**settings: Any) -> tuple[FastAPI, MemoryHub]:
        fanout = Fanout(hub, Settings(**settings))
        await fanout.start()
        fanouts.append(fanout)
        app = FastAPI()
        app.include_router(ws.router)
        app.state.runtime = SimpleNamespace(fanout=fanout)
        return app, hub

    yield make
    for fanout in fanouts:
        await fanout.stop()
    await hub.stop()


def comment(org_unit: str) -> bytes:
    return json.dumps(
        {"type": "comment", "org_unit": org_unit, "touchpoint": "delivery", "data": {}}
    ).encode()


async def test_subscriber_receives_matching_events_as_text_frames(make_app: MakeApp) -> None:
    app, hub = await make_app()
    async with Client(app) as client:
        await client.send(json.dumps({"type": "subscribe", "org_units": ["Store-12"]}))
        reply = await client.receive_json()
        assert (reply["type"], reply["org_units"], reply["touchpoints"]) == (
            "subscribed",
            ["store-12"],
            [],
        )
        await asyncio.to_thread(hub.sink().publish, [comment("store-40"), comment("store-12")])
        assert await client.receive_json() == {
            "id": 2,
            "type": "comment",
            "org_unit": "store-12",
            "touchpoint": "delivery",
            "data": {},
        }


async def test_an_empty_message_subscribes_to_everything(make_app: MakeApp) -> None:
    app, hub = await make_app()
    async with Client(app) as client:
        await client.send("{}")
        assert (await client.receive_json())["type"] == "subscribed"
        hub.sink().publish([comment("store-1")])
        assert (await client.receive_json())["id"] == 1


@pytest.mark.parametrize(
    ("sent", "named"),
    [
        ("not json", "message: Invalid JSON"),
        ("[1]", "message: Input should be an object"),
        ('{"type": "unsubscribe"}', "type: Input should be 'subscribe'"),
        ('{"org_units": "store-1"}', "org_units: Input should be a valid array"),
        ('{"touchpoints": ["no spaces"]}', "touchpoints.0: String should match pattern"),
        ('{"last_id": "12"}', "last_id: Input should be a valid integer"),
        ('{"last_id": -1}', "last_id: Input should be greater than or equal to 0"),
        ('{"lastId": 12}', "lastId: unknown field"),
    ],
)
async def test_a_malformed_message_gets_an_error_naming_the_field_and_the_socket_stays_open(
    make_app: MakeApp, sent: str, named: str
) -> None:
    app, _ = await make_app()
    async with Client(app) as client:
        await client.send(sent)
        error = await client.receive_json()
        assert error["type"] == "error"
        assert error["message"].startswith(named), error["message"]
        await client.send('{"type": "subscribe"}')
        assert (await client.receive_json())["type"] == "subscribed"


async def test_a_client_that_stops_reading_is_closed_with_1013(make_app: MakeApp) -> None:
    app, hub = await make_app(ws_client_queue=1)
    async with Client(app, stalled=True) as client:
        await client.send("{}")
        hub.sink().publish([comment("store-1") for _ in range(3)])
        closing = await client.receive()
    assert (closing["type"], closing["code"]) == ("websocket.close", 1013)
    assert "last_id" in closing["reason"]


async def test_a_disconnected_client_is_no_longer_counted(make_app: MakeApp) -> None:
    app, _ = await make_app()
    before = REGISTRY.get_sample_value("voc_ws_clients") or 0.0
    async with Client(app) as client:
        await client.send("{}")
        await client.receive_json()
        assert REGISTRY.get_sample_value("voc_ws_clients") == before + 1
    assert REGISTRY.get_sample_value("voc_ws_clients") == before
