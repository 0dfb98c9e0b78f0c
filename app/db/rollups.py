"""Rolled-up figures for any scope: the barometer and the journey of a set of units, summed
from the aggregate rows of the scope's top units (see app/db/aggregates.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.core.aggregates import ThemeCounts, epoch_minute
from app.core.barometer import MINUTES_KEPT, BarometerBook, Counts
from app.core.events import BarometerSnapshot, ParentBarometer, Window
from app.core.journey import Journey, journey_of, step_order
from app.core.org import OrgTree, OrgUnit
from app.core.theme_board import (
    Period,
    ThemeBoard,
    ThemeJourney,
    ThemeStep,
    board,
    period_hours,
)
from app.db import aggregates

# Parents' figures already computed in one round, by parent unit, touchpoints and windows.
Parents = dict[tuple[str, tuple[str, ...], tuple[Window, ...]], ParentBarometer]


def barometer(
    engine: sa.Engine,
    tree: OrgTree,
    tz: ZoneInfo,
    *,
    covered: Sequence[str],
    touchpoints: Sequence[str],
    label: str | None,
    windows: Sequence[Window],
    now: datetime,
    parents: Parents | None = None,
) -> BarometerSnapshot:
    """The figures of the units `covered` (empty: every unit) and `touchpoints` (empty: all),
    named after `label`, with the per-minute and per-hour trends; with the parent's figures
    beside them when `label` names a unit that has a parent.

    `parents` shares parents' figures between the scopes of one computation round: the 40 stores
    of a region read the region once.
    """
    parent = parent_of(tree, label)
    beside: ParentBarometer | None = None
    with engine.connect() as connection:
        book = _book(connection, tree, tz, covered or None, touchpoints, now, by_touchpoint=False)
        if parent is not None:
            key = (parent.id, tuple(touchpoints), tuple(windows))
            beside = parents.get(key) if parents is not None else None
            if beside is None:
                parent_book = _book(
                    connection, tree, tz, [parent.id], touchpoints, now, by_touchpoint=False
                )
                beside = ParentBarometer(
                    org_unit=parent.id,
                    name=parent.name,
                    windows={w: parent_book.barometer(None, None, w, now) for w in windows},
                )
                if parents is not None:
                    parents[key] = beside
    # The book holds only the requested units and touchpoints: its (None, None) scope is them.
    snapshot = book.snapshot(None, None, now, hourly=True)
    snapshot.org_unit = label
    snapshot.touchpoint = touchpoints[0] if len(touchpoints) == 1 else None
    snapshot.windows = {w: snapshot.windows[w] for w in windows}
    snapshot.parent = beside
    return snapshot


def journey(
    engine: sa.Engine,
    tree: OrgTree,
    tz: ZoneInfo,
    *,
    covered: Sequence[str],
    steps: Sequence[str],
    label: str | None,
    window: Window,
    now: datetime,
) -> Journey:
    """Each touchpoint's figures over `window` for the units `covered` (empty: every unit)."""
    with engine.connect() as connection:
        book = _book(connection, tree, tz, covered or None, (), now)
    return journey_of(book, journey=steps, org_unit=label, window=window, now=now)


def theme_board(
    engine: sa.Engine,
    tree: OrgTree,
    tz: ZoneInfo,
    *,
    covered: Sequence[str],
    touchpoints: Sequence[str],
    label: str | None,
    period: Period,
    now: datetime,
) -> ThemeBoard:
    """What the units `covered` (empty: every unit) hear about over `period`, theme by theme,
    against the period before: four sums over the roll-ups of their top units."""
    hours = period_hours(period, now, tz)
    (total, themes), (before, earlier) = (
        (_merged(counts), _by_theme(found))
        for counts, found in _theme_sums(engine, tree, covered, touchpoints, (), hours)
    )
    return board(
        org_unit=label,
        period=period,
        as_of=now,
        hours=hours,
        total=total,
        previous_total=before,
        themes=themes,
        previous=earlier,
    )


def theme_journey(
    engine: sa.Engine,
    tree: OrgTree,
    tz: ZoneInfo,
    *,
    covered: Sequence[str],
    steps: Sequence[str],
    theme: str,
    label: str | None,
    period: Period,
    now: datetime,
) -> ThemeJourney:
    """One theme along the journey: at each touchpoint, how much of its comments name the theme,
    in what tone, and what it costs that touchpoint's NPS."""
    hours = period_hours(period, now, tz)
    (totals, found), (totals_before, found_before) = _theme_sums(
        engine, tree, covered, (), (theme,), hours
    )
    answered = [tp for tp, counts in totals.items() if counts.responses]
    journey_steps = []
    for touchpoint in step_order(steps, answered):
        figures = board(
            org_unit=label,
            period=period,
            as_of=now,
            hours=hours,
            total=totals.get(touchpoint, Counts()),
            previous_total=totals_before.get(touchpoint, Counts()),
            themes={theme: found[touchpoint, theme]} if (touchpoint, theme) in found else {},
            previous={theme: found_before[touchpoint, theme]}
            if (touchpoint, theme) in found_before
            else {},
        )
        journey_steps.append(
            ThemeStep(
                touchpoint=touchpoint,
                comments=figures.comments,
                nps=figures.nps,
                figures=figures.themes[0] if figures.themes else None,
            )
        )
    return ThemeJourney(org_unit=label, period=period, as_of=now, theme=theme, steps=journey_steps)


_Sums = tuple[dict[str, Counts], dict[tuple[str, str], ThemeCounts]]


def _theme_sums(
    engine: sa.Engine,
    tree: OrgTree,
    covered: Sequence[str],
    touchpoints: Sequence[str],
    themes: Sequence[str],
    hours: tuple[int, int, int],
) -> tuple[_Sums, _Sums]:
    """Per touchpoint, the scope's counts and its themes' counts, in the period and before."""
    previous, start, end = hours
    scope = covered or None
    found = []
    with engine.connect() as connection:
        for since, until in ((start, end), (previous, start)):
            totals = aggregates.touchpoint_totals(
                connection,
                tree,
                covered=scope,
                touchpoints=touchpoints,
                from_hour=since,
                until_hour=until,
            )
            named = aggregates.theme_sums(
                connection,
                tree,
                covered=scope,
                touchpoints=touchpoints,
                themes=themes,
                from_hour=since,
                until_hour=until,
            )
            found.append((totals, named))
    return found[0], found[1]


def _merged(counts: dict[str, Counts]) -> Counts:
    total = Counts()
    for each in counts.values():
        total.merge(each)
    return total


def _by_theme(found: dict[tuple[str, str], ThemeCounts]) -> dict[str, ThemeCounts]:
    themes: dict[str, ThemeCounts] = {}
    for (_, theme), counts in found.items():
        themes.setdefault(theme, ThemeCounts()).merge(counts)
    return themes


def _book(
    connection: sa.Connection,
    tree: OrgTree,
    tz: ZoneInfo,
    covered: Sequence[str] | None,
    touchpoints: Sequence[str],
    now: datetime,
    *,
    by_touchpoint: bool = True,
) -> BarometerBook:
    """A book holding the scope's hours of the last 8 days and minutes of the last 2 hours,
    summed over its units: what every window and trend of a snapshot as of `now` reads."""
    book = BarometerBook(tz)
    minute = epoch_minute(now)
    sums = aggregates.scope_sums(
        connection,
        tree,
        covered=covered,
        touchpoints=touchpoints,
        since_hour=epoch_minute(book.window_start(Window.WEEK, now)) // 60 - 24,
        since_minute=minute - MINUTES_KEPT,
        by_touchpoint=by_touchpoint,
    )
    for touchpoint, hour, counts in sums.hours:
        book.add_counts(None, touchpoint, counts, hour=hour)
    for touchpoint, at, counts in sums.minutes:
        book.add_counts(None, touchpoint, counts, minute=at)
    return book


def parent_of(tree: OrgTree, label: str | None) -> OrgUnit | None:
    unit = tree.get(label) if label is not None else None
    return tree.get(unit.parent) if unit is not None and unit.parent is not None else None
