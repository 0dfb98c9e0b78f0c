"""Every error answer carries a stable machine `code` beside its `message`; the message follows
Accept-Language, the code never does."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from app.api.errors import Code
from tests.harness import ROOT, App, all_alerts, make_app, response, wait_until

pytestmark = pytest.mark.integration

FRENCH = "fr-FR,fr;q=0.9,en;q=0.8"
ITALIAN = "it-IT,it;q=0.9"


@pytest.fixture(scope="module")
def coded(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """One app for the module: a small body limit, and a rate an integrator key soon exceeds."""
    app = make_app(
        broker,
        tmp_path_factory.mktemp("codes"),
        max_body_bytes="65536",
        ingest_rate_per_key="0.01",
        ingest_burst_per_key="5",
        batch_max="5",
    )
    app.start()
    yield app
    app.stop()


def _headers(app: App, who: str) -> dict[str, str]:
    if who == "anonymous":
        return {}
    if who == "integrator":
        return {"X-API-Key": app.key}
    if who == "ended":
        return {"Authorization": "Bearer not-a-session-this-app-opened"}
    return app.auth(who)


_JSON = {"Content-Type": "application/json"}
WRONG_LOGIN = {"username": "nobody", "password": "not a password"}
RESPONSES = "/api/v1/responses"
DIGEST = "/api/v1/me/digest"


def _raw(body: bytes) -> dict[str, Any]:
    return {"content": body, "headers": _JSON}


def _query(**params: str) -> dict[str, Any]:
    return {"params": params}


# (who asks, method, path, request arguments, status, code): one of each kind of refusal.
CASES = [
    ("admin", "GET", RESPONSES, _query(cursor="x"), 400, "invalid_cursor"),
    ("integrator", "POST", RESPONSES, _raw(b"{no"), 422, "invalid_json"),
    ("admin", "PUT", DIGEST, _raw(b"[1,"), 422, "invalid_json"),
    ("integrator", "POST", RESPONSES, {"json": response(score=11)}, 422, "invalid_input"),
    ("anonymous", "GET", RESPONSES, {}, 401, "not_signed_in"),
    ("ended", "GET", RESPONSES, {}, 401, "session_ended"),
    ("anonymous", "POST", "/api/v1/auth/login", {"json": WRONG_LOGIN}, 401, "wrong_credentials"),
    ("anonymous", "POST", RESPONSES, {"json": response()}, 401, "missing_api_key"),
    ("frontline", "GET", "/api/v1/admin/users", {}, 403, "forbidden_role"),
    ("frontline", "GET", "/api/v1/alerts", {}, 403, "forbidden_role"),
    ("frontline", "GET", RESPONSES, _query(org_unit="store-40"), 403, "out_of_scope"),
    ("manager", "GET", "/api/v1/alerts/999999", {}, 404, "not_found"),
    ("admin", "GET", f"{RESPONSES}/no-such-response", {}, 404, "not_found"),
    ("admin", "GET", "/api/v1/no-such-thing", {}, 404, "not_found"),
    ("admin", "GET", "/api/v1/barometers", _query(org_unit="nowhere"), 404, "unknown_units"),
    ("admin", "DELETE", RESPONSES, {}, 405, "method_not_allowed"),
    ("admin", "PUT", DIGEST, {"json": {"enabled": True, "hour": 7}}, 409, "conflict"),
    ("integrator", "POST", RESPONSES, _raw(b"x" * 70_000), 413, "body_too_large"),
]


@pytest.fixture(scope="module")
def documented_codes(coded: App) -> set[str]:
    """The codes the OpenAPI schema lists for an error answer."""
    schemas = httpx.get(coded.url + "/openapi.json", timeout=15).json()["components"]["schemas"]
    code = schemas["ErrorMessage"]["properties"]["code"]
    ref = code.get("$ref") or code["allOf"][0]["$ref"]
    return set(schemas[ref.rsplit("/", 1)[1]]["enum"])


@pytest.mark.parametrize(
    ("who", "method", "path", "arguments", "status", "code"),
    CASES,
    ids=[f"{c[4]}-{c[5]}" for c in CASES],
)
def test_every_refusal_names_its_code_beside_its_message(
    coded: App,
    documented_codes: set[str],
    who: str,
    method: str,
    path: str,
    arguments: Any,
    status: int,
    code: str,
) -> None:
    given = dict(arguments)  # the table is shared by both stacks' runs: left as it is
    headers = {**_headers(coded, who), **given.pop("headers", {})}
    answer = httpx.request(method, coded.url + path, headers=headers, timeout=15, **given)
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    if status == 422:
        assert isinstance(body["errors"], list) and body["errors"], body
    assert code in documented_codes


def test_a_key_over_its_rate_is_told_rate_limited(coded: App) -> None:
    with coded.as_user("admin") as admin:
        key = admin.post("/api/v1/admin/keys", json={"name": "bursty"}).json()["key"]
    post = {"headers": {"X-API-Key": key}, "timeout": 15}
    burst = [response() for _ in range(5)]
    accepted = httpx.post(coded.url + "/api/v1/responses:batch", json={"responses": burst}, **post)
    over = httpx.post(coded.url + "/api/v1/responses", json=response(), **post)
    assert accepted.status_code == 202
    assert over.status_code == 429
    assert over.json()["code"] == "rate_limited"
    assert int(over.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("accept_language", "wrong", "ended", "outside"),
    [
        (
            FRENCH,
            "identifiant ou mot de passe incorrect",
            "session expirée ou déconnectée ; reconnectez-vous",
            "org_unit: hors de vos unités : store-40",
        ),
        (
            ITALIAN,
            "nome utente o password errati",
            "sessione scaduta o chiusa; accedere di nuovo",
            "org_unit: fuori dalle unità assegnate: store-40",
        ),
        (
            # No shipped language named: the organisation's (English here).
            "de-DE,de;q=0.9",
            "wrong username or password",
            "session expired or signed out; sign in again",
            "org_unit: outside your units: store-40",
        ),
    ],
    ids=["fr", "it", "de"],
)
def test_the_message_follows_accept_language_and_the_code_does_not(
    coded: App, accept_language: str, wrong: str, ended: str, outside: str
) -> None:
    language = {"Accept-Language": accept_language}
    refused = httpx.post(
        coded.url + "/api/v1/auth/login", json=WRONG_LOGIN, headers=language, timeout=15
    )
    after = httpx.get(
        coded.url + "/api/v1/responses", headers={**_headers(coded, "ended"), **language}
    )
    scoped = httpx.get(
        coded.url + "/api/v1/responses",
        params={"org_unit": "store-40"},
        headers={**_headers(coded, "frontline"), **language},
    )
    assert refused.json() == {"code": "wrong_credentials", "message": wrong}
    assert after.json() == {"code": "session_ended", "message": ended}
    assert scoped.json() == {"code": "out_of_scope", "message": outside}


def test_a_field_refusal_keeps_its_field_in_every_language(coded: App) -> None:
    answers = {
        language: httpx.post(
            coded.url + "/api/v1/alerts/bulk",
            json={"action": "acknowledge"},
            headers={**_headers(coded, "manager"), "Accept-Language": language},
        ).json()
        for language in ("en", FRENCH, ITALIAN)
    }
    assert answers["en"] == {
        "code": "invalid_input",
        "message": "ids: give the alerts, or a filter, not both",
        "errors": [{"field": "ids", "message": "give the alerts, or a filter, not both"}],
    }
    assert answers[FRENCH] == {
        "code": "invalid_input",
        "message": "ids: indiquez les alertes ou un filtre, pas les deux",
        "errors": [{"field": "ids", "message": "indiquez les alertes ou un filtre, pas les deux"}],
    }
    assert answers[ITALIAN]["code"] == "invalid_input"
    assert answers[ITALIAN]["errors"] == [
        {"field": "ids", "message": "indicare le allerte o un filtro, non entrambi"}
    ]


async def test_a_websocket_refusal_has_its_code_and_the_handshakes_language(coded: App) -> None:
    frames = {}
    for language in ("en", FRENCH, ITALIAN):
        headers = {**_headers(coded, "frontline"), "Accept-Language": language}
        async with connect(coded.ws_url, additional_headers=headers) as connection:
            await connection.send(json.dumps({"type": "subscribe", "org_units": ["store-40"]}))
            frames[language] = json.loads(await connection.recv())
    assert frames == {
        "en": {
            "type": "error",
            "code": "out_of_scope",
            "message": "org_units: outside your units: store-40",
        },
        FRENCH: {
            "type": "error",
            "code": "out_of_scope",
            "message": "org_units: hors de vos unités : store-40",
        },
        ITALIAN: {
            "type": "error",
            "code": "out_of_scope",
            "message": "org_units: fuori dalle unità assegnate: store-40",
        },
    }


def test_losing_a_callback_race_says_who_won_in_the_readers_language(coded: App) -> None:
    posted = response(score_kind="csat", score=1, comment=None)
    with httpx.Client(base_url=coded.url, headers={"X-API-Key": coded.key}) as integrator:
        assert integrator.post("/api/v1/responses", json=posted).status_code == 202
    found: list[dict[str, Any]] = []

    def raised() -> bool:
        with coded.as_user("manager") as manager:
            found[:] = [a for a in all_alerts(manager) if a["response_id"] == posted["response_id"]]
        return bool(found)

    wait_until(raised, message="the alert of the dissatisfied customer")
    alert_id = found[0]["id"]
    take = f"/api/v1/alerts/{alert_id}/take"
    with coded.as_user("manager") as manager:
        assert manager.post(take).status_code == 200
        unfinished = manager.post(
            f"/api/v1/alerts/{alert_id}/transition", json={"to": "resolved"}
        ).json()
    lost = {
        language: httpx.post(
            coded.url + take, headers={**_headers(coded, "admin"), "Accept-Language": language}
        )
        for language in ("en", FRENCH, ITALIAN)
    }
    taken_by = {"username": "north.manager", "display_name": "north.manager"}
    assert {answer.status_code for answer in lost.values()} == {409}
    assert lost["en"].json() == {
        "code": "alert_taken",
        "message": f"alert {alert_id}: north.manager is already calling this customer",
        "taken_by": taken_by,
    }
    assert lost[FRENCH].json() == {
        "code": "alert_taken",
        "message": f"alerte {alert_id} : north.manager appelle déjà ce client",
        "taken_by": taken_by,
    }
    assert lost[ITALIAN].json()["message"] == (
        f"allerta {alert_id}: north.manager sta già chiamando questo cliente"
    )
    # A step the loop refuses names its field, as any field refusal does.
    assert unfinished["code"] == "invalid_step"
    assert [e["field"] for e in unfinished["errors"]] == ["note"]


def test_the_api_docs_list_every_code() -> None:
    listed = set(re.findall(r"^\| `(\w+)` \|", (ROOT / "docs" / "api.md").read_text(), re.M))
    assert listed == {code.value for code in Code}
