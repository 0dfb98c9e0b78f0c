"""REST ingest, driven from outside against the real broker, worker, database and websocket hub."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from app.broker.embedded import free_port
from tests.harness import App, Cockpit, make_app, response, wait_until

pytestmark = pytest.mark.integration


async def test_posted_response_reaches_cockpit_with_sentiment_and_is_stored(
    app: App, cockpit: Cockpit
) -> None:
    await cockpit.subscribe(org_units=["store-12"])
    contact = {"name": "Jeanne Martin", "email": "jeanne@example.com", "phone": "+33 6 12 34 56 78"}
    body = response(
        score=2, comment="Terrible service, nobody called me back.", customer_ref="cust-000123"
    )
    body["contact"] = contact
    with app.client() as client:
        answer = await asyncio.to_thread(client.post, "/api/v1/responses", json=body)
    assert answer.status_code == 202
    assert answer.json() == {"response_ids": [body["response_id"]]}

    comment = await cockpit.next(lambda e: e["type"] == "comment")
    assert comment["data"]["response_id"] == body["response_id"]
    assert comment["data"]["comment"] == body["comment"]
    assert comment["data"]["polarity"] < 0
    assert comment["data"]["dissatisfied"] is True
    # Contact data never crosses the hub, even to an admin's cockpit.
    assert comment["data"]["contact"] == {
        "name": "J•••",
        "email": "j•••@example.com",
        "phone": "•••78",
    }
    assert (comment["data"]["customer_ref"], comment["data"]["contact_masked"]) == ("•••123", True)
    flag = await cockpit.next(lambda e: e["type"] == "flag")
    assert flag["data"]["response_id"] == body["response_id"]
    assert flag["id"] > comment["id"]
    barometer = await cockpit.next(lambda e: e["type"] == "barometer" and e["touchpoint"] is None)
    today = barometer["data"]["windows"]["today"]
    assert (today["responses"], today["detractors"], today["nps"]) == (1, 1, -100.0)

    rows = app.rows()
    assert len(rows) == 1
    assert rows[0]["response_id"] == body["response_id"]
    assert rows[0]["customer_ref"] == "cust-000123"
    assert rows[0]["contact"] == contact


async def test_cockpit_only_receives_the_org_units_it_watches(app: App, cockpit: Cockpit) -> None:
    await cockpit.subscribe(org_units=["store-40"])
    other, mine = response(org_unit="store-12"), response(org_unit="store-40")
    with app.client() as client:
        for body in (other, mine):
            assert (
                await asyncio.to_thread(client.post, "/api/v1/responses", json=body)
            ).status_code == 202
    comment = await cockpit.next(lambda e: e["type"] == "comment")
    assert comment["data"]["response_id"] == mine["response_id"]
    seen = {e["org_unit"] for e in await cockpit.drain(1.0)}
    assert seen <= {"store-40"}


async def test_duplicate_response_id_is_stored_and_shown_once(app: App, cockpit: Cockpit) -> None:
    await cockpit.subscribe()
    body = response()
    with app.client() as client:
        for _ in range(3):
            answer = await asyncio.to_thread(client.post, "/api/v1/responses", json=body)
            assert answer.status_code == 202
        marker = response()
        await asyncio.to_thread(client.post, "/api/v1/responses", json=marker)
    await cockpit.next(
        lambda e: e["type"] == "comment" and e["data"]["response_id"] == marker["response_id"]
    )
    comments = [e for e in await cockpit.drain(0.5) if e["type"] == "comment"]
    assert [c["data"]["response_id"] for c in comments].count(body["response_id"]) == 1
    assert len(app.rows(f"response_id = '{body['response_id']}'")) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"score": 11}, "score"),
        ({"score_kind": "csat", "score": 0}, "score"),
        ({"submitted_at": "2026-11-24T10:00:00"}, "submitted_at"),
        ({"channel": "fax"}, "channel"),
        ({"comment": "x" * 5000}, "comment"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
        ({"score": "9"}, "score"),
    ],
)
def test_invalid_response_is_refused_naming_the_field(
    module_app: App, change: dict[str, object], field: str
) -> None:
    with module_app.client() as client:
        answer = client.post("/api/v1/responses", json=response(**change))
    assert answer.status_code == 422
    assert field in answer.json()["message"]
    assert field in {e["field"] for e in answer.json()["errors"]}


def raw(**fields: str) -> bytes:
    """A valid response with fields replaced by raw JSON text, which json.dumps cannot write."""
    text = json.dumps(response(**{name: f"@{name}@" for name in fields}))
    for name, value in fields.items():
        text = text.replace(f'"@{name}@"', value)
    return text.encode()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/responses", raw(metadata='{"big": ' + "7" * 5000 + "}"), "metadata.big"),
        ("/api/v1/responses", raw(submitted_at='"0001-01-01T00:30:00+01:00"'), "submitted_at"),
        ("/api/v1/responses", raw(language='"en' + "-abcdefgh" * 10 + '"'), "language"),
        ("/api/v1/responses", raw(metadata='{"ratio": NaN}'), "metadata.ratio"),
        ("/api/v1/responses", raw(metadata='{"a": [-Infinity]}'), "metadata.a.0"),
        (
            "/api/v1/responses:batch",
            b'{"responses": [' + raw(metadata='{"a": {"b": 1e400}}') + b"]}",
            "responses.0.metadata.a.b",
        ),
    ],
)
def test_what_a_database_cannot_store_is_refused_naming_the_field(
    module_app: App, path: str, body: bytes, field: str
) -> None:
    with module_app.client() as client:
        answer = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert answer.json()["message"].startswith(f"{field}: ")


def test_missing_required_field_is_named(module_app: App) -> None:
    body = response()
    del body["org_unit"]
    with module_app.client() as client:
        answer = client.post("/api/v1/responses", json=body)
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": "org_unit", "message": "Field required"}]


def test_malformed_json_is_refused_saying_where(module_app: App) -> None:
    with module_app.client() as client:
        answer = client.post(
            "/api/v1/responses",
            content=b'{"response_id": "r-1",',
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_json"
    assert answer.json()["errors"][0]["field"] == "body"
    assert answer.json()["message"].startswith("body: not valid JSON at character")


def stored(app: App, *bodies: dict[str, object]) -> list[str]:
    """Which of `bodies` are stored, by response id."""
    ids = ", ".join(f"'{b['response_id']}'" for b in bodies)
    return [r["response_id"] for r in app.rows(f"response_id IN ({ids})")]


def nothing_stored_before(app: App, marker: dict[str, object], *bodies: dict[str, object]) -> None:
    """Once `marker`, posted after `bodies` to the same unit, is stored, none of them is: they
    would have been stored first, in order, had they been accepted."""
    wait_until(lambda: bool(stored(app, marker)), message="the marker row")
    assert stored(app, *bodies) == []


def test_response_too_large_for_the_broker_is_refused_not_dead_lettered(module_app: App) -> None:
    bodies = [response(), response(metadata={"transcript": "x" * 70_000})]
    marker = response()
    with module_app.client() as client:
        answer = client.post("/api/v1/responses:batch", json={"responses": bodies})
        assert answer.status_code == 413
        assert answer.json()["message"].startswith("responses.1: ")
        assert client.post("/api/v1/responses", json=marker).status_code == 202
    nothing_stored_before(module_app, marker, *bodies)


def test_ingest_needs_a_known_api_key(module_app: App) -> None:
    unsigned, forged, marker = response(), response(), response()
    missing = httpx.post(module_app.url + "/api/v1/responses", json=unsigned)
    wrong = httpx.post(
        module_app.url + "/api/v1/responses", json=forged, headers={"X-API-Key": "nope"}
    )
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert "X-API-Key" in missing.json()["message"]
    with module_app.client() as client:
        assert client.post("/api/v1/responses", json=marker).status_code == 202
    nothing_stored_before(module_app, marker, unsigned, forged)


async def test_batch_is_accepted_whole_and_each_response_shown(app: App, cockpit: Cockpit) -> None:
    await cockpit.subscribe()
    bodies = [response(org_unit=f"store-{i}") for i in range(5)]
    with app.client() as client:
        answer = await asyncio.to_thread(
            client.post, "/api/v1/responses:batch", json={"responses": bodies}
        )
    assert answer.status_code == 202
    assert answer.json()["response_ids"] == [b["response_id"] for b in bodies]
    ids = set()
    while len(ids) < 5:
        ids.add((await cockpit.next(lambda e: e["type"] == "comment"))["data"]["response_id"])
    assert ids == {b["response_id"] for b in bodies}
    wait_until(lambda: len(app.rows()) == 5, message="5 rows")


def test_batch_with_one_invalid_response_is_refused_naming_index_and_field(
    module_app: App,
) -> None:
    bodies = [response(), response(score=42), response()]
    marker = response()
    with module_app.client() as client:
        answer = client.post("/api/v1/responses:batch", json={"responses": bodies})
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == "responses.1.score"
        assert client.post("/api/v1/responses", json=marker).status_code == 202
    nothing_stored_before(module_app, marker, *bodies)


def test_batch_over_the_limit_is_refused(broker: str, tmp_path: Path) -> None:
    app = make_app(broker, tmp_path, batch_max="3")
    app.start()
    try:
        with app.client() as client:
            answer = client.post(
                "/api/v1/responses:batch", json={"responses": [response() for _ in range(4)]}
            )
        assert answer.status_code == 422
        assert "at most 3" in answer.json()["message"]
    finally:
        app.stop()


def test_broker_down_gives_503_with_retry_after(tmp_path: Path) -> None:
    dead = f"127.0.0.1:{free_port()}"
    app = make_app(dead, tmp_path, kafka_produce_timeout_s="1.5", embedded_workers="0")
    app.start(wait_ready=False)
    try:
        with app.client() as client:
            answer = client.post("/api/v1/responses", json=response())
            ready = client.get("/readyz")
        assert answer.status_code == 503
        assert int(answer.headers["Retry-After"]) > 0
        assert "retry" in answer.json()["message"]
        assert ready.status_code == 503
        assert ready.json()["checks"]["broker"].startswith("failed")
    finally:
        app.stop()
