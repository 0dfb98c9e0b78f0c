"""Alert queries: what the rules need to know, storing alerts, and moving them through the loop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from app.core.events import AlertState, AlertView, Severity
from app.db.models import AlertEventRow, AlertRow, ResponseRow

_ALERTS = SQLModel.metadata.tables[AlertRow.__tablename__]
_RESPONSES = SQLModel.metadata.tables[ResponseRow.__tablename__]


def earlier_dissatisfied(
    connection: sa.Connection, customer_refs: Sequence[str], since: datetime
) -> dict[str, list[tuple[str, datetime]]]:
    """Stored dissatisfied responses of these customers submitted since `since`."""
    found: dict[str, list[tuple[str, datetime]]] = {}
    if not customer_refs:
        return found
    t = _RESPONSES
    query = sa.select(t.c.customer_ref, t.c.response_id, t.c.submitted_at).where(
        t.c.customer_ref.in_(sorted(set(customer_refs))),
        t.c.dissatisfied.is_(True),
        t.c.submitted_at >= since,
    )
    for ref, response_id, submitted_at in connection.execute(query):
        found.setdefault(ref, []).append((response_id, submitted_at))
    return found


def views(session: Session, rows: Sequence[AlertRow]) -> list[AlertView]:
    """Alert rows with their (masked) responses, in the order given."""
    ids = [r.response_id for r in rows if r.response_id]
    responses = {}
    if ids:
        found = session.exec(select(ResponseRow).where(col(ResponseRow.response_id).in_(ids)))
        responses = {r.response_id: r.view() for r in found}
    return [
        AlertView.model_validate(
            {**row.model_dump(), "response": responses.get(row.response_id or "")}
        )
        for row in rows
    ]


def load(engine: sa.Engine, alert_ids: Sequence[int]) -> list[AlertView]:
    if not alert_ids:
        return []
    with Session(engine) as session:
        rows = session.exec(
            select(AlertRow).where(col(AlertRow.id).in_(alert_ids)).order_by(col(AlertRow.id))
        ).all()
        return views(session, rows)


@dataclass(frozen=True)
class AlertFilter:
    """Empty tuples match everything."""

    org_units: tuple[str, ...] = ()
    states: tuple[AlertState, ...] = ()
    severities: tuple[Severity, ...] = ()
    created_before: datetime | None = None


def list_alerts(
    engine: sa.Engine, *, where: AlertFilter, before: int | None, limit: int
) -> tuple[list[AlertView], int | None]:
    """Newest first; the second value is the `before` of the next page."""
    query = select(AlertRow)
    if where.org_units:
        query = query.where(col(AlertRow.org_unit).in_(where.org_units))
    if where.states:
        query = query.where(col(AlertRow.state).in_([s.value for s in where.states]))
    if where.severities:
        query = query.where(col(AlertRow.severity).in_([s.value for s in where.severities]))
    if where.created_before is not None:
        query = query.where(AlertRow.created_at < where.created_before)
    if before is not None:
        query = query.where(col(AlertRow.id) < before)
    with Session(engine) as session:
        rows = list(session.exec(query.order_by(col(AlertRow.id).desc()).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        return views(session, rows), (rows[-1].id if more and rows else None)


def get(engine: sa.Engine, alert_id: int) -> tuple[AlertRow, list[AlertEventRow]] | None:
    with Session(engine) as session:
        row = session.get(AlertRow, alert_id)
        if row is None:
            return None
        history = session.exec(
            select(AlertEventRow)
            .where(AlertEventRow.alert_id == alert_id)
            .order_by(col(AlertEventRow.id))
        ).all()
        return row, list(history)


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
    alert_id: int,
    *,
    expected_state: str,
    actor: str,
    action: str,
    values: dict[str, Any],
    detail: dict[str, Any] | None = None,
    expected_escalations: int | None = None,
) -> AlertView:
    """Apply `values` if the alert is still in `expected_state` (and escalation level), and
    record the step. Two instances doing the same step race here, and only one wins."""
    now = datetime.now(UTC)
    still = [_ALERTS.c.id == alert_id, _ALERTS.c.state == expected_state]
    if expected_escalations is not None:
        still.append(_ALERTS.c.escalations == expected_escalations)
    with Session(engine) as session:
        updated = session.connection().execute(sa.update(_ALERTS).where(*still).values(**values))
        if updated.rowcount != 1:
            raise Stale(alert_id)
        session.add(
            AlertEventRow(
                alert_id=alert_id,
                at=now,
                actor=actor,
                action=action,
                from_state=expected_state,
                to_state=values.get("state", expected_state),
                detail=detail or {},
            )
        )
        session.commit()
        row = session.get(AlertRow, alert_id)
        assert row is not None
        return views(session, [row])[0]


def record(
    engine: sa.Engine, alert_id: int, *, actor: str, action: str, detail: dict[str, Any]
) -> None:
    """A step that changes nothing of the alert itself (a notification sent or failed)."""
    with Session(engine) as session:
        session.add(AlertEventRow(alert_id=alert_id, actor=actor, action=action, detail=detail))
        session.commit()


def loop_rows(
    connection: sa.Connection, *, org_units: Sequence[str], since: datetime
) -> tuple[
    list[tuple[str, datetime, datetime | None, datetime | None]],
    list[tuple[datetime, datetime | None]],
]:
    """For closed-loop figures: alerts created since `since` (state, created, acknowledged,
    resolved), and the resolved alerts of NPS detractors answered since then (answered,
    resolved)."""
    a = _ALERTS.c
    alerts_query = sa.select(a.state, a.created_at, a.acknowledged_at, a.resolved_at).where(
        a.created_at >= since
    )
    resolved_query = sa.select(a.response_submitted_at, a.resolved_at).where(
        a.detractor.is_(True), a.response_submitted_at >= since, a.resolved_at.is_not(None)
    )
    if org_units:
        alerts_query = alerts_query.where(a.org_unit.in_(org_units))
        resolved_query = resolved_query.where(a.org_unit.in_(org_units))
    alerts = [tuple(row) for row in connection.execute(alerts_query)]
    resolved = [tuple(row) for row in connection.execute(resolved_query)]
    return alerts, resolved
