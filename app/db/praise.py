"""Praise queries: a scope's praise wall, what is pinned on top of its feed, and pinning."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from app.core.events import PraiseView
from app.db import directory
from app.db.models import PraiseRow, ResponseRow


def _views(session: Session, rows: Sequence[tuple[PraiseRow, ResponseRow]]) -> list[PraiseView]:
    names = directory.names_of(session, (p.pinned_by for p, _ in rows))
    return [
        PraiseView(
            response=r.view(),
            pinned_until=p.pinned_until,
            pinned_by=p.pinned_by,
            pinned_by_name=names.get(p.pinned_by or ""),
        )
        for p, r in rows
    ]


def _of(units: Sequence[str] | None) -> Select[PraiseRow, ResponseRow]:
    """Praise with its response, of these units (None: every unit)."""
    query = select(PraiseRow, ResponseRow).join(
        ResponseRow, col(ResponseRow.response_id) == col(PraiseRow.response_id)
    )
    return query if units is None else query.where(col(PraiseRow.org_unit).in_(units))


def wall(
    engine: sa.Engine, *, units: Sequence[str] | None, since: datetime, limit: int
) -> list[PraiseView]:
    """The scope's praise answered since `since`, newest first; `units` None: every unit."""
    query = _of(units)
    query = query.where(PraiseRow.submitted_at >= since)
    query = query.order_by(col(PraiseRow.submitted_at).desc()).limit(limit)
    with Session(engine) as session:
        return _views(session, list(session.exec(query).all()))


def pinned(engine: sa.Engine, *, units: Sequence[str] | None, now: datetime) -> list[PraiseView]:
    """What is pinned on top of the scope's feeds now: at most one per unit."""
    query = _of(units)
    query = query.where(col(PraiseRow.pinned_until) > now).order_by(col(PraiseRow.org_unit))
    with Session(engine) as session:
        return _views(session, list(session.exec(query).all()))


def get(engine: sa.Engine, response_id: str) -> PraiseView | None:
    query = _of(None).where(PraiseRow.response_id == response_id)
    with Session(engine) as session:
        found = session.exec(query).first()
        return _views(session, [found])[0] if found else None


def pin(
    engine: sa.Engine, response_id: str, *, by: str | None, until: datetime | None, now: datetime
) -> list[str]:
    """Pin a praise until `until` (None: unpin it). A unit has one pinned praise: pinning
    unpins the one before. The response ids whose pin changed."""
    with Session(engine) as session:
        row = session.get(PraiseRow, response_id)
        assert row is not None
        changed = [response_id]
        if until is not None:
            others = session.exec(
                select(PraiseRow).where(
                    PraiseRow.org_unit == row.org_unit,
                    col(PraiseRow.pinned_until) > now,
                    PraiseRow.response_id != response_id,
                )
            ).all()
            for other in others:
                other.pinned_until, other.pinned_by = None, None
                session.add(other)
                changed.append(other.response_id)
        row.pinned_until, row.pinned_by = until, by
        session.add(row)
        session.commit()
    return changed
