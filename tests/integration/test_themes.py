"""Themes: what customers talk about, per comment (live and in the feed) and per scope (the Themes
screen's figures, with each theme's weight on the NPS), within the caller's units."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from websockets.asyncio.client import connect

from tests.harness import App, Cockpit, post_batch, response, wait_until

pytestmark = pytest.mark.integration

LATE = "The delivery was three weeks late"
MIXED = "Good product but the delivery was a disaster"
FRIENDLY = "The staff were friendly and helpful"


def _board(app: App, who: str = "admin", **params: Any) -> dict[str, Any]:
    with app.as_user(who) as client:
        answer = client.get("/api/v1/themes", params=params)
    assert answer.status_code == 200, answer.text
    board: dict[str, Any] = answer.json()
    return board


def _theme(board: dict[str, Any], theme: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in board["themes"] if t["theme"] == theme)
    return found


def _stored(app: App, unit: str) -> int:
    with app.as_user("admin") as client:
        items = client.get("/api/v1/responses", params={"org_unit": unit, "limit": 200})
    return len(items.json()["items"])


def test_the_themes_screen_weighs_each_theme_on_the_units_nps(module_app: App) -> None:
    bodies = [response(org_unit="store-5", score=2, comment=LATE) for _ in range(4)]
    bodies.append(response(org_unit="store-5", score=7, comment=MIXED))
    bodies += [response(org_unit="store-5", score=10, comment=FRIENDLY) for _ in range(5)]
    post_batch(module_app, *bodies)
    wait_until(lambda: _stored(module_app, "store-5") == 10, message="10 responses stored")

    board = _board(module_app, org_unit="store-5", period="today")
    # 5 promoters, 4 detractors of 10: NPS 10. Without the 5 delivery answers (4 detractors,
    # 1 passive) the store's NPS would be 100: delivery costs it 90 points.
    assert (board["org_unit"], board["nps"], board["comments"]) == ("store-5", 10.0, 10)
    delivery = _theme(board, "delivery")
    assert (delivery["mentions"], delivery["share"], delivery["nps_impact"]) == (5, 50.0, -90.0)
    assert (delivery["negative"], delivery["positive"], delivery["nps"]) == (5, 0, -80.0)
    assert (delivery["previous_mentions"], delivery["share_change"]) == (0, None)
    # In "good product but the delivery was a disaster" the product is praised.
    product = _theme(board, "product-quality")
    assert (product["mentions"], product["positive"], product["negative"]) == (1, 1, 0)
    staff = _theme(board, "staff-attitude")
    assert (staff["mentions"], staff["nps_impact"]) == (5, 90.0)
    assert board["themes"][0]["theme"] in ("delivery", "staff-attitude")  # most named first

    # Along the journey: every answer was about the delivery touchpoint, where it costs 90.
    with module_app.as_user("admin") as client:
        journey = client.get(
            "/api/v1/themes/journey",
            params={"org_unit": "store-5", "period": "today", "theme": "delivery"},
        ).json()
    steps = {step["touchpoint"]: step for step in journey["steps"]}
    assert (steps["delivery"]["comments"], steps["delivery"]["nps"]) == (10, 10.0)
    assert steps["delivery"]["figures"]["nps_impact"] == -90.0
    assert all(s["figures"] is None for tp, s in steps.items() if tp != "delivery")

    # Tapping a theme opens its comments: the feed filtered by it, with every other filter.
    with module_app.as_user("admin") as client:
        feed = client.get("/api/v1/responses", params={"org_unit": "store-5", "theme": "delivery"})
        flagged = client.get(
            "/api/v1/responses",
            params={"org_unit": "store-5", "theme": "delivery", "score_kind": "nps", "limit": 2},
        ).json()
    assert sorted(i["score"] for i in feed.json()["items"]) == [2, 2, 2, 2, 7]
    assert len(flagged["items"]) == 2 and flagged["next_cursor"]

    # The region rolls the store up; the 7-day period holds today.
    region = _board(module_app, org_unit="north", period="7d")
    assert _theme(region, "delivery")["mentions"] >= 5


def test_themes_stay_within_the_callers_units(module_app: App) -> None:
    post_batch(module_app, response(org_unit="store-41", score=1, comment=LATE))
    wait_until(lambda: _stored(module_app, "store-41") == 1, message="the response stored")
    with module_app.as_user("frontline") as client:
        refused = client.get("/api/v1/themes", params={"org_unit": "store-41"})
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"]
    # A store-12 member's own board counts nothing of another region.
    own = _board(module_app, "frontline", period="today")
    assert own["org_unit"] == "store-12"
    assert all(t["theme"] != "delivery" or t["mentions"] == 0 for t in own["themes"])


async def test_a_comment_arrives_live_and_in_the_feed_with_its_themes(module_app: App) -> None:
    mixed = response(org_unit="store-12", score=6, comment=MIXED)
    async with connect(
        module_app.ws_url, additional_headers=module_app.auth("frontline")
    ) as connection:
        staff = Cockpit(connection)
        await staff.subscribe()
        await asyncio.to_thread(post_batch, module_app, mixed)
        event = await staff.next(
            lambda e: e["type"] == "comment" and e["data"]["response_id"] == mixed["response_id"]
        )
    expected = [
        {"theme": "product-quality", "tone": "positive"},
        {"theme": "delivery", "tone": "negative"},
    ]
    assert event["data"]["themes"] == expected
    with module_app.as_user("frontline") as client:
        item = client.get(f"/api/v1/responses/{mixed['response_id']}").json()
    assert item["themes"] == expected


def test_the_taxonomy_names_each_theme_in_every_language(module_app: App) -> None:
    with module_app.as_user("frontline") as client:
        taxonomy = client.get("/api/v1/themes/taxonomy").json()
    themes = {t["id"]: t for t in taxonomy["themes"]}
    assert set(themes["delivery"]["names"]) >= {"en", "fr", "it"}
    assert themes["billing-refund"]["parent"] == "billing-price"


def test_an_admin_adds_a_theme_and_the_next_comments_are_sorted_by_it(module_app: App) -> None:
    loyalty = {
        "id": "loyalty",
        "name": {"en": "Loyalty scheme", "fr": "Fidélité", "it": "Fedeltà"},
        "phrases": {"en": ["loyalty"], "fr": ["fidélité"], "it": ["fedeltà"]},
    }
    with module_app.as_user("manager") as manager:
        assert manager.post("/api/v1/admin/themes/themes", json=loyalty).status_code == 403
    with module_app.as_user("admin") as admin:
        before = admin.get("/api/v1/admin/themes").json()
        added = admin.post("/api/v1/admin/themes/themes", json=loyalty)
        assert added.status_code == 201, added.text
        assert added.json()["version"] == before["version"] + 1
        assert added.json()["source"] == "stored"
        again = admin.post("/api/v1/admin/themes/themes", json=loyalty)
        assert (again.status_code, again.json()["code"]) == (409, "conflict")
        audit = admin.get("/api/v1/admin/audit", params={"action": "theme.added"}).json()
    assert any(e["target"] == "loyalty" for e in audit["items"])
    said = response(org_unit="store-6", score=3, comment="My loyalty points vanished again")
    post_batch(module_app, said)
    wait_until(lambda: _stored(module_app, "store-6") == 1, message="the response stored")
    with module_app.as_user("admin") as admin:
        item = admin.get(f"/api/v1/responses/{said['response_id']}").json()
        names = admin.get("/api/v1/themes/taxonomy").json()
    assert [m["theme"] for m in item["themes"]] == ["loyalty"]
    assert {t["id"]: t["names"] for t in names["themes"]}["loyalty"]["it"] == "Fedeltà"


def test_a_taxonomy_that_cannot_be_used_is_refused_naming_the_theme_and_field(
    module_app: App,
) -> None:
    with module_app.as_user("admin") as admin:
        current = admin.get("/api/v1/admin/themes").json()
        broken = current["document"]["themes"][:2]
        broken[1] = {**broken[1], "phrases": {"en": ["a phrase of far too many words"]}}
        answer = admin.put(
            "/api/v1/admin/themes",
            content=yaml.safe_dump({"themes": broken}),
            headers={"Content-Type": "application/yaml"},
        )
        assert (answer.status_code, answer.json()["code"]) == (422, "invalid_taxonomy")
        assert "themes.1.phrases.en" in answer.json()["message"]
        not_yaml = admin.put(
            "/api/v1/admin/themes",
            content="themes: [unclosed",
            headers={"Content-Type": "application/yaml"},
        )
        assert (not_yaml.status_code, not_yaml.json()["code"]) == (422, "invalid_taxonomy")
        # Nothing was stored: the taxonomy is the one before.
        assert admin.get("/api/v1/admin/themes").json()["version"] == current["version"]


def test_an_admin_sees_a_phrase_customers_suddenly_say_and_no_one_else_does(
    module_app: App,
) -> None:
    now = datetime.now(UTC)
    earlier = [
        response(
            org_unit="store-7",
            score=8,
            comment=f"Quick checkout and a clean store, visit {i}",
            submitted_at=(now - timedelta(days=10 + i % 20)).isoformat(),
        )
        for i in range(40)
    ]
    this_week = [
        response(org_unit="store-7", score=4, comment=f"The gift wrapping was torn, order {i}")
        for i in range(12)
    ]
    post_batch(module_app, *earlier, *this_week)
    wait_until(lambda: _stored(module_app, "store-7") == 52, message="52 responses stored")
    with module_app.as_user("manager") as manager:
        assert manager.get("/api/v1/admin/themes/emerging").status_code == 403
    with module_app.as_user("admin") as admin:
        found = admin.get("/api/v1/admin/themes/emerging").json()
    topics = {t["phrase"]: t for t in found["topics"] if t["language"] == "en"}
    assert topics["gift wrapping"]["comments"] == 12
    assert topics["gift wrapping"]["before"] == 0
    # Said every week before: not emerging. Its words held in the longer phrase: not listed.
    assert "clean store" not in topics and "quick checkout" not in topics
    assert "gift" not in topics and "wrapping" not in topics


def test_a_units_nps_drop_names_the_themes_its_customers_talk_about_more(
    module_app: App,
) -> None:
    three_days_ago = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    happy = [
        response(org_unit="store-3", score=10, comment=FRIENDLY, submitted_at=three_days_ago)
        for _ in range(20)
    ]
    post_batch(module_app, *happy)
    wait_until(lambda: _stored(module_app, "store-3") == 20, message="the happy week stored")
    post_batch(
        module_app, *(response(org_unit="store-3", score=0, comment=LATE) for _ in range(12))
    )

    def drop() -> dict[str, Any] | None:
        with module_app.as_user("admin") as admin:
            found = admin.get("/api/v1/alerts", params={"org_unit": "store-3", "group": "false"})
        drops = [i["alert"] for i in found.json()["items"] if i["alert"]["response_id"] is None]
        return drops[0] if drops else None

    wait_until(lambda: drop() is not None, message="the drop alert")
    alert = drop()
    assert alert is not None
    [grown] = alert["reasons"]["unit-nps-drop"]["themes_grown"]
    # Lately only the delivery; over the week 12 of 32 mentions (the staff 20 before).
    assert (grown["theme"], grown["recent"], grown["week"]) == ("delivery", 1.0, 0.38)
    assert grown["names"]["fr"] == "Livraison et délais"
    said = [p["message"] for p in alert["why"]["unit-nps-drop"]]
    assert "talked about more: {themes}" in said
