"""The aggregate rows: adding a batch's counts, reading a scope's sums, rebuilding roll-ups.

Every figure of a unit, a region or the company is summed from these rows (see
app/core/aggregates.py for what they hold); raw responses are read only for the feed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import SQLModel

from app.core.aggregates import (
    COUNT_FIELDS,
    MINUTE_ROWS_KEPT,
    THEME_COUNT_FIELDS,
    Bucket,
    Increments,
    ThemeCounts,
    as_row,
    counts_of,
    epoch_minute,
    theme_counts_of,
    theme_row,
)
from app.core.barometer import CSAT_SATISFIED_FROM, PASSIVE_FROM, PROMOTER_FROM, Counts
from app.core.events import CES_HIGH_EFFORT_FROM
from app.core.org import OrgTree
from app.core.writes import ThemeTally
from app.db import bulk
from app.db.models import (
    OrgTreeStateRow,
    ResponseRow,
    RollupHourRow,
    RollupMinuteRow,
    RollupThemeHourRow,
    ThemeHourRow,
    UnitHourRow,
    UnitMinuteRow,
)

_T = SQLModel.metadata.tables
HOURS = _T[UnitHourRow.__tablename__]
MINUTES = _T[UnitMinuteRow.__tablename__]
ROLLUP_HOURS = _T[RollupHourRow.__tablename__]
ROLLUP_MINUTES = _T[RollupMinuteRow.__tablename__]
THEME_HOURS = _T[ThemeHourRow.__tablename__]
ROLLUP_THEME_HOURS = _T[RollupThemeHourRow.__tablename__]
TREE_STATE = _T[OrgTreeStateRow.__tablename__]
_RESPONSES = _T[ResponseRow.__tablename__]
# Each table of `Increments` with its bucket column.
_TABLES: dict[str, tuple[sa.Table, str]] = {
    "hours": (HOURS, "hour"),
    "minutes": (MINUTES, "minute"),
    "rollup_hours": (ROLLUP_HOURS, "hour"),
    "rollup_minutes": (ROLLUP_MINUTES, "minute"),
}


def tree_version(connection: sa.Connection, *, hold: bool = False) -> int:
    """The stored tree's version. `hold` keeps a share lock on it until the transaction ends
    (PostgreSQL; SQLite's single writer needs none), so the tree cannot change under a batch."""
    query = sa.select(TREE_STATE.c.version).where(TREE_STATE.c.id == 1)
    if hold:
        query = query.with_for_update(read=True)
    version = connection.execute(query).scalar()
    return int(version or 0)


def add(connection: sa.Connection, increments: Increments) -> None:
    """Add each row's counts (inserting the rows not there yet), tables and keys in a fixed
    order, so two workers adding to the same rows lock them in the same order."""
    for name, rows in increments.tables():
        if not rows:
            continue
        table, grain = _TABLES[name]
        values = [as_row(bucket, rows[bucket], grain) for bucket in sorted(rows)]
        bulk.add_counts(connection, table, ["org_unit", "touchpoint", "score_kind", grain], values)
    for table, theme_rows in (
        (THEME_HOURS, increments.themes),
        (ROLLUP_THEME_HOURS, increments.rollup_themes),
    ):
        if theme_rows:
            values = [theme_row(bucket, theme_rows[bucket]) for bucket in sorted(theme_rows)]
            bulk.add_counts(connection, table, ["org_unit", "touchpoint", "theme", "hour"], values)


def prune_minutes(connection: sa.Connection, now: datetime) -> None:
    """Delete minute rows no window reads any more."""
    oldest = epoch_minute(now - MINUTE_ROWS_KEPT)
    for table in (MINUTES, ROLLUP_MINUTES):
        connection.execute(sa.delete(table).where(table.c.minute < oldest))


def reshape(connection: sa.Connection, tree: OrgTree) -> None:
    """Store `tree.version` as the tree's and recount the roll-ups for it. The version row's
    lock, held until the commit, waits for the batches counting for the old tree."""
    state = TREE_STATE
    connection.execute(sa.update(state).where(state.c.id == 1).values(version=tree.version))
    rebuild_rollups(connection, tree)


# Each roll-up table, the own rows it sums, their keys but the unit, and their counts.
_Rollup = tuple[sa.Table, sa.Table, tuple[str, ...], tuple[str, ...]]
_COUNT_ROLLUPS: tuple[_Rollup, ...] = (
    (ROLLUP_HOURS, HOURS, ("touchpoint", "score_kind", "hour"), COUNT_FIELDS),
    (ROLLUP_MINUTES, MINUTES, ("touchpoint", "score_kind", "minute"), COUNT_FIELDS),
)
_ROLLUPS = (
    *_COUNT_ROLLUPS,
    (ROLLUP_THEME_HOURS, THEME_HOURS, ("touchpoint", "theme", "hour"), THEME_COUNT_FIELDS),
)


def rebuild_rollups(
    connection: sa.Connection, tree: OrgTree, rollups: Sequence[_Rollup] = _ROLLUPS
) -> None:
    """Recount every roll-up from the units' own rows, for `tree`: what a change of the tree's
    shape does, in the transaction that changes it."""
    for rollup, own, keys, counts in rollups:
        connection.execute(sa.delete(rollup))
        for unit in tree:
            if tree.is_leaf(unit.id):
                continue
            select = (
                sa.select(
                    sa.literal(unit.id, sa.String),
                    *(own.c[key] for key in keys),
                    *(sa.func.sum(own.c[name]) for name in counts),
                )
                .where(own.c.org_unit.in_(sorted(tree.subtree(unit.id))))
                .group_by(*(own.c[key] for key in keys))
            )
            columns = ["org_unit", *keys, *counts]
            connection.execute(sa.insert(rollup).from_select(columns, select))


def backfill(connection: sa.Connection, tree: OrgTree, now: datetime) -> None:
    """Count every stored response into the own rows (minutes: the last MINUTE_ROWS_KEPT only),
    then build the roll-ups: what the migration introducing aggregates does once."""
    r = _RESPONSES.c
    nps, csat, ces = (r.score_kind == kind for kind in ("nps", "csat", "ces"))
    one = sa.literal(1)

    def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, one), else_=0)), 0)

    def sum_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, r.score), else_=0)), 0)

    sums = [
        sa.func.count(),
        count_if(nps & (r.score >= PROMOTER_FROM)),
        count_if(nps & (r.score >= PASSIVE_FROM) & (r.score < PROMOTER_FROM)),
        count_if(nps & (r.score < PASSIVE_FROM)),
        count_if(csat),
        count_if(csat & (r.score >= CSAT_SATISFIED_FROM)),
        sum_if(csat),
        count_if(ces),
        sum_if(ces),
        count_if(ces & (r.score >= CES_HIGH_EFFORT_FROM)),
        sa.func.count(r.polarity),
        sa.func.coalesce(sa.func.sum(r.polarity), 0.0),
        count_if(r.dissatisfied.is_(True)),
        count_if(r.negative_comment.is_(True)),
    ]
    assert len(sums) == len(COUNT_FIELDS)
    seconds = _epoch_seconds(connection, r.submitted_at)
    for table, grain, length, since in (
        (HOURS, "hour", 3600, None),
        (MINUTES, "minute", 60, now - MINUTE_ROWS_KEPT),
    ):
        bucket = sa.cast(sa.func.floor(seconds / length), sa.Integer).label(grain)
        select = sa.select(r.org_unit, r.touchpoint, r.score_kind, bucket, *sums).group_by(
            r.org_unit, r.touchpoint, r.score_kind, bucket
        )
        if since is not None:
            select = select.where(r.submitted_at >= since)
        columns = ["org_unit", "touchpoint", "score_kind", grain, *COUNT_FIELDS]
        connection.execute(sa.insert(table).from_select(columns, select))
    # The theme rows came later (migration 0014), and start empty.
    rebuild_rollups(connection, tree, _COUNT_ROLLUPS)


def _epoch_seconds(
    connection: sa.Connection, column: sa.ColumnElement[datetime]
) -> sa.ColumnElement[float]:
    if connection.dialect.name == "postgresql":
        return sa.cast(sa.extract("epoch", column), sa.Float)
    # SQLite holds UTC timestamps as text; whole seconds are enough to floor to a minute.
    return sa.cast(sa.func.strftime("%s", column), sa.Integer)


def _split_tops(tree: OrgTree, covered: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """The top units of a scope: those read from their own rows (leaves, which roll into no
    roll-up of theirs) and those read from their roll-ups."""
    tops = tree.tops(covered)
    return [u for u in tops if tree.is_leaf(u)], [u for u in tops if not tree.is_leaf(u)]


@dataclass
class ScopeSums:
    """A scope's counts per touchpoint and bucket: the hours and minutes a snapshot reads."""

    hours: list[tuple[str, int, Counts]]
    minutes: list[tuple[str, int, Counts]]


def scope_sums(
    connection: sa.Connection,
    tree: OrgTree,
    *,
    covered: Sequence[str] | None,
    touchpoints: Sequence[str],
    since_hour: int,
    since_minute: int,
    by_touchpoint: bool = True,
) -> ScopeSums:
    """The counts of the units `covered` (None: every unit) per touchpoint and bucket, summed
    from the roll-ups of their tops (a leaf's own rows are its roll-up). Without
    `by_touchpoint`, per bucket only, over the `touchpoints` given (touchpoint "" in the
    answer): a few hundred rows for a week, however many touchpoints."""
    leaves, rolled = _split_tops(tree, covered)
    found: dict[str, list[tuple[str, int, Counts]]] = {"hour": [], "minute": []}
    for grain, own, rollup, since in (
        ("hour", HOURS, ROLLUP_HOURS, since_hour),
        ("minute", MINUTES, ROLLUP_MINUTES, since_minute),
    ):
        for table, units in ((own, leaves), (rollup, rolled)):
            if not units:
                continue
            touchpoint = table.c.touchpoint if by_touchpoint else sa.literal("")
            query = (
                sa.select(
                    touchpoint.label("touchpoint"),
                    table.c[grain],
                    *(sa.func.sum(table.c[name]).label(name) for name in COUNT_FIELDS),
                )
                .where(table.c.org_unit.in_(units), table.c[grain] >= since)
                .group_by(*([table.c.touchpoint] if by_touchpoint else []), table.c[grain])
            )
            if touchpoints:
                query = query.where(table.c.touchpoint.in_(touchpoints))
            for row in connection.execute(query):
                found[grain].append((row.touchpoint, row[1], counts_of(row)))
    return ScopeSums(found["hour"], found["minute"])


def scope_total(
    connection: sa.Connection,
    tree: OrgTree,
    *,
    covered: Sequence[str] | None,
    from_hour: int,
    until_hour: int,
    touchpoints: Sequence[str] = (),
) -> Counts:
    """The counts of the units `covered` (None: every unit) and `touchpoints` (empty: all) over
    the hours from `from_hour` to before `until_hour`."""
    total = Counts()
    for counts in touchpoint_totals(
        connection,
        tree,
        covered=covered,
        from_hour=from_hour,
        until_hour=until_hour,
        touchpoints=touchpoints,
    ).values():
        total.merge(counts)
    return total


def touchpoint_totals(
    connection: sa.Connection,
    tree: OrgTree,
    *,
    covered: Sequence[str] | None,
    from_hour: int,
    until_hour: int,
    touchpoints: Sequence[str] = (),
) -> dict[str, Counts]:
    """`scope_total` per touchpoint."""
    found: dict[str, Counts] = {}
    leaves, rolled = _split_tops(tree, covered)
    for table, units in ((HOURS, leaves), (ROLLUP_HOURS, rolled)):
        if not units:
            continue
        c = table.c
        query = (
            sa.select(c.touchpoint, *(sa.func.sum(c[name]).label(name) for name in COUNT_FIELDS))
            .where(c.org_unit.in_(units), c.hour >= from_hour, c.hour < until_hour)
            .group_by(c.touchpoint)
        )
        if touchpoints:
            query = query.where(c.touchpoint.in_(touchpoints))
        for row in connection.execute(query):
            found.setdefault(row.touchpoint, Counts()).merge(counts_of(row))
    return found


def unit_sums(
    connection: sa.Connection, units: Iterable[str], *, since_hour: int, since_minute: int
) -> tuple[dict[str, Counts], dict[str, Counts]]:
    """Each unit's own counts since `since_minute` and since `since_hour`: (minutes, hours)."""
    wanted = sorted(set(units))
    result: list[dict[str, Counts]] = []
    for table, grain, since in ((MINUTES, "minute", since_minute), (HOURS, "hour", since_hour)):
        sums: dict[str, Counts] = {}
        if wanted:
            query = (
                sa.select(
                    table.c.org_unit,
                    *(sa.func.sum(table.c[name]).label(name) for name in COUNT_FIELDS),
                )
                .where(table.c.org_unit.in_(wanted), table.c[grain] >= since)
                .group_by(table.c.org_unit)
            )
            sums = {row.org_unit: counts_of(row) for row in connection.execute(query)}
        result.append(sums)
    return result[0], result[1]


def theme_sums(
    connection: sa.Connection,
    tree: OrgTree,
    *,
    covered: Sequence[str] | None,
    touchpoints: Sequence[str],
    from_hour: int,
    until_hour: int,
    themes: Sequence[str] = (),
) -> dict[tuple[str, str], ThemeCounts]:
    """Each (touchpoint, theme)'s counts for the units `covered` (None: every unit),
    `touchpoints` and `themes` (empty: all) over the hours from `from_hour` to before
    `until_hour`, from the roll-ups of their tops: a row per touchpoint and theme of each top
    unit, whatever the number of stores."""
    leaves, rolled = _split_tops(tree, covered)
    found: dict[tuple[str, str], ThemeCounts] = {}
    for table, units in ((THEME_HOURS, leaves), (ROLLUP_THEME_HOURS, rolled)):
        if not units:
            continue
        c = table.c
        query = (
            sa.select(
                c.touchpoint,
                c.theme,
                *(sa.func.sum(c[name]).label(name) for name in THEME_COUNT_FIELDS),
            )
            .where(c.org_unit.in_(units), c.hour >= from_hour, c.hour < until_hour)
            .group_by(c.touchpoint, c.theme)
        )
        if touchpoints:
            query = query.where(c.touchpoint.in_(touchpoints))
        if themes:
            query = query.where(c.theme.in_(themes))
        for row in connection.execute(query):
            key = (row.touchpoint, row.theme)
            found.setdefault(key, ThemeCounts()).merge(theme_counts_of(row))
    return found


def unit_theme_sums(
    connection: sa.Connection, units: Iterable[str], *, since_hour: int, recent_hour: int
) -> dict[str, ThemeTally]:
    """Each unit's own theme mentions since `since_hour`, and since `recent_hour`."""
    wanted = sorted(set(units))
    found: dict[str, ThemeTally] = {}
    if not wanted:
        return found
    c = THEME_HOURS.c
    recent = sa.func.sum(sa.case((c.hour >= recent_hour, c.mentions), else_=0))
    query = (
        sa.select(
            c.org_unit, c.theme, sa.func.sum(c.mentions).label("week"), recent.label("recent")
        )
        .where(c.org_unit.in_(wanted), c.hour >= since_hour)
        .group_by(c.org_unit, c.theme)
    )
    for row in connection.execute(query):
        tally = found.setdefault(row.org_unit, ThemeTally())
        tally.week[row.theme] = int(row.week or 0)
        if row.recent:
            tally.recent[row.theme] = int(row.recent)
    return found


def rows_of(connection: sa.Connection, table: sa.Table) -> Mapping[Bucket, Counts]:
    """Every row of an aggregate table (for tests and checks)."""
    grain = "hour" if "hour" in table.c else "minute"
    return {
        Bucket(r.org_unit, r.touchpoint, r.score_kind, r._mapping[grain]): counts_of(r)
        for r in connection.execute(sa.select(table))
    }
