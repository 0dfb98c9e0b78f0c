"""One client's outbox and the eager writes the flusher makes."""

from __future__ import annotations

import asyncio
import json

import pytest
from prometheus_client import REGISTRY

from app.core.settings import Settings
from app.hub.fanout import Fanout, Filter
from app.hub.memory import MemoryHub
from app.hub.outbox import Subscriber, batch, run_eagerly


def metric(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def _unwritten(frame: str) -> None:
    raise AssertionError("not written in these tests")


def test_a_batch_frame_holds_the_events_in_order_as_json() -> None:
    frames = ['{"id":1,"type":"comment"}', '{"type":"barometer","data":{}}']
    assert json.loads(batch(frames)) == {
        "type": "batch",
        "events": [{"id": 1, "type": "comment"}, {"type": "barometer", "data": {}}],
    }


def test_events_keep_their_order_and_the_newest_keyed_frame_goes_after_them() -> None:
    told: list[Subscriber] = []
    outbox = Subscriber(10, _unwritten, ready=told.append)
    outbox.offer("b1", key="barometer")
    outbox.offer("e1")
    outbox.offer("b2", key="barometer")
    outbox.offer("e2")
    # Told once, when the outbox stopped being empty.
    assert told == [outbox]
    assert outbox.pending == 3
    assert outbox.take() == ["e1", "e2", "b2"]
    assert (outbox.pending, outbox.since) == (0, None)
    outbox.offer("e3")
    assert told == [outbox, outbox]


def test_one_event_past_the_bound_closes_the_client_and_drops_what_it_held() -> None:
    outbox = Subscriber(2, _unwritten)
    assert outbox.offer("e1") and outbox.offer("e2")
    # Keyed frames do not count against the bound: they replace each other.
    assert all(outbox.offer(f"b{n}", key="barometer") for n in range(10))
    assert not outbox.offer("e3")
    assert (outbox.closed, outbox.close_code, outbox.pending) == (True, 1013, 0)
    assert not outbox.offer("e4")


async def test_a_write_that_does_not_wait_runs_to_its_end_on_the_spot() -> None:
    written: list[str] = []

    async def write(frame: str) -> None:
        written.append(frame)

    assert run_eagerly(write("x")) is None
    assert written == ["x"]


async def test_a_write_that_waits_is_carried_on_by_a_task() -> None:
    room = asyncio.Event()
    written: list[str] = []

    async def write(frame: str) -> None:
        await room.wait()
        written.append(frame)

    waiting = run_eagerly(write("x"))
    assert waiting is not None and written == []
    room.set()
    async with asyncio.timeout(5):
        await waiting
    assert written == ["x"]


async def test_a_waiting_write_can_be_cancelled() -> None:
    cleaned: list[bool] = []

    async def write(frame: str) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append(True)

    waiting = run_eagerly(write("x"))
    assert waiting is not None
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert cleaned == [True]


async def test_the_in_process_hub_drops_past_its_backlog_and_clients_are_told_to_reload() -> None:
    dropped_before = metric("voc_hub_dropped_total")
    hub = MemoryHub(last_id=0, backlog=3)
    await hub.start()
    fanout = Fanout(hub, Settings())
    await fanout.start()
    try:
        received: list[dict[str, object]] = []
        arrived = asyncio.Event()

        async def write(frame: str) -> None:
            decoded = json.loads(frame)
            received.extend(decoded["events"] if decoded["type"] == "batch" else [decoded])
            arrived.set()

        with fanout.connect(write) as subscriber:
            fanout.subscribe(subscriber, Filter())
            event = b'{"type":"comment","org_unit":"store-1","touchpoint":"delivery","data":{}}'
            # Five events at once into a backlog of three: the last two are dropped.
            hub.sink().publish([event] * 5)
            hub.sink().publish([event])
            async with asyncio.timeout(5):
                while not any(m.get("type") == "gap" for m in received):
                    arrived.clear()
                    await arrived.wait()
    finally:
        await fanout.stop()
        await hub.stop()
    # Told right after the last event it could hold, without waiting for another to come.
    assert [m.get("id", m["type"]) for m in received[1:]] == [1, 2, 3, "gap"]
    assert received[-1] == {"type": "gap", "last_id": 3, "oldest_id": 4, "latest_id": 3}
    assert metric("voc_hub_dropped_total") == dropped_before + 3
