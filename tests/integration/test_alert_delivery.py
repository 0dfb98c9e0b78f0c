"""Alerts leave the cockpit: a signed webhook and e-mails to the managers up the tree, and
escalation of missed deadlines (driven by an injected clock, not by waiting)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from alerts.engine import Trigger
from alerts.notify import verify_signature
from app.alertdesk.desk import AlertDesk
from app.core.access import Role
from app.core.events import Assessment, Severity, SurveyResponse
from app.core.settings import Settings
from app.core.writes import Scored, Writes
from app.db import alerting, batches, directory, store
from app.notifications import AlertNotifier
from app.orgfile import read_units
from ingest.alerting import new_alert
from tests.harness import (
    ORG_TREE,
    PASSWORD,
    App,
    Clock,
    Cockpit,
    make_app,
    response,
    wait_until,
)
from tests.servers import Endpoint, Relay

pytestmark = pytest.mark.integration

SECRET = "hook-secret"
# username: units, e-mail, the language they chose (None: the organisation's)
MANAGERS: dict[str, tuple[list[str], str, str | None]] = {
    "s12.manager": (["store-12"], "s12.manager@example.com", "fr"),
    "s12.deputy": (["store-12"], "s12.deputy@example.com", None),
    "north.boss": (["north"], "north.boss@example.com", "it"),
    "south.boss": (["south"], "south.boss@example.com", None),
}
# Chose no language, and signed in from an Italian browser: the mail has no browser to ask.
NIGHT_SHIFT = ("s12.night", "s12.night@example.com", "it-IT,it;q=0.9,en;q=0.5")


@pytest.fixture
def wired(
    broker: str, tmp_path: Path, endpoint: Endpoint, smtp_server: tuple[Relay, int]
) -> Iterator[App]:
    _, smtp_port = smtp_server
    app = make_app(
        broker,
        tmp_path,
        alert_webhook_url=endpoint.url,
        alert_webhook_secret=SECRET,
        smtp_host="127.0.0.1",
        smtp_port=str(smtp_port),
        smtp_security="none",
        public_url="https://cockpit.example.com",
    )
    app.start()
    night, night_email, browser = NIGHT_SHIFT
    with app.as_user("admin") as admin:
        everyone = {**MANAGERS, night: (["store-12"], night_email, None)}
        for username, (units, email, language) in everyone.items():
            created = admin.post(
                "/api/v1/admin/users",
                json={
                    "username": username,
                    "password": PASSWORD,
                    "role": "manager",
                    "org_units": units,
                    "email": email,
                },
            )
            assert created.status_code == 201, created.text
            if language is not None:
                # Each chooses their own, as on the cockpit's language menu.
                token = {"Authorization": f"Bearer {app.sign_in(username, PASSWORD)}"}
                chosen = httpx.put(
                    f"{app.url}/api/v1/me/language", json={"language": language}, headers=token
                )
                assert chosen.status_code == 200, chosen.text
    signed_in = httpx.post(
        f"{app.url}/api/v1/auth/login",
        json={"username": night, "password": PASSWORD},
        headers={"Accept-Language": browser},
    )
    assert signed_in.json()["language"] == "it"
    yield app
    app.stop()


def _history(app: App, alert_id: int) -> list[dict[str, Any]]:
    with app.as_user("admin") as admin:
        steps: list[dict[str, Any]] = admin.get(f"/api/v1/alerts/{alert_id}").json()["history"]
    return steps


def test_a_new_alert_is_posted_signed_and_mailed_to_the_managers_up_the_tree(
    wired: App, endpoint: Endpoint, smtp_server: tuple[Relay, int]
) -> None:
    relay, _ = smtp_server
    body = response(org_unit="store-12-field", score=1, comment="Rude and useless, a disaster.")
    with wired.client() as client:
        assert client.post("/api/v1/responses", json=body).status_code == 202
    wait_until(
        lambda: bool(endpoint.requests) and len(relay.mails) == 3, message="webhook and mails"
    )

    [hook] = endpoint.requests
    assert verify_signature(
        SECRET, hook.headers["x-voc-timestamp"], hook.body, hook.headers["x-voc-signature"]
    )
    payload = json.loads(hook.body)
    assert payload["org_unit"] == "store-12-field"
    assert payload["title"] == "Detractor with a negative comment at Store 12 field team"
    assert "Rude and useless" in payload["text"]
    # The sentiment stage's reasons travel with the alert, as on the cockpit's card.
    assert "Why: NPS 1: very poor (0\u20133); negative comment (" in payload["text"]
    assert payload["link"] == f"https://cockpit.example.com/?alert={payload['alert_id']}"

    # The store's managers and the region's, never another region's; each in their language:
    # the language they chose, else their browser's at their last sign-in, else the
    # organisation's (English here).
    mails = {mail.message["Content-Language"]: mail for mail in relay.mails}
    assert {lang: sorted(mail.rcpt_tos) for lang, mail in mails.items()} == {
        "en": ["s12.deputy@example.com"],
        "fr": ["s12.manager@example.com"],
        "it": ["north.boss@example.com", "s12.night@example.com"],
    }
    subjects = {lang: mail.message["Subject"] for lang, mail in mails.items()}
    assert subjects == {
        "en": "Detractor with a negative comment at Store 12 field team",
        "fr": "D\u00e9tracteur avec un commentaire n\u00e9gatif \u2013 Store 12 field team",
        "it": "Detrattore con un commento negativo \u2013 Store 12 field team",
    }
    bodies = {lang: mail.message.get_content().splitlines() for lang, mail in mails.items()}
    # The customer's words as they wrote them, quoted the reader's way.
    quoted = {"en": "\u201c{}\u201d", "fr": "\u00ab\u00a0{}\u00a0\u00bb", "it": "\u00ab{}\u00bb"}
    for lang, lines in bodies.items():
        assert quoted[lang].format("Rude and useless, a disaster.") in lines
    assert any(
        line.startswith("Why: NPS 1: very poor (0\u20133); negative") for line in bodies["en"]
    )
    assert any(
        line.startswith("Pourquoi : NPS 1 : tr\u00e8s mauvais (0\u20133); commentaire n\u00e9gatif")
        for line in bodies["fr"]
    )
    assert any(
        line.startswith("Perch\u00e9: NPS 1: pessimo (0\u20133); commento negativo")
        for line in bodies["it"]
    )
    assert bodies["en"][-3:-1] == ["Severity: High", "Unit: Store 12 field team (store-12-field)"]
    assert bodies["fr"][-3:-1] == [
        "Gravit\u00e9 : \u00c9lev\u00e9e",
        "Unit\u00e9 : Store 12 field team (store-12-field)",
    ]
    assert bodies["it"][-3:-1] == [
        "Gravit\u00e0: Alta",
        "Unit\u00e0: Store 12 field team (store-12-field)",
    ]
    # The webhook speaks the organisation's language.
    assert payload["language"] == "en"

    def recorded() -> bool:
        steps = _history(wired, payload["alert_id"])
        return {(s["action"], s["detail"].get("channel")) for s in steps} == {
            ("notified", "webhook"),
            ("notified", "email"),
        }

    wait_until(recorded, message="both deliveries in the alert's history")


async def test_a_hanging_webhook_does_not_hold_up_ingest(wired: App, endpoint: Endpoint) -> None:
    endpoint.hang = True
    async with connect(wired.ws_url, additional_headers=wired.auth("admin")) as socket:
        cockpit = Cockpit(socket)
        await cockpit.subscribe()
        bodies = [
            response(org_unit="store-1", score=0, comment="Terrible, awful service.")
            for _ in range(3)
        ]
        for body in bodies:
            with wired.client() as client:
                posted = await asyncio.to_thread(client.post, "/api/v1/responses", json=body)
            assert posted.status_code == 202
            # Each alert reaches the cockpit while the webhook still holds the first delivery.
            await cockpit.next(
                lambda e, rid=body["response_id"]: (
                    e["type"] == "alert" and e["data"]["response_id"] == rid
                )
            )
        assert endpoint.arrived.is_set() and not endpoint.release.is_set()
    endpoint.release.set()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Any]:
    engine = store.make_engine(f"sqlite:///{tmp_path / 'voc.db'}")
    store.migrate(engine)
    directory.save_units(engine, read_units(ORG_TREE))
    for username, (units, email, language) in MANAGERS.items():
        directory.create_user(
            engine,
            username=username,
            password=PASSWORD,
            role=Role.MANAGER,
            units=units,
            email=email,
        )
        directory.update_user(engine, username, language=language)
    yield engine
    engine.dispose()


def _raise_alert(engine: Any, created: datetime, severity: Severity = Severity.HIGH) -> int:
    survey = SurveyResponse.model_validate(response(org_unit="store-12", score=1))
    assessment = Assessment(polarity=-0.6, dissatisfied=True, severity=severity)
    trigger = Trigger(
        dedup_key=f"response:{survey.response_id}",
        org_unit="store-12",
        rules=("detractor-negative-comment",),
        severity=severity,
        reasons={"detractor-negative-comment": {"score": 1}},
        response_id=survey.response_id,
        touchpoint="delivery",
        rules_version=1,
    )
    alert = new_alert(trigger, created, Settings(), survey)
    done = batches.commit(engine, Writes([Scored(survey, assessment, created)], [alert], [], 0))
    [alert_id] = done.alerts.values()
    return alert_id


def _escalator(engine: Any, clock: Clock, endpoint: Endpoint) -> tuple[AlertDesk, AlertNotifier]:
    settings = Settings(alert_webhook_url=endpoint.url, alert_webhook_secret=SECRET)
    units = directory.TreeCache(engine)
    notifier = AlertNotifier(settings, engine, units)
    published: list[bytes] = []
    return AlertDesk(settings, engine, units, notifier, published.extend, clock=clock), notifier


def test_a_missed_deadline_escalates_one_level_up_and_tells_them(
    database: Any, endpoint: Endpoint
) -> None:
    created = datetime.now(UTC)
    alert_id = _raise_alert(database, created)
    clock = Clock(created + timedelta(minutes=14))
    escalator, notifier = _escalator(database, clock, endpoint)
    assert escalator.escalate_overdue() == []  # high severity: 15 minutes to acknowledge

    clock.now = created + timedelta(minutes=16)
    [escalated] = escalator.escalate_overdue()
    assert escalated.escalations == 1
    assert escalator.escalate_overdue() == []  # once per missed deadline
    other, _ = _escalator(database, clock, endpoint)
    assert other.escalate_overdue() == []  # another instance finds nothing left to do

    clock.now = created + timedelta(hours=49)  # and 48 hours to resolve
    [again] = escalator.escalate_overdue()
    assert again.escalations == 2
    notifier.close()

    history = alerting.history(database, alert_id)
    steps = [(s.detail["to_unit"], s.detail["missed"]) for s in history if s.action == "escalated"]
    assert steps == [("north", "acknowledge"), ("acme", "resolve")]
    assert [s.action for s in history].count("notified") == 2
    hooks = [json.loads(r.body) for r in endpoint.requests]
    assert [h["escalated"] for h in hooks] == [True, True]
    assert all(h["alert_id"] == alert_id for h in hooks)


def test_an_acknowledged_alert_escalates_only_when_it_is_not_resolved_in_time(
    database: Any, endpoint: Endpoint
) -> None:
    created = datetime.now(UTC)
    alert_id = _raise_alert(database, created)
    before = alerting.row(database, alert_id)
    assert before is not None
    alerting.change(
        database,
        before,
        actor="s12.manager",
        action="acknowledged",
        values={"state": "acknowledged", "acknowledged_at": created},
    )
    clock = Clock(created + timedelta(hours=47))
    escalator, notifier = _escalator(database, clock, endpoint)
    assert escalator.escalate_overdue() == []
    clock.now = created + timedelta(hours=49)
    [late] = escalator.escalate_overdue()
    notifier.close()
    assert late.escalations == 1
    history = alerting.history(database, alert_id)
    [step] = [s for s in history if s.action == "escalated"]
    assert (step.detail["to_unit"], step.detail["missed"]) == ("north", "resolve")


def test_each_manager_reads_the_alert_in_their_language_and_the_webhook_in_the_organisations(
    database: Any, endpoint: Endpoint, smtp_server: tuple[Relay, int]
) -> None:
    relay, port = smtp_server
    alert_id = _raise_alert(database, datetime.now(UTC))
    settings = Settings(
        alert_webhook_url=endpoint.url,
        alert_webhook_secret=SECRET,
        alert_webhook_style="slack",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        default_language="fr",
    )
    notifier = AlertNotifier(settings, database, directory.TreeCache(database))
    notifier.raised(alerting.load(database, [alert_id]))
    notifier.close()

    # One e-mail per language: the deputy, who chose none, reads the organisation's French.
    by_language = {m.message["Content-Language"]: m for m in relay.mails}
    assert {lang: sorted(m.rcpt_tos) for lang, m in by_language.items()} == {
        "fr": ["s12.deputy@example.com", "s12.manager@example.com"],
        "it": ["north.boss@example.com"],
    }
    french, italian = by_language["fr"].message, by_language["it"].message
    assert french["Subject"] == "D\u00e9tracteur avec un commentaire n\u00e9gatif \u2013 Store 12"
    assert italian["Subject"] == "Detrattore con un commento negativo \u2013 Store 12"
    assert "D\u00e9tracteur avec un commentaire n\u00e9gatif : NPS 1" in french.get_content()
    assert "Gravit\u00e0: Alta" in italian.get_content().splitlines()

    [hook] = endpoint.requests
    slack = json.loads(hook.body)
    assert slack["text"] == (
        "[\u00c9lev\u00e9e] D\u00e9tracteur avec un commentaire n\u00e9gatif \u2013 Store 12"
    )
    context = [element["text"] for element in slack["blocks"][1]["elements"]]
    assert context[0] == "Gravit\u00e9 : *\u00c9lev\u00e9e*"
    # One result per channel in the alert's history, whatever the number of e-mails.
    steps = [(s.action, s.detail) for s in alerting.history(database, alert_id)]
    assert ("notified", {"channel": "email", "attempts": 2, "recipients": 3}) in steps
    assert ("notified", {"channel": "webhook", "attempts": 1}) in steps
