"""The same hub tests against every backend: memory:// and a real redis-server started here.

What only Redis promises, that several app instances see one stream, is tested on Redis alone;
memory:// is for one instance, and two instances on it share nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from app.core.errors import ConfigurationError, HubUnavailable
from app.core.settings import Settings
from app.hub import HubBackend, make_hub
from app.hub.fanout import Fanout, Filter
from app.hub.memory import MemoryHub
from tests.harness import RedisServer
from tests.sockets import Socket, connected

Event = dict[str, Any]


@pytest.fixture(params=["memory", "redis"])
def settings(request: pytest.FixtureRequest) -> Settings:
    if request.param == "memory":
        return Settings(redis_url=None)
    server: RedisServer = request.getfixturevalue("redis_server")
    return Settings(redis_url=server.url)


@dataclass
class Instance:
    """What one app instance runs: a hub backend, its fanout, and one client watching all."""

    hub: HubBackend
    fanout: Fanout
    client: Socket


StartInstance = Callable[[], Awaitable[Instance]]


@pytest.fixture
async def start_instance(settings: Settings) -> AsyncIterator[StartInstance]:
    async with AsyncExitStack() as stack:
        yield _starter(stack, settings)


@pytest.fixture
async def start_redis_instance(redis_server: RedisServer) -> AsyncIterator[StartInstance]:
    async with AsyncExitStack() as stack:
        yield _starter(stack, Settings(redis_url=redis_server.url))


def _starter(stack: AsyncExitStack, settings: Settings) -> StartInstance:
    """Starts an app instance with a hub of its own each time, as separate processes have."""

    async def start() -> Instance:
        hub = make_hub(settings)
        await hub.start()
        stack.push_async_callback(hub.stop)
        fanout = Fanout(hub, settings)
        await fanout.start()
        stack.push_async_callback(fanout.stop)
        client = stack.enter_context(connected(fanout))
        fanout.subscribe(client.subscriber, Filter())
        await take(client, 1)
        return Instance(hub, fanout, client)

    return start


def payload(publisher: str = "p", n: int = 0) -> bytes:
    event = {"type": "comment", "org_unit": "store-1", "touchpoint": "delivery", "data": {}}
    event["data"] = {"publisher": publisher, "n": n}
    return json.dumps(event, separators=(",", ":")).encode()


async def take(client: Socket, count: int, into: list[Event] | None = None) -> list[Event]:
    """Messages written to the client until `count` are there (in `into`, if given)."""
    messages = [] if into is None else into
    async with asyncio.timeout(15):
        while len(messages) < count:
            messages.extend(await client.get())
    return messages


def ids(messages: list[Event]) -> list[int]:
    return [m["id"] for m in messages]


@pytest.mark.integration
async def test_events_published_from_a_worker_thread_arrive_in_order_with_ids(
    start_instance: StartInstance,
) -> None:
    app = await start_instance()
    await app.hub.ping()
    payloads = [payload(n=n) for n in range(10)]
    await asyncio.to_thread(app.hub.sink().publish, payloads)
    events = await take(app.client, 10)
    first = events[0]["id"]
    assert events == [{"id": first + n, **json.loads(p)} for n, p in enumerate(payloads)]
    assert app.fanout.latest_id == first + 9


@pytest.mark.integration
async def test_two_instances_see_the_same_events_with_the_same_ids(
    start_redis_instance: StartInstance,
) -> None:
    first, second = await start_redis_instance(), await start_redis_instance()
    await asyncio.to_thread(first.hub.sink().publish, [payload("first", n) for n in range(3)])
    await asyncio.to_thread(second.hub.sink().publish, [payload("second", n) for n in range(3)])
    seen_first, seen_second = await take(first.client, 6), await take(second.client, 6)
    assert seen_first == seen_second
    first_id = ids(seen_first)[0]
    assert ids(seen_first) == list(range(first_id, first_id + 6))
    assert [e["data"]["publisher"] for e in seen_first] == ["first"] * 3 + ["second"] * 3


@pytest.mark.integration
async def test_two_instances_on_memory_hubs_share_nothing() -> None:
    async with AsyncExitStack() as stack:
        start = _starter(stack, Settings(redis_url=None))
        first, second = await start(), await start()
        assert isinstance(first.hub, MemoryHub) and isinstance(second.hub, MemoryHub)
        await asyncio.to_thread(first.hub.sink().publish, [payload("first", 0)])
        (seen,) = await take(first.client, 1)
        assert seen["data"]["publisher"] == "first"
        assert await _nothing_more(second.client)


@pytest.mark.integration
async def test_deployments_sharing_one_redis_see_only_their_own_channel(
    redis_server: RedisServer,
) -> None:
    async with AsyncExitStack() as stack:
        start_staging = _starter(stack, Settings(redis_url=redis_server.url))
        start_production = _starter(
            stack, Settings(redis_url=redis_server.url, redis_channel="voc:events:production")
        )
        staging, production = await start_staging(), await start_production()
        await asyncio.to_thread(staging.hub.sink().publish, [payload("staging", 0)])
        await asyncio.to_thread(production.hub.sink().publish, [payload("production", 0)])
        (seen_staging,) = await take(staging.client, 1)
        (seen_production,) = await take(production.client, 1)
        assert seen_staging["data"]["publisher"] == "staging"
        assert seen_production["data"]["publisher"] == "production"
        # Neither received the other's event, before or after its own.
        assert await _nothing_more(staging.client) and await _nothing_more(production.client)


async def _nothing_more(client: Socket) -> bool:
    try:
        async with asyncio.timeout(0.5):
            await client.get()
    except TimeoutError:
        return True
    return False


@pytest.mark.integration
async def test_concurrent_publishers_give_strictly_increasing_ids(
    start_instance: StartInstance,
) -> None:
    # Two threads of one instance, each with its own sink: the ingest worker and the alerts.
    app = await start_instance()
    batches, size = 40, 5
    total = 2 * batches * size
    reader = asyncio.create_task(take(app.client, total))

    def publish(name: str) -> None:
        sink = app.hub.sink()
        for b in range(batches):
            sink.publish([payload(name, b * size + i) for i in range(size)])

    await asyncio.gather(asyncio.to_thread(publish, "a"), asyncio.to_thread(publish, "b"))
    seen = await reader
    first_id = ids(seen)[0]
    assert ids(seen) == list(range(first_id, first_id + total))
    for name in ("a", "b"):
        mine = [e["data"]["n"] for e in seen if e["data"]["publisher"] == name]
        assert mine == list(range(batches * size))


@pytest.mark.integration
async def test_two_instances_publishing_at_once_see_one_order_of_increasing_ids(
    start_redis_instance: StartInstance,
) -> None:
    first, second = await start_redis_instance(), await start_redis_instance()
    batches, size = 40, 5
    total = 2 * batches * size
    seen: tuple[list[Event], list[Event]] = ([], [])
    readers = [
        asyncio.create_task(take(app.client, total, into))
        for app, into in zip((first, second), seen, strict=True)
    ]

    def publish(app: Instance, name: str) -> None:
        sink = app.hub.sink()
        for b in range(batches):
            sink.publish([payload(name, b * size + i) for i in range(size)])

    await asyncio.gather(
        asyncio.to_thread(publish, first, "a"), asyncio.to_thread(publish, second, "b")
    )
    await asyncio.gather(*readers)
    assert seen[0] == seen[1]
    first_id = ids(seen[0])[0]
    assert ids(seen[0]) == list(range(first_id, first_id + total))
    for name in ("a", "b"):
        mine = [e["data"]["n"] for e in seen[0] if e["data"]["publisher"] == name]
        assert mine == list(range(batches * size))


@pytest.mark.integration
async def test_a_subscriber_survives_a_redis_restart(redis_server: RedisServer) -> None:
    async with AsyncExitStack() as stack:
        app = await _starter(stack, Settings(redis_url=redis_server.url))()
        sink = app.hub.sink()
        await asyncio.to_thread(sink.publish, [payload(n=0)])
        [before] = ids(await take(app.client, 1))

        redis_server.stop()
        with pytest.raises(HubUnavailable):
            await asyncio.to_thread(sink.publish, [payload(n=1)])
        with pytest.raises(HubUnavailable):
            await app.hub.ping()
        redis_server.start()

        received = await _publish_until_one_arrives(app)
        # The restarted Redis lost the counter and starts again from the clock: ids keep going
        # up, but not by one, so the client is told to reload, then goes on.
        gap, *events = received
        assert (gap["type"], gap["last_id"]) == ("gap", before)
        assert events[0]["id"] > before
        await asyncio.to_thread(sink.publish, [payload("after")])
        events = await take(app.client, len(events) + 1, events)
        assert events[-1]["data"]["publisher"] == "after"
        assert ids(events) == list(range(events[0]["id"], events[-1]["id"] + 1))
        await app.hub.ping()


async def _publish_until_one_arrives(app: Instance) -> list[Event]:
    """Probe until the subscription is back: what is published before that is lost, by design."""
    received: list[Event] = []
    async with asyncio.timeout(30):
        while not any("id" in message for message in received):
            try:
                await asyncio.to_thread(app.hub.sink().publish, [payload("probe")])
            except HubUnavailable:
                await asyncio.sleep(0.05)
                continue
            try:
                async with asyncio.timeout(0.25):
                    await take(app.client, len(received) + 2, received)
            except TimeoutError:
                pass
    return received


@pytest.mark.parametrize(
    ("url", "backend"),
    [(None, "MemoryHub"), ("memory://", "MemoryHub"), ("redis://127.0.0.1:1/0", "RedisHub")],
)
def test_make_hub_picks_the_backend_by_url(url: str | None, backend: str) -> None:
    assert type(make_hub(Settings(redis_url=url))).__name__ == backend


def test_make_hub_names_the_variable_for_an_unknown_scheme() -> None:
    with pytest.raises(ConfigurationError, match="VOC_REDIS_URL"):
        make_hub(Settings(redis_url="http://127.0.0.1:6379"))
