"""The ingest pipeline's store: the facts a batch asks for, and its writes in one transaction.

`BatchStore` is the port the worker talks to (app/core/ports.py `IngestStore`): it answers in
the kernel's types and says what went wrong in the kernel's words: `StoreUnavailable` when the
database cannot be reached (retry later), `TreeChanged` when the batch was counted for an older
org tree (count it again), and, per response, the database's reason when it refuses a row.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import SQLModel

from app.core.aggregates import Counted, epoch_minute, increments
from app.core.barometer import Counts
from app.core.errors import StoreUnavailable, TreeChanged
from app.core.org import OrgTree
from app.core.writes import Committed, Facts, FactsQuery, ThemeTally, Writes
from app.db import aggregates, alerting, bulk, directory, phrases
from app.db.models import AlertRow, PraiseRow, ResponseRow, ResponseThemeRow
from app.db.store import error_text, refuses_row

_RESPONSES = SQLModel.metadata.tables[ResponseRow.__tablename__]
_ALERTS = SQLModel.metadata.tables[AlertRow.__tablename__]
_PRAISE = SQLModel.metadata.tables[PraiseRow.__tablename__]
_THEMES = SQLModel.metadata.tables[ResponseThemeRow.__tablename__]
T = TypeVar("T")


class BatchStore:
    def __init__(self, engine: sa.Engine, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._units = directory.TreeCache(engine)
        self._counts = UnitCounts(clock)

    def tree(self, *, fresh: bool = False) -> OrgTree:
        return _reachable(self._units.refresh if fresh else self._units.get)

    def facts(self, query: FactsQuery) -> Facts:
        """The customers' earlier answers, read each time; the units' hour and week counts, read
        at most once a minute per unit (see `UnitCounts`)."""

        def read() -> Facts:
            with self._engine.connect() as connection:
                earlier = {}
                if query.customers and query.customers_since is not None:
                    earlier = alerting.earlier_dissatisfied(
                        connection, sorted(query.customers), query.customers_since
                    )
                stale = self._counts.stale(query.units)
                if stale:
                    minutes, hours = aggregates.unit_sums(
                        connection,
                        stale,
                        since_hour=query.since_hour,
                        since_minute=query.since_minute,
                    )
                    themes = aggregates.unit_theme_sums(
                        connection,
                        stale,
                        since_hour=query.since_hour,
                        recent_hour=query.recent_hour,
                    )
                    self._counts.read(stale, minutes, hours, themes, query)
            minutes, hours, themes = self._counts.of(query.units)
            return Facts(
                earlier=earlier, unit_minutes=minutes, unit_hours=hours, unit_themes=themes
            )

        return _reachable(read)

    def commit(self, writes: Writes) -> Committed:
        committed = _reachable(lambda: commit(self._engine, writes))
        self._counts.wrote([c for c in writes.counted if c.response_id in committed.stored])
        return committed

    def prune(self, now: datetime) -> None:
        def prune() -> None:
            with self._engine.begin() as connection:
                aggregates.prune_minutes(connection, now)
                phrases.prune(connection, now)

        _reachable(prune)


class UnitCounts:
    """Each unit's own counts over the HOUR and WEEK windows, as the drop rule compares them:
    read from the aggregates at most every READ_EVERY_S per unit, with what this store wrote
    since added. Summing a unit's last hour and week on every batch cost more than the rest of
    the batch once a company had a week of history; a baseline a minute old, missing another
    worker's last minute, makes no difference to a unit's hour-against-week drop.
    """

    READ_EVERY_S = 60.0

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._read_at: dict[str, float] = {}
        self._minutes: dict[str, Counts] = {}
        self._hours: dict[str, Counts] = {}
        self._themes: dict[str, ThemeTally] = {}
        self._since = (0, 0, 0)

    def stale(self, units: Iterable[str]) -> list[str]:
        now = self._clock()
        return sorted(
            u for u in units if now - self._read_at.get(u, -math.inf) >= self.READ_EVERY_S
        )

    def read(
        self,
        units: Sequence[str],
        minutes: Mapping[str, Counts],
        hours: Mapping[str, Counts],
        themes: Mapping[str, ThemeTally],
        query: FactsQuery,
    ) -> None:
        now = self._clock()
        self._since = (query.since_minute, query.since_hour, query.recent_hour)
        for unit in units:
            self._read_at[unit] = now
            self._minutes[unit] = minutes.get(unit, Counts())
            self._hours[unit] = hours.get(unit, Counts())
            self._themes[unit] = themes.get(unit, ThemeTally())

    def of(
        self, units: Iterable[str]
    ) -> tuple[dict[str, Counts], dict[str, Counts], dict[str, ThemeTally]]:
        wanted = [u for u in units if u in self._read_at]
        return (
            {u: self._minutes[u] for u in wanted},
            {u: self._hours[u] for u in wanted},
            {u: self._themes[u] for u in wanted},
        )

    def wrote(self, counted: Sequence[Counted]) -> None:
        since_minute, since_hour, recent_hour = self._since
        for item in counted:
            t = item.tally
            if t.org_unit not in self._read_at:
                continue
            minute = epoch_minute(t.submitted_at)
            record = (t.score_kind, t.score, t.polarity, t.dissatisfied, t.negative_comment)
            if minute >= since_minute:
                self._minutes[t.org_unit].record(*record)
            if minute // 60 >= since_hour:
                self._hours[t.org_unit].record(*record)
                for mention in item.themes:
                    self._themes[t.org_unit].add(mention.theme, recent=minute // 60 >= recent_hour)


def _reachable(step: Callable[[], T]) -> T:
    try:
        return step()
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise StoreUnavailable(error_text(exc)) from exc


def commit(engine: sa.Engine, writes: Writes) -> Committed:
    """Write the batch in one transaction. If the database refuses a row, write each response
    (with its alert and counts) in a transaction of its own, so the row costs only itself, and
    the units' alerts last."""
    try:
        return _commit(engine, writes)
    except Exception as exc:
        if not refuses_row(exc):
            raise
    stored: set[str] = set()
    alerts: dict[str, int] = {}
    refused: dict[str, str] = {}
    for item in writes.responses:
        key = item.response.response_id
        single = Writes(
            responses=[item],
            alerts=[a for a in writes.alerts if a.response_id == key],
            counted=[c for c in writes.counted if c.response_id == key],
            tree_version=writes.tree_version,
            praise=writes.praise & {key},
            said={key: writes.said[key]} if key in writes.said else {},
        )
        try:
            done = _commit(engine, single)
        except Exception as exc:
            if not refuses_row(exc):
                raise
            refused[key] = error_text(exc)
            continue
        stored |= done.stored
        alerts |= done.alerts
    units = Writes([], [a for a in writes.alerts if a.response_id is None], [], writes.tree_version)
    alerts |= _commit(engine, units).alerts
    return Committed(frozenset(stored), alerts, refused)


def _commit(engine: sa.Engine, writes: Writes) -> Committed:
    with engine.begin() as connection:
        new: dict[str, int] = {}
        if writes.responses:
            rows = [
                ResponseRow.values(s.response, s.assessment, s.received_at)
                for s in writes.responses
            ]
            inserted = bulk.insert_new(connection, _RESPONSES, rows, "response_id", "id")
            new = {key: row_id for key, row_id in inserted}
        themed = {
            (m.theme, new[s.response.response_id]): {
                "theme": m.theme,
                "response_row": new[s.response.response_id],
                "org_unit": s.response.org_unit,
                "tone": m.tone.value if m.tone is not None else None,
            }
            for s in writes.responses
            if s.response.response_id in new
            for m in s.assessment.themes
        }
        if themed:
            bulk.insert(connection, _THEMES, list(themed.values()))
        praised = {
            s.response.response_id: PraiseRow.values(s.response)
            for s in reversed(writes.responses)
            if s.response.response_id in writes.praise and s.response.response_id in new
        }
        if praised:
            # Of responses new in this transaction: no praise row of theirs can exist yet.
            connection.execute(sa.insert(_PRAISE), list(praised.values()))
        raised = [a for a in writes.alerts if a.response_id is None or a.response_id in new]
        alert_ids: dict[str, int] = {}
        if raised:
            values = [AlertRow.values(a) for a in raised]
            found = bulk.insert_new(connection, _ALERTS, values, "dedup_key", "id")
            alert_ids = {key: alert_id for key, alert_id in found}
            new_alerts = [a for a in raised if a.dedup_key in alert_ids]
            alerting.add_to_loop(connection, alerting.raised_loop(new_alerts))
        # Of a response listed twice, the first copy is the one stored, and counted.
        fresh = list(
            {c.response_id: c for c in reversed(writes.counted) if c.response_id in new}.values()
        )
        if fresh:
            # Last: the roll-up rows every worker adds to stay locked only until the commit.
            if aggregates.tree_version(connection, hold=True) != writes.tree_version:
                raise TreeChanged
            aggregates.add(connection, increments(fresh, now=datetime.now(UTC)))
            phrases.add(
                connection,
                [writes.said[c.response_id] for c in fresh if c.response_id in writes.said],
            )
    return Committed(frozenset(new), alert_ids)
