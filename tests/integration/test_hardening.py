"""Ingest limits and page headers: body size, key rate, unknown units, CSP, closed CORS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import App, consume_all, make_app, produce, response, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def limited(broker: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[App]:
    app = make_app(broker, tmp_path, **getattr(request, "param", {}))
    app.start()
    yield app
    app.stop()


@pytest.mark.parametrize("limited", [{"max_body_bytes": "65536"}], indirect=True)
def test_a_body_over_the_limit_is_refused_before_it_is_read(limited: App) -> None:
    bodies = [response(comment="x" * 3000) for _ in range(30)]  # ~100 KB
    with limited.client() as client:
        declared = client.post("/api/v1/responses:batch", json={"responses": bodies})

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            payload = json.dumps({"responses": bodies}).encode()
            for start in range(0, len(payload), 8192):
                yield payload[start : start + 8192]

        streamed = client.post(
            "/api/v1/responses:batch",
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
    for answer in (declared, streamed):
        assert answer.status_code == 413
        assert answer.json()["code"] == "body_too_large"
        assert "the limit is 65536 (VOC_MAX_BODY_BYTES)" in answer.json()["message"]
    assert limited.rows() == []


@pytest.mark.parametrize(
    "limited",
    [{"ingest_rate_per_key": "0.5", "ingest_burst_per_key": "5", "batch_max": "5"}],
    indirect=True,
)
def test_a_key_over_its_rate_gets_429_with_retry_after_and_nothing_is_stored(
    limited: App,
) -> None:
    with limited.client() as client:
        burst = client.post(
            "/api/v1/responses:batch", json={"responses": [response() for _ in range(5)]}
        )
        over = client.post("/api/v1/responses", json=(refused := response()))
    assert burst.status_code == 202
    assert over.status_code == 429
    assert int(over.headers["Retry-After"]) >= 1
    assert over.json()["code"] == "rate_limited"
    assert over.json()["message"].startswith("over 0.5 responses/s for this key")
    wait_until(lambda: len(limited.rows()) == 5, message="the 5 accepted rows")
    assert limited.rows(f"response_id = '{refused['response_id']}'") == []


def test_a_response_for_an_unknown_unit_is_refused_naming_it(limited: App) -> None:
    with limited.client() as client:
        single = client.post("/api/v1/responses", json=response(org_unit="store-1000"))
        batch = client.post(
            "/api/v1/responses:batch",
            json={"responses": [response(), response(org_unit="store-1000")]},
        )
    assert single.status_code == batch.status_code == 422
    assert single.json()["code"] == batch.json()["code"] == "unknown_units"
    assert single.json()["message"].startswith("org_unit: unknown org unit 'store-1000'")
    assert batch.json()["message"].startswith("responses.1.org_unit: unknown org unit")


@pytest.mark.parametrize("limited", [{"unknown_org_unit": "park"}], indirect=True)
def test_parked_unknown_units_are_accepted_then_dead_lettered_whole(
    limited: App, broker: str
) -> None:
    body = response(org_unit="store-1000")
    with limited.client() as client:
        assert client.post("/api/v1/responses", json=body).status_code == 202
    [parked] = consume_all(broker, limited.topic + ".dlq", expected=1)
    headers = dict(parked.headers)
    assert headers["voc.error.reason"] == b"unknown_org_unit"
    assert b"store-1000" in headers["voc.error.detail"]
    assert json.loads(parked.value)["response_id"] == body["response_id"]
    assert limited.rows() == []


def test_a_kafka_message_for_an_unknown_unit_goes_to_the_dlq(limited: App, broker: str) -> None:
    stray, good = response(org_unit="store-1000"), response()
    produce(broker, limited.topic, [json.dumps(stray).encode(), json.dumps(good).encode()])
    wait_until(lambda: len(limited.rows()) == 1, message="the good row")
    [dead] = consume_all(broker, limited.topic + ".dlq", expected=1)
    assert dict(dead.headers)["voc.error.reason"] == b"unknown_org_unit"
    assert json.loads(dead.value) == stray


def test_pages_and_answers_carry_security_headers(limited: App) -> None:
    for path in ("/", "/static/cockpit.js", "/api/v1/auth/me", "/healthz"):
        headers = httpx.get(limited.url + path).headers
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"


def test_cors_is_closed_by_default(limited: App) -> None:
    preflight = httpx.options(
        limited.url + "/api/v1/responses",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    read = httpx.get(
        limited.url + "/api/v1/units",
        headers={"Origin": "https://elsewhere.example", **limited.auth("admin")},
    )
    assert "access-control-allow-origin" not in read.headers


@pytest.mark.parametrize("limited", [{"cors_origins": "https://portal.example.com"}], indirect=True)
def test_cors_opens_only_to_the_configured_origins(limited: App) -> None:
    def allowed(origin: str) -> str | None:
        return httpx.options(
            limited.url + "/api/v1/units",
            headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
        ).headers.get("access-control-allow-origin")

    assert allowed("https://portal.example.com") == "https://portal.example.com"
    assert allowed("https://elsewhere.example") is None
