"""Rolled-up figures for any scope: the barometer and the journey of a set of units."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.core.barometer import BarometerBook
from app.core.events import BarometerSnapshot, ParentBarometer, Window
from app.core.journey import Journey, journey_of
from app.core.org import OrgTree, OrgUnit
from app.db import store


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
) -> BarometerSnapshot:
    """The figures of the units `covered` (empty: every unit) and `touchpoints` (empty: all),
    named after `label`, with the per-minute and per-hour trends; with the parent's figures
    beside them when `label` names a unit that has a parent."""
    parent = parent_of(tree, label)
    book, parent_book = BarometerBook(tz), BarometerBook(tz)
    # One pass: the parent's subtree holds the units asked for, so its responses feed both.
    loaded = tuple(sorted(tree.subtree(parent.id))) if parent is not None else tuple(covered)
    asked = frozenset(covered)
    for tally in store.tallies(
        engine, since=now - timedelta(days=7), org_units=loaded, touchpoints=touchpoints
    ):
        if parent is not None:
            parent_book.add(tally)
        if parent is None or tally.org_unit in asked:
            book.add(tally)
    # The book holds only the requested responses, so a (None, None) scope is their union.
    single_touchpoint = touchpoints[0] if len(touchpoints) == 1 else None
    snapshot = book.snapshot(None, single_touchpoint, now, hourly=True)
    snapshot.org_unit = label
    snapshot.windows = {w: snapshot.windows[w] for w in windows}
    if parent is not None:
        snapshot.parent = ParentBarometer(
            org_unit=parent.id,
            name=parent.name,
            windows={w: parent_book.barometer(None, single_touchpoint, w, now) for w in windows},
        )
    return snapshot


def journey(
    engine: sa.Engine,
    tz: ZoneInfo,
    *,
    covered: Sequence[str],
    steps: Sequence[str],
    label: str | None,
    window: Window,
    now: datetime,
) -> Journey:
    """Each touchpoint's figures over `window` for the units `covered` (empty: every unit)."""
    book = BarometerBook(tz)
    since = book.window_start(window, now)
    for tally in store.tallies(engine, since=since, org_units=covered):
        book.add(tally)
    return journey_of(book, journey=steps, org_unit=label, window=window, now=now)


def parent_of(tree: OrgTree, label: str | None) -> OrgUnit | None:
    unit = tree.get(label) if label is not None else None
    return tree.get(unit.parent) if unit is not None and unit.parent is not None else None
