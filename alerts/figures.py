"""Closed-loop figures: how fast alerts are acknowledged, their customers reached and their
alerts resolved, and how many detractors were contacted within 48 hours. Pure.

The figures are summed from counts per unit and hour (`loop_increments` says what each step of
an alert adds to them), so a region's or the company's figures cost a sum, however many alerts
they hold. Times are means of sums, each beside its count: a median cannot be summed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from app.core.aggregates import epoch_minute
from app.core.events import LoopFigures

CONTACT_WITHIN = timedelta(hours=48)
# Upper bounds of the age buckets of unresolved alerts; the last bucket is everything older.
AGE_BUCKETS = [
    ("under_1h", timedelta(hours=1)),
    ("1h_to_4h", timedelta(hours=4)),
    ("4h_to_24h", timedelta(hours=24)),
    ("1d_to_2d", timedelta(hours=48)),
]
OLDEST_BUCKET = "over_2d"


@dataclass(frozen=True)
class AlertClock:
    """What the loop counts of an alert: when it was raised, its customer answered (and whether
    an NPS detractor), and when it was acknowledged, its customer first reached, resolved."""

    created_at: datetime
    submitted_at: datetime | None
    detractor: bool
    acknowledged_at: datetime | None = None
    first_contact_at: datetime | None = None
    resolved_at: datetime | None = None


@dataclass
class LoopCounts:
    """One unit's counts of one epoch hour. The first seven are of alerts raised in that hour;
    the detractor counts, of detractors' alerts whose customer answered in that hour."""

    alerts: int = 0
    acknowledged: int = 0
    ack_minutes: float = 0.0
    contacted: int = 0
    contact_minutes: float = 0.0
    resolved: int = 0
    resolve_minutes: float = 0.0
    detractor_alerts: int = 0
    detractors_contacted: int = 0
    detractors_contacted_48h: int = 0


COUNTERS = tuple(f.name for f in fields(LoopCounts))


def _hour(at: datetime) -> int:
    return epoch_minute(at) // 60


def _minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


def _share(alert: AlertClock) -> dict[int, dict[str, float]]:
    """What the alert, as it stands, contributes to the counts, by hour."""
    created = _hour(alert.created_at)
    out: dict[int, dict[str, float]] = {created: {"alerts": 1}}
    mine = out[created]
    for done, count, total in (
        (alert.acknowledged_at, "acknowledged", "ack_minutes"),
        (alert.first_contact_at, "contacted", "contact_minutes"),
        (alert.resolved_at, "resolved", "resolve_minutes"),
    ):
        if done is not None:
            mine[count] = 1
            mine[total] = _minutes(alert.created_at, done)
    if alert.detractor and alert.submitted_at is not None:
        answered = out.setdefault(_hour(alert.submitted_at), {})
        answered["detractor_alerts"] = answered.get("detractor_alerts", 0) + 1
        if alert.first_contact_at is not None:
            answered["detractors_contacted"] = 1
            if alert.first_contact_at - alert.submitted_at <= CONTACT_WITHIN:
                answered["detractors_contacted_48h"] = 1
    return out


def loop_increments(before: AlertClock | None, after: AlertClock) -> dict[int, dict[str, float]]:
    """What a change of an alert adds to the counts, by hour (`before` None: it was raised).
    Undoing a step (a reopened alert loses its resolution) subtracts what it had added."""
    change: dict[int, dict[str, float]] = {}
    for sign, alert in ((-1, before), (1, after)):
        if alert is None:
            continue
        for hour, counts in _share(alert).items():
            into = change.setdefault(hour, {})
            for name, value in counts.items():
                into[name] = into.get(name, 0) + sign * value
    return {
        hour: kept
        for hour, counts in change.items()
        if (kept := {name: value for name, value in counts.items() if value})
    }


def loop_of(alerts: Iterable[tuple[str, AlertClock]]) -> dict[str, dict[int, dict[str, float]]]:
    """What these alerts of these units, as they stand, add to the loop counts: by unit, then
    by hour (what raising them adds, or what a count of alerts stored before adds)."""
    out: dict[str, dict[int, dict[str, float]]] = {}
    for unit, alert in alerts:
        by_hour = out.setdefault(unit, {})
        for hour, counts in loop_increments(None, alert).items():
            into = by_hour.setdefault(hour, {})
            for name, value in counts.items():
                into[name] = into.get(name, 0) + value
    return out


@dataclass(frozen=True)
class LoopSums:
    """The counts a scope's figures need, summed over its units and the period's hours."""

    raised: LoopCounts
    """Alerts raised in the period."""
    due: LoopCounts
    """Detractors' alerts answered in the period before their 48 hours ended."""
    recent: LoopCounts
    """Detractors' alerts still inside their 48 hours."""

    @classmethod
    def of(cls, by_hour: Mapping[int, LoopCounts], *, since: int, until: int) -> LoopSums:
        """From counts by hour: the period begins with hour `since`; detractors answered before
        hour `until` are due."""
        raised, due, recent = LoopCounts(), LoopCounts(), LoopCounts()
        for hour, counts in by_hour.items():
            if hour < since:
                continue
            _add(raised, counts)
            _add(due if hour < until else recent, counts)
        return cls(raised, due, recent)


def _add(into: LoopCounts, counts: LoopCounts) -> None:
    for name in COUNTERS:
        setattr(into, name, getattr(into, name) + getattr(counts, name))


def loop_figures(
    org_unit: str | None,
    sums: LoopSums,
    *,
    detractors_due: int,
    overdue: int,
    open_by_age: Mapping[str, int],
    now: datetime,
    days: int,
) -> LoopFigures:
    """`detractors_due`: every NPS detractor of the period whose 48 hours are over, alert or
    not, open or not (the response aggregates count them by the hour). The share contacted
    within 48 h is of those only: a detractor called back early counts once their 48 hours are
    over, so an hour-old loop cannot show 100 %. `overdue` and `open_by_age`: unresolved alerts
    now, whenever raised."""
    r = sums.raised
    contacted = sums.due.detractors_contacted_48h
    # The response aggregates and the alerts are counted apart: never more contacted than due.
    detractors = max(detractors_due, contacted)
    return LoopFigures(
        org_unit=org_unit,
        as_of=now,
        days=days,
        alerts=r.alerts,
        acknowledged=r.acknowledged,
        mean_ack_minutes=_mean(r.ack_minutes, r.acknowledged, 1),
        contacted=r.contacted,
        mean_contact_hours=_mean(r.contact_minutes / 60, r.contacted, 2),
        resolved=r.resolved,
        mean_resolve_hours=_mean(r.resolve_minutes / 60, r.resolved, 2),
        detractors=detractors,
        contacted_48h=contacted,
        contacted_48h_pct=round(100 * contacted / detractors, 1) if detractors else None,
        not_contacted_48h=detractors - contacted,
        detractors_waiting=sums.recent.detractor_alerts - sums.recent.detractors_contacted,
        overdue=overdue,
        open_by_age={name: open_by_age.get(name, 0) for name in age_buckets()},
    )


def _mean(total: float, count: int, digits: int) -> float | None:
    return round(total / count, digits) if count else None


def age_buckets() -> list[str]:
    return [name for name, _ in AGE_BUCKETS] + [OLDEST_BUCKET]


def past_until(now: datetime) -> datetime:
    """The first clock hour not yet wholly 48 h back: detractors answered before it are due."""
    cutoff = now - CONTACT_WITHIN
    return cutoff.replace(minute=0, second=0, microsecond=0)
