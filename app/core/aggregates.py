"""What a batch adds to the aggregate rows: counts per unit, touchpoint, score kind and bucket,
and per unit, touchpoint, theme and hour.

Every rolled-up figure is a sum of these rows. Two grains: epoch hours (the TODAY and WEEK windows,
the hourly trend, kept) and epoch minutes (the HOUR window and its per-minute trend, kept for
MINUTE_ROWS_KEPT only). Each grain has two sets of rows: a unit's own responses, and the roll-ups of
the units with units below them (their own responses and their whole subtree's), so a region or
the company reads a few rows per bucket whatever the number of stores.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from app.core.barometer import Counts, Tally, record_nps
from app.core.events import ScoreKind, ThemeMention, Tone

# Minute rows older than this are deleted: the HOUR window reads the last 60 minutes (twice
# that of margin, for clocks and for a snapshot taken a little behind), never more.
MINUTE_ROWS_KEPT = timedelta(hours=3)
COUNT_FIELDS = tuple(f.name for f in fields(Counts))


@dataclass(slots=True)
class ThemeCounts:
    """What the Themes screen computes a theme's figures from: the responses whose comment
    names it, their NPS answers, and the tone they name it in. They add up like `Counts`."""

    mentions: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0

    @property
    def nps_responses(self) -> int:
        return self.promoters + self.passives + self.detractors

    def record(self, score_kind: ScoreKind, score: int, tone: Tone | None) -> None:
        self.mentions += 1
        if score_kind == ScoreKind.NPS:
            record_nps(self, score)
        if tone is Tone.NEGATIVE:
            self.negative += 1
        elif tone is Tone.NEUTRAL:
            self.neutral += 1
        elif tone is Tone.POSITIVE:
            self.positive += 1

    def merge(self, other: ThemeCounts) -> None:
        for name in THEME_COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


THEME_COUNT_FIELDS = tuple(f.name for f in fields(ThemeCounts))


@dataclass(frozen=True, slots=True, order=True)
class ThemeBucket:
    """The key of a theme row: a unit's responses of one epoch hour that name `theme`."""

    org_unit: str
    touchpoint: str
    theme: str
    hour: int


@dataclass(frozen=True, slots=True, order=True)
class Bucket:
    """The key of an aggregate row; `at` is an epoch hour or an epoch minute."""

    org_unit: str
    touchpoint: str
    score_kind: str
    at: int


@dataclass(frozen=True, slots=True)
class Counted:
    """A response as the aggregates count it, and the units its roll-ups go to."""

    response_id: str
    tally: Tally
    rolled_into: tuple[str, ...]
    themes: tuple[ThemeMention, ...] = ()


@dataclass
class Increments:
    """What to add to each aggregate row, by table."""

    hours: dict[Bucket, Counts] = field(default_factory=dict)
    minutes: dict[Bucket, Counts] = field(default_factory=dict)
    rollup_hours: dict[Bucket, Counts] = field(default_factory=dict)
    rollup_minutes: dict[Bucket, Counts] = field(default_factory=dict)
    themes: dict[ThemeBucket, ThemeCounts] = field(default_factory=dict)
    rollup_themes: dict[ThemeBucket, ThemeCounts] = field(default_factory=dict)

    def tables(self) -> Iterator[tuple[str, dict[Bucket, Counts]]]:
        yield from (
            ("hours", self.hours),
            ("minutes", self.minutes),
            ("rollup_hours", self.rollup_hours),
            ("rollup_minutes", self.rollup_minutes),
        )


def epoch_minute(moment: datetime) -> int:
    return int(moment.timestamp() // 60)


def increments(counted: Iterable[Counted], *, now: datetime) -> Increments:
    """Sum responses into the rows they add to. Minutes older than MINUTE_ROWS_KEPT before `now`
    (imported history) go to the hour rows only."""
    result = Increments()
    oldest_minute = epoch_minute(now - MINUTE_ROWS_KEPT)
    for item in counted:
        t = item.tally
        minute = epoch_minute(t.submitted_at)
        hour = minute // 60
        kind = t.score_kind.value
        targets: list[tuple[dict[Bucket, Counts], str, int]] = [(result.hours, t.org_unit, hour)]
        targets += [(result.rollup_hours, unit, hour) for unit in item.rolled_into]
        if minute >= oldest_minute:
            targets.append((result.minutes, t.org_unit, minute))
            targets += [(result.rollup_minutes, unit, minute) for unit in item.rolled_into]
        for rows, unit, at in targets:
            key = Bucket(unit, t.touchpoint, kind, at)
            counts = rows.get(key)
            if counts is None:
                counts = rows[key] = Counts()
            counts.record(t.score_kind, t.score, t.polarity, t.dissatisfied, t.negative_comment)
        theme_targets = [(result.themes, t.org_unit)]
        theme_targets += [(result.rollup_themes, unit) for unit in item.rolled_into]
        for mention in item.themes:
            for theme_rows, unit in theme_targets:
                theme_key = ThemeBucket(unit, t.touchpoint, mention.theme, hour)
                theme_counts = theme_rows.get(theme_key)
                if theme_counts is None:
                    theme_counts = theme_rows[theme_key] = ThemeCounts()
                theme_counts.record(t.score_kind, t.score, mention.tone)
    return result


def as_row(bucket: Bucket, counts: Counts, grain: str) -> dict[str, object]:
    """An aggregate row's column values; `grain` is the bucket column ("hour" or "minute")."""
    row: dict[str, object] = {
        "org_unit": bucket.org_unit,
        "touchpoint": bucket.touchpoint,
        "score_kind": bucket.score_kind,
        grain: bucket.at,
    }
    for name in COUNT_FIELDS:
        row[name] = getattr(counts, name)
    return row


def theme_row(bucket: ThemeBucket, counts: ThemeCounts) -> dict[str, object]:
    row: dict[str, object] = {
        "org_unit": bucket.org_unit,
        "touchpoint": bucket.touchpoint,
        "theme": bucket.theme,
        "hour": bucket.hour,
    }
    for name in THEME_COUNT_FIELDS:
        row[name] = getattr(counts, name)
    return row


def theme_counts_of(row: object) -> ThemeCounts:
    """The counts of a theme row read back (PostgreSQL sums come back as NUMERIC)."""
    return ThemeCounts(*(int(getattr(row, name) or 0) for name in THEME_COUNT_FIELDS))


def counts_of(row: object) -> Counts:
    """The counts of an aggregate row read back (any object with the count columns).

    PostgreSQL sums integers as NUMERIC: each value is brought back to its field's type.
    """
    counts = Counts()
    for name in COUNT_FIELDS:
        setattr(counts, name, int(getattr(row, name) or 0))
    counts.sentiment_total = float(getattr(row, "sentiment_total") or 0.0)  # noqa: B009
    return counts
