"""The fanout over the real in-memory hub: filters, ids, replay, gaps and the slow-client policy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY

from app.core.settings import Settings
from app.hub.fanout import Fanout, Filter, Subscriber
from app.hub.memory import MemoryHub

Event = dict[str, Any]


def payload(org_unit: str = "store-1", touchpoint: str | None = "delivery", **data: Any) -> bytes:
    kind = "barometer" if touchpoint is None else "comment"
    event = {"type": kind, "org_unit": org_unit, "touchpoint": touchpoint, "data": data}
    return json.dumps(event, separators=(",", ":")).encode()


async def take(subscriber: Subscriber, count: int) -> list[Event]:
    """The next `count` messages the subscriber would send, decoded."""
    messages: list[Event] = []
    async with asyncio.timeout(5):
        while len(messages) < count:
            messages.extend(json.loads(frame) for frame in await subscriber.get())
    assert len(messages) == count, messages
    return messages


def ids(messages: list[Event]) -> list[int]:
    return [m["id"] for m in messages if "id" in m]


MakeFanout = Callable[..., Awaitable[Fanout]]


@pytest.fixture
async def hub() -> AsyncIterator[MemoryHub]:
    backend = MemoryHub(last_id=0)
    await backend.start()
    yield backend
    await backend.stop()


@pytest.fixture
async def make_fanout(hub: MemoryHub) -> AsyncIterator[MakeFanout]:
    started: list[Fanout] = []

    async def make(**settings: Any) -> Fanout:
        fanout = Fanout(hub, Settings(**settings))
        await fanout.start()
        started.append(fanout)
        return fanout

    yield make
    for fanout in started:
        await fanout.stop()


@pytest.fixture
async def fanout(make_fanout: MakeFanout) -> Fanout:
    return await make_fanout()


def metric(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


@pytest.mark.parametrize(
    ("watch", "org_unit", "touchpoint", "expected"),
    [
        (Filter(), "store-1", "delivery", True),
        (Filter(frozenset({"store-1"})), "store-1", "delivery", True),
        (Filter(frozenset({"store-1"})), "store-2", "delivery", False),
        (Filter(touchpoints=frozenset({"delivery"})), "store-2", "delivery", True),
        (Filter(touchpoints=frozenset({"delivery"})), "store-2", "billing", False),
        (Filter(touchpoints=frozenset({"delivery"})), "store-2", None, True),
        (Filter(frozenset({"store-1"}), frozenset({"delivery"})), "store-1", None, True),
        (Filter(frozenset({"store-1"}), frozenset({"delivery"})), "store-2", None, False),
    ],
)
def test_filter_matches_org_units_and_touchpoints(
    watch: Filter, org_unit: str, touchpoint: str | None, expected: bool
) -> None:
    assert watch.matches(org_unit, touchpoint) is expected


async def test_events_reach_only_the_clients_whose_filter_matches(
    hub: MemoryHub, fanout: Fanout
) -> None:
    with fanout.connect() as everything, fanout.connect() as store_1, fanout.connect() as billing:
        fanout.subscribe(everything, Filter())
        fanout.subscribe(store_1, Filter(org_units=frozenset({"store-1"})))
        fanout.subscribe(billing, Filter(touchpoints=frozenset({"billing"})))
        for subscriber in (everything, store_1, billing):
            await take(subscriber, 1)
        hub.sink().publish(
            [
                payload("store-1", "delivery"),
                payload("store-2", "billing"),
                payload("store-2", None),
                payload("store-1", "billing"),
            ]
        )
        assert ids(await take(everything, 4)) == [1, 2, 3, 4]
        assert ids(await take(billing, 3)) == [2, 3, 4]
        assert ids(await take(store_1, 2)) == [1, 4]
        # Every event went through dispatch by now: nothing else is waiting.
        assert (store_1.pending, billing.pending) == (0, 0)


async def test_a_client_that_has_not_subscribed_receives_nothing(
    hub: MemoryHub, fanout: Fanout
) -> None:
    with fanout.connect() as silent, fanout.connect() as listening:
        fanout.subscribe(listening, Filter())
        hub.sink().publish([payload(), payload()])
        await take(listening, 3)
        assert silent.pending == 0


async def test_events_carry_ids_in_publish_order_as_the_same_frame_for_every_client(
    hub: MemoryHub, fanout: Fanout
) -> None:
    with fanout.connect() as first, fanout.connect() as second:
        fanout.subscribe(first, Filter())
        fanout.subscribe(second, Filter())
        await take(first, 1), await take(second, 1)
        payloads = [payload(n=n) for n in range(5)]
        await asyncio.to_thread(hub.sink().publish, payloads)
        frames_first = [(await first.get())[0] for _ in payloads]
        frames_second = [(await second.get())[0] for _ in payloads]
    assert frames_first == [f'{{"id":{n + 1},{p.decode()[1:]}' for n, p in enumerate(payloads)]
    assert all(a is b for a, b in zip(frames_first, frames_second, strict=True))
    assert fanout.latest_id == 5


async def test_subscribed_reply_echoes_the_filter_and_the_latest_id(
    hub: MemoryHub, fanout: Fanout
) -> None:
    with fanout.connect() as watcher, fanout.connect() as late:
        fanout.subscribe(watcher, Filter())
        hub.sink().publish([payload(), payload()])
        await take(watcher, 3)
        watch = Filter(frozenset({"store-2", "store-1"}), frozenset({"delivery"}))
        fanout.subscribe(late, watch)
        assert await take(late, 1) == [
            {
                "type": "subscribed",
                "org_units": ["store-1", "store-2"],
                "touchpoints": ["delivery"],
                "latest_id": 2,
                "replayed": 0,
            }
        ]


async def test_resume_replays_the_missed_matching_events_then_continues_live(
    hub: MemoryHub, fanout: Fanout
) -> None:
    with fanout.connect() as watcher, fanout.connect() as resumed:
        fanout.subscribe(watcher, Filter())
        hub.sink().publish([payload("store-1"), payload("store-2"), payload("store-1")] * 2)
        await take(watcher, 7)
        fanout.subscribe(resumed, Filter(frozenset({"store-1"})), last_id=1)
        reply, *replayed = await take(resumed, 4)
        assert (reply["type"], reply["latest_id"], reply["replayed"]) == ("subscribed", 6, 3)
        assert ids(replayed) == [3, 4, 6]
        hub.sink().publish([payload("store-2"), payload("store-1")])
        assert ids(await take(resumed, 1)) == [8]


async def test_resume_during_a_burst_neither_skips_nor_repeats_an_event(
    hub: MemoryHub, fanout: Fanout
) -> None:
    with fanout.connect() as watcher, fanout.connect() as resumed:
        fanout.subscribe(watcher, Filter())
        await take(watcher, 1)
        hub.sink().publish([payload(n=n) for n in range(20)])
        # Resume while the fanout is part-way through the burst: some of what the client missed
        # comes from the ring, the rest live; the seam must not show.
        while fanout.latest_id < 10:
            await take(watcher, 1)
        fanout.subscribe(resumed, Filter(), last_id=3)
        messages = await take(resumed, 1 + 17)
        assert ids(messages) == list(range(4, 21))


async def test_resume_at_the_latest_id_replays_nothing(hub: MemoryHub, fanout: Fanout) -> None:
    with fanout.connect() as watcher, fanout.connect() as resumed:
        fanout.subscribe(watcher, Filter())
        hub.sink().publish([payload(), payload()])
        await take(watcher, 3)
        fanout.subscribe(resumed, Filter(), last_id=2)
        assert (await take(resumed, 1))[0]["replayed"] == 0
        assert resumed.pending == 0


async def test_resume_from_before_the_ring_sends_a_gap(
    hub: MemoryHub, make_fanout: MakeFanout
) -> None:
    fanout = await make_fanout(ws_replay_events=3)
    with fanout.connect() as watcher, fanout.connect() as too_old, fanout.connect() as just_in:
        fanout.subscribe(watcher, Filter())
        hub.sink().publish([payload() for _ in range(6)])
        await take(watcher, 7)
        assert (fanout.oldest_id, fanout.latest_id) == (4, 6)
        fanout.subscribe(too_old, Filter(), last_id=2)
        fanout.subscribe(just_in, Filter(), last_id=3)
        assert await take(too_old, 2) == [
            {
                "type": "subscribed",
                "org_units": [],
                "touchpoints": [],
                "latest_id": 6,
                "replayed": 0,
            },
            {"type": "gap", "last_id": 2, "oldest_id": 4, "latest_id": 6},
        ]
        assert ids(await take(just_in, 4)) == [4, 5, 6]


async def test_resume_from_beyond_the_latest_id_sends_a_gap(hub: MemoryHub, fanout: Fanout) -> None:
    with fanout.connect() as watcher, fanout.connect() as from_before_restart:
        fanout.subscribe(watcher, Filter())
        hub.sink().publish([payload()])
        await take(watcher, 2)
        fanout.subscribe(from_before_restart, Filter(), last_id=500)
        assert (await take(from_before_restart, 2))[1] == {
            "type": "gap",
            "last_id": 500,
            "oldest_id": 1,
            "latest_id": 1,
        }


async def test_subscribing_again_changes_the_filter(hub: MemoryHub, fanout: Fanout) -> None:
    with fanout.connect() as client, fanout.connect() as watcher:
        fanout.subscribe(watcher, Filter())
        fanout.subscribe(client, Filter(frozenset({"store-1"})))
        hub.sink().publish([payload("store-1"), payload("store-2")])
        await take(watcher, 3)
        assert ids(await take(client, 2)) == [1]
        fanout.subscribe(client, Filter(frozenset({"store-2"})))
        hub.sink().publish([payload("store-1"), payload("store-2")])
        reply, event = await take(client, 2)
        assert reply["org_units"] == ["store-2"]
        assert event["id"] == 4


async def test_a_slow_client_is_disconnected_while_a_fast_one_keeps_receiving(
    hub: MemoryHub, make_fanout: MakeFanout
) -> None:
    fanout = await make_fanout(ws_client_queue=2)
    slow_before = metric("voc_ws_slow_disconnects_total")
    with fanout.connect() as slow, fanout.connect() as fast:
        fanout.subscribe(slow, Filter())
        fanout.subscribe(fast, Filter())
        await take(fast, 1)
        received: list[Event] = []
        reader = asyncio.create_task(_collect(fast, received, until_id=10))
        hub.sink().publish([payload(n=n) for n in range(10)])
        async with asyncio.timeout(5):
            await slow.closed.wait()
            await reader
        assert ids(received) == list(range(1, 11))
        assert (slow.close_code, slow.closed.is_set()) == (1013, True)
        assert "last_id" in slow.close_reason
    assert metric("voc_ws_slow_disconnects_total") == slow_before + 1


async def _collect(subscriber: Subscriber, into: list[Event], until_id: int) -> None:
    while not into or into[-1].get("id") != until_id:
        into.extend(json.loads(frame) for frame in await subscriber.get())


async def test_connected_clients_are_counted(fanout: Fanout) -> None:
    before = metric("voc_ws_clients")
    with fanout.connect(), fanout.connect():
        assert metric("voc_ws_clients") == before + 2
    assert metric("voc_ws_clients") == before


async def test_stopping_closes_clients_as_a_service_restart(hub: MemoryHub) -> None:
    fanout = Fanout(hub, Settings())
    await fanout.start()
    with fanout.connect() as client:
        fanout.subscribe(client, Filter())
        await fanout.stop()
        assert (client.closed.is_set(), client.close_code) == (True, 1012)
    with fanout.connect() as late:
        assert late.close_code == 1012


async def test_an_event_without_routing_fields_is_skipped(hub: MemoryHub, fanout: Fanout) -> None:
    with fanout.connect() as client:
        fanout.subscribe(client, Filter())
        hub.sink().publish([b'{"type":"comment","data":{}}', payload()])
        assert ids(await take(client, 2)) == [2]


async def test_the_observer_hears_every_routed_event_once_whether_or_not_anyone_watches(
    hub: MemoryHub,
) -> None:
    heard: list[tuple[str, str | None, str]] = []
    fanout = Fanout(hub, Settings(), observer=lambda *fields: heard.append(fields))
    await fanout.start()
    try:
        with fanout.connect() as store_2:
            fanout.subscribe(store_2, Filter(frozenset({"store-2"})))
            hub.sink().publish(
                [payload("store-1", "delivery"), b'{"type":"comment"}', payload("store-2", None)]
            )
            await take(store_2, 2)
    finally:
        await fanout.stop()
    assert heard == [("store-1", "delivery", "comment"), ("store-2", None, "barometer")]


def test_a_payload_that_is_not_a_json_object_is_refused() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        MemoryHub(last_id=0).sink().publish([b"[1, 2]"])
