"""The admin's tools: integrator keys, users and the org tree, by the API and the `voc` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.harness import PASSWORD, ROOT, App, make_app, response, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def admin_app(module_app: App) -> App:
    return module_app


def _post(app: App, key: str, **fields: str) -> httpx.Response:
    return httpx.post(
        app.url + "/api/v1/responses", json=response(**fields), headers={"X-API-Key": key}
    )


def test_a_key_is_shown_once_works_and_stops_working_when_revoked(admin_app: App) -> None:
    admin = admin_app.as_user("admin")
    created = admin.post("/api/v1/admin/keys", json={"name": "Survey tool"})
    assert created.status_code == 201
    key, key_id = created.json()["key"], created.json()["id"]
    assert key.startswith("voc_")
    listed = admin.get("/api/v1/admin/keys").json()
    assert key not in str(listed)  # only the prefix is ever shown again
    mine = next(k for k in listed if k["id"] == key_id)
    assert key.startswith(f"voc_{mine['prefix']}_")
    assert mine["last_used_at"] is None

    assert _post(admin_app, key).status_code == 202
    used = next(k for k in admin.get("/api/v1/admin/keys").json() if k["id"] == key_id)
    assert used["last_used_at"] is not None

    assert admin.delete(f"/api/v1/admin/keys/{key_id}").json()["revoked_at"] is not None
    refused = _post(admin_app, key)
    assert refused.status_code == 401
    assert refused.json() == {
        "code": "invalid_api_key",
        "message": "unknown or revoked API key in X-API-Key",
    }
    actions = [
        (e["action"], e["target"])
        for e in admin.get("/api/v1/admin/audit").json()["items"]
        if e["action"].startswith("key.")
    ]
    assert ("key.created", "Survey tool") in actions
    assert ("key.used", str(key_id)) in actions
    assert ("key.revoked", str(key_id)) in actions


def test_a_key_limited_to_units_and_surveys_posts_nothing_else(admin_app: App) -> None:
    admin = admin_app.as_user("admin")
    key = admin.post(
        "/api/v1/admin/keys",
        json={"name": "North CRM", "org_units": ["north"], "surveys": ["nps-delivery"]},
    ).json()["key"]
    assert _post(admin_app, key, org_unit="store-12-field").status_code == 202
    other_unit = _post(admin_app, key, org_unit="store-40")
    assert other_unit.status_code == 403
    assert other_unit.json() == {
        "code": "out_of_scope",
        "message": "org_unit: this key posts only for north",
    }
    other_survey = _post(admin_app, key, survey_id="csat-billing")
    assert other_survey.status_code == 403
    assert other_survey.json()["message"] == "survey_id: this key posts only for nps-delivery"
    batch = httpx.post(
        admin_app.url + "/api/v1/responses:batch",
        json={"responses": [response(org_unit="store-1"), response(org_unit="store-41")]},
        headers={"X-API-Key": key},
    )
    assert batch.status_code == 403
    assert batch.json()["message"] == "responses.1.org_unit: this key posts only for north"


def test_an_admin_creates_a_user_who_then_signs_in_and_sees_their_units(admin_app: App) -> None:
    admin = admin_app.as_user("admin")
    created = admin.post(
        "/api/v1/admin/users",
        json={
            "username": "Marie",
            "password": PASSWORD,
            "role": "frontline",
            "org_units": ["store-40"],
        },
    )
    assert created.status_code == 201
    assert created.json()["username"] == "marie"
    token = admin_app.sign_in("marie", PASSWORD)
    units = httpx.get(
        admin_app.url + "/api/v1/units", headers={"Authorization": f"Bearer {token}"}
    ).json()["units"]
    assert [u["id"] for u in units] == ["store-40"]
    assert "password" not in str(admin.get("/api/v1/admin/users").json()).lower()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"role": "frontline", "org_units": []}, 422, "org_units: a frontline needs at least one"),
        (
            {"role": "manager", "org_units": ["nowhere"]},
            422,
            "org_units: unknown org units: nowhere",
        ),
        ({"role": "admin", "password": "short"}, 422, "password: String should have at least 10"),
        ({"role": "owner"}, 422, "role: Input should be"),
        ({"username": "admin", "role": "admin"}, 409, "username: 'admin' is taken"),
    ],
)
def test_a_user_that_cannot_work_is_refused_with_the_reason(
    admin_app: App, body: dict[str, object], status: int, message: str
) -> None:
    admin = admin_app.as_user("admin")
    full = {"username": "newcomer", "password": PASSWORD, "org_units": [], **body}
    answer = admin.post("/api/v1/admin/users", json=full)
    assert answer.status_code == status
    assert answer.json()["message"].startswith(message), answer.json()


def test_a_new_password_or_disabling_signs_the_user_out(admin_app: App) -> None:
    admin = admin_app.as_user("admin")
    admin_app.add_user("leaving", "frontline", ["store-1"])
    bearer = {"Authorization": f"Bearer {admin_app.sign_in('leaving', PASSWORD)}"}
    assert httpx.get(admin_app.url + "/api/v1/auth/me", headers=bearer).status_code == 200
    changed = admin.patch("/api/v1/admin/users/leaving", json={"disabled": True})
    assert changed.json()["disabled"] is True
    assert httpx.get(admin_app.url + "/api/v1/auth/me", headers=bearer).status_code == 401
    refused = httpx.post(
        admin_app.url + "/api/v1/auth/login", json={"username": "leaving", "password": PASSWORD}
    )
    assert refused.status_code == 401
    change = next(
        e for e in admin.get("/api/v1/admin/audit").json()["items"] if e["action"] == "user.changed"
    )
    assert (change["target"], change["detail"]["fields"]) == ("leaving", ["disabled"])


def test_a_unit_added_by_the_admin_takes_responses_at_once(admin_app: App) -> None:
    admin = admin_app.as_user("admin")
    before = _post(admin_app, admin_app.key, org_unit="store-50")
    assert before.status_code == 422
    assert before.json()["message"].startswith("org_unit: unknown org unit 'store-50'")
    added = admin.post(
        "/api/v1/admin/units", json={"id": "store-50", "name": "Store 50", "parent": "south"}
    )
    assert added.status_code == 201
    assert _post(admin_app, admin_app.key, org_unit="store-50").status_code == 202
    wait_until(lambda: bool(admin_app.rows("org_unit = 'store-50'")), message="store-50 row")
    in_use = admin.delete("/api/v1/admin/units/store-50")
    assert in_use.status_code == 409
    assert "has stored responses" in in_use.json()["message"]


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        ({"id": "store-1", "name": "Loop", "parent": "store-12-field"}, None),
        ({"id": "north", "name": "North", "parent": "store-1"}, "its parents loop back"),
        ({"id": "lost", "name": "Lost", "parent": "nowhere"}, "parent 'nowhere' is not a known"),
    ],
)
def test_the_tree_stays_a_tree(admin_app: App, unit: dict[str, str], message: str | None) -> None:
    admin = admin_app.as_user("admin")
    answer = admin.put(f"/api/v1/admin/units/{unit['id']}", json=unit)
    if message is None:
        assert answer.status_code == 200
        admin.put(
            "/api/v1/admin/units/store-1", json={**unit, "parent": "north", "name": "Store 1"}
        )
    else:
        assert answer.status_code == 422
        assert message in answer.json()["message"]


def _voc(
    tmp: Path, database_url: str, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VOC_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp,
        env=env,
        timeout=60,
    )


def test_the_voc_command_bootstraps_an_admin_tree_and_key(broker: str, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'voc.db'}"
    imported = _voc(tmp_path, database_url, "units", "import", str(ROOT / "tests/org_tree.yaml"))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("16 units saved")
    created = _voc(
        tmp_path,
        database_url,
        "users", "create", "first.admin", "--role", "admin", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    short = _voc(
        tmp_path, database_url, "users", "create", "x", "--role", "admin", "--password-stdin",
        stdin="short\n",
    )  # fmt: skip
    assert short.returncode != 0 and "at least 10 characters" in short.stderr
    key = _voc(tmp_path, database_url, "keys", "create", "crm", "--unit", "north")
    assert key.returncode == 0, key.stderr
    assert "shown this once" in key.stderr
    secret = key.stdout.strip()

    app = make_app(broker, tmp_path, database_url=database_url)
    app.start()
    try:
        posted = _post(app, secret, org_unit="store-3")
        assert posted.status_code == 202
        token = app.sign_in("first.admin", PASSWORD)
        keys = httpx.get(
            app.url + "/api/v1/admin/keys", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert [(k["name"], k["org_units"]) for k in keys] == [("crm", ["north"])]
    finally:
        app.stop()
    listed = _voc(tmp_path, database_url, "keys", "list")
    assert "crm" in listed.stdout and secret not in listed.stdout
    revoked = _voc(tmp_path, database_url, "keys", "revoke", "1")
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
