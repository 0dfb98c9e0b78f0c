"""Barometers the API pushes over the websocket for the scopes cockpits watch, on real services."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.harness import PASSWORD, App, Cockpit, response

pytestmark = pytest.mark.integration

Event = dict[str, Any]


async def _post(app: App, *bodies: dict[str, Any]) -> None:
    def send() -> None:
        with app.client() as client:
            answer = client.post("/api/v1/responses:batch", json={"responses": list(bodies)})
        assert answer.status_code == 202, answer.text

    await asyncio.to_thread(send)


def pushed(org_units: list[str], when: Callable[[Event], bool] = lambda e: True) -> Any:
    """Matches a barometer the API pushed for the scope naming `org_units` (not a worker's)."""
    return lambda e: (
        e["type"] == "barometer" and e.get("scope", {}).get("org_units") == org_units and when(e)
    )


def today(event: Event) -> dict[str, Any]:
    figures: dict[str, Any] = event["data"]["windows"]["today"]
    return figures


def computations(app: App) -> float:
    text = httpx.get(app.url + "/metrics", timeout=15).text
    found = re.search(r"^voc_live_barometer_seconds_count (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_a_region_manager_gets_the_region_rolled_up_from_a_stores_new_response(
    module_app: App,
) -> None:
    with module_app.as_user("manager") as manager:
        before = manager.get("/api/v1/barometers", params={"org_unit": "north"}).json()
    async with connect(module_app.ws_url, additional_headers=module_app.auth("manager")) as ws:
        region = Cockpit(ws)
        await region.subscribe(org_units=["north"])
        await _post(module_app, response(org_unit="store-3", score=0, comment="Never came."))

        moved = before["windows"]["today"]["responses"] + 1
        frame = await region.next(pushed(["north"], lambda e: today(e)["responses"] == moved))
    assert (frame["org_unit"], frame["touchpoint"]) == ("north", None)
    assert today(frame)["detractors"] == before["windows"]["today"]["detractors"] + 1
    assert frame["data"]["parent"]["org_unit"] == "acme"
    # The page shows what the read API answers, not a figure of its own.
    with module_app.as_user("manager") as manager:
        after = manager.get("/api/v1/barometers", params={"org_unit": "north"}).json()
    assert frame["data"]["windows"]["today"] == after["windows"]["today"]
    assert frame["data"]["windows"]["7d"] == after["windows"]["7d"]


def _today(app: App, role: str, **params: Any) -> dict[str, Any]:
    """Today's figures as the read API gives them now: the module's app is shared."""
    with app.as_user(role) as user:
        figures: dict[str, Any] = user.get("/api/v1/barometers", params=params).json()
    return figures["windows"]["today"]


async def test_a_store_page_gets_its_stores_figures_beside_its_region(module_app: App) -> None:
    before = _today(module_app, "admin", org_unit="store-5")
    async with connect(module_app.ws_url, additional_headers=module_app.auth("admin")) as ws:
        store = Cockpit(ws)
        await store.subscribe(org_units=["store-5"])
        await _post(
            module_app,
            response(org_unit="store-6", score=0),  # a neighbour: the region's, not the store's
            response(org_unit="store-5", score=10),
            response(org_unit="store-5", score=9, touchpoint="billing"),
        )
        moved = before["responses"] + 2
        frame = await store.next(pushed(["store-5"], lambda e: today(e)["responses"] == moved))
    assert (frame["org_unit"], frame["scope"]["touchpoints"]) == ("store-5", [])
    assert today(frame)["promoters"] == before["promoters"] + 2
    parent = frame["data"]["parent"]
    assert (parent["org_unit"], parent["name"]) == ("north", "North")
    assert parent["windows"]["today"]["detractors"] >= 1


async def test_frontline_staff_never_receive_another_stores_barometer(module_app: App) -> None:
    module_app.add_user("s40.staff", "frontline", ["store-40"])
    store_40_staff = {"Authorization": f"Bearer {module_app.sign_in('s40.staff', PASSWORD)}"}
    async with (
        connect(module_app.ws_url, additional_headers=store_40_staff) as ws_40,
        connect(module_app.ws_url, additional_headers=module_app.auth("frontline")) as ws_12,
    ):
        staff_40, staff_12 = Cockpit(ws_40), Cockpit(ws_12)
        await staff_40.subscribe()  # each watches their own store
        await staff_12.subscribe()
        await _post(module_app, response(org_unit="store-40", score=0, comment="Rude staff."))
        await staff_40.next(pushed(["store-40"]))
        # Store 12's own answer after it: anything of store 40 would have come before its frame.
        before = _today(module_app, "frontline")
        await _post(module_app, response(org_unit="store-12", score=10))
        frame = await staff_12.next(
            pushed(["store-12"], lambda e: today(e)["responses"] > before["responses"])
        )
    assert (frame["org_unit"], today(frame)["responses"]) == ("store-12", before["responses"] + 1)
    assert [e for e in staff_12.events if "store-40" in str(e)] == []


async def test_twenty_phones_on_one_store_cost_one_computation(module_app: App) -> None:
    headers = module_app.auth("admin")
    async with AsyncExitStack() as stack:
        phones = []
        for _ in range(20):
            ws = await stack.enter_async_context(
                connect(module_app.ws_url, additional_headers=headers)
            )
            phones.append(Cockpit(ws))
            await phones[-1].subscribe(org_units=["store-7"])
        passives = _today(module_app, "admin", org_unit="store-7")["passives"]
        before = await asyncio.to_thread(computations, module_app)
        await _post(module_app, response(org_unit="store-7", score=8))
        frames = [await phone.next(pushed(["store-7"])) for phone in phones]
        after = await asyncio.to_thread(computations, module_app)
    assert after - before == 1
    assert all(f == frames[0] for f in frames)
    assert today(frames[0])["passives"] == passives + 1
