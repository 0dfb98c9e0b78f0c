"""Closed-loop figures of a scope, summed from the units' counts: detractors from the response
aggregates, the loop from the loop counts, what is open now from the alerts; the arithmetic in
`alerts.figures`."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from alerts.figures import LoopSums, loop_figures, past_until
from app.core.aggregates import epoch_minute
from app.core.events import LoopFigures
from app.core.org import OrgTree
from app.db import aggregates, alerting

__all__ = ["LoopFigures", "read"]


def read(
    engine: sa.Engine,
    tree: OrgTree,
    units: tuple[str, ...],
    label: str | None,
    now: datetime,
    days: int,
) -> LoopFigures:
    """`units`: the scope, every unit listed (empty: the whole company)."""
    # From a clock hour, as every count is kept by the hour.
    since = epoch_minute(now - timedelta(days=days)) // 60
    until = epoch_minute(past_until(now)) // 60
    with engine.connect() as connection:
        counts = alerting.loop_counts(connection, org_units=units, since_hour=since)
        overdue, by_age = alerting.open_now(connection, org_units=units, now=now)
        due = aggregates.scope_total(
            connection, tree, covered=units or None, from_hour=since, until_hour=until
        ).detractors
    return loop_figures(
        label,
        LoopSums.of(counts, since=since, until=until),
        detractors_due=due,
        overdue=overdue,
        open_by_age=by_age,
        now=now,
        days=days,
    )
