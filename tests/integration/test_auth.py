"""Signing in and out: the cookie, bearer tokens, expiry, lockout, throttling, the audit trail."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.harness import PASSWORD, App, Cockpit, make_app

pytestmark = pytest.mark.integration


@pytest.fixture
def auth_app(broker: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[App]:
    settings = getattr(request, "param", {})
    app = make_app(broker, tmp_path, **settings)
    app.start()
    app.add_user("jeanne", "manager", ["north"])
    app.add_user("paul", "frontline", ["store-12"])
    yield app
    app.stop()


def _login(app: App, username: str, password: str) -> httpx.Response:
    return httpx.post(
        app.url + "/api/v1/auth/login", json={"username": username, "password": password}
    )


def _audit(app: App) -> list[tuple[str, str]]:
    items = app.as_user("admin").get("/api/v1/admin/audit", params={"limit": 500}).json()["items"]
    return [(i["action"], i["actor"]) for i in reversed(items)]


def test_signing_in_sets_an_httponly_cookie_that_opens_the_api(auth_app: App) -> None:
    answer = _login(auth_app, "jeanne", PASSWORD)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["username"], body["role"], body["org_units"]) == ("jeanne", "manager", ["north"])
    cookie = answer.headers["set-cookie"].lower()
    assert cookie.startswith("voc_session=")
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain HTTP on loopback; Secure when served over TLS
    with httpx.Client(base_url=auth_app.url, cookies=answer.cookies) as browser:
        assert browser.get("/api/v1/auth/me").json()["username"] == "jeanne"
    bearer = {"Authorization": f"Bearer {body['token']}"}
    assert httpx.get(auth_app.url + "/api/v1/auth/me", headers=bearer).status_code == 200


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(auth_app: App) -> None:
    wrong = _login(auth_app, "jeanne", "not her password")
    unknown = _login(auth_app, "nobody", "whatever it is")
    assert (wrong.status_code, unknown.status_code) == (401, 401)
    assert wrong.json() == unknown.json()
    assert wrong.json() == {"code": "wrong_credentials", "message": "wrong username or password"}
    assert "set-cookie" not in wrong.headers


def test_signing_out_ends_the_session_everywhere_it_was_used(auth_app: App) -> None:
    token = _login(auth_app, "jeanne", PASSWORD).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    signed_out = httpx.post(auth_app.url + "/api/v1/auth/logout", headers=bearer)
    assert signed_out.status_code == 204
    assert "voc_session=" in signed_out.headers["set-cookie"]  # the cookie is cleared
    after = httpx.get(auth_app.url + "/api/v1/responses", headers=bearer)
    assert after.status_code == 401
    assert after.json() == {
        "code": "session_ended",
        "message": "session expired or signed out; sign in again",
    }


@pytest.mark.parametrize("auth_app", [{"session_hours": "0.0003"}], indirect=True)
def test_a_session_expires(auth_app: App) -> None:
    token = _login(auth_app, "jeanne", PASSWORD).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(auth_app.url + "/api/v1/auth/me", headers=bearer).status_code == 200
    time.sleep(1.5)  # the session lasts ~1.1 s
    assert httpx.get(auth_app.url + "/api/v1/auth/me", headers=bearer).status_code == 401


@pytest.mark.parametrize(
    "auth_app", [{"login_max_failures": "3", "login_lockout_s": "120"}], indirect=True
)
def test_repeated_wrong_passwords_lock_the_account_even_for_the_right_one(auth_app: App) -> None:
    for _ in range(3):
        assert _login(auth_app, "jeanne", "guess " + "x" * 5).status_code == 401
    locked = _login(auth_app, "jeanne", PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["code"] == "account_locked"
    assert "locked" in locked.json()["message"]
    assert 100 <= int(locked.headers["Retry-After"]) <= 120
    # Another account is not affected.
    assert _login(auth_app, "paul", PASSWORD).status_code == 200
    trail = _audit(auth_app)
    assert trail.count(("login.failed", "jeanne")) == 3
    assert ("login.locked", "jeanne") in trail
    assert ("login.succeeded", "paul") in trail


@pytest.mark.parametrize(
    "auth_app", [{"login_max_failures": "2", "login_lockout_s": "1"}], indirect=True
)
def test_a_lock_ends_and_the_right_password_then_works(auth_app: App) -> None:
    for _ in range(2):
        _login(auth_app, "jeanne", "wrong password")
    assert _login(auth_app, "jeanne", PASSWORD).status_code == 429
    time.sleep(1.2)
    assert _login(auth_app, "jeanne", PASSWORD).status_code == 200


@pytest.mark.parametrize("auth_app", [{"login_attempts_per_minute": "4"}], indirect=True)
def test_one_address_trying_many_accounts_is_slowed(auth_app: App) -> None:
    answers = [_login(auth_app, f"user{i}", "password guess") for i in range(6)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert answers[-1].json()["code"] == "rate_limited"
    assert "too many sign-in attempts" in answers[-1].json()["message"]


def test_a_cookie_cannot_be_used_from_a_foreign_page(auth_app: App) -> None:
    cookies = _login(auth_app, "jeanne", PASSWORD).cookies
    auth_app.auth("admin")  # creates the admin user
    admin_cookies = _login(auth_app, "admin", PASSWORD).cookies
    forged = httpx.post(
        auth_app.url + "/api/v1/admin/keys",
        json={"name": "stolen"},
        cookies=admin_cookies,
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status_code == 403
    assert forged.json()["code"] == "forbidden_origin"
    assert forged.json()["message"].startswith("origin:")
    own = httpx.post(
        auth_app.url + "/api/v1/admin/keys",
        json={"name": "own page"},
        cookies=admin_cookies,
        headers={"Origin": auth_app.url},
    )
    assert own.status_code == 201
    assert cookies  # the manager's cookie was issued too; it opens no admin route
    assert httpx.get(auth_app.url + "/api/v1/admin/keys", cookies=cookies).status_code == 403


def test_passwords_tokens_and_keys_never_reach_the_log(auth_app: App) -> None:
    wrong = "my-secret-guess-123"
    _login(auth_app, "jeanne", wrong)
    token = _login(auth_app, "jeanne", PASSWORD).json()["token"]
    key = auth_app.as_user("admin").post("/api/v1/admin/keys", json={"name": "crm"}).json()["key"]
    httpx.get(auth_app.url + "/api/v1/responses", headers={"Authorization": f"Bearer {token}"})
    httpx.post(auth_app.url + "/api/v1/responses", json={}, headers={"X-API-Key": key})
    log = auth_app.log.read_text()
    assert "/api/v1/auth/login" in log  # requests are logged, only without their secrets
    for secret in (wrong, PASSWORD, token, key, auth_app.key):
        assert secret not in log
    trail = str(auth_app.as_user("admin").get("/api/v1/admin/audit").json())
    for secret in (wrong, PASSWORD, token, key):
        assert secret not in trail


async def test_signing_out_closes_that_sessions_open_websocket_at_once(auth_app: App) -> None:
    token = _login(auth_app, "jeanne", PASSWORD).json()["token"]
    other = _login(auth_app, "jeanne", PASSWORD).json()["token"]
    bearer, still = ({"Authorization": f"Bearer {t}"} for t in (token, other))
    async with (
        connect(auth_app.ws_url, additional_headers=bearer) as ended,
        connect(auth_app.ws_url, additional_headers=still) as kept,
    ):
        await Cockpit(ended).subscribe()
        await Cockpit(kept).subscribe()
        await asyncio.to_thread(httpx.post, auth_app.url + "/api/v1/auth/logout", headers=bearer)
        async with asyncio.timeout(5):  # well before the once-a-minute session re-check
            await ended.wait_closed()
        assert (ended.close_code, ended.close_reason) == (4401, "signed_out")
        assert (await Cockpit(kept).subscribe())["type"] == "subscribed"


async def test_changing_a_users_units_closes_their_websockets(auth_app: App) -> None:
    token = _login(auth_app, "paul", PASSWORD).json()["token"]
    async with connect(
        auth_app.ws_url, additional_headers={"Authorization": f"Bearer {token}"}
    ) as socket:
        await Cockpit(socket).subscribe()
        with auth_app.as_user("admin") as admin:
            changed = await asyncio.to_thread(
                admin.patch, "/api/v1/admin/users/paul", json={"org_units": ["store-1"]}
            )
        assert changed.status_code == 200
        async with asyncio.timeout(5):
            await socket.wait_closed()
    assert socket.close_code == 4401
    assert socket.close_reason == "access_changed"
