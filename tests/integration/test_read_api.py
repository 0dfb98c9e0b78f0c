"""Read API and ops endpoints: what a page or an integrator loads before it goes live."""

from __future__ import annotations

import httpx
import pytest

from tests.harness import App, response, wait_until

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


def test_health_readiness_and_metrics(app: App) -> None:
    assert httpx.get(app.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(app.url + "/readyz").json()
    assert ready["status"] == "ready"
    assert set(ready["checks"]) == {"broker", "database", "hub"}
    _post_all(app, [response(score=1, comment="Awful, still waiting."), response(score=10)])
    text = httpx.get(app.url + "/metrics").text
    assert "voc_responses_ingested_total 2.0" in text
    assert "voc_responses_flagged_total 1.0" in text
    assert "voc_ws_clients" in text
