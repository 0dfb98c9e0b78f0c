"""Who sees what: every role against every endpoint, inside and outside its units, REST and /ws."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.harness import App, Cockpit, all_alerts, make_app, response, wait_until

pytestmark = pytest.mark.integration

CONTACT = {"name": "Jeanne Martin", "email": "jeanne@example.com", "phone": "+33 6 12 34 56 78"}


@pytest.fixture(scope="module")
def world(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """One app holding a happy (praising) and an unhappy response in store-12, its team, and
    store-40; frontline staff take callbacks there."""
    app = make_app(broker, tmp_path_factory.mktemp("access"), frontline_callbacks="true")
    app.start()
    bodies = []
    for unit in ("store-12", "store-12-field", "store-40"):
        happy = response(
            org_unit=unit,
            score=10,
            comment="Wonderful service, thank you!",
            response_id=f"{unit}-happy",
        )
        unhappy = response(
            org_unit=unit,
            score=1,
            comment="Rude staff, nobody called me back.",
            response_id=f"{unit}-unhappy",
        )
        happy["contact"] = unhappy["contact"] = CONTACT
        bodies += [happy, unhappy]
    with app.client() as client:
        assert client.post("/api/v1/responses:batch", json={"responses": bodies}).status_code == 202
    wait_until(lambda: len(app.rows()) == len(bodies), message="6 rows")
    yield app
    app.stop()


def _headers(app: App, who: str) -> dict[str, str]:
    if who == "anonymous":
        return {}
    if who == "integrator":
        return {"X-API-Key": app.key}
    return app.auth(who)


WHO = ["anonymous", "integrator", "frontline", "manager", "admin"]

# (method, path, params or body, expected status per caller in WHO order); `{store-12}` in a
# path stands for the id of the alert on that unit's unhappy response.
MATRIX: list[tuple[str, str, Any, tuple[int, ...]]] = [
    ("GET", "/api/v1/responses", {"org_unit": "store-12"}, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/responses", {"org_unit": "store-12-field"}, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/responses", {"org_unit": "store-40"}, (401, 401, 403, 403, 200)),
    ("GET", "/api/v1/responses", {"org_unit": "north"}, (401, 401, 403, 200, 200)),
    ("GET", "/api/v1/responses", {"org_unit": "acme"}, (401, 401, 403, 403, 200)),
    ("GET", "/api/v1/responses", {"org_unit": "no-such-unit"}, (401, 401, 403, 403, 404)),
    ("GET", "/api/v1/responses", {}, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/barometers", {"org_unit": "store-12"}, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/barometers", {"org_unit": "store-40"}, (401, 401, 403, 403, 200)),
    ("GET", "/api/v1/barometers", {"org_unit": "north"}, (401, 401, 403, 200, 200)),
    ("GET", "/api/v1/barometers", {}, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/journey", {"org_unit": "store-12"}, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/journey", {"org_unit": "store-40"}, (401, 401, 403, 403, 200)),
    ("GET", "/api/v1/journey", {}, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/units", {}, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/auth/me", {}, (401, 401, 200, 200, 200)),
    ("POST", "/api/v1/responses", {"org_unit": "store-41"}, (401, 202, 401, 401, 401)),
    ("GET", "/api/v1/responses/store-12-unhappy", {}, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/responses/store-40-unhappy", {}, (401, 401, 404, 404, 200)),
    ("GET", "/api/v1/alerts", {}, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/alerts", {"org_unit": "store-40"}, (401, 401, 403, 403, 200)),
    ("GET", "/api/v1/alerts/{store-12}", {}, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/alerts/{store-40}", {}, (401, 401, 404, 404, 200)),
    ("GET", "/api/v1/alerts/figures", {"org_unit": "store-12"}, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/alerts/figures", {"org_unit": "store-40"}, (401, 401, 403, 403, 200)),
    ("GET", "/api/v1/alerts/root-causes", {}, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/alerts/{store-12}/assignees", {}, (401, 401, 403, 200, 200)),
    ("GET", "/api/v1/alerts/{store-40}/assignees", {}, (401, 401, 403, 404, 200)),
    # First come, first served: the frontline user takes it, then it is theirs.
    ("POST", "/api/v1/alerts/{store-12-field}/take", {}, (401, 401, 200, 409, 409)),
    (
        "POST",
        "/api/v1/alerts/{store-12-field}/contact",
        {"outcome": "no_answer"},
        (401, 401, 200, 200, 200),
    ),
    ("POST", "/api/v1/alerts/{store-40}/take", {}, (401, 401, 404, 404, 200)),
    (
        "POST",
        "/api/v1/alerts/{store-12}/transition",
        {"to": "acknowledged"},
        (401, 401, 403, 200, 422),
    ),
    (
        "POST",
        "/api/v1/alerts/bulk",
        {"action": "acknowledge", "filter": {"org_unit": ["store-40"]}},
        (401, 401, 403, 403, 200),
    ),
    ("GET", "/api/v1/praise", {}, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/praise", {"org_unit": "store-40"}, (401, 401, 403, 403, 200)),
    ("POST", "/api/v1/praise/store-12-happy/pin", {}, (401, 401, 403, 200, 200)),
    ("POST", "/api/v1/praise/store-40-happy/pin", {}, (401, 401, 403, 404, 200)),
    ("DELETE", "/api/v1/praise/store-12-happy/pin", {}, (401, 401, 403, 200, 200)),
    ("GET", "/api/v1/admin/users", {}, (401, 401, 403, 403, 200)),
    ("GET", "/api/v1/admin/keys", {}, (401, 401, 403, 403, 200)),
    ("POST", "/api/v1/admin/keys", {"name": "matrix"}, (401, 401, 403, 403, 201)),
    ("POST", "/api/v1/admin/units", {"name": "Store 77"}, (401, 401, 403, 403, 201)),
    ("GET", "/api/v1/admin/audit", {}, (401, 401, 403, 403, 200)),
    ("GET", "/api/v1/me/digest", {}, (401, 401, 200, 200, 200)),
    ("PUT", "/api/v1/me/digest", {"enabled": False, "hour": 7}, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/me/language", {}, (401, 401, 200, 200, 200)),
    ("PUT", "/api/v1/me/language", {"language": None}, (401, 401, 200, 200, 200)),
]


@pytest.mark.parametrize(
    ("method", "path", "given", "expected"),
    MATRIX,
    ids=[f"{m} {p} {g.get('org_unit', g.get('name', ''))}" for m, p, g, _ in MATRIX],
)
def test_each_caller_gets_the_expected_status(
    world: App, method: str, path: str, given: dict[str, Any], expected: tuple[int, ...]
) -> None:
    path = re.sub(r"\{([a-z0-9-]+)\}", lambda unit: str(_alert_id(world, unit[1])), path)
    answers = {}
    for who in WHO:
        headers = _headers(world, who)
        if method == "GET":
            answer = httpx.get(world.url + path, params=given, headers=headers, timeout=15)
        elif path == "/api/v1/responses":
            body = response(**given)
            answer = httpx.post(world.url + path, json=body, headers=headers, timeout=15)
        elif path == "/api/v1/admin/units":
            body = {"id": f"store-77-{who}", "parent": "south", **given}
            answer = httpx.post(world.url + path, json=body, headers=headers, timeout=15)
        else:
            answer = httpx.request(
                method, world.url + path, json=given, headers=headers, timeout=15
            )
        answers[who] = answer
        if answer.status_code >= 400:
            assert answer.json()["message"], answer.text
    assert {w: a.status_code for w, a in answers.items()} == dict(zip(WHO, expected, strict=True))


def _alert_id(app: App, unit: str) -> int:
    with httpx.Client(base_url=app.url, headers=_headers(app, "admin")) as client:
        listed = all_alerts(client, org_unit=unit)
    [alert_id] = [a["id"] for a in listed if a["response_id"] == f"{unit}-unhappy"]
    return int(alert_id)


def _ids(app: App, who: str, **params: str) -> set[str]:
    page = httpx.get(app.url + "/api/v1/responses", params=params, headers=_headers(app, who))
    # Only the fixture's responses: other tests of this module post more.
    return {i["response_id"] for i in page.json()["items"] if i["response_id"].startswith("store-")}


def test_without_a_unit_filter_each_user_reads_only_their_units(world: App) -> None:
    store_12 = {
        "store-12-happy",
        "store-12-unhappy",
        "store-12-field-happy",
        "store-12-field-unhappy",
    }
    assert _ids(world, "frontline") == store_12
    assert _ids(world, "manager") == store_12  # north holds store-12 and its team
    assert _ids(world, "admin") == store_12 | {"store-40-happy", "store-40-unhappy"}


def test_a_refusal_names_the_units_and_returns_nothing_of_the_allowed_ones(world: App) -> None:
    answer = httpx.get(
        world.url + "/api/v1/responses",
        params=[("org_unit", "store-12"), ("org_unit", "store-40")],
        headers=_headers(world, "frontline"),
    )
    assert answer.status_code == 403
    assert answer.json() == {
        "code": "out_of_scope",
        "message": "org_unit: outside your units: store-40",
    }


def test_a_region_barometer_is_rolled_up_from_its_stores_responses(world: App) -> None:
    def today(**params: str) -> dict[str, Any]:
        answer = httpx.get(
            world.url + "/api/v1/barometers", params=params, headers=_headers(world, "admin")
        )
        snapshot: dict[str, Any] = answer.json()
        return {"org_unit": snapshot["org_unit"], **snapshot["windows"]["today"]}

    north, south, acme = today(org_unit="north"), today(org_unit="south"), today(org_unit="acme")
    # store-12 and its team: 2 promoters, 2 detractors.
    assert (north["org_unit"], north["nps_responses"], north["nps"]) == ("north", 4, 0.0)
    # The company counts every answer of both regions, and its NPS comes from those counts.
    for count in ("nps_responses", "promoters", "detractors"):
        assert acme[count] == north[count] + south[count]
    expected = 100 * (acme["promoters"] - acme["detractors"]) / acme["nps_responses"]
    assert (acme["org_unit"], acme["nps"]) == ("acme", round(expected, 1))
    mine = httpx.get(world.url + "/api/v1/barometers", headers=_headers(world, "frontline")).json()
    assert (mine["org_unit"], mine["windows"]["today"]["nps_responses"]) == ("store-12", 4)


@pytest.mark.parametrize(
    ("who", "revealed"),
    [("frontline", set()), ("manager", {"store-12-unhappy", "store-12-field-unhappy"})],
)
def test_contact_details_are_masked_except_for_managers_on_dissatisfied_responses(
    world: App, who: str, revealed: set[str]
) -> None:
    page = httpx.get(
        world.url + "/api/v1/responses",
        params={"org_unit": "store-12"},
        headers=_headers(world, who),
    ).json()["items"]
    shown = {i["response_id"] for i in page if not i["contact_masked"]}
    assert shown == revealed
    for item in page:
        if item["response_id"] in revealed:
            assert item["contact"] == CONTACT
        else:
            assert item["contact"] == {
                "name": "J•••",
                "email": "j•••@example.com",
                "phone": "•••78",
            }
            assert CONTACT["phone"] not in str(item)


def _socket(app: App, who: str) -> Any:
    return connect(app.ws_url, additional_headers=_headers(app, who))


@pytest.mark.parametrize(
    ("who", "units", "refused"),
    [
        ("frontline", ["store-40"], "org_units: outside your units: store-40"),
        ("frontline", ["north"], "org_units: outside your units: north"),
        ("manager", ["store-40"], "org_units: outside your units: store-40"),
        ("manager", ["acme"], "org_units: outside your units: acme"),
        ("frontline", ["store-12"], None),
        ("manager", ["north"], None),
        ("admin", ["store-40"], None),
    ],
)
async def test_websocket_subscriptions_follow_the_same_scope(
    world: App, who: str, units: list[str], refused: str | None
) -> None:
    async with _socket(world, who) as connection:
        cockpit = Cockpit(connection)
        await connection.send(json.dumps({"type": "subscribe", "org_units": units}))
        first = await cockpit.next(lambda e: e["type"] in {"subscribed", "error"})
    if refused is None:
        assert first["type"] == "subscribed"
        assert set(units) <= set(first["org_units"])
    else:
        assert first == {"type": "error", "code": "out_of_scope", "message": refused}


async def test_an_out_of_scope_unit_sends_a_subscriber_nothing_not_even_barometers(
    world: App,
) -> None:
    async with (
        _socket(world, "frontline") as staff_connection,
        _socket(world, "admin") as admin_connection,
    ):
        staff, admin = Cockpit(staff_connection), Cockpit(admin_connection)
        await staff_connection.send('{"org_units": ["store-40"]}')
        assert (await staff.next(lambda e: True))["type"] == "error"
        await staff.subscribe()  # everything this user may see
        await admin.subscribe(org_units=["store-40"])
        with world.client() as client:
            posted = await asyncio.to_thread(
                client.post, "/api/v1/responses", json=response(org_unit="store-40", score=0)
            )
            assert posted.status_code == 202
            await admin.next(lambda e: e["type"] == "barometer")
            posted = await asyncio.to_thread(
                client.post, "/api/v1/responses", json=response(org_unit="store-12", score=0)
            )
            assert posted.status_code == 202
        # Events arrive in id order: anything of store-40 would have come before this.
        await staff.next(lambda e: e["type"] == "barometer" and e["org_unit"] == "store-12")
        assert [e for e in staff.events if e.get("org_unit") == "store-40"] == []


async def test_frontline_staff_follow_their_units_alerts_live_without_any_contact(
    world: App,
) -> None:
    async with _socket(world, "frontline") as connection:
        staff = Cockpit(connection)
        await staff.subscribe()
        bodies = [
            response(org_unit=unit, score=0, comment="Awful, rude and useless.")
            for unit in ("store-40", "store-12")
        ]
        for body in bodies:
            body["contact"] = CONTACT
        with world.client() as client:
            posted = await asyncio.to_thread(
                client.post, "/api/v1/responses:batch", json={"responses": bodies}
            )
            assert posted.status_code == 202
        alert = await staff.next(
            lambda e: e["type"] == "alert" and e["data"]["response_id"] == bodies[1]["response_id"]
        )
    assert alert["data"]["response"]["contact_masked"] is True
    assert CONTACT["phone"] not in json.dumps(staff.events)
    assert [e for e in staff.events if e.get("org_unit") == "store-40"] == []


async def test_a_websocket_without_a_session_is_closed_with_4401(world: App) -> None:
    async with connect(world.ws_url) as connection:
        await connection.wait_closed()
    assert (connection.close_code, connection.close_reason) == (4401, "not_signed_in")


async def test_a_websocket_from_a_foreign_origin_is_refused(world: App) -> None:
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            world.ws_url,
            additional_headers=_headers(world, "admin"),
            origin="https://evil.example",  # type: ignore[arg-type]
        ):
            pass
    assert refused.value.response.status_code == 403
