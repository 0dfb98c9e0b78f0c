"""The Themes screen's figures: what customers talk about in a scope and period, each theme with
its volume, share, tone, NPS impact and change against the period before, summed from the
theme rows and the scope's counts (never from raw responses)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from app.core.aggregates import ThemeCounts
from app.core.barometer import Counts, nps


class Period(StrEnum):
    TODAY = "today"
    WEEK = "7d"
    FOUR_WEEKS = "28d"


_HOURS = {Period.WEEK: 7 * 24, Period.FOUR_WEEKS: 28 * 24}


def period_hours(period: Period, now: datetime, tz: ZoneInfo) -> tuple[int, int, int]:
    """The epoch hours (previous start, start, end) of a period as of `now`: TODAY is since
    local midnight, against the whole day before; the others are the last 7 or 28 days to the
    current hour, against as many days before them."""
    end = int(now.timestamp() // 3600) + 1
    if period is Period.TODAY:
        midnight = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        start = int(midnight.timestamp() // 3600)
        previous = int((midnight - timedelta(days=1)).timestamp() // 3600)
        return previous, start, end
    start = end - _HOURS[period]
    return start - _HOURS[period], start, end


class ThemeFigures(BaseModel):
    theme: str = Field(description="The theme's id; its names are in GET /api/v1/themes/taxonomy.")
    mentions: int = Field(description="Responses whose comment names the theme.")
    share: float | None = Field(
        description="% of the scope's read comments that name it, to 1 decimal."
    )
    negative: int
    neutral: int
    positive: int
    nps: float | None = Field(description="NPS of the responses naming it.")
    nps_responses: int
    nps_impact: float | None = Field(
        description="NPS of all responses minus NPS of those not naming it, in points: "
        "negative when the theme costs points. None without NPS answers on both sides."
    )
    previous_mentions: int
    previous_share: float | None
    share_change: float | None = Field(description="Share now minus share before, in points.")


class ThemeBoard(BaseModel):
    org_unit: str | None = Field(description="Null when the figures cover several units.")
    period: Period
    as_of: datetime
    since: datetime
    previous_since: datetime
    comments: int = Field(description="Comments read in the period: what shares are of.")
    nps: float | None
    nps_responses: int
    themes: list[ThemeFigures] = Field(
        description="Themes named in the period or the one before, most named first."
    )


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100 * part / whole, 1) + 0.0


def impact(total: Counts, theme: ThemeCounts) -> float | None:
    """NPS of all minus NPS without the theme's responses, to 1 decimal."""
    everyone = nps(total)
    rest = Counts(
        promoters=total.promoters - theme.promoters,
        passives=total.passives - theme.passives,
        detractors=total.detractors - theme.detractors,
    )
    without = nps(rest)
    if everyone is None or without is None:
        return None
    return round(everyone - without, 1) + 0.0


def board(
    *,
    org_unit: str | None,
    period: Period,
    as_of: datetime,
    hours: tuple[int, int, int],
    total: Counts,
    previous_total: Counts,
    themes: Mapping[str, ThemeCounts],
    previous: Mapping[str, ThemeCounts],
) -> ThemeBoard:
    """The board of a scope from its counts and its themes' counts, now and before."""
    comments, before = total.sentiment_responses, previous_total.sentiment_responses
    rows = []
    for theme in sorted(themes.keys() | previous.keys()):
        now, then = themes.get(theme, ThemeCounts()), previous.get(theme, ThemeCounts())
        share, previous_share = _share(now.mentions, comments), _share(then.mentions, before)
        change = None
        if share is not None and previous_share is not None:
            change = round(share - previous_share, 1) + 0.0
        theme_counts = Counts(
            promoters=now.promoters, passives=now.passives, detractors=now.detractors
        )
        rows.append(
            ThemeFigures(
                theme=theme,
                mentions=now.mentions,
                share=share,
                negative=now.negative,
                neutral=now.neutral,
                positive=now.positive,
                nps=nps(theme_counts),
                nps_responses=now.nps_responses,
                nps_impact=impact(total, now),
                previous_mentions=then.mentions,
                previous_share=previous_share,
                share_change=change,
            )
        )
    rows.sort(key=lambda r: (-r.mentions, -r.previous_mentions, r.theme))
    previous_start, start, _ = hours
    return ThemeBoard(
        org_unit=org_unit,
        period=period,
        as_of=as_of,
        since=datetime.fromtimestamp(start * 3600, as_of.tzinfo),
        previous_since=datetime.fromtimestamp(previous_start * 3600, as_of.tzinfo),
        comments=comments,
        nps=nps(total),
        nps_responses=total.nps_responses,
        themes=rows,
    )


class ThemeStep(BaseModel):
    touchpoint: str
    comments: int = Field(description="Comments read at this touchpoint in the period.")
    nps: float | None = Field(description="The touchpoint's NPS.")
    figures: ThemeFigures | None = Field(
        description="The theme at this touchpoint (impact: on the touchpoint's NPS); null when "
        "no comment of the period or the one before names it there."
    )


class ThemeJourney(BaseModel):
    """One theme along the journey: where customers meet what they complain (or rave) about."""

    org_unit: str | None
    period: Period
    as_of: datetime
    theme: str
    steps: list[ThemeStep] = Field(
        description="The journey's touchpoints in order, answered or not, then the others "
        "answered in the period, alphabetically (as GET /api/v1/journey)."
    )


# A drop alert names the themes whose part of what customers talk about grew the most: by at
# least GROWN_POINTS points of the mentions, named at least GROWN_MENTIONS times lately.
GROWN_POINTS = 10.0
GROWN_MENTIONS = 2
GROWN_LISTED = 3


def grown(recent: Mapping[str, int], week: Mapping[str, int]) -> list[tuple[str, float, float]]:
    """The themes a unit's customers talk about more now than over the week: (theme, share of
    the recent mentions, share of the week's), the most grown first. Shares are of theme
    mentions, so a quiet hour and a busy week compare."""
    recent_total, week_total = sum(recent.values()), sum(week.values())
    if not recent_total:
        return []
    found = []
    for theme, n in recent.items():
        now = n / recent_total
        before = week.get(theme, 0) / week_total if week_total else 0.0
        if n >= GROWN_MENTIONS and 100 * (now - before) >= GROWN_POINTS:
            found.append((theme, round(now, 2), round(before, 2)))
    found.sort(key=lambda g: (g[2] - g[1], g[0]))
    return found[:GROWN_LISTED]
