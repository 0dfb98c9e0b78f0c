"""Read API and ops endpoints: what a page or an integrator loads before it goes live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness import App, make_app, response, wait_until

pytestmark = pytest.mark.integration


def _post_all(app: App, bodies: list[dict[str, object]]) -> None:
    with app.client() as client:
        answer = client.post("/api/v1/responses:batch", json={"responses": bodies})
        assert answer.status_code == 202
    wait_until(lambda: len(app.rows()) == len(bodies), message=f"{len(bodies)} rows")


def test_barometers_give_nps_from_responses_per_org_unit_and_touchpoint(app: App) -> None:
    scores = [10, 9, 9, 10, 9, 7, 8, 7, 3, 6]  # 5 promoters, 3 passives, 2 detractors: NPS 30
    bodies = [response(score=s, org_unit="store-12", touchpoint="delivery") for s in scores]
    bodies += [response(score=0, org_unit="store-40", touchpoint="delivery")]
    bodies += [
        response(score_kind="csat", score=s, org_unit="store-12", touchpoint="billing")
        for s in (5, 4, 2, 1)
    ]
    _post_all(app, bodies)

    store = httpx.get(
        headers=app.auth("admin"),
        url=app.url + "/api/v1/barometers",
        params={"org_unit": "store-12"},
    ).json()
    today = store["windows"]["today"]
    assert (today["nps"], today["nps_responses"]) == (30.0, 10)
    assert (today["csat_pct"], today["csat_responses"]) == (50.0, 4)
    assert today["responses"] == 14

    delivery = httpx.get(
        headers=app.auth("admin"),
        url=app.url + "/api/v1/barometers",
        params={"touchpoint": "delivery", "window": "hour"},
    ).json()
    assert list(delivery["windows"]) == ["hour"]
    # 11 delivery answers over both stores: 5 promoters, 3 detractors -> 18.2, not an average.
    assert delivery["windows"]["hour"]["nps"] == 18.2
    assert sum(p["responses"] for p in delivery["trend"]) == 11

    both = httpx.get(
        headers=app.auth("admin"),
        url=app.url + "/api/v1/barometers",
        params=[("org_unit", "store-12"), ("org_unit", "store-40"), ("touchpoint", "delivery")],
    ).json()
    assert (both["org_unit"], both["touchpoint"]) == (None, "delivery")
    assert both["windows"]["7d"]["nps"] == 18.2


def test_responses_page_newest_first_with_cursor_and_filters(app: App) -> None:
    bodies = [
        response(org_unit="store-7", score=i, channel="sms" if i % 2 else "web") for i in range(7)
    ]
    _post_all(app, bodies)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"org_unit": "store-7", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = httpx.get(
            headers=app.auth("admin"), url=app.url + "/api/v1/responses", params=params
        ).json()
        seen += [item["response_id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [b["response_id"] for b in reversed(bodies)]

    two_units = httpx.get(
        headers=app.auth("admin"),
        url=app.url + "/api/v1/responses",
        params=[("org_unit", "store-7"), ("org_unit", "store-6")],
    ).json()["items"]
    assert len(two_units) == 7
    sms = httpx.get(
        headers=app.auth("admin"), url=app.url + "/api/v1/responses", params={"channel": "sms"}
    ).json()["items"]
    assert {i["score"] for i in sms} == {1, 3, 5}
    flagged = httpx.get(
        headers=app.auth("admin"), url=app.url + "/api/v1/responses", params={"flagged": "true"}
    ).json()["items"]
    assert {i["score"] for i in flagged} == set(range(7))
    # An admin (like a manager) sees who to call back on dissatisfied responses.
    assert all(i["customer_ref"] == "cust-1" and not i["contact_masked"] for i in flagged)


def test_bad_cursor_and_bad_filter_are_named(app: App) -> None:
    bad_cursor = httpx.get(
        headers=app.auth("admin"), url=app.url + "/api/v1/responses", params={"cursor": "zzz"}
    )
    bad_channel = httpx.get(
        headers=app.auth("admin"), url=app.url + "/api/v1/responses", params={"channel": "fax"}
    )
    assert bad_cursor.status_code == 400 and "cursor" in bad_cursor.json()["message"]
    assert bad_channel.status_code == 422 and "channel" in bad_channel.json()["message"]
    assert (bad_cursor.json()["code"], bad_channel.json()["code"]) == (
        "invalid_cursor",
        "invalid_input",
    )


def test_health_readiness_and_metrics(app: App) -> None:
    assert httpx.get(app.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(app.url + "/readyz").json()
    assert ready["status"] == "ready"
    assert set(ready["checks"]) == {"broker", "database", "hub", "worker"}
    # How far behind this instance's sockets are: a figure beside the checks, not one of them.
    assert set(ready["delivery"]) == {"lag_s", "clients"}
    assert ready["delivery"]["lag_s"] >= 0 and ready["delivery"]["clients"] >= 0
    _post_all(app, [response(score=1, comment="Awful, still waiting."), response(score=10)])
    text = httpx.get(app.url + "/metrics").text
    assert "voc_responses_ingested_total 2.0" in text
    assert "voc_responses_flagged_total 1.0" in text
    assert "voc_ws_clients" in text
    assert "voc_ws_delivery_lag_seconds" in text


def _get(app: App, path: str, who: str = "admin", params: Any = None) -> dict[str, Any]:
    answer = httpx.get(app.url + path, params=params, headers=app.auth(who), timeout=15)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_barometers_give_the_week_hour_by_hour(app: App) -> None:
    now = datetime.now(UTC)
    five_hours_ago = now - timedelta(hours=5)
    bodies = [response(score=s, org_unit="store-1", submitted_at=now.isoformat()) for s in (10, 3)]
    bodies += [response(score=0, org_unit="store-1", submitted_at=five_hours_ago.isoformat())]
    bodies += [response(score=10, org_unit="store-2")]
    _post_all(app, bodies)

    snapshot = _get(app, "/api/v1/barometers", params={"org_unit": "store-1", "window": "hour"})

    hourly = snapshot["hourly"]
    hours = [datetime.fromisoformat(p["hour"]) for p in hourly]
    assert len(hourly) == 168
    assert all(later - earlier == timedelta(hours=1) for earlier, later in pairwise(hours))
    by_hour = {hour: point for hour, point in zip(hours, hourly, strict=True)}
    this_hour = by_hour[now.replace(minute=0, second=0, microsecond=0)]
    assert (this_hour["responses"], this_hour["nps"], this_hour["nps_responses"]) == (2, 0.0, 2)
    earlier = by_hour[five_hours_ago.replace(minute=0, second=0, microsecond=0)]
    assert (earlier["responses"], earlier["nps"]) == (1, -100.0)
    assert sum(p["responses"] for p in hourly) == 3  # store-2's answer is not store-1's
    quiet = [p for p in hourly if p is not this_hour and p is not earlier]
    assert all(p["responses"] == 0 and p["nps"] is None for p in quiet)


def test_a_stores_barometer_comes_with_its_regions_even_for_its_frontline_staff(app: App) -> None:
    answers = {
        "store-1": [10, 9, 3, 0],
        "store-2": [10, 10, 10, 2],
        "store-12": [6],
        "store-12-field": [9],
        "store-40": [0, 0, 0],  # south: not north's
    }
    bodies = [response(org_unit=u, score=s) for u, scores in answers.items() for s in scores]
    bodies += [
        response(org_unit="store-2", touchpoint="billing", score_kind="csat", score=5),
        response(org_unit="store-12", touchpoint="billing", score_kind="csat", score=2),
    ]
    _post_all(app, bodies)

    mine = _get(app, "/api/v1/barometers", "frontline")
    team = _get(app, "/api/v1/barometers", "frontline", {"org_unit": "store-12-field"})
    billing = _get(
        app, "/api/v1/barometers", params={"org_unit": "store-1", "touchpoint": "billing"}
    )
    two_units = _get(
        app, "/api/v1/barometers", params=[("org_unit", "store-1"), ("org_unit", "store-2")]
    )
    company = _get(app, "/api/v1/barometers", params={"org_unit": "acme"})

    # s12.staff sees store-12 (with its team) beside North, rolled up from all of North's answers:
    # 6 promoters and 4 detractors of 10, never an average of the stores' NPS.
    week = mine["windows"]["7d"]
    assert (mine["org_unit"], week["nps"], week["nps_responses"]) == ("store-12", 0.0, 2)
    parent = mine["parent"]
    assert (parent["org_unit"], parent["name"]) == ("north", "North")
    assert set(parent) == {"org_unit", "name", "windows"}  # figures only: no comment, no customer
    north = parent["windows"]["7d"]
    assert (north["nps"], north["nps_responses"], north["responses"]) == (20.0, 10, 12)
    assert (north["promoters"], north["detractors"]) == (6, 4)
    assert (north["csat_pct"], north["csat_responses"]) == (50.0, 2)
    assert list(parent["windows"]) == list(mine["windows"]) == ["hour", "today", "7d"]
    # A team's parent is its store.
    assert (team["parent"]["org_unit"], team["parent"]["name"]) == ("store-12", "Store 12")
    assert team["parent"]["windows"]["7d"]["nps_responses"] == 2
    # The same touchpoints for both.
    north_billing = billing["parent"]["windows"]["7d"]
    assert (north_billing["responses"], north_billing["csat_pct"]) == (2, 50.0)
    assert billing["windows"]["7d"]["responses"] == 0
    # Several units, or a unit at the top, have no parent to compare with.
    assert two_units["parent"] is None and company["parent"] is None


def test_the_journey_lists_every_step_in_order_with_its_figures(app: App) -> None:
    bodies = [
        response(org_unit="store-1", touchpoint="delivery", score=10),
        response(org_unit="store-1", touchpoint="delivery", score=0, comment="Late again, awful."),
        response(org_unit="store-2", touchpoint="purchase", score=9),
        response(org_unit="store-2", touchpoint="warranty", score=3, comment=None),
        response(org_unit="store-1", touchpoint="app-login", score=8, comment=None),
        response(org_unit="store-40", touchpoint="delivery", score=0),  # south
    ]
    _post_all(app, bodies)

    north = _get(app, "/api/v1/journey", "manager", {"window": "hour"})
    everyone = _get(app, "/api/v1/journey", params={"window": "hour"})
    store_2 = _get(app, "/api/v1/journey", params={"org_unit": "store-2"})

    journey = ["purchase", "order", "delivery", "installation", "first-payment", "support"]
    journey += ["billing", "renewal"]
    assert (north["org_unit"], north["window"]) == ("north", "hour")
    assert [s["touchpoint"] for s in north["steps"]] == [*journey, "app-login", "warranty"]
    steps = {s["touchpoint"]: s["figures"] for s in north["steps"]}
    delivery = steps["delivery"]
    assert (delivery["nps"], delivery["promoters"], delivery["detractors"]) == (0.0, 1, 1)
    assert (delivery["responses"], delivery["sentiment_responses"], delivery["flagged"]) == (
        2,
        2,
        1,
    )
    assert delivery["sentiment_mean"] is not None
    assert (steps["purchase"]["nps"], steps["warranty"]["nps"]) == (100.0, -100.0)
    assert (steps["order"]["responses"], steps["order"]["nps"]) == (0, None)
    # The admin's journey covers south's answers too; a store's only its own.
    assert {s["touchpoint"]: s["figures"] for s in everyone["steps"]}["delivery"]["nps"] == -33.3
    assert store_2["window"] == "today"
    assert [s["touchpoint"] for s in store_2["steps"]] == [*journey, "warranty"]


def test_the_journey_follows_voc_journey(broker: str, tmp_path: Path) -> None:
    app = make_app(broker, tmp_path, journey="Delivery,purchase,renewal")
    app.start()
    try:
        _post_all(app, [response(touchpoint="billing"), response(touchpoint="purchase")])
        steps = _get(app, "/api/v1/journey", "frontline")["steps"]
    finally:
        app.stop()
    assert [s["touchpoint"] for s in steps] == ["delivery", "purchase", "renewal", "billing"]
