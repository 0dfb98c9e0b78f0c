"""The alert workflow in one place: who may see and do what to an alert, the closed loop's
moves, assignment, frontline staff taking a callback, the outcome of a call, bulk actions,
escalation, and telling the cockpits. HTTP handlers and the escalation loop call it; it calls
the database and the hub, and words nothing itself (alerts.texts does)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool

from alerts.lifecycle import check_move
from app.alertdesk import loop
from app.core.access import Principal, Role
from app.core.errors import Refusal, VocError
from app.core.events import AlertEvent, AlertState, AlertView, ContactOutcome, LoopEvent
from app.core.i18n import N_
from app.core.settings import Settings
from app.db import alerting, directory, inbox
from app.db.models import AlertEventRow, AlertRow, UserRow
from app.hub.base import publish_saved
from app.notifications import SYSTEM, AlertNotifier

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Publish = Callable[[Sequence[bytes]], None]

UNRESOLVED = frozenset({AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.IN_PROGRESS})
# A bulk action touches at most this many alerts; the page says when a selection is larger.
BULK_MAX = 1000


class AlertNotFound(Refusal):
    """No such alert in the caller's units (the same answer either way, so ids reveal nothing)."""

    def __init__(self, alert_id: int) -> None:
        super().__init__(N_("alert {alert_id}: not found in your units"), alert_id=alert_id)


class AlertChanged(Refusal):
    """Someone changed the alert since it was read."""

    def __init__(self, alert_id: int) -> None:
        super().__init__(N_("alert {alert_id}: changed meanwhile; reload it"), alert_id=alert_id)


class AlertTaken(Refusal):
    """Someone else took the callback first."""

    def __init__(self, alert_id: int, username: str, display_name: str) -> None:
        super().__init__(
            N_("alert {alert_id}: {name} is already calling this customer"),
            alert_id=alert_id,
            name=display_name,
        )
        self.username, self.display_name = username, display_name


class NotAllowed(Refusal):
    """The caller's role may not do this (to this alert)."""


class InvalidStep(Refusal):
    """A step the closed loop refuses, or one missing what it needs (`field: problem`)."""


@dataclass(frozen=True)
class Detail:
    alert: AlertView
    history: list[AlertEventRow]
    # The other alerts of its customer's case, oldest first.
    case: list[AlertView]


@dataclass(frozen=True)
class BulkResult:
    done: list[int]
    # Alert id and why it was left as it was.
    skipped: list[tuple[int, str]]


class AlertDesk:
    def __init__(
        self,
        settings: Settings,
        engine: sa.Engine,
        units: directory.TreeCache,
        notifier: AlertNotifier | None,
        publish: Publish,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._settings, self._engine, self._units = settings, engine, units
        self._notifier, self._publish, self._clock = notifier, publish, clock
        self._readers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="alert-counts")

    # Reading

    def may_read(self, principal: Principal) -> bool:
        return principal.reads_alerts(self._settings.frontline_callbacks)

    def scope(self, principal: Principal, q: inbox.InboxQuery) -> inbox.InboxQuery:
        """`q` as this caller may ask it: frontline staff see their units' customer callbacks."""
        if not self.may_read(principal):
            raise NotAllowed(N_("role: alerts are for managers and admins"))
        visible = principal.visible(self._units.get())
        if visible is not None:
            units = visible if q.units is None else visible & set(q.units)
            q = replace(q, units=tuple(sorted(units)), scope=tuple(sorted(visible)))
        if principal.role is Role.FRONTLINE:
            q = replace(q, customers_only=True)
        return q

    def page(
        self,
        principal: Principal,
        q: inbox.InboxQuery,
        *,
        offset: int,
        limit: int,
        with_counts: bool = True,
    ) -> tuple[inbox.Page, dict[int, AlertView], dict[str, dict[str, int]]]:
        """A page of the inbox, the alerts it shows (contacts masked), and the counts per filter
        (none unless `with_counts`)."""
        q = self.scope(principal, q)
        # The counts read other rows than the page: both at once, on two connections.
        counting = self._readers.submit(self._counts, q) if with_counts else None
        with self._engine.connect() as connection:
            found = inbox.page(connection, q, now=self._clock(), offset=offset, limit=limit)
        views = {v.id: v for v in alerting.load(self._engine, [i.alert_id for i in found.items])}
        return found, views, counting.result() if counting is not None else {}

    def _counts(self, q: inbox.InboxQuery) -> dict[str, dict[str, int]]:
        """The counts per filter, a unit's with everything below it."""
        with self._engine.connect() as connection:
            counts = inbox.counts(connection, q)
        tree = self._units.get()
        rolled: dict[str, int] = {}
        for unit, n in counts["org_unit"].items():
            for holder in [unit, *tree.ancestors(unit)]:
                if q.scope is None or holder in q.scope:
                    rolled[holder] = rolled.get(holder, 0) + n
        return counts | {"org_unit": rolled}

    def close(self) -> None:
        self._readers.shutdown(wait=True)

    def select(self, principal: Principal, q: inbox.InboxQuery) -> list[int]:
        """A bulk action's selection: the alerts matching `q`, ungrouped, at most BULK_MAX."""
        self._need_manager(principal)
        with self._engine.connect() as connection:
            return inbox.matching_ids(connection, self.scope(principal, q), BULK_MAX)

    def detail(self, principal: Principal, alert_id: int) -> Detail:
        row = self._found(principal, alert_id)
        history = alerting.history(self._engine, alert_id)
        with self._engine.connect() as connection:
            others = [i for i in inbox.case_members(connection, row.case_key) if i != alert_id]
        case = alerting.load(self._engine, others) if others else []
        return Detail(self._view(principal, row), history, case)

    def assignees(self, principal: Principal, alert_id: int) -> list[UserRow]:
        """Who the alert may be given to: managers first, then admins, then frontline staff."""
        self._need_manager(principal)
        row = self._found(principal, alert_id)
        users = [u for u in directory.list_users(self._engine) if self._may_handle(u, row)]
        order = {Role.MANAGER.value: 0, Role.ADMIN.value: 1, Role.FRONTLINE.value: 2}
        users.sort(key=lambda u: (order.get(u.role, 3), u.username))
        return users

    # The loop

    def move(
        self,
        principal: Principal,
        alert_id: int,
        to: AlertState,
        *,
        note: str | None = None,
        root_cause: str | None = None,
    ) -> AlertView:
        """Acknowledge, start, resolve (with a note and a root cause), close or reopen."""
        self._need_manager(principal)
        row = self._found(principal, alert_id)
        current = AlertState(row.state)
        try:
            check_move(
                current,
                to,
                note=note,
                root_cause=root_cause,
                root_causes=self._settings.alert_root_causes,
            )
        except VocError as exc:
            raise InvalidStep.of(exc) from None
        values = _move_values(row, to, self._clock(), note=note, root_cause=root_cause)
        action = to.value if to is not AlertState.OPEN else "reopened"
        detail = {"note": note, "root_cause": root_cause}
        return self._change(principal, row, action=action, values=values, detail=detail)

    def assign(self, principal: Principal, alert_id: int, username: str) -> AlertView:
        """Give the alert to someone whose units include the alert's unit."""
        self._need_manager(principal)
        row = self._found(principal, alert_id)
        username = username.strip().lower()
        user = directory.get_user(self._engine, username)
        if user is None or not self._may_handle(user, row):
            raise InvalidStep(
                N_("username: {username} may not handle alerts of {unit}"),
                username=repr(username),
                unit=row.org_unit,
            )
        return self._change(
            principal,
            row,
            action="assigned",
            values={"assignee": username},
            detail={"assignee": username},
        )

    def take(self, principal: Principal, alert_id: int) -> AlertView:
        """ "I'll call": the caller takes the callback, first come first served. It is assigned
        to them and under way; frontline staff see the customer's contact only from now on."""
        if principal.role is Role.FRONTLINE and not self._settings.frontline_callbacks:
            raise NotAllowed(N_("role: frontline staff do not take callbacks here"))
        row = self._found(principal, alert_id)
        if row.response_id is None:
            raise InvalidStep(N_("alert: a unit's alert has no customer to call"))
        if row.assignee == principal.username:
            return self._view(principal, row)
        if row.assignee is not None:
            raise self._taken(alert_id, row.assignee)
        if AlertState(row.state) not in UNRESOLVED:
            raise InvalidStep(
                N_("state: the alert is {state}; there is no one left to call"), state=row.state
            )
        now = self._clock()
        values: dict[str, Any] = {"assignee": principal.username}
        if row.state != AlertState.IN_PROGRESS.value:
            values["state"] = AlertState.IN_PROGRESS.value
        if row.acknowledged_at is None:
            values["acknowledged_at"] = now
        try:
            return self._change(
                principal,
                row,
                action="taken",
                values=values,
                detail={"assignee": principal.username},
            )
        except AlertChanged:
            again = self._found(principal, alert_id)
            if again.assignee not in (None, principal.username):
                raise self._taken(alert_id, again.assignee) from None
            raise

    def record_contact(
        self,
        principal: Principal,
        alert_id: int,
        outcome: ContactOutcome,
        *,
        note: str | None = None,
        root_cause: str | None = None,
    ) -> AlertView:
        """How the call went. Reaching the customer is their first contact; resolving on the
        call resolves the alert (a note and a root cause, as any resolution)."""
        row = self._found(principal, alert_id)
        if principal.role is Role.FRONTLINE and row.assignee != principal.username:
            raise NotAllowed(N_("assignee: take the callback before recording a call"))
        if row.response_id is None:
            raise InvalidStep(N_("alert: a unit's alert has no customer to call"))
        current = AlertState(row.state)
        if current not in UNRESOLVED:
            raise InvalidStep(
                N_("state: the alert is {state}; reopen it to record a call"), state=row.state
            )
        now = self._clock()
        values: dict[str, Any] = {"contact_outcome": outcome.value}
        if outcome is not ContactOutcome.NO_ANSWER and row.first_contact_at is None:
            values["first_contact_at"] = now
        if outcome is ContactOutcome.RESOLVED:
            try:
                check_move(
                    current,
                    AlertState.RESOLVED,
                    note=note,
                    root_cause=root_cause,
                    root_causes=self._settings.alert_root_causes,
                )
            except VocError as exc:
                raise InvalidStep.of(exc) from None
            values |= _move_values(row, AlertState.RESOLVED, now, note=note, root_cause=root_cause)
        elif row.acknowledged_at is None:
            values |= {"state": AlertState.IN_PROGRESS.value, "acknowledged_at": now}
        detail = {"outcome": outcome.value, "note": note, "root_cause": root_cause}
        return self._change(principal, row, action="contacted", values=values, detail=detail)

    def bulk(
        self,
        principal: Principal,
        ids: Sequence[int],
        action: str,
        *,
        username: str | None = None,
    ) -> BulkResult:
        """Acknowledge or assign each alert of a selection; each is its own step, in its history
        and the audit log, and one that cannot be changed is skipped with the reason."""
        self._need_manager(principal)
        done: list[int] = []
        skipped: list[tuple[int, str]] = []
        for alert_id in dict.fromkeys(ids):
            try:
                if action == "acknowledge":
                    row = self._found(principal, alert_id)
                    if row.state != AlertState.OPEN.value:
                        skipped.append((alert_id, f"already {row.state}"))
                        continue
                    self.move(principal, alert_id, AlertState.ACKNOWLEDGED)
                elif action == "assign" and username:
                    self.assign(principal, alert_id, username)
                else:
                    raise InvalidStep(
                        f"action: acknowledge, or assign with a username; not {action}"
                    )
            except (AlertNotFound, AlertChanged) as exc:
                skipped.append((alert_id, str(exc)))
                continue
            done.append(alert_id)
        return BulkResult(done, skipped)

    # Escalation

    def escalate_overdue(self) -> list[AlertView]:
        """Escalate what is overdue now, one level up the tree per missed deadline; the alerts
        escalated. Every instance may run it: of two, one escalates and the other skips."""
        now = self._clock()
        escalated = []
        for row in alerting.overdue(self._engine, now):
            assert row.id is not None
            level = row.escalations + 1
            missed = "acknowledge" if row.state == AlertState.OPEN and level == 1 else "resolve"
            chain = self._units.get().ancestors(row.org_unit) or [row.org_unit]
            to_unit = chain[min(level, len(chain)) - 1]
            try:
                changed = alerting.change(
                    self._engine,
                    row,
                    actor=SYSTEM,
                    action="escalated",
                    values={"escalations": level},
                    detail={"to_unit": to_unit, "missed": missed, "level": level},
                )
            except alerting.Stale:
                continue  # acted on, or escalated by another instance, meanwhile
            view = alerting.views_of(self._engine, [changed])[0]
            if self._notifier is not None:
                self._notifier.escalated(view, to_unit)
            self._announce(view, with_loop=False)
            escalated.append(view)
        return escalated

    async def escalate_every(self, every_s: float) -> None:
        """Until cancelled; a failed round is logged and tried again next time."""
        while True:
            try:
                await run_in_threadpool(self.escalate_overdue)
            except Exception:
                log.exception("escalation round failed")
            await asyncio.sleep(every_s)

    # Figures

    def figures(self, units: tuple[str, ...], label: str | None, days: int) -> loop.LoopFigures:
        return loop.read(self._engine, self._units.get(), units, label, self._clock(), days)

    # The rest

    def _found(self, principal: Principal, alert_id: int) -> AlertRow:
        """The alert, if the caller may see it: one read."""
        if not self.may_read(principal):
            raise NotAllowed(N_("role: alerts are for managers and admins"))
        found = alerting.row(self._engine, alert_id)
        visible = principal.visible(self._units.get())
        if found is None or (visible is not None and found.org_unit not in visible):
            raise AlertNotFound(alert_id)
        if principal.role is Role.FRONTLINE and found.response_id is None:
            raise AlertNotFound(alert_id)
        return found

    def _view(self, principal: Principal, row: AlertRow) -> AlertView:
        """The alert with its customer's contact for whoever handles it: managers and admins of
        its units, and the frontline user who took it."""
        return alerting.views_of(self._engine, [row], reveal_contact=self._reveals(principal, row))[
            0
        ]

    @staticmethod
    def _reveals(principal: Principal, row: AlertRow) -> bool:
        return principal.role is not Role.FRONTLINE or row.assignee == principal.username

    def _need_manager(self, principal: Principal) -> None:
        if principal.role is Role.FRONTLINE:
            raise NotAllowed(N_("role: managers and admins only"))

    def _may_handle(self, user: UserRow, row: AlertRow) -> bool:
        """An enabled manager or admin whose units include the alert's unit; frontline staff of
        its units too, for a customer's alert, where they take callbacks."""
        if user.disabled:
            return False
        if user.role == Role.FRONTLINE.value and (
            not self._settings.frontline_callbacks or row.response_id is None
        ):
            return False
        visible = directory.principal(user).visible(self._units.get())
        return visible is None or row.org_unit in visible

    def _taken(self, alert_id: int, username: str) -> AlertTaken:
        user = directory.get_user(self._engine, username)
        return AlertTaken(alert_id, username, user.display_name if user else username)

    def _change(
        self,
        principal: Principal,
        row: AlertRow,
        *,
        action: str,
        values: dict[str, Any],
        detail: dict[str, Any],
    ) -> AlertView:
        """Apply a step to the alert as read: refused (AlertChanged) if someone changed it
        meanwhile, e.g. took the callback first."""
        assert row.id is not None
        given = {k: v for k, v in detail.items() if v is not None}
        try:
            changed = alerting.change(
                self._engine,
                row,
                actor=principal.username,
                action=action,
                values=values,
                detail=given,
            )
        except alerting.Stale:
            raise AlertChanged(row.id) from None
        masked, revealed = alerting.masked_and_revealed(self._engine, changed)
        # The alert keeps its own history; the audit log lists it beside sign-ins and admin
        # changes.
        directory.audit(
            self._engine,
            actor=principal.username,
            action=f"alert.{action}",
            target=f"alert/{row.id}",
            org_unit=row.org_unit,
        )
        self._announce(masked, with_loop=True)
        return revealed if self._reveals(principal, changed) else masked

    def _announce(self, view: AlertView, *, with_loop: bool) -> None:
        """Push the changed alert (masked, like every live event) and, after a person's step,
        its unit's new closed-loop figures to the cockpits."""
        payloads = [AlertEvent.payload(view)]
        if with_loop:
            figures = self.figures((view.org_unit,), view.org_unit, 7)
            payloads.append(
                LoopEvent(org_unit=view.org_unit, data=figures).model_dump_json().encode()
            )
        publish_saved(self._publish, payloads)


def _move_values(
    row: AlertRow, to: AlertState, now: datetime, *, note: str | None, root_cause: str | None
) -> dict[str, Any]:
    values: dict[str, Any] = {"state": to.value}
    if row.acknowledged_at is None and to is not AlertState.OPEN:
        values["acknowledged_at"] = now
    if to is AlertState.RESOLVED:
        values |= {"resolved_at": now, "root_cause": root_cause, "resolution_note": note}
        if row.response_id is not None and row.first_contact_at is None:
            # Resolving a customer's alert is reaching them, if no call was recorded before.
            values["first_contact_at"] = now
    elif to is AlertState.CLOSED:
        values["closed_at"] = now
    elif to is AlertState.OPEN:
        values |= {"resolved_at": None, "closed_at": None}
    return values
