"""Exports of the feed and of the alerts (`GET /api/v1/responses/export`, `/alerts/export`): what
the API pages hold, scoped and masked alike, escaped for spreadsheets, and audited."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.harness import EVERY_STATE, App, all_alerts, make_app, post_batch, response, wait_until

pytestmark = pytest.mark.integration

CONTACT = {"name": "Jeanne Martin", "email": "jeanne@example.com", "phone": "+33 6 12 34 56 78"}
UNHAPPY = "Rude staff, nobody called me back."


@pytest.fixture(scope="module")
def world(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """One app where frontline staff take callbacks (so they read their units' alerts)."""
    app = make_app(broker, tmp_path_factory.mktemp("export"), frontline_callbacks="true")
    app.start()
    yield app
    app.stop()


def _tag() -> str:
    """A word no other test's comment holds: tests share their app."""
    return "tag" + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:10])


def _post(app: App, *bodies: dict[str, Any]) -> None:
    for start in range(0, len(bodies), 400):
        post_batch(app, *bodies[start : start + 400])
    ids = {b["response_id"] for b in bodies}
    wait_until(lambda: ids <= {r["response_id"] for r in app.rows()}, message=f"{len(ids)} stored")


def _seed(app: App, tag: str) -> list[dict[str, Any]]:
    """A happy and an unhappy response with a contact in store-12, its team, store-1 (north)
    and store-40 (south), each comment holding `tag`."""
    bodies = []
    for unit in ("store-12", "store-12-field", "store-1", "store-40"):
        for score, comment in ((10, "Wonderful service, thank you!"), (1, UNHAPPY)):
            bodies.append(
                response(org_unit=unit, score=score, comment=f"{comment} {tag}", contact=CONTACT)
            )
    _post(app, *bodies)
    return bodies


def _api(app: App, who: str, **params: Any) -> list[dict[str, Any]]:
    """Every item GET /responses gives for `params`, page after page (small pages)."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {**params, "limit": 3}
    with app.as_user(who) as client:
        while True:
            answer = client.get("/api/v1/responses", params=query)
            assert answer.status_code == 200, answer.text
            items += answer.json()["items"]
            if answer.json()["next_cursor"] is None:
                return items
            query["cursor"] = answer.json()["next_cursor"]


def _export(app: App, who: str, what: str, fmt: str, **params: Any) -> httpx.Response:
    with app.as_user(who) as client:
        answer = client.get(f"/api/v1/{what}/export", params={**params, "format": fmt})
    assert answer.status_code == 200, answer.text
    return answer


def _csv(answer: httpx.Response) -> list[dict[str, str]]:
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))


def _jsonl(answer: httpx.Response) -> list[dict[str, Any]]:
    assert answer.headers["content-type"] == "application/x-ndjson"
    assert answer.text == "" or answer.text.endswith("\n")
    return [json.loads(line) for line in answer.text.splitlines()]


def _audit(app: App, action: str) -> list[dict[str, Any]]:
    with app.as_user("admin") as client:
        answer = client.get("/api/v1/admin/audit", params={"action": action})
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["items"]
    return entries


def test_both_formats_hold_what_the_api_pages_hold_in_order(world: App) -> None:
    tag = _tag()
    _seed(world, tag)
    filters = {"org_unit": ["north"], "q": tag, "touchpoint": "delivery"}
    listed = _api(world, "admin", **filters)
    assert len(listed) == 6

    as_csv = _export(world, "admin", "responses", "csv", **filters)
    as_jsonl = _export(world, "admin", "responses", "jsonl", **filters)

    assert [r["response_id"] for r in _csv(as_csv)] == [i["response_id"] for i in listed]
    assert _jsonl(as_jsonl) == listed
    named = r'attachment; filename="responses-\d{4}-\d{2}-\d{2}\.%s"'
    assert re.fullmatch(named % "csv", as_csv.headers["content-disposition"])
    assert re.fullmatch(named % "jsonl", as_jsonl.headers["content-disposition"])
    assert as_csv.headers["cache-control"] == "no-store"
    flagged = _export(world, "admin", "responses", "jsonl", flagged="true", **filters)
    assert _jsonl(flagged) == _api(world, "admin", flagged="true", **filters)
    assert [i["dissatisfied"] for i in _jsonl(flagged)] == [True, True, True]


def test_the_csv_has_readable_columns(world: App) -> None:
    tag = _tag()
    body = response(
        org_unit="store-1",
        score=2,
        comment=f"Colis abîmé, livraison en retard. {tag}",
        language="fr",
        staff=["Marie", "Paul"],
        contact=CONTACT,
    )
    _post(world, body)
    [row] = _csv(_export(world, "admin", "responses", "csv", q=tag))
    [item] = _api(world, "admin", q=tag)

    assert row["response_id"] == body["response_id"]
    assert row["org_unit"] == "store-1" and row["score"] == "2" and row["score_kind"] == "nps"
    assert row["comment"] == body["comment"]
    assert row["staff"] == "Marie;Paul"
    assert row["dissatisfied"] == "true" and row["contact_masked"] == "false"
    assert row["contact_name"] == CONTACT["name"] and row["contact_email"] == CONTACT["email"]
    assert row["submitted_at"] == item["submitted_at"].replace("Z", "+00:00")
    themes = ";".join(
        f"{m['theme']}:{m['tone']}" if m["tone"] else m["theme"] for m in item["themes"]
    )
    assert row["themes"] == themes


def test_an_export_longer_than_a_page_holds_every_response_once(world: App) -> None:
    tag = _tag()
    bodies = [response(org_unit="store-2", comment=f"Fine. {tag}") for _ in range(1_050)]
    _post(world, *bodies)

    exported = _jsonl(_export(world, "manager", "responses", "jsonl", q=tag))
    ids = [v["response_id"] for v in exported]
    assert len(ids) == len(set(ids)) == 1_050
    assert set(ids) == {b["response_id"] for b in bodies}
    rows = _csv(_export(world, "manager", "responses", "csv", q=tag))
    assert [r["response_id"] for r in rows] == ids


def test_frontline_staff_export_only_their_units_with_every_contact_masked(world: App) -> None:
    tag = _tag()
    _seed(world, tag)

    rows = _csv(_export(world, "frontline", "responses", "csv", q=tag))
    views = _jsonl(_export(world, "frontline", "responses", "jsonl", q=tag))

    assert {r["org_unit"] for r in rows} == {"store-12", "store-12-field"} and len(rows) == 4
    assert views == _api(world, "frontline", q=tag)
    assert all(r["contact_masked"] == "true" for r in rows)
    assert all(v["contact_masked"] for v in views)
    text = json.dumps(rows) + json.dumps(views)
    for secret in CONTACT.values():
        assert secret not in text
    assert CONTACT["email"].split("@")[0] not in text


def test_a_manager_export_reveals_contacts_only_on_dissatisfied_responses(world: App) -> None:
    tag = _tag()
    _seed(world, tag)

    rows = _csv(_export(world, "manager", "responses", "csv", q=tag))
    views = _jsonl(_export(world, "manager", "responses", "jsonl", q=tag))

    assert views == _api(world, "manager", q=tag) and len(views) == 6
    assert {r["org_unit"] for r in rows} == {"store-12", "store-12-field", "store-1"}
    for row in rows:
        revealed = row["dissatisfied"] == "true"
        assert row["contact_masked"] == ("false" if revealed else "true")
        assert (row["contact_email"] == CONTACT["email"]) is revealed
        # The phone starts with "+": a spreadsheet would read it as a formula.
        assert (row["contact_phone"] == "'" + CONTACT["phone"]) is revealed


def test_refusals_are_the_apis_json_errors_and_not_audited(world: App) -> None:
    before = len(_audit(world, "responses.exported"))
    with world.as_user("frontline") as client:
        outside = client.get("/api/v1/responses/export", params={"org_unit": "store-40"})
        no_word = client.get("/api/v1/responses/export", params={"q": "«—»"})
        bad_format = client.get("/api/v1/responses/export", params={"format": "xlsx"})
    with world.as_user("manager") as client:
        alerts_outside = client.get("/api/v1/alerts/export", params={"org_unit": "south"})
    with httpx.Client(base_url=world.url) as anonymous:
        signed_out = anonymous.get("/api/v1/responses/export")

    assert outside.status_code == 403 and outside.json()["code"] == "out_of_scope"
    assert alerts_outside.status_code == 403 and alerts_outside.json()["code"] == "out_of_scope"
    assert no_word.status_code == 422
    assert no_word.json()["message"] == "q: no word to search for (letters or digits)"
    assert bad_format.status_code == 422 and bad_format.json()["code"] == "invalid_input"
    assert signed_out.status_code == 401
    for answer in (outside, no_word, bad_format, alerts_outside, signed_out):
        assert answer.headers["content-type"] == "application/json"
    assert len(_audit(world, "responses.exported")) == before


def test_a_formula_looking_comment_is_escaped_in_the_csv_only(world: App) -> None:
    tag = _tag()
    formulas = [f'=HYPERLINK("http://evil.example","{tag}")', f"@SUM(1+1) {tag}", f"-2+3 {tag}"]
    bodies = [response(org_unit="store-3", comment=c) for c in formulas]
    _post(world, *bodies)

    rows = _csv(_export(world, "admin", "responses", "csv", q=tag))
    views = _jsonl(_export(world, "admin", "responses", "jsonl", q=tag))

    assert sorted(r["comment"] for r in rows) == sorted("'" + c for c in formulas)
    assert sorted(v["comment"] for v in views) == sorted(formulas)
    # Numbers are numbers: a negative polarity is not escaped.
    assert all(not r["polarity"].startswith("'") for r in rows)


def test_each_export_is_audited_with_its_filters_and_no_contact(world: App) -> None:
    tag = _tag()
    _seed(world, tag)
    _export(world, "manager", "responses", "csv", org_unit=["store-12", "store-1"], q=tag)
    _export(world, "manager", "responses", "jsonl", flagged="true", theme="delivery")

    jsonl, csv_entry = _audit(world, "responses.exported")[:2]

    assert csv_entry["actor"] == jsonl["actor"] == "north.manager"
    assert csv_entry["client"] == "127.0.0.1"
    assert csv_entry["detail"] == {
        "format": "csv",
        "filters": {"org_unit": ["store-12", "store-1"], "q": tag},
    }
    assert jsonl["detail"] == {
        "format": "jsonl",
        "filters": {"flagged": "true", "theme": "delivery"},
    }
    assert CONTACT["email"] not in json.dumps([jsonl, csv_entry])


def _alerts_of(app: App, tag: str) -> None:
    wanted = {"store-12", "store-12-field", "store-1", "store-40"}

    def raised() -> bool:
        with app.client() as client:
            return {a["org_unit"] for a in all_alerts(client, q=tag)} >= wanted

    wait_until(raised, message="an alert in each unit")


def test_the_alerts_export_holds_the_inbox_in_scope_and_masked(world: App) -> None:
    tag = _tag()
    _seed(world, tag)
    _alerts_of(world, tag)
    params = {"state": EVERY_STATE, "q": tag}

    with world.as_user("manager") as client:
        inbox = all_alerts(client, q=tag)
    views = _jsonl(_export(world, "manager", "alerts", "jsonl", **params))
    rows = _csv(_export(world, "manager", "alerts", "csv", **params))
    staff = _csv(_export(world, "frontline", "alerts", "csv", **params))

    assert views == inbox and len(views) == 3
    assert [int(r["id"]) for r in rows] == [a["id"] for a in inbox]
    assert {r["org_unit"] for r in rows} == {"store-12", "store-12-field", "store-1"}
    assert {r["org_unit"] for r in staff} == {"store-12", "store-12-field"}
    for row in rows + staff:
        assert row["contact_masked"] == "true"
        assert row["comment"] == f"{UNHAPPY} {tag}" and row["state"] == "open"
        assert row["contact_email"] != CONTACT["email"] and row["contact_email"].endswith(
            "@example.com"
        )
    [entry] = _audit(world, "alerts.exported")[:1]
    assert entry["actor"] == "s12.staff"
    assert entry["detail"] == {"format": "csv", "filters": {"state": EVERY_STATE, "q": tag}}
    assert CONTACT["name"] not in json.dumps(rows + staff)
