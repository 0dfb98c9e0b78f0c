"""Praise reaches the team: a promoter's praise is pushed live to the unit's frontline, kept on
the unit's praise wall with the staff it names, and a manager can pin it on top of the feed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.harness import App, Cockpit, post_batch, response, wait_until

pytestmark = pytest.mark.integration


def _wall(app: App, who: str, **params: Any) -> dict[str, Any]:
    with app.as_user(who) as client:
        answer = client.get("/api/v1/praise", params=params)
    assert answer.status_code == 200, answer.text
    wall: dict[str, Any] = answer.json()
    return wall


def _listed(app: App, response_id: str, who: str = "admin") -> bool:
    items = _wall(app, who)["items"]
    return any(p["response"]["response_id"] == response_id for p in items)


async def test_praise_is_pushed_live_to_the_units_frontline_and_kept_on_its_wall(
    module_app: App,
) -> None:
    praised = response(
        org_unit="store-12",
        score=10,
        comment="Marie was wonderful, so helpful and kind. Thank you!",
        staff=["Marie"],
    )
    lukewarm = response(org_unit="store-12", score=10, comment="OK I guess")
    elsewhere = response(org_unit="store-40", score=10, comment="Wonderful, thank you Marie!")
    async with connect(
        module_app.ws_url, additional_headers=module_app.auth("frontline")
    ) as connection:
        staff = Cockpit(connection)
        await staff.subscribe()
        # Events arrive in order: another region's praise would come before this store's.
        await asyncio.to_thread(post_batch, module_app, elsewhere, lukewarm, praised)
        event = await staff.next(
            lambda e: (
                e["type"] == "praise"
                and e["data"]["response"]["response_id"] == praised["response_id"]
            )
        )
    assert event["org_unit"] == "store-12"
    assert event["data"]["response"]["staff"] == ["Marie"]
    assert event["data"]["response"]["contact_masked"] is True
    # Nothing else was praise: not the lukewarm answer, not the other region's praise.
    assert [e for e in staff.events if e["type"] == "praise"] == []
    assert _listed(module_app, praised["response_id"], who="frontline")
    assert not _listed(module_app, lukewarm["response_id"])


def test_a_manager_pins_one_praise_per_unit_and_frontline_staff_cannot(module_app: App) -> None:
    first = response(org_unit="store-12", score=9, comment="Great staff, lovely welcome!")
    second = response(org_unit="store-12", score=10, comment="Excellent service, thank you!")
    post_batch(module_app, first, second)
    for body in (first, second):
        wait_until(
            lambda b=body: _listed(module_app, b["response_id"]), message="the praise stored"
        )
    with module_app.as_user("manager") as manager:
        pinned = manager.post(f"/api/v1/praise/{first['response_id']}/pin")
        assert pinned.status_code == 200, pinned.text
        assert pinned.json()["pinned_by"] == "north.manager"
        assert manager.post(f"/api/v1/praise/{second['response_id']}/pin").status_code == 200
    on_top = _wall(module_app, "frontline", org_unit="store-12")["pinned"]
    assert [p["response"]["response_id"] for p in on_top] == [second["response_id"]]
    with module_app.as_user("frontline") as staff:
        refused = staff.post(f"/api/v1/praise/{first['response_id']}/pin")
    assert refused.status_code == 403
    with module_app.as_user("manager") as manager:
        assert manager.delete(f"/api/v1/praise/{second['response_id']}/pin").status_code == 200
        assert manager.post("/api/v1/praise/no-such-response/pin").status_code == 404
    assert _wall(module_app, "admin", org_unit="store-12")["pinned"] == []


def test_praise_of_another_region_is_neither_listed_nor_pinnable(module_app: App) -> None:
    south = response(org_unit="store-40", score=10, comment="Great, quick and friendly!")
    post_batch(module_app, south)
    wait_until(lambda: _listed(module_app, south["response_id"]), message="the praise stored")
    assert not _listed(module_app, south["response_id"], who="manager")
    with module_app.as_user("manager") as manager:
        assert manager.post(f"/api/v1/praise/{south['response_id']}/pin").status_code == 404
        assert manager.get("/api/v1/praise", params={"org_unit": "store-40"}).status_code == 403
