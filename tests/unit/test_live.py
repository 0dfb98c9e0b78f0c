"""Live barometers' bookkeeping: which scopes a response moves, shared work, forgetting, pacing."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import REGISTRY

from app.api.live import LiveBarometers, Scope, label_of, named_units
from app.core.access import Principal, Role
from app.core.events import BarometerSnapshot
from app.hub.fanout import Subscriber

NORTH = frozenset({"north", "store-1", "store-12", "store-12-field"})
STORE_12 = frozenset({"store-12", "store-12-field"})
STORE_40 = frozenset({"store-40"})


class Rollup:
    """Stands in for the database roll-up: counts its calls, can be made to fail."""

    def __init__(self) -> None:
        self.calls: list[tuple[Scope, frozenset[str] | None]] = []
        self.failing = False
        self.takes_s = 0.0
        self.parents: list[object] = []
        self._lock = threading.Lock()

    def __call__(
        self, scope: Scope, covered: frozenset[str] | None, parents: object
    ) -> BarometerSnapshot:
        with self._lock:
            self.calls.append((scope, covered))
            self.parents.append(parents)
        time.sleep(self.takes_s)  # how long the database takes, in a worker thread
        if self.failing:
            raise RuntimeError("database unavailable")
        return BarometerSnapshot(
            org_unit=scope.label,
            touchpoint=scope.touchpoints[0] if len(scope.touchpoints) == 1 else None,
            as_of=datetime.now(UTC),
            windows={},
            trend=[],
        )


@pytest.fixture
def rollup() -> Rollup:
    return Rollup()


@pytest.fixture
def live(rollup: Rollup) -> LiveBarometers:
    return LiveBarometers(rollup, every_s=0.25)


class Phone(Subscriber):
    """A socket's outbox as live barometers fill it; here nothing writes it out."""

    def __init__(self) -> None:
        self.arrived = asyncio.Event()
        super().__init__(16, self._write, ready=lambda _: self.arrived.set())

    async def _write(self, frame: str) -> None:
        raise AssertionError("no flusher here")


def socket() -> Phone:
    return Phone()


async def pushed(subscriber: Subscriber) -> list[dict[str, Any]]:
    """What the subscriber would send now, decoded."""
    return [json.loads(frame) for frame in subscriber.take()]


def scopes_watched() -> float:
    return REGISTRY.get_sample_value("voc_live_barometer_scopes") or 0.0


def principal(role: str, *units: str) -> Principal:
    return Principal(user_id=1, username="someone", role=Role(role), units=units)


def test_a_scope_is_named_by_the_units_asked_for_or_else_by_the_callers_own() -> None:
    staff = principal("frontline", "store-12")
    # One store's phones share one scope, whether the page names the store or not.
    assert Scope.of(staff, [], []) == Scope.of(staff, ["store-12"], []) == Scope(("store-12",))
    assert Scope.of(staff, [], []).label == "store-12"
    assert Scope.of(principal("admin"), [], ["delivery"]) == Scope((), ("delivery",))
    assert named_units(principal("manager", "south", "north"), []) == ("north", "south")
    assert label_of(named_units(principal("manager", "south", "north"), [])) is None
    assert Scope.of(staff, ["store-12", "store-12"], ["b", "a", "b"]) == Scope(
        ("store-12",), ("a", "b")
    )


async def test_sockets_watching_one_scope_share_one_computation_and_one_frame(
    live: LiveBarometers, rollup: Rollup
) -> None:
    phones = [socket() for _ in range(3)]
    for phone in phones:
        live.watch(phone, Scope(("store-12",)), STORE_12)

    live.saw("store-12-field", "delivery", "comment")
    assert await live.refresh() == 1

    assert rollup.calls == [(Scope(("store-12",)), STORE_12)]
    received = [await pushed(phone) for phone in phones]
    assert received[0] == [
        {
            "type": "barometer",
            "scope": {"org_units": ["store-12"], "touchpoints": []},
            "org_unit": "store-12",
            "touchpoint": None,
            "data": received[0][0]["data"],
        }
    ]
    assert received[0][0]["data"]["org_unit"] == "store-12"
    assert received[1] == received[2] == received[0]


async def test_a_comment_moves_only_the_scopes_that_cover_its_unit(
    live: LiveBarometers, rollup: Rollup
) -> None:
    region, store_40, everything = socket(), socket(), socket()
    live.watch(region, Scope(("north",)), NORTH)
    live.watch(store_40, Scope(("store-40",)), STORE_40)
    live.watch(everything, Scope(()), None)

    live.saw("store-12-field", "billing", "comment")
    assert await live.refresh() == 2

    assert [scope for scope, _ in rollup.calls] == [Scope(()), Scope(("north",))]
    assert len(await pushed(region)) == len(await pushed(everything)) == 1
    assert await pushed(store_40) == []


async def test_a_touchpoint_scope_moves_only_with_its_touchpoints(
    live: LiveBarometers, rollup: Rollup
) -> None:
    billing, store = socket(), socket()
    live.watch(billing, Scope(("store-12",), ("billing",)), STORE_12)
    live.watch(store, Scope(("store-12",)), STORE_12)

    live.saw("store-12", "delivery", "comment")
    await live.refresh()
    assert (len(await pushed(billing)), len(await pushed(store))) == (0, 1)

    live.saw("store-12", "billing", "comment")
    await live.refresh()
    [frame] = await pushed(billing)
    assert frame["scope"] == {"org_units": ["store-12"], "touchpoints": ["billing"]}
    assert (frame["org_unit"], frame["touchpoint"]) == ("store-12", "billing")
    assert len(await pushed(store)) == 1


@pytest.mark.parametrize("kind", ["flag", "barometer", "alert", "loop"])
async def test_only_a_stored_response_moves_a_barometer(
    live: LiveBarometers, rollup: Rollup, kind: str
) -> None:
    live.watch(socket(), Scope(("store-12",)), STORE_12)
    live.saw("store-12", None if kind in {"barometer", "loop"} else "delivery", kind)
    assert await live.refresh() == 0
    assert rollup.calls == []


async def test_many_responses_between_two_passes_cost_one_computation(
    live: LiveBarometers, rollup: Rollup
) -> None:
    phone = socket()
    live.watch(phone, Scope(("north",)), NORTH)
    for _ in range(100):
        live.saw("store-1", "delivery", "comment")
    assert await live.refresh() == 1
    assert await live.refresh() == 0  # nothing moved since
    assert len(rollup.calls) == 1
    assert len(await pushed(phone)) == 1


async def test_a_scope_nobody_watches_is_forgotten(live: LiveBarometers, rollup: Rollup) -> None:
    before = scopes_watched()
    first, second = socket(), socket()
    live.watch(first, Scope(("store-12",)), STORE_12)
    live.watch(second, Scope(("store-12",)), STORE_12)
    assert scopes_watched() == before + 1

    live.saw("store-12", "delivery", "comment")
    live.leave(first)
    live.leave(second)
    # Marked before the sockets left: not computed for nobody.
    assert await live.refresh() == 0
    live.saw("store-12", "delivery", "comment")
    assert await live.refresh() == 0
    assert rollup.calls == []
    assert scopes_watched() == before


async def test_a_socket_that_changes_scope_gets_only_its_new_scopes_frames(
    live: LiveBarometers, rollup: Rollup
) -> None:
    before = scopes_watched()
    page = socket()
    live.watch(page, Scope(("store-12",)), STORE_12)
    live.watch(page, Scope(("store-40",)), STORE_40)
    assert scopes_watched() == before + 1

    live.saw("store-12", "delivery", "comment")
    assert await live.refresh() == 0
    live.saw("store-40", "delivery", "comment")
    await live.refresh()
    assert [f["scope"]["org_units"] for f in await pushed(page)] == [["store-40"]]
    live.leave(page)
    assert scopes_watched() == before


async def test_the_newest_resolution_of_a_scope_decides_what_it_covers(
    live: LiveBarometers, rollup: Rollup
) -> None:
    early, late = socket(), socket()
    live.watch(early, Scope(("store-12",)), STORE_12)
    # The tree changed meanwhile: a new team under the store, the field team moved away.
    live.watch(late, Scope(("store-12",)), frozenset({"store-12", "store-12-shop"}))

    live.saw("store-12-field", "delivery", "comment")
    assert await live.refresh() == 0
    live.saw("store-12-shop", "delivery", "comment")
    assert await live.refresh() == 1
    assert rollup.calls == [(Scope(("store-12",)), frozenset({"store-12", "store-12-shop"}))]
    assert len(await pushed(early)) == len(await pushed(late)) == 1


async def test_a_failed_computation_pushes_nothing_and_the_next_response_recovers(
    live: LiveBarometers, rollup: Rollup
) -> None:
    phone = socket()
    live.watch(phone, Scope(("store-12",)), STORE_12)
    failures = REGISTRY.get_sample_value("voc_live_barometer_failures_total") or 0.0
    rollup.failing = True
    live.saw("store-12", "delivery", "comment")
    await live.refresh()
    assert await pushed(phone) == []
    assert REGISTRY.get_sample_value("voc_live_barometer_failures_total") == failures + 1

    rollup.failing = False
    live.saw("store-12", "delivery", "comment")
    await live.refresh()
    assert len(await pushed(phone)) == 1


class Pause:
    """The loop's sleep, held until the test lets it go; records how long it was asked for."""

    def __init__(self) -> None:
        self.asked: asyncio.Queue[float] = asyncio.Queue()
        self._go = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        await self.asked.put(seconds)
        await self._go.wait()
        self._go.clear()

    def release(self) -> None:
        self._go.set()


@pytest.fixture
async def paced(rollup: Rollup) -> AsyncIterator[tuple[LiveBarometers, Pause]]:
    pause = Pause()
    live = LiveBarometers(rollup, every_s=0.25, sleep=pause)
    live.start()
    yield live, pause
    await live.stop()


async def next_frame(phone: Phone) -> dict[str, Any]:
    async with asyncio.timeout(5):
        await phone.arrived.wait()
    phone.arrived.clear()
    [frame] = phone.take()
    message: dict[str, Any] = json.loads(frame)
    return message


async def test_the_first_response_is_pushed_at_once_and_the_rest_wait_for_the_pause(
    paced: tuple[LiveBarometers, Pause], rollup: Rollup
) -> None:
    live, pause = paced
    phone = socket()
    live.watch(phone, Scope(("north",)), NORTH)

    live.saw("store-1", "delivery", "comment")
    assert (await next_frame(phone))["type"] == "barometer"
    # After a pass the loop pauses for VOC_LIVE_BAROMETER_EVERY_MS before the next.
    assert await pause.asked.get() == 0.25
    for _ in range(10):
        live.saw("store-12", "delivery", "comment")
    assert len(rollup.calls) == 1

    pause.release()
    assert (await next_frame(phone))["type"] == "barometer"
    assert await pause.asked.get() == 0.25
    # Ten responses during the pause: one more computation, not ten.
    assert len(rollup.calls) == 2
    assert phone.pending == 0


async def test_a_pass_slower_than_the_pause_is_followed_by_a_pause_as_long(
    paced: tuple[LiveBarometers, Pause], rollup: Rollup
) -> None:
    live, pause = paced
    rollup.takes_s = 0.2
    for n in range(3):
        live.watch(socket(), Scope((f"store-{n}",)), frozenset({f"store-{n}"}))
        live.saw(f"store-{n}", "delivery", "comment")
    # Three scopes of 0.2 s: the pass took 0.6 s, more than the 0.25 s pause.
    assert await pause.asked.get() >= 0.6
    # The scopes of one pass shared one memo of parents' figures.
    assert len(rollup.parents) == 3 and all(p is rollup.parents[0] for p in rollup.parents)
