"""The /ws route, driven in-process through ASGI over the real fanout and in-memory hub."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from app.api import ws
from app.api.deps import OpenSockets
from app.api.live import LiveBarometers, rollup
from app.core.access import Role
from app.core.settings import Settings
from app.db import directory, store
from app.hub.fanout import Fanout
from app.hub.memory import MemoryHub
from app.orgfile import read_units
from tests.harness import ORG_TREE, PASSWORD, USERS

Message = MutableMapping[str, Any]


class Client:
    """A websocket client speaking ASGI to the app; `stalled` stops it from reading frames."""

    def __init__(
        self, app: FastAPI, stalled: bool = False, headers: dict[str, str] | None = None
    ) -> None:
        self._app = app
        self._headers = headers if headers is not None else app.state.auth["admin"]
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._stalled = stalled
        self._task: asyncio.Task[None] | None = None
        self._unpacked: list[Any] = []

    async def __aenter__(self) -> Client:
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "path": "/ws",
            "raw_path": b"/ws",
            "root_path": "",
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in self._headers.items()],
            "scheme": "ws",
            "server": ("test", 80),
            "client": ("test", 1),
            "subprotocols": [],
        }
        self._task = asyncio.create_task(self._app(scope, self._to_app.get, self._send))
        await self._to_app.put({"type": "websocket.connect"})
        self.handshake = await self.receive()
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
        """The next message, as the page reads them: a batch frame's events one by one."""
        if not self._unpacked:
            message = await self.receive()
            assert message["type"] == "websocket.send", message
            decoded = json.loads(message["text"])
            self._unpacked = decoded["events"] if decoded.get("type") == "batch" else [decoded]
        return self._unpacked.pop(0)


MakeApp = Callable[..., Awaitable[tuple[FastAPI, MemoryHub]]]


@pytest.fixture(scope="module")
def directory_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A SQLite database with the test org tree and a signed-in user per role."""
    engine = store.make_engine(f"sqlite:///{tmp_path_factory.mktemp('ws') / 'voc.db'}")
    store.migrate(engine)
    directory.save_units(engine, read_units(ORG_TREE))
    auth = {}
    for role, (username, units) in USERS.items():
        user = directory.create_user(
            engine, username=username, password=PASSWORD, role=Role(role), units=units
        )
        assert user.id is not None
        token, _ = directory.open_session(engine, user.id, lifetime=timedelta(hours=1))
        auth[role] = {"Authorization": f"Bearer {token}"}
    yield engine, auth
    engine.dispose()


@pytest.fixture
async def make_app(directory_db: tuple[Any, dict[str, Any]]) -> AsyncIterator[MakeApp]:
    engine, auth = directory_db
    hub = MemoryHub(last_id=0)
    await hub.start()
    started: list[tuple[Fanout, LiveBarometers]] = []
    watching: list[asyncio.Task[None]] = []

    async def make(**values: Any) -> tuple[FastAPI, MemoryHub]:
        settings = Settings(**values)
        units = directory.TreeCache(engine)
        live = LiveBarometers(
            rollup(engine, units, ZoneInfo(settings.timezone)),
            every_s=settings.live_barometer_every_ms / 1000,
        )
        fanout = Fanout(hub, settings, observer=live.saw)
        await fanout.start()
        live.start()
        started.append((fanout, live))
        app = FastAPI()
        app.add_middleware(ws.CockpitSocket)
        app.state.runtime = SimpleNamespace(
            fanout=fanout,
            live=live,
            settings=settings,
            engine=engine,
            units=units,
            sockets=OpenSockets(),
        )
        watching.append(asyncio.create_task(ws.watch_sessions(app.state.runtime)))
        app.state.auth = auth
        return app, hub

    yield make
    for task in watching:
        task.cancel()
    await asyncio.gather(*watching, return_exceptions=True)
    for fanout, live in started:
        await live.stop()
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
        # A unit covers the units below it.
        assert (reply["type"], reply["org_units"], reply["touchpoints"]) == (
            "subscribed",
            ["store-12", "store-12-field"],
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
        assert error["code"] == ("invalid_json" if sent == "not json" else "invalid_input")
        assert error["message"].startswith(named), error["message"]
        await client.send('{"type": "subscribe"}')
        assert (await client.receive_json())["type"] == "subscribed"


async def test_a_client_that_stops_reading_is_closed_with_1013(make_app: MakeApp) -> None:
    app, hub = await make_app(ws_client_queue=1)
    async with Client(app, stalled=True) as client:
        await client.send("{}")
        # Publish until the subscription (which reads the org tree first) is in place and full.
        closing = None
        for _ in range(200):
            hub.sink().publish([comment("store-1") for _ in range(3)])
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.02):
                    closing = await client.receive()
                    break
        assert closing is not None
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


async def test_each_socket_gets_the_barometer_of_its_own_scope_pushed_after_a_response(
    make_app: MakeApp,
) -> None:
    app, hub = await make_app()
    async with (
        Client(app, headers=app.state.auth["frontline"]) as staff,
        Client(app) as admin,
    ):
        await staff.send("{}")  # the user's own unit, store-12, and its team
        await admin.send('{"org_units": ["store-40"], "touchpoints": ["delivery"]}')
        assert (await staff.receive_json())["type"] == (await admin.receive_json())["type"]
        hub.sink().publish([comment("store-40"), comment("store-12-field")])

        assert (await staff.receive_json())["org_unit"] == "store-12-field"
        pushed = await staff.receive_json()
        assert (await admin.receive_json())["org_unit"] == "store-40"
        theirs = await admin.receive_json()
    assert {k: pushed[k] for k in ("type", "scope", "org_unit", "touchpoint")} == {
        "type": "barometer",
        "scope": {"org_units": ["store-12"], "touchpoints": []},
        "org_unit": "store-12",
        "touchpoint": None,
    }
    assert "id" not in pushed
    # As GET /api/v1/barometers answers it: every window, the week by hour, the region beside.
    assert list(pushed["data"]["windows"]) == ["hour", "today", "7d"]
    assert len(pushed["data"]["hourly"]) == 168
    assert pushed["data"]["parent"]["org_unit"] == "north"
    assert (theirs["scope"], theirs["org_unit"], theirs["touchpoint"]) == (
        {"org_units": ["store-40"], "touchpoints": ["delivery"]},
        "store-40",
        "delivery",
    )
    assert theirs["data"]["parent"]["org_unit"] == "south"


def barometer(org_unit: str) -> bytes:
    return json.dumps(
        {"type": "barometer", "org_unit": org_unit, "touchpoint": None, "data": {}}
    ).encode()


async def test_without_a_session_the_socket_is_closed_with_4401(make_app: MakeApp) -> None:
    app, _ = await make_app()
    async with Client(app, headers={}) as client:
        assert client.handshake["type"] == "websocket.accept"
        closing = await client.receive()
    assert (closing["type"], closing["code"]) == ("websocket.close", 4401)


async def test_an_unknown_token_is_closed_with_4401(make_app: MakeApp) -> None:
    app, _ = await make_app()
    async with Client(app, headers={"Authorization": "Bearer forged"}) as client:
        closing = await client.receive()
    assert (closing["type"], closing["code"]) == ("websocket.close", 4401)


async def test_a_foreign_origin_is_refused_at_the_handshake(make_app: MakeApp) -> None:
    app, _ = await make_app()
    headers = {**app.state.auth["admin"], "Origin": "https://evil.example", "Host": "test"}
    async with Client(app, headers=headers) as client:
        assert client.handshake["type"] == "websocket.close"


async def test_an_allowed_origin_is_accepted(make_app: MakeApp) -> None:
    app, _ = await make_app(allowed_origins="https://cockpit.example.com")
    headers = {**app.state.auth["admin"], "Origin": "https://cockpit.example.com"}
    async with Client(app, headers=headers) as client:
        assert client.handshake["type"] == "websocket.accept"
        await client.send("{}")
        assert (await client.receive_json())["type"] == "subscribed"


@pytest.mark.parametrize(
    ("role", "watched"),
    [
        ("frontline", ["store-12", "store-12-field"]),
        ("manager", ["north", *(f"store-{i}" for i in range(8)), "store-12", "store-12-field"]),
        ("admin", []),  # everything, units created later included
    ],
)
async def test_an_empty_subscription_watches_the_callers_units(
    make_app: MakeApp, role: str, watched: list[str]
) -> None:
    app, _ = await make_app()
    async with Client(app, headers=app.state.auth[role]) as client:
        await client.send("{}")
        assert (await client.receive_json())["org_units"] == sorted(watched)


async def test_an_out_of_scope_subscription_is_refused_and_receives_nothing(
    make_app: MakeApp,
) -> None:
    app, hub = await make_app()
    async with Client(app, headers=app.state.auth["frontline"]) as client:
        await client.send(json.dumps({"org_units": ["store-12", "store-40"]}))
        error = await client.receive_json()
        assert error == {
            "type": "error",
            "code": "out_of_scope",
            "message": "org_units: outside your units: store-40",
        }
        hub.sink().publish([barometer("store-40"), comment("store-40"), barometer("store-12")])
        await client.send(json.dumps({"last_id": 0}))
        # The resume replays what this user may see since id 0: only store-12's barometer.
        reply = await client.receive_json()
        assert (reply["type"], reply["replayed"]) == ("subscribed", 1)
        assert (await client.receive_json())["org_unit"] == "store-12"


async def test_a_socket_is_closed_when_its_session_ends(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, directory_db: tuple[Any, Any]
) -> None:
    monkeypatch.setattr(ws, "SESSION_RECHECK_S", 0.05)
    engine, _ = directory_db
    user = directory.get_user(engine, USERS["manager"][0])
    assert user is not None and user.id is not None
    token, _ = directory.open_session(engine, user.id, lifetime=timedelta(hours=1))
    app, _ = await make_app()
    async with Client(app, headers={"Authorization": f"Bearer {token}"}) as client:
        await client.send("{}")
        assert (await client.receive_json())["type"] == "subscribed"
        directory.close_session(engine, token)
        closing = await client.receive()
    assert (closing["type"], closing["code"]) == ("websocket.close", 4401)


async def test_every_socket_of_a_session_is_closed_when_it_expires(
    make_app: MakeApp, directory_db: tuple[Any, Any]
) -> None:
    engine, _ = directory_db
    user = directory.get_user(engine, USERS["frontline"][0])
    assert user is not None and user.id is not None
    token, _ = directory.open_session(engine, user.id, lifetime=timedelta(seconds=1))
    app, _ = await make_app()
    headers = {"Authorization": f"Bearer {token}"}
    async with Client(app, headers=headers) as phone, Client(app, headers=headers) as tablet:
        for client in (phone, tablet):
            await client.send("{}")
            assert (await client.receive_json())["type"] == "subscribed"
        # At its expiry, not at the next minute's re-check.
        closing = [await phone.receive(), await tablet.receive()]
    assert [(c["type"], c["code"]) for c in closing] == [("websocket.close", 4401)] * 2
