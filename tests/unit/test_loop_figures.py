"""Closed-loop figures from alert and detractor timings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts.figures import AlertTimes, Detractor, loop_figures, past_until
from app.core.events import AlertState

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_medians_percentages_and_ages_come_with_their_counts() -> None:
    alerts = [
        AlertTimes(
            AlertState.RESOLVED, NOW - 50 * H, NOW - 50 * H + timedelta(minutes=10), NOW - 40 * H
        ),
        AlertTimes(
            AlertState.CLOSED, NOW - 30 * H, NOW - 30 * H + timedelta(minutes=30), NOW - 29 * H
        ),
        AlertTimes(AlertState.ACKNOWLEDGED, NOW - 3 * H, NOW - 2 * H, None),
        AlertTimes(AlertState.OPEN, NOW - timedelta(minutes=5), None, None),
        AlertTimes(AlertState.OPEN, NOW - 60 * H, None, None),
    ]
    # Answered more than 48 h ago, counted by the hour in the aggregates: 50 h, 100 h, 72 h.
    past = 3
    resolved = [
        Detractor(NOW - 50 * H, NOW - 40 * H),  # called back within 48 h
        Detractor(NOW - 100 * H, NOW - 40 * H),  # called back, but after 60 h
        Detractor(NOW - 2 * H, NOW - H),  # recent and already called back: counted
    ]
    # A detractor of 2 h ago not called back yet still has time: not counted.
    figures = loop_figures(
        "store-1",
        alerts,
        detractors_past=past,
        past_until=past_until(NOW),
        resolved=resolved,
        now=NOW,
        days=7,
    )
    assert (figures.alerts, figures.acknowledged, figures.resolved) == (5, 3, 2)
    assert figures.median_ack_minutes == 30.0
    assert figures.median_resolve_hours == 5.5
    assert (figures.detractors, figures.contacted_48h, figures.contacted_48h_pct) == (4, 2, 50.0)
    assert figures.open_by_age == {
        "under_1h": 1,
        "1h_to_4h": 1,
        "4h_to_24h": 0,
        "1d_to_2d": 0,
        "over_2d": 1,
    }


def test_no_alerts_and_no_detractors_give_no_figures_rather_than_zeros() -> None:
    figures = loop_figures(
        None, [], detractors_past=0, past_until=past_until(NOW), resolved=[], now=NOW, days=7
    )
    assert figures.median_ack_minutes is None
    assert figures.median_resolve_hours is None
    assert figures.contacted_48h_pct is None


def test_detractors_are_due_by_the_clock_hour_48_hours_back() -> None:
    at = datetime(2026, 11, 20, 12, 40, tzinfo=UTC)
    # At 12:40, the hour from 12:00 two days ago still holds answers under 48 h old.
    assert past_until(at) == datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
