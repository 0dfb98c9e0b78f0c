"""Rolled-up figures for any scope: the barometer and the journey of a set of units, summed
from the aggregate rows of the scope's top units (see app/db/aggregates.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.core.aggregates import epoch_minute
from app.core.barometer import MINUTES_KEPT, BarometerBook
from app.core.events import BarometerSnapshot, ParentBarometer, Window
from app.core.journey import Journey, journey_of
from app.core.org import OrgTree, OrgUnit
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
