"""Closed-loop figures: how fast alerts are acknowledged and resolved, and how many detractors
were called back within 48 hours. Pure: the counts and rows come in, the figures go out."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core.events import AlertState, LoopFigures

CONTACT_WITHIN = timedelta(hours=48)
# Upper bounds of the age buckets of unresolved alerts; the last bucket is everything older.
AGE_BUCKETS = [
    ("under_1h", timedelta(hours=1)),
    ("1h_to_4h", timedelta(hours=4)),
    ("4h_to_24h", timedelta(hours=24)),
    ("1d_to_2d", timedelta(hours=48)),
]
OLDEST_BUCKET = "over_2d"
UNRESOLVED = {AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.IN_PROGRESS}


@dataclass(frozen=True)
class AlertTimes:
    state: AlertState
    created_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class Detractor:
    """An NPS detractor's answer, and when its alert was resolved."""

    submitted_at: datetime
    resolved_at: datetime | None


def loop_figures(
    org_unit: str | None,
    alerts: Sequence[AlertTimes],
    *,
    detractors_past: int,
    past_until: datetime,
    resolved: Sequence[Detractor],
    now: datetime,
    days: int,
) -> LoopFigures:
    """`detractors_past`: the period's NPS detractors answered before `past_until`, when their
    48 hours are over (the aggregates count them by the hour, so `past_until` is a clock hour
    at least 48 h back). `resolved`: the period's detractors whose alert was resolved. A
    detractor counts once their 48 hours are over, or earlier if already called back."""
    ack = [
        (a.acknowledged_at - a.created_at).total_seconds() / 60 for a in alerts if a.acknowledged_at
    ]
    fixed = [(a.resolved_at - a.created_at).total_seconds() / 3600 for a in alerts if a.resolved_at]
    called_back = [d for d in resolved if _contacted(d)]
    contacted = len(called_back)
    due = detractors_past + sum(d.submitted_at >= past_until for d in called_back)
    ages = {name: 0 for name, _ in AGE_BUCKETS} | {OLDEST_BUCKET: 0}
    for alert in alerts:
        if alert.state in UNRESOLVED:
            ages[_bucket(now - alert.created_at)] += 1
    return LoopFigures(
        org_unit=org_unit,
        as_of=now,
        days=days,
        alerts=len(alerts),
        acknowledged=len(ack),
        median_ack_minutes=round(statistics.median(ack), 1) if ack else None,
        resolved=len(fixed),
        median_resolve_hours=round(statistics.median(fixed), 2) if fixed else None,
        detractors=due,
        contacted_48h=contacted,
        contacted_48h_pct=round(100 * contacted / due, 1) if due else None,
        open_by_age=ages,
    )


def past_until(now: datetime) -> datetime:
    """The first clock hour not yet wholly 48 h back: detractors answered before it are due."""
    cutoff = now - CONTACT_WITHIN
    return cutoff.replace(minute=0, second=0, microsecond=0)


def _contacted(d: Detractor) -> bool:
    return d.resolved_at is not None and d.resolved_at - d.submitted_at <= CONTACT_WITHIN


def _bucket(age: timedelta) -> str:
    for name, upper in AGE_BUCKETS:
        if age < upper:
            return name
    return OLDEST_BUCKET
