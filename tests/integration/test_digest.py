"""The daily digest against a real SMTP relay, on SQLite and PostgreSQL: a day of responses,
alerts and praise becomes one e-mail per user at their local hour, never two, whatever the
number of instances; and the `/api/v1/me` endpoints of a running app (the digest, the language)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from babel.dates import format_date
from sqlmodel import Session

from alerts.notify import EmailNotifier
from app.core.access import Role
from app.core.events import Assessment, Severity, SurveyResponse
from app.core.settings import Settings
from app.core.writes import Scored, Writes
from app.db import batches, directory
from app.db.models import AlertRow, PraiseRow
from app.digests import MAX_TRIES, DigestSender, Round, claim, prune
from ingest.pipeline import counted_of
from tests.harness import PASSWORD, App, Clock, response
from tests.servers import Relay, free_port

pytestmark = pytest.mark.integration

PARIS = ZoneInfo("Europe/Paris")
COCKPIT = "https://cockpit.example.com"
# username: role, units, e-mail, changes (digest, digest_hour, timezone)
USERS: dict[str, tuple[Role, list[str], str | None, dict[str, Any]]] = {
    "north.boss": (Role.MANAGER, ["north"], "north.boss@example.com", {}),
    "south.late": (Role.MANAGER, ["south"], "south.late@example.com", {"digest_hour": 9}),
    "north.nomail": (Role.MANAGER, ["north"], None, {}),
    "the.admin": (Role.ADMIN, [], "admin@example.com", {"digest": False}),
    "s12.staff": (Role.FRONTLINE, ["store-12"], "s12.staff@example.com", {}),
    "s12.keen": (Role.FRONTLINE, ["store-12"], "s12.keen@example.com", {"digest": True}),
    "ny.boss": (
        Role.MANAGER,
        ["north"],
        "ny.boss@example.com",
        {"timezone": "America/New_York"},
    ),
}


@dataclass
@dataclass
class World:
    engine: sa.Engine
    today: date
    ids: dict[str, str]

    def at(self, days: int, hour: int, minute: int = 0) -> datetime:
        """Paris time, `days` from today."""
        return datetime.combine(self.today + timedelta(days=days), time(hour, minute), PARIS)

    def sender(self, port: int, clock: Clock, **settings: Any) -> DigestSender:
        options = {
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "smtp_sender": "VoC cockpit <cockpit@voc.example>",
            "public_url": COCKPIT,
            "timezone": "Europe/Paris",
            **settings,
        }
        units = directory.TreeCache(self.engine)
        return DigestSender(Settings(**options), self.engine, units, clock=clock)


def _assessed(score: int, polarity: float | None) -> Assessment:
    dissatisfied = score <= 6
    severity = Severity.HIGH if dissatisfied else Severity.NONE
    return Assessment(polarity=polarity, dissatisfied=dissatisfied, severity=severity)


def _answers(
    engine: sa.Engine,
    submitted_at: datetime,
    unit: str,
    touchpoint: str,
    scores: list[tuple[int, str | None, float | None]],
    kind: str = "nps",
) -> list[str]:
    """Store responses with their aggregates, as a worker does; their ids."""
    tree = directory.load_tree(engine)
    items = []
    for score, comment, polarity in scores:
        body = response(
            response_id=f"r-{uuid.uuid4().hex[:10]}",
            org_unit=unit,
            touchpoint=touchpoint,
            score=score,
            score_kind=kind,
            comment=comment,
            submitted_at=submitted_at.isoformat(),
        )
        survey = SurveyResponse.model_validate(body)
        assessed = _assessed(score, polarity)
        if kind != "nps":
            assessed = Assessment(polarity=polarity, dissatisfied=True, severity=Severity.MEDIUM)
        items.append(Scored(survey, assessed, submitted_at))
    counted = [counted_of(i, tree) for i in items]
    batches.commit(engine, Writes(items, [], counted, tree.version))
    return [i.response.response_id for i in items]


def _alert(engine: sa.Engine, unit: str, created: datetime, **values: Any) -> None:
    fields: dict[str, Any] = {
        "dedup_key": f"test:{uuid.uuid4().hex}",
        "org_unit": unit,
        "rules": ["detractor-negative-comment"],
        "rule": "detractor-negative-comment",
        "rules_version": 1,
        "severity": "high",
        "state": "open",
        "created_at": created,
        "due_ack_at": created + timedelta(minutes=15),
        "due_resolve_at": created + timedelta(hours=48),
        **values,
    }
    with Session(engine) as session:
        session.add(AlertRow(**fields))
        session.commit()


def _praise(engine: sa.Engine, unit: str, submitted_at: datetime) -> None:
    with Session(engine) as session:
        session.add(
            PraiseRow(
                response_id=f"p-{uuid.uuid4().hex}",
                org_unit=unit,
                touchpoint="delivery",
                submitted_at=submitted_at,
            )
        )
        session.commit()


@pytest.fixture
def world(engine: sa.Engine) -> World:
    """Yesterday in North: 10 NPS answers (5 promoters, 4 detractors), a collapse at delivery,
    2 alerts opened and 2 closed, 2 praises; and what must not count: another region, today,
    the days before, more than 7 days ago."""
    for username, (role, units, email, changes) in USERS.items():
        directory.create_user(
            engine,
            username=username,
            password="correct horse battery",
            role=role,
            units=units,
            email=email,
            display_name=username.replace(".", " ").title(),
        )
        if changes:
            directory.update_user(engine, username, **changes)
    w = World(engine, datetime.now(PARIS).date(), {})
    day = w.at(-1, 10)
    best, _ = _answers(
        engine,
        day,
        "store-1",
        "delivery",
        [(10, "Friendly driver, perfect.", 0.9), (9, None, None)],
    )
    waiting, rude, _ = _answers(
        engine,
        w.at(-1, 18),
        "store-2",
        "delivery",
        [
            (0, "Still waiting for the engineer, third time I call.", -0.8),
            (2, "<b>Rude</b> & late", -0.6),
            (3, None, None),
        ],
    )
    _answers(engine, w.at(-1, 23, 59), "store-12-field", "delivery", [(5, "meh, slow", -0.1)])
    _answers(
        engine,
        w.at(-1, 0, 0),
        "store-1",
        "billing",
        [(10, "Fine, thanks", 0.3), (9, None, None), (9, None, None), (8, None, None)],
    )
    _answers(engine, day, "store-1", "billing", [(1, "Awful invoice", -0.5)], kind="csat")
    _answers(engine, day, "store-40", "delivery", [(0, "South is terrible", -1.0)])
    _answers(engine, w.at(-2, 12), "store-2", "delivery", [(1, "Worst ever, two days ago", -1.0)])
    _answers(engine, w.at(-3, 12), "store-1", "delivery", [(10, None, None)] * 8)
    _answers(engine, w.at(-8, 12), "store-1", "delivery", [(0, None, None)] * 5)
    _answers(engine, datetime.now(UTC), "store-1", "delivery", [(0, "Today's complaint", -0.95)])
    w.ids.update(best=best, waiting=waiting, rude=rude)

    _alert(engine, "store-2", w.at(-1, 10))  # open, overdue since 10:15
    _alert(engine, "store-1", w.at(-1, 11), state="resolved", resolved_at=w.at(-1, 15))
    _alert(
        engine,
        "store-12",
        w.at(-3, 9),
        state="closed",
        resolved_at=w.at(-1, 9),
        closed_at=w.at(0, 7),
    )
    _alert(engine, "store-1", w.at(-3, 10), state="acknowledged", due_resolve_at=w.at(-1, 10))
    _alert(engine, "store-1", w.at(-2, 9), state="resolved", resolved_at=w.at(-2, 10))
    _alert(engine, "store-40", w.at(-1, 12))
    _alert(engine, "store-1", w.at(0, 1))  # today: not opened yesterday, overdue by now

    for at in (w.at(-1, 9), w.at(-1, 17)):
        _praise(engine, "store-1", at)
    _praise(engine, "store-1", w.at(-2, 9))
    _praise(engine, "store-40", w.at(-1, 9))
    return w


def _mail(relay: Relay, address: str) -> EmailMessage:
    [found] = [m.message for m in relay.mails if m.rcpt_tos == [address]]
    return found


def _parts(message: EmailMessage) -> tuple[str, str]:
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    return text.get_content(), html.get_content()


def _heading(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def test_a_manager_gets_one_email_with_the_figures_of_their_scope_yesterday(
    world: World, smtp_server: tuple[Relay, int]
) -> None:
    relay, port = smtp_server
    clock = Clock(world.at(0, 7, 30))
    done = world.sender(port, clock).send_due()

    assert done == Round(sent=["north.boss", "s12.keen"])
    assert sorted(address for m in relay.mails for address in m.rcpt_tos) == [
        "north.boss@example.com",
        "s12.keen@example.com",
    ]
    mail = _mail(relay, "north.boss@example.com")
    yesterday = world.today - timedelta(days=1)
    assert mail["Subject"] == (
        f"Daily digest for North, {_heading(yesterday)}: NPS +10 on 10 answers"
    )
    assert mail["To"] == "North Boss <north.boss@example.com>"
    assert mail["Auto-Submitted"] == "auto-generated"
    # Nobody chose a language: the organisation's (VOC_DEFAULT_LANGUAGE, English).
    assert mail["Content-Language"] == "en"
    text, html = _parts(mail)
    lines = text.splitlines()
    # 5 promoters and 4 detractors of 10 NPS answers; the CSAT answer is not one of them.
    assert "NPS yesterday: +10 on 10 answers (5 promoters, 4 detractors)" in lines
    # With 8 promoters 3 days ago and a detractor 2 days ago; not the 5 detractors of 8 days ago.
    assert "NPS over 7 days: +42 on 19 answers (13 promoters, 5 detractors)" in lines
    assert "Alerts yesterday: 2 opened, 2 closed; 3 overdue now" in lines
    assert "Praise yesterday: 2" in lines
    assert (
        "Where the corridor broke: delivery: NPS -33 on 6 answers, against +33 on 15 answers "
        "over 7 days"
    ) in lines
    link = f"{COCKPIT}/?response={{}}".format
    at = lines.index("Comments that matter")
    assert lines[at + 1 : at + 10] == [
        "Worst: NPS 0 at Store 2, delivery",
        "  “Still waiting for the engineer, third time I call.”",
        f"  Open it: {link(world.ids['waiting'])}",
        "Worst: NPS 2 at Store 2, delivery",
        "  “<b>Rude</b> & late”",
        f"  Open it: {link(world.ids['rude'])}",
        "Best: NPS 10 at Store 1, delivery",
        "  “Friendly driver, perfect.”",
        f"  Open it: {link(world.ids['best'])}",
    ]
    for elsewhere in ("South is terrible", "two days ago", "Today's complaint", "Awful invoice"):
        assert elsewhere not in text and elsewhere not in html
    assert "<q>&lt;b&gt;Rude&lt;/b&gt; &amp; late</q>" in html
    assert f'<a href="{link(world.ids["best"])}">Open it in the cockpit</a>' in html
    assert "+10 on 10 answers (5 promoters, 4 detractors)" in html

    # A frontline user who opted in: their store and its team only.
    text, _ = _parts(_mail(relay, "s12.keen@example.com"))
    assert f"Store 12, {_heading(yesterday)}" in text.splitlines()
    assert "NPS yesterday: -100 on 1 answer (0 promoters, 1 detractor)" in text
    assert "Alerts yesterday: 0 opened, 1 closed; 0 overdue now" in text
    assert "Worst: NPS 5 at Store 12 field team, delivery" in text


def test_each_user_reads_the_digest_in_their_language_else_the_organisations(
    world: World, smtp_server: tuple[Relay, int]
) -> None:
    relay, port = smtp_server
    directory.update_user(world.engine, "north.boss", language="fr")
    sender = world.sender(port, Clock(world.at(0, 7, 30)), default_language="it")
    assert sender.send_due() == Round(sent=["north.boss", "s12.keen"])
    yesterday = world.today - timedelta(days=1)

    # Their own choice: French, with French dates, plurals and punctuation.
    mail = _mail(relay, "north.boss@example.com")
    assert mail["Content-Language"] == "fr"
    day = format_date(yesterday, "EEEE d MMMM y", locale="fr")
    assert mail["Subject"] == (
        f"R\u00e9capitulatif quotidien pour North, {day} : NPS +10 sur 10 r\u00e9ponses"
    )
    text, html = _parts(mail)
    lines = text.splitlines()
    assert lines[:3] == ["Bonjour North Boss,", "", f"North, {day}"]
    assert "NPS d'hier : +10 sur 10 r\u00e9ponses (5 promoteurs, 4 d\u00e9tracteurs)" in lines
    assert "NPS sur 7 jours : +42 sur 19 r\u00e9ponses (13 promoteurs, 5 d\u00e9tracteurs)" in lines
    assert (
        "Alertes d'hier : 2 ouvertes, 2 cl\u00f4tur\u00e9es ; 3 en retard \u00e0 pr\u00e9sent"
    ) in lines
    assert "Compliments d'hier : 2" in lines
    assert "Pire avis : NPS 0 \u2013 Store 2, delivery" in lines
    # The customer's words as they wrote them, quoted the French way.
    assert "  \u00ab\u00a0Still waiting for the engineer, third time I call.\u00a0\u00bb" in lines
    assert '<html lang="fr">' in html
    assert '<h2 style="font-size:1.1em">Commentaires \u00e0 retenir</h2>' in html

    # No choice of their own: the organisation's Italian.
    mail = _mail(relay, "s12.keen@example.com")
    assert mail["Content-Language"] == "it"
    day = format_date(yesterday, "EEEE d MMMM y", locale="it")
    text, html = _parts(mail)
    lines = text.splitlines()
    assert f"Store 12, {day}" in lines
    assert "NPS di ieri: -100 su 1 risposta (0 promotori, 1 detrattore)" in lines
    assert "Allerte di ieri: 0 aperte, 1 chiusa; 0 in ritardo ora" in lines
    assert "Peggiore: NPS 5 \u2013 Store 12 field team, delivery" in lines
    assert lines[-1].startswith("Inviato ogni giorno alle 07:00 (Europe/Paris)")
    assert '<html lang="it">' in html


def test_the_round_sends_once_however_often_and_on_however_many_instances(
    world: World, smtp_server: tuple[Relay, int]
) -> None:
    relay, port = smtp_server
    clock = Clock(world.at(0, 7, 30))
    first, second = world.sender(port, clock), world.sender(port, clock)

    # Two instances due at the same minute, racing.
    start = threading.Barrier(2)
    rounds: list[Round] = []

    def run(sender: DigestSender) -> None:
        start.wait()
        rounds.append(sender.send_due())

    threads = [threading.Thread(target=run, args=(s,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(u for r in rounds for u in r.sent) == ["north.boss", "s12.keen"]
    assert len(relay.mails) == 2

    # Later rounds, on either instance, find nothing to send.
    clock.now = world.at(0, 8)
    assert first.send_due() == Round()
    assert second.send_due() == Round()
    assert len(relay.mails) == 2


def test_a_day_is_claimed_once_and_the_claim_is_what_a_second_instance_loses(
    world: World,
) -> None:
    user = directory.get_user(world.engine, "north.boss")
    assert user is not None and user.id is not None
    day = world.today.isoformat()
    assert claim(world.engine, user.id, day, world.at(0, 7))
    assert not claim(world.engine, user.id, day, world.at(0, 7))
    assert claim(
        world.engine, user.id, (world.today + timedelta(days=1)).isoformat(), world.at(1, 7)
    )

    # Claims are kept a month, then deleted: the table does not grow for ever.
    old = (world.today - timedelta(days=40)).isoformat()
    assert claim(world.engine, user.id, old, world.at(-40, 7))
    prune(world.engine, world.at(0, 7))
    assert claim(world.engine, user.id, old, world.at(0, 7))
    assert not claim(world.engine, user.id, day, world.at(0, 7))


def test_nobody_gets_it_before_their_hour_and_the_others_never(
    world: World, smtp_server: tuple[Relay, int]
) -> None:
    relay, port = smtp_server
    clock = Clock(world.at(0, 6, 59))
    sender = world.sender(port, clock)
    assert sender.send_due() == Round()

    clock.now = world.at(0, 7)
    assert sender.send_due().sent == ["north.boss", "s12.keen"]
    clock.now = world.at(0, 8, 59)
    assert sender.send_due() == Round()
    clock.now = world.at(0, 9)
    assert sender.send_due().sent == ["south.late"]
    # 07:00 in New York.
    clock.now = datetime.combine(world.today, time(7), ZoneInfo("America/New_York"))
    assert sender.send_due().sent == ["ny.boss"]
    clock.now = world.at(0, 23, 59)
    assert sender.send_due() == Round()

    text, _ = _parts(_mail(relay, "south.late@example.com"))
    assert "NPS yesterday: -100 on 1 answer (0 promoters, 1 detractor)" in text
    assert "Alerts yesterday: 1 opened, 0 closed; 1 overdue now" in text
    # Not the admin (opted out), the frontline user who did not opt in, nor the manager
    # without an e-mail address.
    assert sorted(address for m in relay.mails for address in m.rcpt_tos) == [
        "north.boss@example.com",
        "ny.boss@example.com",
        "s12.keen@example.com",
        "south.late@example.com",
    ]


def test_a_refused_send_is_tried_again_next_round_a_bounded_number_of_times(
    world: World, smtp_server: tuple[Relay, int]
) -> None:
    relay, port = smtp_server
    clock = Clock(world.at(0, 7, 30))
    sender = world.sender(port, clock)
    relay.data_replies = ["451 4.3.0 try again later"]
    assert sender.send_due() == Round(sent=["s12.keen"], retrying=["north.boss"])
    assert sender.send_due() == Round(sent=["north.boss"])
    assert [m.rcpt_tos for m in relay.mails] == [
        ["s12.keen@example.com"],
        ["north.boss@example.com"],
    ]

    # The next day, a relay that keeps refusing: given up after MAX_TRIES, not retried all day.
    clock.now = world.at(1, 7, 30)
    relay.data_replies = ["451 4.3.0 try again later"] * (2 * MAX_TRIES)
    for _ in range(MAX_TRIES - 1):
        assert sender.send_due() == Round(retrying=["north.boss", "s12.keen"])
    assert sender.send_due() == Round(failed=["north.boss", "s12.keen"])
    assert sender.send_due() == Round()
    assert len(relay.mails) == 2


def test_a_permanent_refusal_is_not_retried(world: World, smtp_server: tuple[Relay, int]) -> None:
    relay, port = smtp_server
    sender = world.sender(port, Clock(world.at(0, 7, 30)))
    relay.refuse["north.boss@example.com"] = "550 5.1.1 no such mailbox"
    assert sender.send_due() == Round(sent=["s12.keen"], failed=["north.boss"])
    assert sender.send_due() == Round()


def test_an_unreachable_relay_stops_the_round_and_gives_every_day_back(
    world: World, smtp_server: tuple[Relay, int]
) -> None:
    relay, port = smtp_server
    clock = Clock(world.at(0, 7, 30))
    down = world.sender(free_port(), clock)
    assert down.send_due() == Round(retrying=["north.boss"])
    assert [u.username for u, _ in down.due(clock.now)] == ["north.boss", "s12.keen"]

    up = world.sender(port, clock)
    assert up.send_due().sent == ["north.boss", "s12.keen"]
    assert len(relay.mails) == 2


def test_without_a_public_url_the_digest_has_no_links(
    world: World, smtp_server: tuple[Relay, int]
) -> None:
    relay, port = smtp_server
    notifier = EmailNotifier("127.0.0.1", port, "cockpit@voc.example", security="none")
    units = directory.TreeCache(world.engine)
    sender = DigestSender(
        Settings(timezone="Europe/Paris"),
        world.engine,
        units,
        send=notifier,
        clock=Clock(world.at(0, 7, 30)),
    )
    assert sender.send_due().sent == ["north.boss", "s12.keen"]
    # Without VOC_PUBLIC_URL, no link rather than a broken one.
    text, _ = _parts(_mail(relay, "north.boss@example.com"))
    assert "Open it:" not in text and "Open the cockpit" not in text
    assert "  “Friendly driver, perfect.”" in text.splitlines()


# The API


@pytest.fixture(scope="module")
def me_app(module_app: App) -> App:
    return module_app


def test_a_user_reads_their_digest_settings_and_is_told_when_no_email_can_reach_them(
    me_app: App,
) -> None:
    with me_app.as_user("manager") as manager:
        got = manager.get("/api/v1/me/digest")
        assert got.status_code == 200, got.text
        assert got.json() == {
            "enabled": True,
            "chosen": False,
            "hour": 7,
            "timezone": "UTC",
            "email": None,
            "notice": "Your account has no e-mail address, so no digest can reach you; ask an "
            "admin to add one.",
        }
        refused = manager.put("/api/v1/me/digest", json={"enabled": True, "hour": 8})
        assert refused.status_code == 409
        assert refused.json()["message"].startswith("email: your account has no e-mail address")

        wrong = manager.put(
            "/api/v1/me/digest",
            json={"enabled": False, "hour": 24, "timezone": "Mars/Olympus_Mons"},
        )
        assert wrong.status_code == 422
        assert {e["field"] for e in wrong.json()["errors"]} == {"hour", "timezone"}
        [zone] = [e for e in wrong.json()["errors"] if e["field"] == "timezone"]
        assert zone["message"] == "unknown IANA timezone 'Mars/Olympus_Mons', e.g. Europe/Paris"

        off = manager.put("/api/v1/me/digest", json={"enabled": False, "hour": 7})
        assert off.status_code == 200
        assert (off.json()["enabled"], off.json()["chosen"], off.json()["notice"]) == (
            False,
            True,
            None,
        )


def test_a_frontline_user_opts_in_at_their_hour_and_the_change_is_audited(me_app: App) -> None:
    with me_app.as_user("admin") as admin:
        username = "s12.staff"
        me_app.auth("frontline")  # creates the user
        changed = admin.patch(
            f"/api/v1/admin/users/{username}", json={"email": "s12.staff@example.com"}
        )
        assert changed.status_code == 200, changed.text
    with me_app.as_user("frontline") as staff:
        before = staff.get("/api/v1/me/digest").json()
        assert (before["enabled"], before["chosen"], before["notice"]) == (False, False, None)

        chosen = {"enabled": True, "hour": 18, "timezone": "Europe/Paris"}
        put = staff.put("/api/v1/me/digest", json=chosen)
        assert put.status_code == 200, put.text
        expected = {
            **chosen,
            "chosen": True,
            "email": "s12.staff@example.com",
            "notice": None,
        }
        assert put.json() == expected
        assert staff.get("/api/v1/me/digest").json() == expected
    with me_app.as_user("admin") as admin:
        trail = admin.get("/api/v1/admin/audit", params={"action": "digest.changed"}).json()
    mine = [e for e in trail["items"] if e["actor"] == username]
    assert mine[0]["detail"] == chosen
    assert mine[0]["target"] == username


FRENCH_BROWSER = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.8"}


def test_a_user_reads_in_their_browsers_language_until_they_choose_one(me_app: App) -> None:
    me_app.add_user("lucia.reader", "frontline", ["store-12"])
    credentials = {"username": "lucia.reader", "password": PASSWORD}
    signed_in = httpx.post(
        me_app.url + "/api/v1/auth/login", json=credentials, headers=FRENCH_BROWSER
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["language"] == "fr"
    auth = {"Authorization": f"Bearer {signed_in.json()['token']}"}
    with httpx.Client(base_url=me_app.url, headers=auth, timeout=15) as reader:
        # No browser preference: the organisation's language (VOC_DEFAULT_LANGUAGE, English).
        assert reader.get("/api/v1/auth/me").json()["language"] == "en"
        got = reader.get("/api/v1/me/language", headers=FRENCH_BROWSER).json()
        assert (got["language"], got["chosen"]) == ("fr", None)
        assert got["offered"] == [
            {"code": "en", "name": "English"},
            {"code": "fr", "name": "Français"},
            {"code": "it", "name": "Italiano"},
        ]

        chosen = reader.put("/api/v1/me/language", json={"language": "it"}, headers=FRENCH_BROWSER)
        assert chosen.status_code == 200, chosen.text
        assert (chosen.json()["language"], chosen.json()["chosen"]) == ("it", "it")
        # Their choice wins over the French browser, on every device they sign in from.
        assert reader.get("/api/v1/auth/me", headers=FRENCH_BROWSER).json()["language"] == "it"

        unknown = reader.put("/api/v1/me/language", json={"language": "de"})
        assert unknown.status_code == 422
        assert [e["field"] for e in unknown.json()["errors"]] == ["language"]

        cleared = reader.put("/api/v1/me/language", json={"language": None}, headers=FRENCH_BROWSER)
        assert (cleared.json()["language"], cleared.json()["chosen"]) == ("fr", None)
    with me_app.as_user("admin") as admin:
        trail = admin.get("/api/v1/admin/audit", params={"action": "language.changed"}).json()
    mine = [e["detail"]["language"] for e in trail["items"] if e["actor"] == "lucia.reader"]
    assert mine == [None, "it"]
