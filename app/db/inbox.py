"""The alert inbox query: filters, search, what needs a human first, cases and incidents, pages
and counts per filter, all in SQL so a page costs the same with 50 alerts or 50,000."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from app.core.events import AlertState
from app.db.models import AlertRow, ResponseRow

_ALERTS = SQLModel.metadata.tables[AlertRow.__tablename__]
_RESPONSES = SQLModel.metadata.tables[ResponseRow.__tablename__]

UNRESOLVED = (AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value, AlertState.IN_PROGRESS.value)
_SEVERITY_RANK = {"high": 3, "medium": 2, "low": 1}


class Order(StrEnum):
    # Overdue first (longest overdue on top), then the nearest deadline, then severity, newest
    # first within equals: what needs a human first.
    URGENCY = "urgency"
    NEWEST = "newest"
    OLDEST = "oldest"
    SEVERITY = "severity"


@dataclass(frozen=True)
class InboxQuery:
    """Empty tuples match everything; `units` None: every unit (an admin). `scope`: every unit
    the caller may see (None: all), what the counts per unit are of."""

    units: tuple[str, ...] | None = None
    scope: tuple[str, ...] | None = None
    states: tuple[str, ...] = UNRESOLVED
    severities: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    touchpoints: tuple[str, ...] = ()
    # Usernames; "" stands for unassigned.
    assignees: tuple[str, ...] = ()
    text: str | None = None
    # Only alerts about a customer (frontline staff see callbacks, not a unit's NPS drop).
    customers_only: bool = False
    created_before: datetime | None = None
    order: Order = Order.URGENCY
    # Alerts of one case show as one item; more than `incident_over` alerts of one unit created
    # within `incident_window` show as one incident (0: never).
    cases: bool = True
    incident_over: int = 0
    incident_window: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class Item:
    """One line of the inbox: an alert, a case of several alerts of one customer, or an
    incident of many alerts of one unit; `alert_id` is its most pressing alert."""

    kind: str
    alert_id: int
    count: int
    key: str
    # Its alerts, oldest first (the alert itself for one alone).
    alert_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Page:
    items: list[Item]
    # Items (not alerts) matching, over every page.
    total: int


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(q: InboxQuery, skip: str = "") -> list[sa.ColumnElement[bool]]:
    """The query's filters, leaving out `skip` (for the counts of that filter's choices)."""
    a, r = _ALERTS.c, _RESPONSES.c
    where: list[sa.ColumnElement[bool]] = []
    if q.units is not None:
        where.append(a.org_unit.in_(q.units))
    if q.states and skip != "state":
        where.append(a.state.in_(q.states))
    if q.severities and skip != "severity":
        where.append(a.severity.in_(q.severities))
    if q.rules and skip != "rule":
        # The rules are a JSON list: matched as text, the same on SQLite and PostgreSQL.
        listed = sa.cast(a.rules, sa.Text)
        where.append(sa.or_(*(listed.like(f'%"{_escaped(r)}"%', escape="\\") for r in q.rules)))
    if q.touchpoints and skip != "touchpoint":
        where.append(a.touchpoint.in_(q.touchpoints))
    if q.assignees and skip != "assignee":
        named = [u for u in q.assignees if u]
        either = [a.assignee.in_(named)] if named else []
        if "" in q.assignees:
            either.append(a.assignee.is_(None))
        where.append(sa.or_(*either))
    if q.text:
        where.append(r.comment.ilike(f"%{_escaped(q.text)}%", escape="\\"))
    if q.customers_only:
        where.append(a.response_id.is_not(None))
    if q.created_before is not None:
        where.append(a.created_at < q.created_before)
    return where


def _source(q: InboxQuery) -> sa.FromClause:
    if q.text:
        return _ALERTS.join(_RESPONSES, _RESPONSES.c.response_id == _ALERTS.c.response_id)
    return _ALERTS


def _next_due() -> sa.ColumnElement[datetime]:
    a = _ALERTS.c
    return sa.case(
        (a.state == AlertState.OPEN.value, sa.func.coalesce(a.due_ack_at, a.due_resolve_at)),
        (a.state.in_(UNRESOLVED), a.due_resolve_at),
        else_=sa.null(),
    )


def _ordering(order: Order, columns: sa.ColumnCollection[str, Any]) -> list[Any]:
    c = columns
    if order is Order.NEWEST:
        return [c.created_at.desc(), c.id.desc()]
    if order is Order.OLDEST:
        return [c.created_at.asc(), c.id.asc()]
    if order is Order.SEVERITY:
        return [c.rank.desc(), c.created_at.desc(), c.id.desc()]
    # NULLS LAST spelled portably: SQLite sorts NULL first by default, PostgreSQL last.
    return [
        c.next_due.is_(None).asc(),
        c.next_due.asc(),
        c.rank.desc(),
        c.created_at.desc(),
        c.id.desc(),
    ]


def _columns(q: InboxQuery) -> sa.Select[Any]:
    """The matching alerts with what ordering and grouping need."""
    a = _ALERTS.c
    rank = sa.case(_SEVERITY_RANK, value=a.severity, else_=0)
    return (
        sa.select(
            a.id,
            a.org_unit,
            a.case_key,
            a.created_at,
            _next_due().label("next_due"),
            rank.label("rank"),
        )
        .select_from(_source(q))
        .where(*_conditions(q))
    )


def _hot_units(connection: sa.Connection, q: InboxQuery, cutoff: datetime) -> list[str]:
    """The units with more than `incident_over` matching alerts created since `cutoff`."""
    a = _ALERTS.c
    query = (
        sa.select(a.org_unit)
        .select_from(_source(q))
        .where(*_conditions(q), a.created_at >= cutoff)
        .group_by(a.org_unit)
        .having(sa.func.count() > q.incident_over)
    )
    return sorted(unit for (unit,) in connection.execute(query))


def page(
    connection: sa.Connection, q: InboxQuery, *, now: datetime, offset: int, limit: int
) -> Page:
    """One page of items, most pressing first, and how many there are.

    Groups (cases, incidents) are ordered by aggregates of their alerts (the nearest deadline,
    the highest severity, the newest), one hash aggregation over the matching alerts rather
    than a window over them sorted; each group on the page then shows its most pressing alert.
    """
    cutoff = now - q.incident_window
    hot = _hot_units(connection, q, cutoff) if q.incident_over > 0 else []
    matching = _columns(q).cte("matching")
    m = matching.c
    single = sa.literal("alert:") + sa.cast(m.id, sa.String)
    group: sa.ColumnElement[str] = m.case_key if q.cases else single
    if hot:
        burst = sa.and_(m.created_at >= cutoff, m.org_unit.in_(hot))
        group = sa.case((burst, sa.literal("incident:") + m.org_unit), else_=group)
    groups = (
        sa.select(
            group.label("key"),
            sa.func.count().label("size"),
            sa.func.min(m.next_due).label("next_due"),
            sa.func.max(m.rank).label("rank"),
            sa.func.max(m.created_at).label("created_at"),
            sa.func.min(m.created_at).label("first_at"),
            sa.func.max(m.id).label("id"),
            sa.func.min(m.id).label("first_id"),
        )
        .group_by(group)
        .subquery("groups")
    )
    g = groups.c
    order = _ordering(q.order, g)
    if q.order is Order.OLDEST:
        order = [g.first_at.asc(), g.first_id.asc()]
    # The total rides along with the page: one pass over the alerts, not two.
    listed = sa.select(g.key, g.size, g.id, sa.func.count().over().label("total"))
    rows = list(connection.execute(listed.order_by(*order).offset(offset).limit(limit)))
    if rows:
        total = int(rows[0].total)
    else:
        counted = sa.select(sa.func.count()).select_from(groups)
        total = int(connection.execute(counted).scalar_one())
    heads = _heads(connection, q, [r.key for r in rows if r.size > 1], hot, cutoff)
    items = []
    for key, size, alert_id, _ in rows:
        head, members = heads.get(key, (alert_id, [alert_id]))
        kind = "incident" if key.startswith("incident:") else "case" if size > 1 else "alert"
        items.append(Item(kind, head, size, key, tuple(members)))
    return Page(items, total)


def _heads(
    connection: sa.Connection,
    q: InboxQuery,
    keys: list[str],
    hot: list[str],
    cutoff: datetime,
) -> dict[str, tuple[int, list[int]]]:
    """The most pressing alert of each group of several alerts, by the inbox's order, and
    the group's alerts."""
    if not keys:
        return {}
    a = _ALERTS.c
    cases = [k for k in keys if not k.startswith("incident:")]
    bursts = [k.removeprefix("incident:") for k in keys if k.startswith("incident:")]
    members = _columns(q).where(
        sa.or_(a.case_key.in_(cases), sa.and_(a.org_unit.in_(bursts), a.created_at >= cutoff))
    )
    wanted, hot_units = set(keys), set(hot)
    best: dict[str, tuple[Any, ...]] = {}
    listed: dict[str, list[int]] = {}
    for row in connection.execute(members):
        key = row.case_key
        if row.org_unit in hot_units and row.created_at >= cutoff:
            key = f"incident:{row.org_unit}"
        if key not in wanted:
            continue
        listed.setdefault(key, []).append(row.id)
        rank = _sort_key(q.order, row)
        if key not in best or rank < best[key]:
            best[key] = rank
    return {key: (int(rank[-1]), sorted(listed[key])) for key, rank in best.items()}


def _sort_key(order: Order, row: Any) -> tuple[Any, ...]:
    """`_ordering` in Python, smallest first, the alert id last (and deciding)."""
    created = row.created_at.timestamp()
    if order is Order.NEWEST:
        return (-created, -row.id, row.id)
    if order is Order.OLDEST:
        return (created, row.id, row.id)
    if order is Order.SEVERITY:
        return (-row.rank, -created, -row.id, row.id)
    due = row.next_due.timestamp() if row.next_due is not None else None
    return (due is None, due or 0.0, -row.rank, -created, -row.id, row.id)


FACETS = ("state", "severity", "rule", "touchpoint", "assignee")


def counts(connection: sa.Connection, q: InboxQuery) -> dict[str, dict[str, int]]:
    """For each filter, how many alerts each of its choices would match with the other filters
    as they are (so choosing one shows what it would give). The assignee's unassigned are "";
    the units are those alerts belong to, within the caller's scope (each unit alone: the
    caller adds up subtrees).

    Two scans. The filters but the unit: the alerts of the units asked for, grouped by the few
    combinations of their values that occur, each filter's counts adding up the groups the
    others let through. The unit: the scope's alerts matching every other filter, by unit.
    """
    a = _ALERTS.c
    base = InboxQuery(
        units=q.units,
        states=(),
        text=q.text,
        customers_only=q.customers_only,
        created_before=q.created_before,
    )
    columns = (a.state, a.severity, a.touchpoint, sa.func.coalesce(a.assignee, ""))
    # The rules are a JSON list: grouped by its text, the same on SQLite and PostgreSQL.
    listed = sa.cast(a.rules, sa.Text)
    query = (
        sa.select(*columns, listed, sa.func.count())
        .select_from(_source(q))
        .where(*_conditions(base))
        .group_by(*columns, listed)
    )
    wanted = {
        "state": set(q.states),
        "severity": set(q.severities),
        "touchpoint": set(q.touchpoints),
        "assignee": set(q.assignees),
        "rule": set(q.rules),
    }
    rules_of: dict[str, list[str]] = {}
    out: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
    for state, severity, touchpoint, assignee, rules, n in connection.execute(query):
        if rules not in rules_of:
            rules_of[rules] = json.loads(rules) if rules else []
        values = {
            "state": [state],
            "severity": [severity],
            "touchpoint": [touchpoint or ""],
            "assignee": [assignee],
            "rule": rules_of[rules],
        }
        passes = {f: not wanted[f] or bool(wanted[f] & set(values[f])) for f in FACETS}
        for facet in FACETS:
            if all(passes[other] for other in FACETS if other != facet):
                for value in values[facet]:
                    out[facet][value] = out[facet].get(value, 0) + n
    in_scope = replace(q, units=q.scope if q.scope is not None else q.units)
    by_unit = (
        sa.select(a.org_unit, sa.func.count())
        .select_from(_source(q))
        .where(*_conditions(in_scope))
        .group_by(a.org_unit)
    )
    out["org_unit"] = {unit: n for unit, n in connection.execute(by_unit)}
    return out


def case_members(connection: sa.Connection, case_key: str) -> list[int]:
    """The alerts of one case, oldest first."""
    a = _ALERTS.c
    query = sa.select(a.id).where(a.case_key == case_key).order_by(a.id)
    return [alert_id for (alert_id,) in connection.execute(query)]


def matching_ids(connection: sa.Connection, q: InboxQuery, limit: int) -> list[int]:
    """The alerts matching `q` (not grouped), most pressing first: a bulk action's selection."""
    a = _ALERTS.c
    rank = sa.case(_SEVERITY_RANK, value=a.severity, else_=0)
    inner = (
        sa.select(a.id, a.created_at, _next_due().label("next_due"), rank.label("rank"))
        .select_from(_source(q))
        .where(*_conditions(q))
        .subquery()
    )
    query = sa.select(inner.c.id).order_by(*_ordering(q.order, inner.c)).limit(limit)
    return [alert_id for (alert_id,) in connection.execute(query)]
