"""Alert queries: what the rules need to know, storing alerts, and moving them through the loop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from alerts.figures import (
    AGE_BUCKETS,
    COUNTERS,
    OLDEST_BUCKET,
    AlertClock,
    LoopCounts,
    loop_increments,
    loop_of,
)
from app.core.events import AlertState, AlertView
from app.core.writes import NewAlert
from app.db import bulk, directory
from app.db.models import AlertEventRow, AlertRow, LoopHourRow, ResponseRow

_ALERTS = SQLModel.metadata.tables[AlertRow.__tablename__]
_RESPONSES = SQLModel.metadata.tables[ResponseRow.__tablename__]
_LOOP = SQLModel.metadata.tables[LoopHourRow.__tablename__]


def earlier_dissatisfied(
    connection: sa.Connection, customer_refs: Sequence[str], since: datetime
) -> dict[str, list[tuple[str, datetime, str | None]]]:
    """Stored dissatisfied responses of these customers submitted since `since`, each with the
    case of its alert (None: it raised none)."""
    found: dict[str, list[tuple[str, datetime, str | None]]] = {}
    if not customer_refs:
        return found
    t, a = _RESPONSES, _ALERTS
    query = (
        sa.select(t.c.customer_ref, t.c.response_id, t.c.submitted_at, a.c.case_key)
        .select_from(t.outerjoin(a, a.c.response_id == t.c.response_id))
        .where(
            t.c.customer_ref.in_(sorted(set(customer_refs))),
            t.c.dissatisfied.is_(True),
            t.c.submitted_at >= since,
        )
    )
    for ref, response_id, submitted_at, case_key in connection.execute(query):
        found.setdefault(ref, []).append((response_id, submitted_at, case_key or None))
    return found


def views(
    session: Session, rows: Sequence[AlertRow], *, reveal_contact: bool = False
) -> list[AlertView]:
    """Alert rows with their responses (contacts masked unless revealed) and their assignees'
    names, in the order given."""
    ids = [r.response_id for r in rows if r.response_id]
    responses = {}
    if ids:
        found = session.exec(select(ResponseRow).where(col(ResponseRow.response_id).in_(ids)))
        responses = {r.response_id: r.view(reveal_contact=reveal_contact) for r in found}
    names = directory.names_of(session, (r.assignee for r in rows))
    return [
        AlertView.model_validate(
            {
                **row.model_dump(),
                "assignee_name": names.get(row.assignee or ""),
                "response": responses.get(row.response_id or ""),
            }
        )
        for row in rows
    ]


def views_of(
    engine: sa.Engine, rows: Sequence[AlertRow], *, reveal_contact: bool = False
) -> list[AlertView]:
    with Session(engine) as session:
        return views(session, rows, reveal_contact=reveal_contact)


def load(engine: sa.Engine, alert_ids: Sequence[int]) -> list[AlertView]:
    """Masked, in the order of `alert_ids`; an id not found is left out."""
    if not alert_ids:
        return []
    with Session(engine) as session:
        rows = session.exec(select(AlertRow).where(col(AlertRow.id).in_(alert_ids))).all()
        by_id = {v.id: v for v in views(session, rows)}
    return [by_id[i] for i in alert_ids if i in by_id]


def row(engine: sa.Engine, alert_id: int) -> AlertRow | None:
    with Session(engine) as session:
        return session.get(AlertRow, alert_id)


def history(engine: sa.Engine, alert_id: int) -> list[AlertEventRow]:
    """Every step of the alert, oldest first."""
    with Session(engine) as session:
        query = (
            select(AlertEventRow)
            .where(AlertEventRow.alert_id == alert_id)
            .order_by(col(AlertEventRow.id))
        )
        return list(session.exec(query).all())


# Missing the acknowledgement deadline escalates one level; missing the resolution, two.
UNRESOLVED = (AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value, AlertState.IN_PROGRESS.value)


def overdue(engine: sa.Engine, now: datetime) -> list[AlertRow]:
    """Alerts past a deadline they have not been escalated for yet."""
    t = _ALERTS.c
    late_ack = sa.and_(t.state == AlertState.OPEN.value, t.due_ack_at <= now, t.escalations < 1)
    late_fix = sa.and_(t.state.in_(UNRESOLVED), t.due_resolve_at <= now, t.escalations < 2)
    with Session(engine) as session:
        query = select(AlertRow).where(sa.or_(late_ack, late_fix)).order_by(col(AlertRow.id))
        return list(session.exec(query).all())


class Stale(Exception):
    """The alert changed since it was read; the caller reads it again."""


def change(
    engine: sa.Engine,
    before: AlertRow,
    *,
    actor: str,
    action: str,
    values: dict[str, Any],
    detail: dict[str, Any] | None = None,
) -> AlertRow:
    """Apply `values` to the alert as read in `before`, if neither its state nor any column
    they change has changed since, and record the step and what it adds to the loop counts,
    in one transaction. Two instances or two people doing the same step race here, and only
    one wins: the other gets Stale."""
    assert before.id is not None
    now = datetime.now(UTC)
    a = _ALERTS.c
    still = [a.id == before.id, a.state == before.state]
    still += [a[name].is_not_distinct_from(getattr(before, name)) for name in values]
    after = AlertRow(**{**before.model_dump(), **values})
    with Session(engine) as session:
        connection = session.connection()
        updated = connection.execute(sa.update(_ALERTS).where(*still).values(**values))
        if updated.rowcount != 1:
            raise Stale(before.id)
        add_to_loop(connection, {before.org_unit: loop_increments(_clock(before), _clock(after))})
        session.add(
            AlertEventRow(
                alert_id=before.id,
                at=now,
                actor=actor,
                action=action,
                from_state=before.state,
                to_state=values.get("state", before.state),
                detail=detail or {},
            )
        )
        session.commit()
    return after


def _clock(row: AlertRow) -> AlertClock:
    return AlertClock(
        created_at=row.created_at,
        submitted_at=row.response_submitted_at,
        detractor=row.detractor,
        acknowledged_at=row.acknowledged_at,
        first_contact_at=row.first_contact_at,
        resolved_at=row.resolved_at,
    )


def add_to_loop(
    connection: sa.Connection, increments: Mapping[str, Mapping[int, Mapping[str, float]]]
) -> None:
    """Add to units' loop counts: by unit, then by hour."""
    rows = [
        {"org_unit": unit, "hour": hour, **{n: counts.get(n, 0) for n in COUNTERS}}
        for unit, by_hour in sorted(increments.items())
        for hour, counts in sorted(by_hour.items())
    ]
    if rows:
        bulk.add_counts(connection, _LOOP, ("org_unit", "hour"), rows)


def raised_loop(alerts: Sequence[NewAlert]) -> dict[str, dict[int, dict[str, float]]]:
    """What newly raised alerts add to the loop counts, by unit and hour."""
    return loop_of(
        (a.org_unit, AlertClock(a.created_at, a.submitted_at, a.detractor)) for a in alerts
    )


def loop_counts(
    connection: sa.Connection, *, org_units: Sequence[str], since_hour: int
) -> dict[int, LoopCounts]:
    """The loop counts of these units (empty: every unit) from `since_hour`, summed by hour."""
    t = _LOOP.c
    query = sa.select(t.hour, *(sa.func.sum(t[n]).label(n) for n in COUNTERS)).where(
        t.hour >= since_hour
    )
    if org_units:
        query = query.where(t.org_unit.in_(org_units))
    return {
        row.hour: LoopCounts(**{n: getattr(row, n) or 0 for n in COUNTERS})
        for row in connection.execute(query.group_by(t.hour))
    }


def masked_and_revealed(engine: sa.Engine, row: AlertRow) -> tuple[AlertView, AlertView]:
    """The alert as live events carry it, and with its customer's contact, from one read."""
    with Session(engine) as session:
        stored = None
        if row.response_id:
            stored = session.exec(
                select(ResponseRow).where(ResponseRow.response_id == row.response_id)
            ).first()
        names = directory.names_of(session, [row.assignee])
    data = {**row.model_dump(), "assignee_name": names.get(row.assignee or "")}
    masked = AlertView.model_validate({**data, "response": stored.view() if stored else None})
    revealed = stored.view(reveal_contact=True) if stored else None
    return masked, masked.model_copy(update={"response": revealed})


def record(
    engine: sa.Engine, alert_id: int, *, actor: str, action: str, detail: dict[str, Any]
) -> None:
    """A step that changes nothing of the alert itself (a notification sent or failed)."""
    with Session(engine) as session:
        session.add(AlertEventRow(alert_id=alert_id, actor=actor, action=action, detail=detail))
        session.commit()


def open_now(
    connection: sa.Connection, *, org_units: Sequence[str], now: datetime
) -> tuple[int, dict[str, int]]:
    """Unresolved alerts of these units (empty: every unit) now: how many are past a deadline
    (open past acknowledging, or past resolving), and how many by age (AGE_BUCKETS)."""
    t = _ALERTS.c
    late = sa.or_(
        sa.and_(t.state == AlertState.OPEN.value, t.due_ack_at <= now),
        t.due_resolve_at <= now,
    )
    age = sa.case(
        *((t.created_at > now - upper, name) for name, upper in AGE_BUCKETS),
        else_=OLDEST_BUCKET,
    )
    query = sa.select(
        age.label("age"), sa.func.count(), sa.func.sum(sa.case((late, 1), else_=0))
    ).where(t.state.in_(UNRESOLVED))
    if org_units:
        query = query.where(t.org_unit.in_(org_units))
    by_age: dict[str, int] = {}
    overdue = 0
    for bucket, count, late_count in connection.execute(query.group_by(age)):
        by_age[bucket] = count
        overdue += int(late_count or 0)
    return overdue, by_age
