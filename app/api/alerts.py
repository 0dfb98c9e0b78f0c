"""Alerts API: the managers' inbox, one alert with its history, and moving it through the loop."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from alerts.figures import AlertTimes, Detractor, loop_figures, past_until
from alerts.lifecycle import InvalidTransition, check_move
from alerts.rules import RuleBook
from app import metrics
from app.api.deps import PrincipalDep, Runtime, RuntimeDep
from app.api.errors import SIGNED_IN, documented
from app.core.access import Principal, Role, resolve_units
from app.core.aggregates import epoch_minute
from app.core.errors import HubUnavailable
from app.core.events import (
    AlertEvent,
    AlertState,
    AlertView,
    LoopEvent,
    LoopFigures,
    Severity,
)
from app.core.org import OrgTree
from app.db import aggregates, alerting, directory
from app.db.models import AlertEventRow, AlertRow, ResponseRow, UserRow
from app.db.store import MAX_ID

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1/alerts",
    tags=["alerts"],
    responses={
        **SIGNED_IN,
        **documented(_404="No such alert in your units.", _409="The alert changed meanwhile."),
    },
)


def _manager(principal: PrincipalDep) -> Principal:
    if principal.role is Role.FRONTLINE:
        raise HTTPException(403, "role: alerts are for managers and admins")
    return principal


ManagerDep = Annotated[Principal, Depends(_manager)]
AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]


class AlertPage(BaseModel):
    items: list[AlertView]
    next_before: int | None = Field(description="Pass as `before` for the next, older page.")


class Step(BaseModel):
    at: datetime
    actor: str
    action: str
    from_state: AlertState | None
    to_state: AlertState | None
    detail: dict[str, Any]


class AlertDetail(BaseModel):
    alert: AlertView
    history: list[Step] = Field(description="Every change, oldest first.")


class Move(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: AlertState
    note: str | None = Field(default=None, max_length=4000)
    root_cause: str | None = Field(default=None, max_length=64)


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)


@router.get("/rules")
async def rules(runtime: RuntimeDep, _: ManagerDep) -> RuleBook:
    """The rules alerts are raised by; each alert names the version and rules that raised it."""
    return runtime.rules


class RootCauses(BaseModel):
    root_causes: list[str] = Field(description="What a resolution may name, in this order.")


@router.get("/root-causes")
async def root_causes(runtime: RuntimeDep, _: ManagerDep) -> RootCauses:
    """The root causes resolving an alert must name one of (VOC_ALERT_ROOT_CAUSES)."""
    return RootCauses(root_causes=runtime.settings.alert_root_causes)


@router.get("")
async def list_alerts(
    runtime: RuntimeDep,
    principal: ManagerDep,
    org_unit: Annotated[Sequence[str], Query(max_length=200)] = (),
    state: Annotated[Sequence[AlertState], Query(max_length=5)] = (),
    severity: Annotated[Sequence[Severity], Query(max_length=4)] = (),
    older_than_minutes: Annotated[int | None, Query(ge=0, le=525_600)] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AlertPage:
    """Newest first, within the caller's units (a unit includes the units below it)."""
    tree = await run_in_threadpool(runtime.units.get)
    requested = [u.strip().lower() for u in org_unit]
    covered = resolve_units(requested, tree=tree, visible=principal.visible(tree))
    created_before = None
    if older_than_minutes is not None:
        created_before = datetime.now(UTC) - timedelta(minutes=older_than_minutes)
    where = alerting.AlertFilter(
        org_units=tuple(sorted(covered)) if covered is not None else (),
        states=tuple(state),
        severities=tuple(severity),
        created_before=created_before,
    )
    items, next_before = await run_in_threadpool(
        lambda: alerting.list_alerts(runtime.engine, where=where, before=before, limit=limit)
    )
    return AlertPage(items=items, next_before=next_before)


@router.get("/figures")
async def figures(
    runtime: RuntimeDep,
    principal: ManagerDep,
    org_unit: Annotated[Sequence[str], Query(max_length=200)] = (),
    days: Annotated[int, Query(ge=1, le=90)] = 7,
) -> LoopFigures:
    """How the loop is closed in these units (and below): median time to acknowledge and to
    resolve, % of detractors called back within 48 h, unresolved alerts by age."""
    tree = await run_in_threadpool(runtime.units.get)
    requested = [u.strip().lower() for u in org_unit]
    covered = resolve_units(requested, tree=tree, visible=principal.visible(tree))
    units = tuple(sorted(covered)) if covered is not None else ()
    label = requested[0] if len(requested) == 1 else None
    return await run_in_threadpool(_figures, runtime, units, label, datetime.now(UTC), days)


def _figures(
    runtime: Runtime, units: tuple[str, ...], label: str | None, now: datetime, days: int
) -> LoopFigures:
    since = now - timedelta(days=days)
    until = past_until(now)
    with runtime.engine.connect() as connection:
        alerts, resolved = alerting.loop_rows(connection, org_units=units, since=since)
        detractors = aggregates.scope_total(
            connection,
            runtime.units.get(),
            covered=units or None,
            from_hour=epoch_minute(since) // 60,
            until_hour=epoch_minute(until) // 60,
        ).detractors
    return loop_figures(
        label,
        [AlertTimes(AlertState(s), c, a, r) for s, c, a, r in alerts],
        detractors_past=detractors,
        past_until=until,
        resolved=[Detractor(s, r) for s, r in resolved],
        now=now,
        days=days,
    )


def _found(
    runtime: Runtime, principal: Principal, alert_id: int
) -> tuple[AlertRow, list[AlertEventRow]]:
    """The alert and its history; 404 when it does not exist or is outside the caller's units."""
    found = alerting.get(runtime.engine, alert_id)
    tree = runtime.units.get()
    visible = principal.visible(tree)
    if found is None or (visible is not None and found[0].org_unit not in visible):
        raise HTTPException(404, f"alert {alert_id}: not found in your units")
    return found


def _visible_alert(runtime: Runtime, principal: Principal, alert_id: int) -> AlertDetail:
    row, history = _found(runtime, principal, alert_id)
    return AlertDetail(alert=_revealed(runtime, row), history=[_step(e) for e in history])


def _revealed(runtime: Runtime, row: AlertRow) -> AlertView:
    """The alert with the customer's contact: the manager handling it calls them back."""
    with Session(runtime.engine) as session:
        view = alerting.views(session, [row])[0]
        if row.response_id:
            response = session.exec(
                select(ResponseRow).where(col(ResponseRow.response_id) == row.response_id)
            ).first()
            if response is not None:
                view.response = response.view(reveal_contact=True)
    return view


def _step(event: AlertEventRow) -> Step:
    return Step.model_validate(event.model_dump())


@router.get("/{alert_id}")
async def get_alert(alert_id: AlertId, runtime: RuntimeDep, principal: ManagerDep) -> AlertDetail:
    return await run_in_threadpool(_visible_alert, runtime, principal, alert_id)


@router.post("/{alert_id}/transition")
async def transition(
    alert_id: AlertId, move: Move, runtime: RuntimeDep, principal: ManagerDep
) -> AlertDetail:
    """Acknowledge, start, resolve (with a note and a root cause), close or reopen."""

    def apply() -> AlertView:
        current = _visible_alert(runtime, principal, alert_id).alert
        try:
            check_move(
                current.state,
                move.to,
                note=move.note,
                root_cause=move.root_cause,
                root_causes=runtime.settings.alert_root_causes,
            )
        except InvalidTransition as exc:
            raise HTTPException(422, str(exc)) from None
        return _change(
            runtime,
            principal,
            current,
            action=move.to.value if move.to is not AlertState.OPEN else "reopened",
            values=_move_values(current, move, datetime.now(UTC)),
            detail={"note": move.note, "root_cause": move.root_cause},
        )

    await _announce(runtime, await run_in_threadpool(apply))
    return await run_in_threadpool(_visible_alert, runtime, principal, alert_id)


def _move_values(current: AlertView, move: Move, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"state": move.to.value}
    if current.acknowledged_at is None and move.to is not AlertState.OPEN:
        values["acknowledged_at"] = now
    if move.to is AlertState.RESOLVED:
        values |= {"resolved_at": now, "root_cause": move.root_cause, "resolution_note": move.note}
    elif move.to is AlertState.CLOSED:
        values["closed_at"] = now
    elif move.to is AlertState.OPEN:
        values |= {"resolved_at": None, "closed_at": None}
    return values


@router.post("/{alert_id}/assign")
async def assign(
    alert_id: AlertId, assignment: Assignment, runtime: RuntimeDep, principal: ManagerDep
) -> AlertDetail:
    """Give the alert to a manager (or admin) whose units include the alert's unit."""

    def apply() -> AlertView:
        current = _visible_alert(runtime, principal, alert_id).alert
        username = assignment.username.strip().lower()
        user = directory.get_user(runtime.engine, username)
        if user is None or not _may_handle(user, current.org_unit, runtime.units.get()):
            raise HTTPException(
                422, f"username: {username!r} is not a manager of {current.org_unit}"
            )
        return _change(
            runtime,
            principal,
            current,
            action="assigned",
            values={"assignee": username},
            detail={"assignee": username},
        )

    await _announce(runtime, await run_in_threadpool(apply))
    return await run_in_threadpool(_visible_alert, runtime, principal, alert_id)


class Assignee(BaseModel):
    username: str
    display_name: str
    role: Role


class Assignees(BaseModel):
    assignees: list[Assignee] = Field(description="Managers first, then admins; by username.")


@router.get("/{alert_id}/assignees")
async def assignees(alert_id: AlertId, runtime: RuntimeDep, principal: ManagerDep) -> Assignees:
    """Who the alert may be assigned to: the enabled managers and admins whose units include
    the alert's unit (its store's, its region's...)."""

    def find() -> Assignees:
        row, _ = _found(runtime, principal, alert_id)
        tree = runtime.units.get()
        users = [
            u for u in directory.list_users(runtime.engine) if _may_handle(u, row.org_unit, tree)
        ]
        users.sort(key=lambda u: (u.role != Role.MANAGER.value, u.username))
        return Assignees(
            assignees=[
                Assignee(username=u.username, display_name=u.display_name, role=Role(u.role))
                for u in users
            ]
        )

    return await run_in_threadpool(find)


def _may_handle(user: UserRow, org_unit: str, tree: OrgTree) -> bool:
    """Whether an alert of `org_unit` may be given to `user`: an enabled manager or admin whose
    units include it."""
    if user.disabled or user.role == Role.FRONTLINE.value:
        return False
    visible = directory.principal(user).visible(tree)
    return visible is None or org_unit in visible


def _change(
    runtime: Runtime,
    principal: Principal,
    current: AlertView,
    *,
    action: str,
    values: dict[str, Any],
    detail: dict[str, Any],
) -> AlertView:
    given = {k: v for k, v in detail.items() if v is not None}
    try:
        changed = alerting.change(
            runtime.engine,
            current.id,
            expected_state=current.state.value,
            actor=principal.username,
            action=action,
            values=values,
            detail=given,
        )
    except alerting.Stale:
        raise HTTPException(409, f"alert {current.id}: changed meanwhile; reload it") from None
    # The alert keeps its own history; the audit log lists it beside sign-ins and admin changes.
    directory.audit(
        runtime.engine,
        actor=principal.username,
        action=f"alert.{action}",
        target=f"alert/{current.id}",
        org_unit=current.org_unit,
    )
    return changed


async def _announce(runtime: Runtime, view: AlertView) -> None:
    """Push the changed alert (masked, like every live event) and its unit's new closed-loop
    figures to the managers' cockpits."""
    event = AlertEvent(org_unit=view.org_unit, touchpoint=view.touchpoint, data=view)
    now = datetime.now(UTC)
    figures = await run_in_threadpool(_figures, runtime, (view.org_unit,), view.org_unit, now, 7)
    loop = LoopEvent(org_unit=view.org_unit, data=figures)
    payloads = [event.model_dump_json().encode(), loop.model_dump_json().encode()]
    try:
        await run_in_threadpool(runtime.hub.sink().publish, payloads)
    except HubUnavailable as exc:
        # The change is saved: an error would have the manager retry a move already made (422).
        # Cockpits see it on their next reload; only the live push is missed.
        metrics.HUB_PUBLISH_FAILURES.inc()
        log.error(
            "hub unavailable; alert change saved but not pushed live",
            extra={"alert": view.id, "error": str(exc)},
        )
