"""The fanout over the real in-memory hub: routing, ids, replay, gaps, batching, slow clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY

from app.core.settings import Settings
from app.hub.fanout import Fanout, Filter
from app.hub.memory import MemoryHub
from tests.sockets import Socket, connected

Event = dict[str, Any]


def payload(org_unit: str = "store-1", touchpoint: str | None = "delivery", **data: Any) -> bytes:
    kind = "barometer" if touchpoint is None else "comment"
    event = {"type": kind, "org_unit": org_unit, "touchpoint": touchpoint, "data": data}
    return json.dumps(event, separators=(",", ":")).encode()


async def take(socket: Socket, count: int) -> list[Event]:
    """The next `count` messages written to the socket, decoded."""
    return await socket.take(count)


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
    with (
        connected(fanout) as everything,
        connected(fanout) as store_1,
        connected(fanout) as billing,
    ):
        fanout.subscribe(everything.subscriber, Filter())
        fanout.subscribe(store_1.subscriber, Filter(org_units=frozenset({"store-1"})))
        fanout.subscribe(billing.subscriber, Filter(touchpoints=frozenset({"billing"})))
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
        assert (store_1.subscriber.pending, billing.subscriber.pending) == (0, 0)


async def test_a_client_that_has_not_subscribed_receives_nothing(
    hub: MemoryHub, fanout: Fanout
) -> None:
    with connected(fanout) as silent, connected(fanout) as listening:
        fanout.subscribe(listening.subscriber, Filter())
        hub.sink().publish([payload(), payload()])
        await take(listening, 3)
        assert silent.subscriber.pending == 0


async def test_events_carry_ids_in_publish_order_as_the_same_frame_for_every_client(
    hub: MemoryHub, fanout: Fanout
) -> None:
    with connected(fanout) as first, connected(fanout) as second:
        fanout.subscribe(first.subscriber, Filter())
        fanout.subscribe(second.subscriber, Filter())
        await take(first, 1), await take(second, 1)
        payloads = [payload(n=n) for n in range(5)]
        for one in payloads:
            await asyncio.to_thread(hub.sink().publish, [one])
            await take(first, 1), await take(second, 1)
    # A client that keeps up gets each event alone, as the hub framed it.
    assert first.frames[1:] == [f'{{"id":{n + 1},{p.decode()[1:]}' for n, p in enumerate(payloads)]
    assert all(a is b for a, b in zip(first.frames[1:], second.frames[1:], strict=True))
    assert fanout.latest_id == 5


async def test_a_burst_reaches_each_client_as_one_batch_frame_joined_once(
    hub: MemoryHub, fanout: Fanout
) -> None:
    with connected(fanout) as first, connected(fanout) as second, connected(fanout) as other:
        fanout.subscribe(first.subscriber, Filter(frozenset({"store-1"})))
        fanout.subscribe(second.subscriber, Filter(frozenset({"store-1"})))
        fanout.subscribe(other.subscriber, Filter(frozenset({"store-2"})))
        for socket in (first, second, other):
            await take(socket, 1)
        batches_before = metric("voc_ws_batch_frames_total")
        hub.sink().publish([payload("store-1", n=n) for n in range(5)] + [payload("store-2")])
        assert ids(await take(first, 5)) == [1, 2, 3, 4, 5]
        assert ids(await take(second, 5)) == [1, 2, 3, 4, 5]
        assert ids(await take(other, 1)) == [6]
    # Five events, one frame per client; both store-1 clients were written the same string.
    assert (len(first.frames), len(second.frames), len(other.frames)) == (2, 2, 2)
    assert json.loads(first.frames[1])["type"] == "batch"
    assert first.frames[1] is second.frames[1]
    assert json.loads(other.frames[1])["id"] == 6
    assert metric("voc_ws_batch_frames_total") == batches_before + 2


async def test_subscribed_reply_echoes_the_filter_and_the_latest_id(
    hub: MemoryHub, fanout: Fanout
) -> None:
    with connected(fanout) as watcher, connected(fanout) as late:
        fanout.subscribe(watcher.subscriber, Filter())
        hub.sink().publish([payload(), payload()])
        await take(watcher, 3)
        watch = Filter(frozenset({"store-2", "store-1"}), frozenset({"delivery"}))
        fanout.subscribe(late.subscriber, watch)
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
    with connected(fanout) as watcher, connected(fanout) as resumed:
        fanout.subscribe(watcher.subscriber, Filter())
        hub.sink().publish([payload("store-1"), payload("store-2"), payload("store-1")] * 2)
        await take(watcher, 7)
        fanout.subscribe(resumed.subscriber, Filter(frozenset({"store-1"})), last_id=1)
        reply, *replayed = await take(resumed, 4)
        assert (reply["type"], reply["latest_id"], reply["replayed"]) == ("subscribed", 6, 3)
        assert ids(replayed) == [3, 4, 6]
        hub.sink().publish([payload("store-2"), payload("store-1")])
        assert ids(await take(resumed, 1)) == [8]


async def test_resume_during_a_burst_neither_skips_nor_repeats_an_event(
    hub: MemoryHub, fanout: Fanout
) -> None:
    with connected(fanout) as watcher, connected(fanout) as resumed:
        fanout.subscribe(watcher.subscriber, Filter())
        await take(watcher, 1)
        hub.sink().publish([payload(n=n) for n in range(20)])
        # Resume while the fanout is part-way through the burst: some of what the client missed
        # comes from the ring, the rest live; the seam must not show.
        while fanout.latest_id < 10:
            await take(watcher, 1)
        fanout.subscribe(resumed.subscriber, Filter(), last_id=3)
        messages = await take(resumed, 1 + 17)
        assert ids(messages) == list(range(4, 21))


async def test_resume_at_the_latest_id_replays_nothing(hub: MemoryHub, fanout: Fanout) -> None:
    with connected(fanout) as watcher, connected(fanout) as resumed:
        fanout.subscribe(watcher.subscriber, Filter())
        hub.sink().publish([payload(), payload()])
        await take(watcher, 3)
        fanout.subscribe(resumed.subscriber, Filter(), last_id=2)
        assert (await take(resumed, 1))[0]["replayed"] == 0
        assert resumed.subscriber.pending == 0


async def test_resume_from_before_the_ring_sends_a_gap(
    hub: MemoryHub, make_fanout: MakeFanout
) -> None:
    fanout = await make_fanout(ws_replay_events=3)
    with connected(fanout) as watcher, connected(fanout) as too_old, connected(fanout) as just_in:
        fanout.subscribe(watcher.subscriber, Filter())
        hub.sink().publish([payload() for _ in range(6)])
        await take(watcher, 7)
        assert (fanout.oldest_id, fanout.latest_id) == (4, 6)
        fanout.subscribe(too_old.subscriber, Filter(), last_id=2)
        fanout.subscribe(just_in.subscriber, Filter(), last_id=3)
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
    with connected(fanout) as watcher, connected(fanout) as from_before_restart:
        fanout.subscribe(watcher.subscriber, Filter())
        hub.sink().publish([payload()])
        await take(watcher, 2)
        fanout.subscribe(from_before_restart.subscriber, Filter(), last_id=500)
        assert (await take(from_before_restart, 2))[1] == {
            "type": "gap",
            "last_id": 500,
            "oldest_id": 1,
            "latest_id": 1,
        }


async def test_subscribing_again_changes_the_filter(hub: MemoryHub, fanout: Fanout) -> None:
    with connected(fanout) as client, connected(fanout) as watcher:
        fanout.subscribe(watcher.subscriber, Filter())
        fanout.subscribe(client.subscriber, Filter(frozenset({"store-1"})))
        hub.sink().publish([payload("store-1"), payload("store-2")])
        await take(watcher, 3)
        assert ids(await take(client, 2)) == [1]
        fanout.subscribe(client.subscriber, Filter(frozenset({"store-2"})))
        hub.sink().publish([payload("store-1"), payload("store-2")])
        reply, event = await take(client, 2)
        assert reply["org_units"] == ["store-2"]
        assert event["id"] == 4


async def test_a_slow_client_is_disconnected_while_a_fast_one_keeps_receiving(
    hub: MemoryHub, make_fanout: MakeFanout
) -> None:
    fanout = await make_fanout(ws_client_queue=4)
    slow_before = metric("voc_ws_slow_disconnects_total")
    with connected(fanout, stalled=True) as slow, connected(fanout) as fast:
        fanout.subscribe(slow.subscriber, Filter())
        fanout.subscribe(fast.subscriber, Filter())
        await take(fast, 1)
        hub.sink().publish([payload(n=n) for n in range(10)])
        async with asyncio.timeout(5):
            await slow.closing.wait()
        assert ids(await take(fast, 10)) == list(range(1, 11))
        assert (slow.close_code, slow.subscriber.pending) == (1013, 0)
        assert "last_id" in slow.close_reason
    assert metric("voc_ws_slow_disconnects_total") == slow_before + 1


async def test_a_burst_larger_than_the_client_queue_reaches_a_client_that_keeps_up(
    hub: MemoryHub, make_fanout: MakeFanout
) -> None:
    fanout = await make_fanout(ws_client_queue=8)
    with connected(fanout) as fast:
        fanout.subscribe(fast.subscriber, Filter())
        await take(fast, 1)
        hub.sink().publish([payload(n=n) for n in range(100)])
        assert ids(await take(fast, 100)) == list(range(1, 101))
        assert not fast.closing.is_set()
        # Batched as the client fell behind between loop turns, never past its bound.
        assert 1 < len(fast.frames) - 1 <= 100


async def test_a_units_loop_figures_are_coalesced_for_a_client_that_is_behind(
    hub: MemoryHub, fanout: Fanout
) -> None:
    def loop(org_unit: str, n: int) -> bytes:
        event = {"type": "loop", "org_unit": org_unit, "touchpoint": None, "data": {"n": n}}
        return json.dumps(event, separators=(",", ":")).encode()

    coalesced_before = metric("voc_ws_coalesced_total")
    with connected(fanout) as manager:
        fanout.subscribe(manager.subscriber, Filter())
        await take(manager, 1)
        hub.sink().publish(
            [
                loop("store-1", 1),
                payload("store-1"),
                loop("store-1", 2),
                loop("store-2", 1),
                loop("store-1", 3),
            ]
        )
        received = await take(manager, 3)
    # Every comment; of each unit's figures, only the newest not yet sent.
    assert [(m["type"], m["org_unit"], m["data"].get("n")) for m in received] == [
        ("comment", "store-1", None),
        ("loop", "store-2", 1),
        ("loop", "store-1", 3),
    ]
    assert metric("voc_ws_coalesced_total") == coalesced_before + 2


async def test_delivery_lag_is_the_age_of_the_oldest_unwritten_event(
    hub: MemoryHub, make_fanout: MakeFanout
) -> None:
    fanout = await make_fanout(ws_client_queue=100)
    with connected(fanout) as fast, connected(fanout, stalled=True) as stuck:
        fanout.subscribe(fast.subscriber, Filter())
        fanout.subscribe(stuck.subscriber, Filter())
        await take(fast, 1)
        assert fanout.lag() == 0.0
        hub.sink().publish([payload()])
        await take(fast, 1)
        # The stuck socket still holds its reply's write; the event waits in its outbox.
        await asyncio.sleep(0.05)  # the time whose passing the lag should show
        assert fanout.lag() >= 0.05
        assert metric("voc_ws_delivery_lag_seconds") >= 0.05
    assert fanout.lag() == 0.0


async def test_connected_clients_are_counted(fanout: Fanout) -> None:
    before = metric("voc_ws_clients")
    with connected(fanout), connected(fanout):
        assert metric("voc_ws_clients") == before + 2
    assert metric("voc_ws_clients") == before


async def test_stopping_closes_clients_as_a_service_restart(hub: MemoryHub) -> None:
    fanout = Fanout(hub, Settings())
    await fanout.start()
    with connected(fanout) as client:
        fanout.subscribe(client.subscriber, Filter())
        await fanout.stop()
        assert (client.closing.is_set(), client.close_code) == (True, 1012)
    with connected(fanout) as late:
        assert late.subscriber.close_code == 1012


async def test_an_event_without_routing_fields_is_skipped(hub: MemoryHub, fanout: Fanout) -> None:
    with connected(fanout) as client:
        fanout.subscribe(client.subscriber, Filter())
        hub.sink().publish([b'{"type":"comment","data":{}}', payload()])
        assert ids(await take(client, 2)) == [2]


async def test_the_observer_hears_every_routed_event_once_whether_or_not_anyone_watches(
    hub: MemoryHub,
) -> None:
    heard: list[tuple[str, str | None, str]] = []
    fanout = Fanout(hub, Settings(), observer=lambda *fields: heard.append(fields))
    await fanout.start()
    try:
        with connected(fanout) as store_2:
            fanout.subscribe(store_2.subscriber, Filter(frozenset({"store-2"})))
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
