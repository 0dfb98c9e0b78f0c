"""Barometer arithmetic: figures from counts, and a book of time-bucketed counts per scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from app.core.events import (
    CES_HIGH_EFFORT_FROM,
    FUTURE_SKEW,
    SCORE_RANGES,
    Barometer,
    BarometerSnapshot,
    HourPoint,
    ScoreKind,
    TrendPoint,
    Window,
)

PROMOTER_FROM = 9
PASSIVE_FROM = 7
CSAT_SATISFIED_FROM = 4

TREND_MINUTES = 60
WEEK_HOURS = 7 * 24
# Twice what the hour window and the week window read, so that responses dated a little after
# `now` (clock skew) or a snapshot taken a little behind the newest response still find them.
MINUTES_KEPT = 2 * TREND_MINUTES
HOURS_KEPT = 8 * 24

Scope = tuple[str | None, str | None]


@dataclass(slots=True)
class Counts:
    """What figures are computed from. Counts of two buckets or scopes add up; figures do not."""

    responses: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    csat_responses: int = 0
    csat_satisfied: int = 0
    csat_total: int = 0
    ces_responses: int = 0
    ces_total: int = 0
    ces_high_effort: int = 0
    sentiment_responses: int = 0
    sentiment_total: float = 0.0
    flagged: int = 0
    negative_comments: int = 0

    @property
    def nps_responses(self) -> int:
        return self.promoters + self.passives + self.detractors

    def record(
        self,
        score_kind: ScoreKind,
        score: int,
        polarity: float | None,
        dissatisfied: bool,
        negative_comment: bool = False,
    ) -> None:
        self.responses += 1
        if score_kind == ScoreKind.NPS:
            record_nps(self, score)
        elif score_kind == ScoreKind.CSAT:
            self.csat_responses += 1
            self.csat_total += score
            self.csat_satisfied += score >= CSAT_SATISFIED_FROM
        else:
            self.ces_responses += 1
            self.ces_total += score
            self.ces_high_effort += score >= CES_HIGH_EFFORT_FROM
        if polarity is not None:
            self.sentiment_responses += 1
            self.sentiment_total += polarity
        self.flagged += dissatisfied
        self.negative_comments += negative_comment

    def merge(self, other: Counts) -> None:
        self.responses += other.responses
        self.promoters += other.promoters
        self.passives += other.passives
        self.detractors += other.detractors
        self.csat_responses += other.csat_responses
        self.csat_satisfied += other.csat_satisfied
        self.csat_total += other.csat_total
        self.ces_responses += other.ces_responses
        self.ces_total += other.ces_total
        self.ces_high_effort += other.ces_high_effort
        self.sentiment_responses += other.sentiment_responses
        self.sentiment_total += other.sentiment_total
        self.flagged += other.flagged
        self.negative_comments += other.negative_comments


class NpsCounts(Protocol):
    promoters: int
    passives: int
    detractors: int


def record_nps(counts: NpsCounts, score: int) -> None:
    """Count an NPS answer as a promoter, a passive or a detractor."""
    if score >= PROMOTER_FROM:
        counts.promoters += 1
    elif score >= PASSIVE_FROM:
        counts.passives += 1
    else:
        counts.detractors += 1


def is_detractor(score_kind: ScoreKind, score: int) -> bool:
    return score_kind is ScoreKind.NPS and score < PASSIVE_FROM


def _ratio(part: float, whole: int, scale: int, digits: int) -> float | None:
    if whole == 0:
        return None
    # Adding 0.0 turns a rounded -0.0 into 0.0, which a cockpit would otherwise print as "-0".
    return round(scale * part / whole, digits) + 0.0


def nps(counts: Counts) -> float | None:
    """% promoters - % detractors over NPS answers, to 1 decimal; None without NPS answers."""
    return _ratio(counts.promoters - counts.detractors, counts.nps_responses, 100, 1)


def figures(counts: Counts) -> Barometer:
    """Percentages to 1 decimal, means to 2; a figure is None when its count is 0."""
    return Barometer(
        responses=counts.responses,
        nps=nps(counts),
        nps_responses=counts.nps_responses,
        promoters=counts.promoters,
        passives=counts.passives,
        detractors=counts.detractors,
        csat_pct=_ratio(counts.csat_satisfied, counts.csat_responses, 100, 1),
        csat_mean=_ratio(counts.csat_total, counts.csat_responses, 1, 2),
        csat_responses=counts.csat_responses,
        ces_mean=_ratio(counts.ces_total, counts.ces_responses, 1, 2),
        ces_responses=counts.ces_responses,
        sentiment_mean=_ratio(counts.sentiment_total, counts.sentiment_responses, 1, 2),
        sentiment_responses=counts.sentiment_responses,
        flagged=counts.flagged,
    )


class _Series:
    """Counts per time bucket (epoch minute or epoch hour), the last `kept` buckets kept."""

    __slots__ = ("_buckets", "_kept", "_pruned_below")

    def __init__(self, kept: int) -> None:
        self._kept = kept
        self._buckets: dict[int, Counts] = {}
        self._pruned_below = 0

    def bucket(self, key: int, newest: int) -> Counts | None:
        """The bucket to count into; None when `key` is too far behind the `newest` bucket."""
        oldest = newest - self._kept + 1
        if key < oldest:
            return None
        counts = self._buckets.get(key)
        if counts is None:
            # Pruning once per `kept` buckets of elapsed time keeps `add` O(1) amortized and holds
            # at most 2 x `kept` buckets, also in a scope that gets a response now and then.
            if oldest - self._pruned_below >= self._kept:
                self._buckets = {k: c for k, c in self._buckets.items() if k >= oldest}
                self._pruned_below = oldest
            counts = self._buckets[key] = Counts()
        return counts

    def get(self, key: int) -> Counts | None:
        return self._buckets.get(key)

    def total(self, first: int, last: int) -> Counts:
        """Sum of buckets `first` to `last`, both included."""
        total = Counts()
        for key in range(first, last + 1):
            counts = self._buckets.get(key)
            if counts is not None:
                total.merge(counts)
        return total


@dataclass(slots=True)
class _ScopeSeries:
    minutes: _Series = field(default_factory=lambda: _Series(MINUTES_KEPT))
    hours: _Series = field(default_factory=lambda: _Series(HOURS_KEPT))


# What a scope without responses reads from; never counted into.
_EMPTY = _ScopeSeries()


def _epoch(moment: datetime, name: str) -> float:
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")
    return moment.timestamp()


@dataclass(frozen=True, slots=True)
class Tally:
    """What the barometers need of one response."""

    org_unit: str
    touchpoint: str
    submitted_at: datetime
    score_kind: ScoreKind
    score: int
    polarity: float | None
    dissatisfied: bool
    negative_comment: bool = False


class BarometerBook:
    """Counts per scope, bucketed in time, and the windows and trends read from them: what a
    snapshot of a scope is computed from, summed from aggregate rows (`add_counts`) or counted
    response by response (`add`, which tests and benchmarks use as the reference).

    Scopes are (org unit, None), (org unit, touchpoint) and, for all org units together,
    (None, None) and (None, touchpoint). Responses are bucketed by `submitted_at`: per minute for
    the last two hours, per UTC hour for the last eight days. The book reads no clock: its time is
    the newest `submitted_at` it accepted, and it ignores responses a week older than that (see
    `add`). Snapshots are meant for a `now` at or after that time, or at most an hour behind it.

    Windows, as seen from `now`:
    - HOUR: the 60 minutes ending with now's minute (so 59 to 60 minutes back);
    - TODAY: since local midnight in `tz`. Hour buckets are UTC hours, so where the offset is not a
      whole hour (India, Nepal, Newfoundland...) TODAY starts at the UTC hour holding midnight and
      also counts the last 15 to 45 minutes of yesterday;
    - WEEK: the 168 hours ending with now's hour (so 167 to 168 hours back).
    Each also counts responses dated up to FUTURE_SKEW after now: a survey tool's clock running
    ahead should not keep a fresh answer off the barometer.

    The trend has one point per minute of the HOUR window, oldest first, empty minutes included
    (responses 0, nps None) so a sparkline has a fixed width; its last point also holds the
    answers dated after now. Minutes are in UTC. The hourly trend, when asked for, is the same
    per UTC hour of the WEEK window (168 points).

    Not thread-safe: one book per computation.
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz
        self._scopes: dict[Scope, _ScopeSeries] = {}
        self._newest_minute = 0

    def add(self, tally: Tally) -> bool:
        """Count one response in its four scopes; False, and ignored, when it is too old.

        Too old means before the WEEK window of the newest response added: more than 7 days
        older, or up to an hour less where it would fall in no window anyway.
        """
        t = tally
        low, high = SCORE_RANGES[t.score_kind]
        if not low <= t.score <= high:
            raise ValueError(
                f"score {t.score} is outside the {t.score_kind.value} range {low}-{high}"
            )
        minute = int(_epoch(t.submitted_at, "submitted_at") // 60)
        if minute // 60 <= self._newest_minute // 60 - WEEK_HOURS:
            return False
        self._newest_minute = newest = max(self._newest_minute, minute)
        for scope in (
            (t.org_unit, None),
            (t.org_unit, t.touchpoint),
            (None, None),
            (None, t.touchpoint),
        ):
            series = self._scopes.get(scope)
            if series is None:
                series = self._scopes[scope] = _ScopeSeries()
            for counts in (
                series.minutes.bucket(minute, newest),
                series.hours.bucket(minute // 60, newest // 60),
            ):
                if counts is not None:
                    counts.record(
                        t.score_kind, t.score, t.polarity, t.dissatisfied, t.negative_comment
                    )
        return True

    def add_counts(
        self,
        org_unit: str | None,
        touchpoint: str,
        counts: Counts,
        *,
        hour: int | None = None,
        minute: int | None = None,
    ) -> None:
        """Count what was already counted into one epoch hour (or one epoch minute) bucket of a
        scope, as aggregate rows hold it. Hours feed the TODAY and WEEK windows and the hourly
        trend; minutes the HOUR window and the per-minute trend: give both for a full snapshot.

        `org_unit` None counts only into the all-units scopes (a caller summing several units).
        """
        if minute is not None and hour is None:
            key, minutes = minute, True
        elif hour is not None and minute is None:
            key, minutes = hour, False
        else:
            raise ValueError("give either an hour or a minute")
        self._newest_minute = max(self._newest_minute, key if minutes else key * 60)
        scopes: list[Scope] = [(None, None), (None, touchpoint)]
        if org_unit is not None:
            scopes += [(org_unit, None), (org_unit, touchpoint)]
        for scope in scopes:
            series = self._scopes.get(scope)
            if series is None:
                series = self._scopes[scope] = _ScopeSeries()
            if minutes:
                bucket = series.minutes.bucket(key, self._newest_minute)
            else:
                bucket = series.hours.bucket(key, self._newest_minute // 60)
            if bucket is not None:
                bucket.merge(counts)

    def snapshot(
        self, org_unit: str | None, touchpoint: str | None, now: datetime, *, hourly: bool = False
    ) -> BarometerSnapshot:
        """The barometers of one scope as of `now`; a scope with no responses has empty figures.

        `hourly` adds the 168-point hourly trend; live events leave it out to stay small.
        """
        series = self._series(org_unit, touchpoint)
        minute = int(_epoch(now, "now") // 60)
        ahead = _ahead_minute(now)
        first_minute = self._first_minute(Window.HOUR, now)
        trend = [_trend_point(key, series.minutes.get(key)) for key in range(first_minute, minute)]
        trend.append(_trend_point(minute, series.minutes.total(minute, ahead)))
        hours: list[HourPoint] = []
        if hourly:
            hour = minute // 60
            first_hour = self._first_minute(Window.WEEK, now) // 60
            hours = [_hour_point(key, series.hours.get(key)) for key in range(first_hour, hour)]
            hours.append(_hour_point(hour, series.hours.total(hour, ahead // 60)))
        return BarometerSnapshot(
            org_unit=org_unit,
            touchpoint=touchpoint,
            as_of=now,
            windows={w: self.barometer(org_unit, touchpoint, w, now) for w in Window},
            trend=trend,
            hourly=hours,
        )

    def barometer(
        self, org_unit: str | None, touchpoint: str | None, window: Window, now: datetime
    ) -> Barometer:
        """The figures of one scope over one window as of `now`."""
        series = self._series(org_unit, touchpoint)
        first, ahead = self._first_minute(window, now), _ahead_minute(now)
        if window is Window.HOUR:
            return figures(series.minutes.total(first, ahead))
        return figures(series.hours.total(first // 60, ahead // 60))

    def window_start(self, window: Window, now: datetime) -> datetime:
        """The oldest `submitted_at` the window counts as of `now`: where loading history starts."""
        return datetime.fromtimestamp(self._first_minute(window, now) * 60, UTC)

    def touchpoints(self) -> list[str]:
        """The touchpoints of the responses counted, over every org unit, sorted."""
        return sorted(t for unit, t in self._scopes if unit is None and t is not None)

    def _series(self, org_unit: str | None, touchpoint: str | None) -> _ScopeSeries:
        return self._scopes.get((org_unit, touchpoint)) or _EMPTY

    def _first_minute(self, window: Window, now: datetime) -> int:
        """The epoch minute a window starts at; TODAY and WEEK start on a UTC hour."""
        minute = int(_epoch(now, "now") // 60)
        if window is Window.HOUR:
            return minute - TREND_MINUTES + 1
        if window is Window.TODAY:
            local = now.astimezone(self._tz)
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            return int(midnight.timestamp() // 3600) * 60
        return (minute // 60 - WEEK_HOURS + 1) * 60


def _ahead_minute(now: datetime) -> int:
    """The last minute a window counts: answers dated up to FUTURE_SKEW after now."""
    return int((_epoch(now, "now") + FUTURE_SKEW.total_seconds()) // 60)


def _counted(counts: Counts | None) -> dict[str, Any]:
    """A trend point's figures: an empty bucket has no answers and no NPS."""
    if counts is None:
        return {"responses": 0, "nps": None, "nps_responses": 0}
    return {
        "responses": counts.responses,
        "nps": nps(counts),
        "nps_responses": counts.nps_responses,
    }


def _trend_point(minute: int, counts: Counts | None) -> TrendPoint:
    return TrendPoint(minute=datetime.fromtimestamp(minute * 60, UTC), **_counted(counts))


def _hour_point(hour: int, counts: Counts | None) -> HourPoint:
    return HourPoint(hour=datetime.fromtimestamp(hour * 3600, UTC), **_counted(counts))
