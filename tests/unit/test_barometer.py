from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core.barometer import HOURS_KEPT, MINUTES_KEPT, BarometerBook, Counts, Tally, figures
from app.core.events import Barometer, ScoreKind, Window

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2024, 3, 14, 15, 30, 20, tzinfo=UTC)


def nps_counts(*scores: int) -> Counts:
    counts = Counts()
    for score in scores:
        counts.record(ScoreKind.NPS, score, None, False)
    return counts


def add(
    book: BarometerBook,
    at: datetime,
    *,
    org_unit: str = "store-1",
    touchpoint: str = "delivery",
    score_kind: ScoreKind = ScoreKind.NPS,
    score: int = 10,
    polarity: float | None = None,
    dissatisfied: bool = False,
) -> bool:
    return book.add(
        Tally(
            org_unit=org_unit,
            touchpoint=touchpoint,
            submitted_at=at,
            score_kind=score_kind,
            score=score,
            polarity=polarity,
            dissatisfied=dissatisfied,
        )
    )


def responses_by_window(book: BarometerBook, now: datetime) -> dict[Window, int]:
    snapshot = book.snapshot("store-1", None, now)
    return {window: barometer.responses for window, barometer in snapshot.windows.items()}


def test_nps_of_five_promoters_three_passives_two_detractors_is_30() -> None:
    barometer = figures(nps_counts(9, 10, 9, 10, 10, 7, 8, 7, 0, 6))

    assert barometer.nps == 30.0
    assert (barometer.promoters, barometer.passives, barometer.detractors) == (5, 3, 2)
    assert barometer.nps_responses == barometer.responses == 10


def test_nps_of_only_detractors_is_minus_100_and_of_only_promoters_100() -> None:
    assert figures(nps_counts(0, 3, 6)).nps == -100.0
    assert figures(nps_counts(9, 10)).nps == 100.0


def test_nps_ignores_other_score_kinds_and_is_none_without_nps_answers() -> None:
    counts = Counts()
    counts.record(ScoreKind.CSAT, 5, None, False)
    counts.record(ScoreKind.CES, 2, None, False)
    assert figures(counts).nps is None

    counts.record(ScoreKind.NPS, 10, None, False)
    assert figures(counts).nps == 100.0
    assert figures(counts).nps_responses == 1
    assert figures(counts).responses == 3


def test_nps_is_rounded_to_one_decimal() -> None:
    assert figures(nps_counts(10, 8, 0)).nps == 0.0
    assert figures(nps_counts(10, 10, 8)).nps == 66.7


def test_nps_close_to_zero_is_never_negative_zero() -> None:
    nps = figures(Counts(promoters=1249, passives=1, detractors=1250)).nps

    assert nps == 0.0
    assert math.copysign(1, nps) == 1


def test_csat_pct_counts_4_and_5_as_satisfied_and_mean_is_over_csat_answers() -> None:
    counts = Counts()
    for score in (5, 4, 3, 2, 1, 5):
        counts.record(ScoreKind.CSAT, score, None, False)
    counts.record(ScoreKind.NPS, 0, None, False)

    barometer = figures(counts)

    assert barometer.csat_pct == 50.0
    assert barometer.csat_mean == 3.33
    assert barometer.csat_responses == 6


def test_ces_mean_is_over_ces_answers_only() -> None:
    counts = Counts()
    for score in (1, 2, 7):
        counts.record(ScoreKind.CES, score, None, False)
    counts.record(ScoreKind.CSAT, 5, None, False)

    barometer = figures(counts)

    assert barometer.ces_mean == 3.33
    assert barometer.ces_responses == 3


def test_sentiment_mean_skips_responses_without_polarity() -> None:
    counts = Counts()
    counts.record(ScoreKind.NPS, 3, -0.5, True)
    counts.record(ScoreKind.NPS, 10, 0.9, False)
    counts.record(ScoreKind.NPS, 8, None, False)

    barometer = figures(counts)

    assert barometer.sentiment_mean == 0.2
    assert barometer.sentiment_responses == 2
    assert barometer.flagged == 1
    assert barometer.responses == 3


def test_empty_counts_give_no_figures() -> None:
    assert figures(Counts()) == Barometer()


def test_response_61_minutes_old_is_out_of_the_hour_but_in_today_and_week() -> None:
    book = BarometerBook(PARIS)
    add(book, NOW - timedelta(minutes=61))
    add(book, NOW - timedelta(minutes=59))

    assert responses_by_window(book, NOW) == {Window.HOUR: 1, Window.TODAY: 2, Window.WEEK: 2}


@pytest.mark.parametrize(
    "local_now",
    [
        datetime(2024, 1, 15, 8, 0, tzinfo=PARIS),
        datetime(2024, 7, 15, 8, 0, tzinfo=PARIS),
        datetime(2024, 3, 31, 8, 0, tzinfo=PARIS),  # 23-hour day
        datetime(2024, 10, 27, 8, 0, tzinfo=PARIS),  # 25-hour day
    ],
)
def test_today_starts_at_local_midnight(local_now: datetime) -> None:
    midnight = local_now.replace(hour=0)
    book = BarometerBook(PARIS)
    add(book, midnight - timedelta(minutes=1), score=0)
    add(book, midnight, score=10)

    today = book.snapshot("store-1", None, local_now.astimezone(UTC)).windows[Window.TODAY]

    assert (today.responses, today.nps) == (1, 100.0)


def test_today_in_a_half_hour_zone_also_counts_the_last_half_hour_of_yesterday() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    midnight = datetime(2024, 3, 14, 0, 0, tzinfo=kolkata)
    book = BarometerBook(kolkata)
    add(book, midnight - timedelta(minutes=31))
    add(book, midnight - timedelta(minutes=29))
    add(book, midnight + timedelta(minutes=5))

    today = book.snapshot("store-1", None, midnight + timedelta(hours=8)).windows[Window.TODAY]

    assert today.responses == 2


def test_response_7_days_and_1_minute_old_is_ignored() -> None:
    book = BarometerBook(PARIS)
    assert add(book, NOW)

    assert not add(book, NOW - timedelta(days=7, minutes=1))
    assert add(book, NOW - timedelta(days=6, hours=22))
    assert responses_by_window(book, NOW)[Window.WEEK] == 2


def test_response_slightly_in_the_future_counts_in_every_window_and_the_last_trend_point() -> None:
    book = BarometerBook(PARIS)
    add(book, NOW + timedelta(minutes=2))

    snapshot = book.snapshot("store-1", None, NOW)

    assert all(barometer.responses == 1 for barometer in snapshot.windows.values())
    assert snapshot.trend[-1].responses == 1
    later = book.snapshot("store-1", None, NOW + timedelta(minutes=2))
    assert later.trend[-1].responses == 1
    assert later.trend[-3].responses == 0


def test_trend_has_one_point_per_minute_of_the_last_hour_oldest_first() -> None:
    book = BarometerBook(PARIS)
    add(book, NOW - timedelta(minutes=5), score=10)
    add(book, NOW - timedelta(minutes=5), score=0)
    add(book, NOW - timedelta(minutes=5), score=9)
    add(book, NOW, score=8)
    add(book, NOW - timedelta(minutes=60), score=0)

    trend = book.snapshot("store-1", None, NOW).trend

    this_minute = NOW.replace(second=0)
    assert [point.minute for point in trend] == [
        this_minute - timedelta(minutes=59 - i) for i in range(60)
    ]
    assert (trend[-6].responses, trend[-6].nps, trend[-6].nps_responses) == (3, 33.3, 3)
    assert (trend[-1].responses, trend[-1].nps) == (1, 0.0)
    empty = [point for i, point in enumerate(trend) if i not in (54, 59)]
    assert all(p.responses == 0 and p.nps is None for p in empty)


def test_windows_and_trend_count_only_responses_of_the_scope() -> None:
    book = BarometerBook(PARIS)
    add(book, NOW, org_unit="store-2")
    add(book, NOW, touchpoint="billing")

    delivery = book.snapshot("store-1", "delivery", NOW)

    assert delivery.windows[Window.WEEK].responses == 0
    assert sum(point.responses for point in delivery.trend) == 0


def test_org_unit_counts_equal_the_sum_over_its_touchpoints() -> None:
    book = BarometerBook(PARIS)
    for i, (touchpoint, score) in enumerate(
        [("delivery", 10), ("delivery", 3), ("billing", 10), ("billing", 9), ("support", 0)]
    ):
        add(book, NOW - timedelta(minutes=i), touchpoint=touchpoint, score=score)
    add(book, NOW, touchpoint="billing", score_kind=ScoreKind.CSAT, score=4, polarity=0.5)

    def week(touchpoint: str | None) -> Barometer:
        return book.snapshot("store-1", touchpoint, NOW).windows[Window.WEEK]

    whole = week(None)
    parts = [week(touchpoint) for touchpoint in ("delivery", "billing", "support")]
    for count in ("responses", "promoters", "passives", "detractors", "csat_responses"):
        assert getattr(whole, count) == sum(getattr(part, count) for part in parts)
    assert whole.nps == 20.0


def test_company_nps_comes_from_all_responses_not_from_averaging_org_units() -> None:
    book = BarometerBook(PARIS)
    add(book, NOW, org_unit="store-1", score=10)
    for score in (10, 0, 0, 0):
        add(book, NOW, org_unit="store-2", score=score, touchpoint="billing")

    company = book.snapshot(None, None, NOW).windows[Window.HOUR]
    company_billing = book.snapshot(None, "billing", NOW).windows[Window.HOUR]

    assert company.nps == -20.0  # the mean of 100 and -50 would be 25
    assert company.responses == 5
    assert (company_billing.responses, company_billing.nps) == (4, -50.0)


def test_unknown_scope_has_empty_figures_and_a_full_empty_trend() -> None:
    snapshot = BarometerBook(PARIS).snapshot("nowhere", None, NOW)

    assert all(barometer == Barometer() for barometer in snapshot.windows.values())
    assert len(snapshot.trend) == 60
    assert snapshot.as_of == NOW


def test_windows_stay_right_while_old_buckets_are_dropped_over_ten_days() -> None:
    book = BarometerBook(PARIS)
    start = NOW - timedelta(days=10)
    moments = [start + timedelta(minutes=minute) for minute in range(0, 10 * 24 * 60, 7)]
    for moment in moments:
        add(book, moment)

    counts = responses_by_window(book, NOW)

    hour_start = NOW.replace(second=0) - timedelta(minutes=59)
    week_start = NOW.replace(minute=0, second=0) - timedelta(hours=167)
    assert counts[Window.HOUR] == sum(moment >= hour_start for moment in moments) == 9
    assert counts[Window.WEEK] == sum(moment >= week_start for moment in moments)
    series = book._scopes[("store-1", None)]  # memory must stay bounded, whatever the traffic
    assert len(series.minutes._buckets) <= 2 * MINUTES_KEPT
    assert len(series.hours._buckets) <= 2 * HOURS_KEPT


def test_naive_datetimes_are_refused() -> None:
    book = BarometerBook(PARIS)
    with pytest.raises(ValueError, match="timezone-aware"):
        add(book, NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="timezone-aware"):
        book.snapshot(None, None, NOW.replace(tzinfo=None))


def test_score_outside_its_kind_range_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the csat range"):
        add(BarometerBook(PARIS), NOW, score_kind=ScoreKind.CSAT, score=9)


def test_hourly_has_one_point_per_utc_hour_of_the_week_oldest_first() -> None:
    book = BarometerBook(PARIS)
    for score in (10, 9, 0):
        add(book, NOW - timedelta(hours=3), score=score)
    add(book, NOW - timedelta(hours=167), score=6)
    add(book, NOW - timedelta(hours=168), score=10)  # kept by the book, but before the window
    add(book, NOW, score_kind=ScoreKind.CSAT, score=5)

    hourly = book.snapshot("store-1", None, NOW, hourly=True).hourly

    this_hour = NOW.replace(minute=0, second=0)
    assert [point.hour for point in hourly] == [
        this_hour - timedelta(hours=167 - i) for i in range(168)
    ]
    assert (hourly[-4].responses, hourly[-4].nps, hourly[-4].nps_responses) == (3, 33.3, 3)
    assert (hourly[0].responses, hourly[0].nps) == (1, -100.0)
    assert (hourly[-1].responses, hourly[-1].nps, hourly[-1].nps_responses) == (1, None, 0)
    empty = [point for i, point in enumerate(hourly) if i not in (0, 164, 167)]
    assert all(p.responses == 0 and p.nps is None and p.nps_responses == 0 for p in empty)


def test_hourly_adds_up_to_the_week_and_its_last_point_holds_answers_dated_after_now() -> None:
    book = BarometerBook(PARIS)
    for minutes in range(0, 9 * 24 * 60, 97):
        add(book, NOW - timedelta(minutes=minutes))
    add(book, NOW + timedelta(minutes=8))

    snapshot = book.snapshot(None, None, NOW, hourly=True)

    assert sum(p.responses for p in snapshot.hourly) == snapshot.windows[Window.WEEK].responses
    assert snapshot.hourly[-1].responses == 2  # 15:30 and 15:38


def test_snapshot_leaves_the_hourly_trend_out_unless_asked() -> None:
    book = BarometerBook(PARIS)
    add(book, NOW)

    assert book.snapshot("store-1", None, NOW).hourly == []
    assert len(BarometerBook(PARIS).snapshot("nowhere", None, NOW, hourly=True).hourly) == 168


def test_one_windows_barometer_is_the_snapshots() -> None:
    book = BarometerBook(PARIS)
    for i, score in enumerate((10, 3, 8, 9, 0)):
        add(book, NOW - timedelta(hours=5 * i), score=score, touchpoint="billing")

    snapshot = book.snapshot(None, "billing", NOW)

    for window in Window:
        assert book.barometer(None, "billing", window, NOW) == snapshot.windows[window]


def test_window_start_is_where_each_window_begins() -> None:
    book = BarometerBook(PARIS)

    assert book.window_start(Window.HOUR, NOW) == NOW.replace(second=0) - timedelta(minutes=59)
    # 15:30 UTC is 16:30 in Paris in March (UTC+1): the day began at 23:00 UTC the day before.
    assert book.window_start(Window.TODAY, NOW) == datetime(2024, 3, 13, 23, tzinfo=UTC)
    assert book.window_start(Window.WEEK, NOW) == datetime(2024, 3, 7, 16, tzinfo=UTC)


def test_touchpoints_lists_those_counted_over_every_org_unit() -> None:
    book = BarometerBook(PARIS)
    add(book, NOW, org_unit="store-2", touchpoint="renewal")
    add(book, NOW, touchpoint="billing")
    add(book, NOW, touchpoint="billing")

    assert book.touchpoints() == ["billing", "renewal"]
