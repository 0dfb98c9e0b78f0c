"""Closed-loop figures summed from counts per unit and hour: what each step of an alert adds,
and the figures, counted over every detractor whose 48 h have passed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from alerts.figures import (
    AlertClock,
    LoopCounts,
    LoopSums,
    loop_figures,
    loop_increments,
    past_until,
)
from app.core.aggregates import epoch_minute
from app.core.events import LoopFigures

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def hour(at: datetime) -> int:
    return epoch_minute(at) // 60


def counted(*changes: tuple[AlertClock | None, AlertClock]) -> dict[int, LoopCounts]:
    """The counts by hour after these changes, as the database adds them up."""
    by_hour: dict[int, LoopCounts] = {}
    for before, after in changes:
        for h, counts in loop_increments(before, after).items():
            into = by_hour.setdefault(h, LoopCounts())
            for name, value in counts.items():
                setattr(into, name, getattr(into, name) + value)
    return by_hour


def figures(
    by_hour: Mapping[int, LoopCounts], *, due: int = 0, overdue: int = 0, days: int = 7
) -> LoopFigures:
    since = hour(NOW - timedelta(days=days))
    return loop_figures(
        "store-1",
        LoopSums.of(by_hour, since=since, until=hour(past_until(NOW))),
        detractors_due=due,
        overdue=overdue,
        open_by_age={"under_1h": 2},
        now=NOW,
        days=days,
    )


def test_raising_an_alert_counts_it_and_a_detractors_at_the_hour_they_answered() -> None:
    raised = AlertClock(NOW, NOW - 3 * H, detractor=True)
    assert loop_increments(None, raised) == {
        hour(NOW): {"alerts": 1},
        hour(NOW - 3 * H): {"detractor_alerts": 1},
    }
    not_a_detractor = AlertClock(NOW, NOW - 3 * H, detractor=False)
    assert loop_increments(None, not_a_detractor) == {hour(NOW): {"alerts": 1}}


def test_each_step_adds_its_time_and_reopening_takes_the_resolution_back() -> None:
    raised = AlertClock(NOW, NOW - 10 * H, detractor=True)
    acked = AlertClock(NOW, NOW - 10 * H, True, acknowledged_at=NOW + 30 * M)
    reached = AlertClock(NOW, NOW - 10 * H, True, NOW + 30 * M, first_contact_at=NOW + 2 * H)
    resolved = AlertClock(NOW, NOW - 10 * H, True, NOW + 30 * M, NOW + 2 * H, NOW + 5 * H)
    assert loop_increments(raised, acked) == {hour(NOW): {"acknowledged": 1, "ack_minutes": 30.0}}
    assert loop_increments(acked, reached) == {
        hour(NOW): {"contacted": 1, "contact_minutes": 120.0},
        hour(NOW - 10 * H): {"detractors_contacted": 1, "detractors_contacted_48h": 1},
    }
    assert loop_increments(reached, resolved) == {
        hour(NOW): {"resolved": 1, "resolve_minutes": 300.0}
    }
    assert loop_increments(resolved, reached) == {
        hour(NOW): {"resolved": -1, "resolve_minutes": -300.0}
    }
    assert loop_increments(resolved, resolved) == {}


def test_a_detractor_reached_after_48_hours_is_contacted_but_not_within_48_hours() -> None:
    raised = AlertClock(NOW, NOW - 10 * H, detractor=True)
    late = AlertClock(NOW, NOW - 10 * H, True, first_contact_at=NOW + 40 * H)
    assert loop_increments(raised, late)[hour(NOW - 10 * H)] == {"detractors_contacted": 1}


def test_means_of_acknowledging_reaching_and_resolving_come_with_their_counts() -> None:
    t, u = NOW - 50 * H, NOW - 30 * H
    by_hour = counted(
        (None, AlertClock(t, None, False, t + 10 * M, t + 2 * H, t + 10 * H)),
        (None, AlertClock(u, None, False, u + 30 * M, u + 30 * M, u + H)),
        (None, AlertClock(NOW - 3 * H, None, False, NOW - 2 * H, NOW - 2 * H)),
        (None, AlertClock(NOW - 5 * M, None, False)),
        (None, AlertClock(NOW - 10 * 24 * H, None, False, NOW - 9 * 24 * H)),  # before the week
    )
    f = figures(by_hour, overdue=1)
    assert (f.alerts, f.acknowledged, f.contacted, f.resolved) == (4, 3, 3, 2)
    assert f.mean_ack_minutes == 33.3  # 10, 30 and 60 minutes
    assert f.mean_contact_hours == 1.17  # 2 h, 0.5 h and 1 h
    assert f.mean_resolve_hours == 5.5  # 10 h and 1 h
    assert f.overdue == 1
    assert f.open_by_age == {
        "under_1h": 2,
        "1h_to_4h": 0,
        "4h_to_24h": 0,
        "1d_to_2d": 0,
        "over_2d": 0,
    }


def test_every_due_detractor_counts_open_ones_and_those_without_an_alert_included() -> None:
    # Five detractors answered more than 48 h ago (the response aggregates count them); three
    # raised an alert: one reached in 10 h, one reached after 60 h, one never.
    answered = [NOW - 70 * H, NOW - 100 * H, NOW - 80 * H]
    by_hour = counted(
        (None, AlertClock(answered[0], answered[0], True, first_contact_at=answered[0] + 10 * H)),
        (None, AlertClock(answered[1], answered[1], True, first_contact_at=answered[1] + 60 * H)),
        (None, AlertClock(answered[2], answered[2], True)),
    )
    f = figures(by_hour, due=5)
    assert (f.detractors, f.contacted_48h, f.not_contacted_48h) == (5, 1, 4)
    assert f.contacted_48h_pct == 20.0


def test_an_hour_old_loop_shows_no_share_but_the_detractors_still_waiting() -> None:
    # The demo: 53 detractors' alerts in the last hour, two already called back. None is due
    # yet: a "100 % (2 of 2)" would flatter; the 51 waiting are what a manager must see.
    at = NOW - 30 * M
    changes: list[tuple[AlertClock | None, AlertClock]] = [
        (None, AlertClock(at, at, True, first_contact_at=at + 20 * M)) for _ in range(2)
    ]
    changes += [(None, AlertClock(at, at, True)) for _ in range(51)]
    f = figures(counted(*changes), due=0, overdue=40)
    assert f.contacted_48h_pct is None
    assert (f.detractors, f.contacted_48h, f.detractors_waiting, f.overdue) == (0, 0, 51, 40)


def test_a_detractor_called_back_early_counts_once_their_48_hours_are_over() -> None:
    early = AlertClock(NOW - 50 * H, NOW - 50 * H, True, first_contact_at=NOW - 49 * H)
    assert figures(counted((None, early)), due=1).contacted_48h_pct == 100.0
    recent = AlertClock(NOW - 2 * H, NOW - 2 * H, True, first_contact_at=NOW - H)
    f = figures(counted((None, early), (None, recent)), due=1)
    assert (f.detractors, f.contacted_48h, f.detractors_waiting) == (1, 1, 0)


def test_contacted_never_exceeds_due_when_the_aggregates_lag_the_alerts() -> None:
    early = AlertClock(NOW - 50 * H, NOW - 50 * H, True, first_contact_at=NOW - 49 * H)
    f = figures(counted((None, early)), due=0)
    assert (f.detractors, f.contacted_48h, f.contacted_48h_pct) == (1, 1, 100.0)


def test_no_alerts_and_no_detractors_give_no_figures_rather_than_zeros() -> None:
    f = figures({})
    assert (f.mean_ack_minutes, f.mean_contact_hours, f.mean_resolve_hours) == (None, None, None)
    assert f.contacted_48h_pct is None


def test_detractors_are_due_by_the_clock_hour_48_hours_back() -> None:
    at = datetime(2026, 11, 20, 12, 40, tzinfo=UTC)
    # At 12:40, the hour from 12:00 two days ago still holds answers under 48 h old.
    assert past_until(at) == datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
