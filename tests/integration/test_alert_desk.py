"""The alert desk on a real database, SQLite and PostgreSQL: the inbox a manager works through
(what needs a human first, filters and their counts, search, pages, cases and incidents), bulk
steps, frontline staff taking a callback, and closed-loop figures of a day with a known answer.
Alerts are written as the ingest pipeline writes them; time is an injected clock."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from alerts.rules import DEFAULT_RULES, load_rules
from app.alertdesk.desk import AlertDesk, AlertTaken, NotAllowed
from app.core.access import Principal, Role
from app.core.events import AlertState, Assessment, ContactOutcome, Severity, SurveyResponse
from app.core.i18n import texts
from app.core.settings import Settings
from app.core.writes import Scored, Writes
from app.db import alerting, batches, directory
from app.db.inbox import InboxQuery, Order
from ingest.alerting import response_alerts
from ingest.pipeline import counted_of
from tests.harness import Clock, response

pytestmark = pytest.mark.integration

RULES = load_rules(DEFAULT_RULES)
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
M = timedelta(minutes=1)
H = timedelta(hours=1)
USERS = {
    "north.boss": (Role.MANAGER, ["north"], "North Boss"),
    "s12.ann": (Role.FRONTLINE, ["store-12"], "Ann Martin"),
    "s12.bob": (Role.FRONTLINE, ["store-12"], "Bob Rossi"),
    "s40.cleo": (Role.FRONTLINE, ["store-40"], "Cleo Dubois"),
}
_ids = itertools.count(1)


@pytest.fixture
def engine(engine: sa.Engine) -> sa.Engine:
    """The database on both stacks, with a manager and frontline staff."""
    for username, (role, units, name) in USERS.items():
        directory.create_user(
            engine,
            username=username,
            password="correct horse battery",
            role=role,
            units=units,
            display_name=name,
        )
    return engine


SETTINGS = Settings(frontline_callbacks=True, inbox_incident_alerts=10)


def _desk(engine: sa.Engine, clock: Clock, settings: Settings = SETTINGS) -> AlertDesk:
    published: list[bytes] = []
    return AlertDesk(settings, engine, directory.TreeCache(engine), None, published.extend, clock)


def _principal(engine: sa.Engine, username: str) -> Principal:
    if username == "admin":
        return Principal(0, "admin", Role.ADMIN, ())
    user = directory.get_user(engine, username)
    assert user is not None
    return directory.principal(user)


def _answer(
    unit: str,
    *,
    at: datetime,
    score: int = 2,
    kind: str = "nps",
    comment: str | None = "Rude staff, awful service.",
    customer: str | None = None,
    touchpoint: str = "delivery",
) -> Scored:
    n = next(_ids)
    body = response(
        response_id=f"r-{n}",
        org_unit=unit,
        score_kind=kind,
        score=score,
        comment=comment,
        touchpoint=touchpoint,
        submitted_at=at.isoformat(),
        customer_ref=customer or f"cust-{n}",
        contact={"name": f"Customer {n}", "phone": "+33 6 12 34 56 78"},
    )
    survey = SurveyResponse.model_validate(body)
    negative = comment is not None and score <= 6
    assessment = Assessment(
        polarity=-0.8 if negative else 0.6,
        dissatisfied=score <= 6,
        severity=Severity.HIGH if negative else Severity.NONE,
        negative_comment=negative,
        negative_probability=0.93 if negative else 0.05,
    )
    return Scored(survey, assessment, at)


def _ingest(engine: sa.Engine, items: Sequence[Scored], now: datetime) -> list[int]:
    """Write answers as the worker does: their alerts (with the customers' earlier answers, so
    cases form) and aggregates in one transaction. The ids of the alerts raised, in order."""
    tree = directory.load_tree(engine)
    refs = [i.response.customer_ref for i in items if i.response.customer_ref]
    with engine.connect() as connection:
        earlier = alerting.earlier_dissatisfied(connection, refs, now - timedelta(days=14))
    raised = response_alerts(RULES, items, earlier, now, Settings())
    counted = [counted_of(i, tree) for i in items]
    done = batches.commit(engine, Writes(items, raised, counted, tree.version))
    return [done.alerts[a.dedup_key] for a in raised]


def _one(engine: sa.Engine, unit: str, at: datetime, **answer: Any) -> int:
    [alert_id] = _ingest(engine, [_answer(unit, at=at, **answer)], at)
    return alert_id


def _page(desk: AlertDesk, who: Principal, **query: Any) -> list[tuple[str, int, int]]:
    """(kind, alert id, count) of each item of the first page."""
    found, _, _ = desk.page(who, InboxQuery(**query), offset=0, limit=50)
    return [(i.kind, i.alert_id, i.count) for i in found.items]


def _ids_of(items: list[tuple[str, int, int]]) -> list[int]:
    return [alert_id for _, alert_id, _ in items]


def test_the_inbox_puts_what_needs_a_human_first(engine: sa.Engine) -> None:
    now = T0 + 2 * H
    # A high alert is due for acknowledging in 15 min, a medium one (CSAT 1) in 60.
    overdue = _one(engine, "store-1", T0)  # due T0 + 15 min: long past
    soon = _one(engine, "store-2", now - 10 * M)  # due in 5 min
    medium = _one(engine, "store-3", now - 5 * M, kind="csat", score=1, comment=None)  # in 55
    fresh = _one(engine, "store-4", now)  # due in 15 min
    low_fresh = _one(engine, "store-5", now, kind="csat", score=1, comment=None)  # in 60
    desk = _desk(engine, Clock(now))
    admin = _principal(engine, "admin")
    assert _ids_of(_page(desk, admin)) == [overdue, soon, fresh, medium, low_fresh]
    assert _ids_of(_page(desk, admin, order=Order.NEWEST)) == [
        low_fresh,
        fresh,
        medium,
        soon,
        overdue,
    ]
    assert _ids_of(_page(desk, admin, order=Order.SEVERITY))[:3] == [fresh, soon, overdue]
    # Resolved alerts have no deadline left: below every unresolved one.
    desk.move(admin, overdue, AlertState.RESOLVED, note="Called", root_cause="other")
    every = ("open", "acknowledged", "in_progress", "resolved", "closed")
    assert _ids_of(_page(desk, admin, states=every))[-1] == overdue


def test_filters_search_and_counts_are_answered_by_the_database_within_the_scope(
    engine: sa.Engine,
) -> None:
    now = T0
    ids = _ingest(
        engine,
        [
            _answer("store-1", at=now, comment="Still waiting for my REFUND, 100% useless"),
            _answer("store-12", at=now, comment="Rude staff at the counter."),
            _answer("store-12-field", at=now, touchpoint="installation"),
            _answer("store-40", at=now, comment="Refund me now."),
            _answer("store-2", at=now, kind="csat", score=1, comment=None),
        ],
        now,
    )
    refund, rude, field, south, csat = ids
    desk = _desk(engine, Clock(now))
    boss = _principal(engine, "north.boss")
    assert sorted(_ids_of(_page(desk, boss))) == sorted([refund, rude, field, csat])
    assert sorted(_ids_of(_page(desk, boss, units=("store-12", "store-12-field")))) == [
        rude,
        field,
    ]
    assert _ids_of(_page(desk, boss, text="refund")) == [refund]  # any case; not south's
    assert _ids_of(_page(desk, boss, text="100%")) == [refund]  # % is a character, not a joker
    assert _ids_of(_page(desk, boss, touchpoints=("installation",))) == [field]
    assert _ids_of(_page(desk, boss, severities=("medium",))) == [csat]
    assert _ids_of(_page(desk, boss, rules=("churn-language",))) == [refund]
    desk.assign(boss, rude, "north.boss")
    assert _ids_of(_page(desk, boss, assignees=("north.boss",))) == [rude]
    assert rude not in _ids_of(_page(desk, boss, assignees=("",)))
    _, _, counts = desk.page(boss, InboxQuery(severities=("high",)), offset=0, limit=1)
    # Each filter's choices are counted with the other filters applied, not their own.
    assert counts["severity"] == {"high": 3, "medium": 1}
    assert counts["state"] == {"open": 3}
    assert counts["assignee"] == {"": 2, "north.boss": 1}
    assert counts["touchpoint"] == {"delivery": 2, "installation": 1}
    # A unit counts everything below it, within the caller's scope only.
    assert counts["org_unit"] == {
        "north": 3,
        "store-1": 1,
        "store-12": 2,
        "store-12-field": 1,
    }
    assert south not in _ids_of(_page(desk, _principal(engine, "admin"), text="xyz-nothing"))


def test_pages_cover_every_item_once(engine: sa.Engine) -> None:
    ids = _ingest(engine, [_answer(f"store-{i % 5}", at=T0 + i * M) for i in range(23)], T0)
    desk = _desk(engine, Clock(T0 + H))
    admin = _principal(engine, "admin")
    seen = []
    for offset in range(0, 30, 10):
        found, _, _ = desk.page(admin, InboxQuery(), offset=offset, limit=10)
        assert found.total == 23
        seen += [i.alert_id for i in found.items]
    assert sorted(seen) == sorted(ids)


def test_a_customers_alerts_inside_the_repeat_window_are_one_case(engine: sa.Engine) -> None:
    first = _one(engine, "store-1", T0, customer="c-1")
    second = _one(engine, "store-1", T0 + 2 * H, customer="c-1")
    third = _one(engine, "store-2", T0 + 3 * H, customer="c-1")
    later = _one(engine, "store-1", T0 + timedelta(days=20), customer="c-1")  # a new case
    other = _one(engine, "store-1", T0 + 4 * H, customer="c-2")
    desk = _desk(engine, Clock(T0 + timedelta(days=20, hours=1)))
    admin = _principal(engine, "admin")
    items = _page(desk, admin, order=Order.NEWEST)
    assert [(kind, count) for kind, _, count in items] == [("alert", 1), ("alert", 1), ("case", 3)]
    found, _, _ = desk.page(admin, InboxQuery(order=Order.NEWEST), offset=0, limit=10)
    assert found.items[2].alert_ids == (first, second, third)
    assert [alert_id for _, alert_id, _ in items] == [later, other, third]  # the case's newest
    # By urgency the case stands where its most overdue alert does, and shows that one.
    assert _ids_of(_page(desk, admin)) == [first, other, later]
    detail = desk.detail(admin, second)
    assert [a.id for a in detail.case] == [first, third]
    assert sorted(_ids_of(_page(desk, admin, cases=False))) == sorted(
        [first, second, third, later, other]
    )


def test_a_burst_from_one_unit_shows_as_one_incident_that_opens_on_demand(
    engine: sa.Engine,
) -> None:
    burst = _ingest(engine, [_answer("store-3", at=T0 + i * M) for i in range(12)], T0 + 12 * M)
    calm = _one(engine, "store-4", T0 + 13 * M)
    desk = _desk(engine, Clock(T0 + 20 * M))
    admin = _principal(engine, "admin")
    items = _page(desk, admin, incident_over=10, order=Order.NEWEST)
    assert [(kind, count) for kind, _, count in items] == [("alert", 1), ("incident", 12)]
    assert [alert_id for _, alert_id, _ in items] == [calm, burst[-1]]  # the burst's newest
    opened = _page(desk, admin, units=("store-3",), incident_over=0)
    assert sorted(_ids_of(opened)) == sorted(burst)
    # An hour later the burst is over: its alerts are listed one by one again.
    later = _desk(engine, Clock(T0 + 2 * H))
    assert len(_page(later, admin, incident_over=10)) == 13


def test_a_bulk_acknowledge_records_each_alert_and_skips_what_cannot_change(
    engine: sa.Engine,
) -> None:
    ids = _ingest(engine, [_answer("store-1", at=T0) for _ in range(4)], T0)
    desk = _desk(engine, Clock(T0 + M))
    boss = _principal(engine, "north.boss")
    desk.move(boss, ids[0], AlertState.ACKNOWLEDGED)
    south = _one(engine, "store-40", T0)
    selected = desk.select(boss, InboxQuery(units=("store-1",)))
    assert sorted(selected) == sorted(ids)
    done = desk.bulk(boss, [*selected, south], "acknowledge")
    assert sorted(done.done) == sorted(ids[1:])
    assert sorted(reason for _, reason in done.skipped) == [
        "alert " + str(south) + ": not found in your units",
        "already acknowledged",
    ]
    for alert_id in ids[1:]:
        [step] = [s for s in alerting.history(engine, alert_id) if s.action == "acknowledged"]
        assert step.actor == "north.boss"
    audit = directory.audit_trail(engine, actions=["alert.acknowledged"])
    assert len(audit) == 4
    with pytest.raises(NotAllowed):
        desk.bulk(_principal(engine, "s12.ann"), ids, "acknowledge")


def test_frontline_staff_take_a_callback_first_come_first_served(engine: sa.Engine) -> None:
    alert_id = _one(engine, "store-12", T0)
    desk = _desk(engine, Clock(T0 + 5 * M))
    ann, bob = _principal(engine, "s12.ann"), _principal(engine, "s12.bob")
    before = desk.detail(ann, alert_id).alert
    assert before.response is not None and before.response.contact_masked
    taken = desk.take(ann, alert_id)
    assert (taken.assignee, taken.state) == ("s12.ann", AlertState.IN_PROGRESS)
    assert taken.response is not None and not taken.response.contact_masked
    assert desk.detail(ann, alert_id).alert.response.contact is not None  # type: ignore[union-attr]
    with pytest.raises(AlertTaken) as lost:
        desk.take(bob, alert_id)
    assert lost.value.display_name == "Ann Martin"
    # Said in English, and worded in each reader's language where it is shown.
    assert str(lost.value) == f"alert {alert_id}: Ann Martin is already calling this customer"
    assert texts("fr").t(lost.value.message, **lost.value.params) == (
        f"alerte {alert_id} : Ann Martin appelle déjà ce client"
    )
    assert desk.detail(bob, alert_id).alert.response.contact_masked  # type: ignore[union-attr]
    with pytest.raises(NotAllowed):
        desk.record_contact(bob, alert_id, ContactOutcome.REACHED)
    history = [(s.actor, s.action) for s in alerting.history(engine, alert_id)]
    assert history == [("s12.ann", "taken")]
    # The manager sees who took it.
    assert desk.detail(_principal(engine, "north.boss"), alert_id).alert.assignee == "s12.ann"


def test_frontline_staff_see_only_their_units_customer_callbacks(engine: sa.Engine) -> None:
    mine = _one(engine, "store-12", T0)
    theirs = _one(engine, "store-40", T0)
    desk = _desk(engine, Clock(T0))
    ann = _principal(engine, "s12.ann")
    assert _ids_of(_page(desk, ann, units=("store-12",))) == [mine]
    with pytest.raises(Exception, match="not found in your units"):
        desk.take(ann, theirs)
    off = _desk(engine, Clock(T0), Settings(frontline_callbacks=False))
    with pytest.raises(NotAllowed):
        off.page(ann, InboxQuery(), offset=0, limit=10)


def test_how_a_call_went_feeds_the_loop(engine: sa.Engine) -> None:
    alert_id = _one(engine, "store-12", T0)
    clock = Clock(T0 + 10 * M)
    desk = _desk(engine, clock)
    ann = _principal(engine, "s12.ann")
    desk.take(ann, alert_id)
    missed = desk.record_contact(ann, alert_id, ContactOutcome.NO_ANSWER, note="voicemail")
    assert (missed.first_contact_at, missed.contact_outcome) == (None, ContactOutcome.NO_ANSWER)
    clock.now = T0 + 2 * H
    with pytest.raises(Exception, match="root_cause"):
        desk.record_contact(ann, alert_id, ContactOutcome.RESOLVED, note="Refunded")
    done = desk.record_contact(
        ann, alert_id, ContactOutcome.RESOLVED, note="Refunded", root_cause="billing"
    )
    assert done.state is AlertState.RESOLVED
    assert done.first_contact_at == T0 + 2 * H
    figures = desk.figures(("store-12",), "store-12", 7)
    assert (figures.contacted, figures.mean_contact_hours) == (1, 2.0)
    steps = [s.detail.get("outcome") for s in alerting.history(engine, alert_id)]
    assert steps == [None, "no_answer", "resolved"]


def test_a_day_of_alerts_gives_the_loop_figures_a_known_answer(engine: sa.Engine) -> None:
    """Store-1 on 1 November: six detractors, four with a negative comment (an alert each), two
    without (no alert); figures read on 4 November, when every 48 h is over, and again when two
    more detractors have just answered."""
    day = T0
    ids = _ingest(
        engine,
        [_answer("store-1", at=day + i * H) for i in range(4)]
        + [_answer("store-1", at=day + i * H, comment=None) for i in range(2)]
        + [_answer("store-1", at=day, score=10, comment="Great!")],
        day + 4 * H,
    )
    reached, late, never, resolved = ids
    clock = Clock(day + 5 * H)
    desk = _desk(engine, clock)
    boss = _principal(engine, "north.boss")
    desk.record_contact(boss, reached, ContactOutcome.REACHED)  # 5 h after answering
    desk.move(boss, resolved, AlertState.RESOLVED, note="Fixed", root_cause="other")  # 2 h
    clock.now = day + 60 * H
    desk.record_contact(boss, late, ContactOutcome.REACHED)  # 59 h: too late
    clock.now = day + 3 * timedelta(days=1)
    figures = desk.figures(("store-1",), "store-1", 7)
    assert (figures.detractors, figures.contacted_48h, figures.not_contacted_48h) == (6, 2, 4)
    assert figures.contacted_48h_pct == 33.3
    assert (figures.alerts, figures.contacted, figures.resolved) == (4, 3, 1)
    assert figures.mean_contact_hours == 19.33  # from the alerts' creation: 1, 1 and 56 h
    assert figures.overdue == 3  # never and late: past resolving; reached: also 48 h past
    # Two more detractors answer now, one called back at once: not due, so not counted yet.
    fresh = _ingest(engine, [_answer("store-1", at=clock.now) for _ in range(2)], clock.now)
    desk.record_contact(boss, fresh[0], ContactOutcome.REACHED)
    again = desk.figures(("store-1",), "store-1", 7)
    assert (again.detractors, again.contacted_48h, again.detractors_waiting) == (6, 2, 1)
    assert never in ids
