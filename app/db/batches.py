"""The ingest pipeline's store: the facts a batch asks for, and its writes in one transaction.

`BatchStore` is the port the worker talks to (app/core/ports.py `IngestStore`): it answers in
the kernel's types and says what went wrong in the kernel's words: `StoreUnavailable` when the
database cannot be reached (retry later), `TreeChanged` when the batch was counted for an older
org tree (count it again), and, per response, the database's reason when it refuses a row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import SQLModel

from app.core.aggregates import increments
from app.core.errors import StoreUnavailable, TreeChanged
from app.core.org import OrgTree
from app.core.writes import Committed, Facts, FactsQuery, Writes
from app.db import aggregates, alerting, directory
from app.db.models import AlertRow, ResponseRow
from app.db.store import error_text, insert_new_only, refuses_row

_RESPONSES = SQLModel.metadata.tables[ResponseRow.__tablename__]
_ALERTS = SQLModel.metadata.tables[AlertRow.__tablename__]
T = TypeVar("T")


class BatchStore:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._units = directory.TreeCache(engine)

    def tree(self, *, fresh: bool = False) -> OrgTree:
        return _reachable(self._units.refresh if fresh else self._units.get)

    def facts(self, query: FactsQuery) -> Facts:
        return _reachable(lambda: facts(self._engine, query))

    def commit(self, writes: Writes) -> Committed:
        return _reachable(lambda: commit(self._engine, writes))

    def prune(self, now: datetime) -> None:
        def prune() -> None:
            with self._engine.begin() as connection:
                aggregates.prune_minutes(connection, now)

        _reachable(prune)


def _reachable(step: Callable[[], T]) -> T:
    try:
        return step()
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise StoreUnavailable(error_text(exc)) from exc


def facts(engine: sa.Engine, query: FactsQuery) -> Facts:
    with engine.connect() as connection:
        earlier = {}
        if query.customers and query.customers_since is not None:
            earlier = alerting.earlier_dissatisfied(
                connection, sorted(query.customers), query.customers_since
            )
        minutes, hours = aggregates.unit_sums(
            connection, query.units, since_hour=query.since_hour, since_minute=query.since_minute
        )
    return Facts(earlier=earlier, unit_minutes=minutes, unit_hours=hours)


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
        new: set[str] = set()
        if writes.responses:
            rows = [
                ResponseRow.values(s.response, s.assessment, s.received_at)
                for s in writes.responses
            ]
            # Rows as execute-many parameters, not .values(rows): the statement then compiles
            # once and is cached, where a 500-row VALUES clause took ~200 ms on every batch.
            insert = insert_new_only(engine, _RESPONSES, "response_id")
            new = set(connection.execute(insert, rows).scalars())
        raised = [a for a in writes.alerts if a.response_id is None or a.response_id in new]
        alert_ids: dict[str, int] = {}
        if raised:
            insert = insert_new_only(engine, _ALERTS, "dedup_key")
            values = [AlertRow.values(a) for a in raised]
            found = connection.execute(insert.returning(_ALERTS.c.dedup_key), values)
            alert_ids = {key: alert_id for alert_id, key in found}
        # Of a response listed twice, the first copy is the one stored, and counted.
        fresh = list(
            {c.response_id: c for c in reversed(writes.counted) if c.response_id in new}.values()
        )
        if fresh:
            # Last: the roll-up rows every worker adds to stay locked only until the commit.
            if aggregates.tree_version(connection, hold=True) != writes.tree_version:
                raise TreeChanged
            aggregates.add(connection, increments(fresh, now=datetime.now(UTC)))
    return Committed(frozenset(new), alert_ids)
