"""Alerts API: the inbox, one alert with its history and case, and every step of the loop. Thin:
`app.alertdesk` decides who may do what; this module reads requests and shapes answers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from alerts.rules import RuleBook
from app.alertdesk.desk import BULK_MAX, Detail
from app.api.deps import PrincipalDep, RuntimeDep
from app.api.errors import SIGNED_IN, Code, Refused, Taken, documented
from app.core import explain
from app.core.access import Principal, Role, resolve_units
from app.core.events import AlertState, AlertView, ContactOutcome, LoopFigures, Severity, Slug
from app.core.i18n import N_
from app.db.inbox import UNRESOLVED, InboxQuery, Order
from app.db.models import AlertEventRow
from app.db.store import MAX_ID

router = APIRouter(
    prefix="/api/v1/alerts",
    tags=["alerts"],
    responses={
        **SIGNED_IN,
        **documented(_404="No such alert in your units.", _409="The alert changed meanwhile."),
    },
)

AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]
Units = Annotated[Sequence[str], Query(max_length=200)]


class Rules(RuleBook):
    titles: dict[str, str] = Field(
        description="Each rule's title as an English msgid, which the page words in its "
        "reader's language (a rule of one's own: its description, as written)."
    )


@router.get("/rules")
async def rules(runtime: RuntimeDep, principal: PrincipalDep) -> Rules:
    """The rules alerts are raised by, with their titles; each alert names the version and
    rules that raised it."""
    runtime.desk.scope(principal, InboxQuery())
    book = runtime.rules
    titles = {rule.id: explain.title(rule.id, rule.description).message for rule in book.rules}
    return Rules(version=book.version, rules=book.rules, titles=titles)


class RootCauses(BaseModel):
    root_causes: list[str] = Field(description="What a resolution may name, in this order.")
    names: dict[str, str] = Field(
        description="Each root cause's name as an English msgid, which the page words in its "
        "reader's language (a cause of one's own: its id in words)."
    )


@router.get("/root-causes")
async def root_causes(runtime: RuntimeDep, principal: PrincipalDep) -> RootCauses:
    """The root causes resolving an alert must name one of (VOC_ALERT_ROOT_CAUSES)."""
    runtime.desk.scope(principal, InboxQuery())
    causes = runtime.settings.alert_root_causes
    return RootCauses(root_causes=causes, names={c: explain.root_cause(c) for c in causes})


class InboxItem(BaseModel):
    kind: Literal["alert", "case", "incident"] = Field(
        description="One alert; a case (alerts of one customer inside the repeat window); an "
        "incident (more than VOC_INBOX_INCIDENT_ALERTS alerts of one unit within "
        "VOC_INBOX_INCIDENT_MINUTES)."
    )
    count: int = Field(description="Alerts it stands for.")
    key: str = Field(description="The case key, or `incident:<unit>`.")
    alert_ids: list[int] = Field(description="Its alerts, oldest first.")
    alert: AlertView = Field(description="Its most pressing alert; contact masked.")


class Inbox(BaseModel):
    items: list[InboxItem]
    total: int = Field(description="Items matching, over every page.")
    page: int
    pages: int
    counts: dict[str, dict[str, int]] = Field(
        description="Per filter (org_unit, state, severity, rule, touchpoint, assignee), the "
        "alerts each choice would match with the other filters as they are; a unit counts "
        "everything below it; unassigned is ``."
    )
    incident_minutes: int = Field(description="The window incidents are counted over.")


class Filters(BaseModel):
    """The inbox's filters, as a bulk action's selection repeats them."""

    model_config = ConfigDict(extra="forbid")

    org_unit: list[Slug] = Field(default_factory=list, max_length=200)
    state: list[AlertState] = Field(default_factory=lambda: [AlertState(s) for s in UNRESOLVED])
    severity: list[Severity] = Field(default_factory=list, max_length=4)
    rule: list[Slug] = Field(default_factory=list, max_length=50)
    touchpoint: list[Slug] = Field(default_factory=list, max_length=50)
    assignee: str | None = Field(
        default=None, max_length=64, description="`mine`, `unassigned` or a username."
    )
    q: str | None = Field(default=None, min_length=2, max_length=200)


def inbox_query(runtime: RuntimeDep, principal: Principal, f: Filters) -> InboxQuery:
    """What `f` asks of the inbox; raises OutOfScope for units the caller may not see."""
    tree = runtime.units.get()
    requested = [u.strip().lower() for u in f.org_unit]
    covered = resolve_units(requested, tree=tree, visible=principal.visible(tree))
    assignees: tuple[str, ...] = ()
    if f.assignee is not None:
        wanted = f.assignee.strip().lower()
        named = {"mine": principal.username, "unassigned": ""}
        assignees = (named.get(wanted, wanted),)
    settings = runtime.settings
    return InboxQuery(
        units=tuple(sorted(covered)) if covered is not None else None,
        states=tuple(s.value for s in f.state),
        severities=tuple(s.value for s in f.severity),
        rules=tuple(f.rule),
        touchpoints=tuple(f.touchpoint),
        assignees=assignees,
        text=f.q.strip() if f.q and f.q.strip() else None,
        incident_over=settings.inbox_incident_alerts,
        incident_window=timedelta(minutes=settings.inbox_incident_minutes),
    )


async def inbox_filters(
    org_unit: Units = (),
    state: Annotated[Sequence[AlertState], Query(max_length=5)] = tuple(
        map(AlertState, UNRESOLVED)
    ),
    severity: Annotated[Sequence[Severity], Query(max_length=4)] = (),
    rule: Annotated[Sequence[Slug], Query(max_length=50)] = (),
    touchpoint: Annotated[Sequence[Slug], Query(max_length=50)] = (),
    assignee: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(min_length=2, max_length=200)] = None,
) -> Filters:
    """The inbox's filters as query parameters (the inbox and its export)."""
    # Already checked as query parameters: a unit outside the caller's scope is refused by
    # `inbox_query`.
    return Filters.model_construct(
        org_unit=list(org_unit),
        state=list(state),
        severity=list(severity),
        rule=list(rule),
        touchpoint=list(touchpoint),
        assignee=assignee,
        q=q,
    )


FiltersDep = Annotated[Filters, Depends(inbox_filters)]


@router.get("")
async def inbox(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    filters: FiltersDep,
    order: Order = Order.URGENCY,
    group: Annotated[bool, Query(description="Cases and incidents as one item each.")] = True,
    older_than_minutes: Annotated[int | None, Query(ge=0, le=525_600)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    counts: Annotated[
        bool, Query(description="false: no `counts` (another page of the same filters).")
    ] = True,
) -> Inbox:
    """What needs a human first, within the caller's units (a unit includes those below it):
    overdue, then the nearest deadline, then severity, newest first within equals. Unresolved
    alerts unless `state` says otherwise. Frontline staff, where they take callbacks, see their
    units' customer alerts."""

    def read() -> Inbox:
        query = inbox_query(runtime, principal, filters)
        created_before = None
        if older_than_minutes is not None:
            created_before = datetime.now(UTC) - timedelta(minutes=older_than_minutes)
        query = replace(
            query,
            order=order,
            cases=group,
            incident_over=query.incident_over if group else 0,
            created_before=created_before,
        )
        found, views, counted = runtime.desk.page(
            principal, query, offset=(page - 1) * limit, limit=limit, with_counts=counts
        )
        items = [
            InboxItem(
                kind=i.kind,
                count=i.count,
                key=i.key,
                alert_ids=list(i.alert_ids),
                alert=views[i.alert_id],
            )
            for i in found.items
            if i.alert_id in views
        ]
        return Inbox(
            items=items,
            total=found.total,
            page=page,
            pages=max(1, math.ceil(found.total / limit)),
            counts=counted,
            incident_minutes=runtime.settings.inbox_incident_minutes,
        )

    return await run_in_threadpool(read)


@router.get("/figures")
async def figures(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    org_unit: Units = (),
    days: Annotated[int, Query(ge=1, le=90)] = 7,
) -> LoopFigures:
    """How the loop is closed in these units (and below): time to acknowledge, to reach the
    customer and to resolve, % of detractors contacted within 48 h over every detractor whose
    48 h have passed, open ones included, and what is overdue."""
    runtime.desk.scope(principal, InboxQuery())
    tree = await run_in_threadpool(runtime.units.get)
    requested = [u.strip().lower() for u in org_unit]
    covered = resolve_units(requested, tree=tree, visible=principal.visible(tree))
    units = tuple(sorted(covered)) if covered is not None else ()
    label = requested[0] if len(requested) == 1 else None
    return await run_in_threadpool(runtime.desk.figures, units, label, days)


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
    case: list[AlertView] = Field(
        description="The other alerts of its customer's case, oldest first; contacts masked."
    )


def _detail(found: Detail) -> AlertDetail:
    return AlertDetail(
        alert=found.alert, history=[_step(e) for e in found.history], case=found.case
    )


def _step(event: AlertEventRow) -> Step:
    return Step.model_validate(event.model_dump())


@router.get("/{alert_id:int}")
async def get_alert(alert_id: AlertId, runtime: RuntimeDep, principal: PrincipalDep) -> AlertDetail:
    """The alert with its customer's contact for whoever handles it (managers and admins of its
    units, the frontline user who took it), its history and its case."""
    return _detail(await run_in_threadpool(runtime.desk.detail, principal, alert_id))


class Move(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: AlertState
    note: str | None = Field(default=None, max_length=4000)
    root_cause: str | None = Field(default=None, max_length=64)


async def _after(runtime: RuntimeDep, principal: Principal, alert_id: int) -> AlertDetail:
    return _detail(await run_in_threadpool(runtime.desk.detail, principal, alert_id))


@router.post("/{alert_id:int}/transition")
async def transition(
    alert_id: AlertId, move: Move, runtime: RuntimeDep, principal: PrincipalDep
) -> AlertDetail:
    """Acknowledge, start, resolve (with a note and a root cause), close or reopen."""
    await run_in_threadpool(
        lambda: runtime.desk.move(
            principal, alert_id, move.to, note=move.note, root_cause=move.root_cause
        )
    )
    return await _after(runtime, principal, alert_id)


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)


@router.post("/{alert_id:int}/assign")
async def assign(
    alert_id: AlertId, assignment: Assignment, runtime: RuntimeDep, principal: PrincipalDep
) -> AlertDetail:
    """Give the alert to someone whose units include its unit: a manager or admin, or, for a
    customer's alert where frontline staff take callbacks, one of the unit's frontline staff."""
    await run_in_threadpool(runtime.desk.assign, principal, alert_id, assignment.username)
    return await _after(runtime, principal, alert_id)


@router.post(
    "/{alert_id:int}/take",
    responses={
        409: {"model": Taken, "description": "Someone else took it first (`taken_by` names them)."}
    },
)
async def take(alert_id: AlertId, runtime: RuntimeDep, principal: PrincipalDep) -> AlertDetail:
    """ "I'll call": the callback is the caller's, first come first served; it is under way and
    the customer's contact is shown to them."""
    await run_in_threadpool(runtime.desk.take, principal, alert_id)
    return await _after(runtime, principal, alert_id)


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: ContactOutcome
    note: str | None = Field(default=None, max_length=1000)
    root_cause: str | None = Field(
        default=None, max_length=64, description="Needed to resolve on the call."
    )


@router.post("/{alert_id:int}/contact")
async def contact(
    alert_id: AlertId, call: Contact, runtime: RuntimeDep, principal: PrincipalDep
) -> AlertDetail:
    """How the call went: reached, no answer, or resolved on the call (with a note and a root
    cause). Frontline staff record calls on the callbacks they took."""
    await run_in_threadpool(
        lambda: runtime.desk.record_contact(
            principal, alert_id, call.outcome, note=call.note, root_cause=call.root_cause
        )
    )
    return await _after(runtime, principal, alert_id)


class Assignee(BaseModel):
    username: str
    display_name: str
    role: Role


class Assignees(BaseModel):
    assignees: list[Assignee] = Field(
        description="Managers first, then admins, then frontline staff; by username."
    )


@router.get("/{alert_id:int}/assignees")
async def assignees(alert_id: AlertId, runtime: RuntimeDep, principal: PrincipalDep) -> Assignees:
    """Who the alert may be assigned to."""
    users = await run_in_threadpool(runtime.desk.assignees, principal, alert_id)
    return Assignees(
        assignees=[
            Assignee(username=u.username, display_name=u.display_name, role=Role(u.role))
            for u in users
        ]
    )


class Bulk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["acknowledge", "assign"]
    username: str | None = Field(default=None, min_length=1, max_length=64)
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        default=None, max_length=BULK_MAX, description="These alerts; or every one of `filter`."
    )
    filter: Filters | None = None


class Skipped(BaseModel):
    id: int
    reason: str


class BulkDone(BaseModel):
    matched: int = Field(description=f"Alerts selected (at most {BULK_MAX}).")
    done: list[int]
    skipped: list[Skipped]


@router.post("/bulk")
async def bulk(body: Bulk, runtime: RuntimeDep, principal: PrincipalDep) -> BulkDone:
    """Acknowledge or assign a selection: the alerts listed, or every alert matching a filter
    (ungrouped, at most 1,000). Each is recorded in its history and the audit log; one that
    cannot be changed is skipped with the reason."""
    if (body.ids is None) == (body.filter is None):
        raise Refused(422, Code.INVALID_INPUT, N_("ids: give the alerts, or a filter, not both"))
    if body.action == "assign" and not body.username:
        raise Refused(422, Code.INVALID_INPUT, N_("username: who to assign the selection to"))

    def apply() -> BulkDone:
        if body.filter is not None:
            ids = runtime.desk.select(principal, inbox_query(runtime, principal, body.filter))
        else:
            ids = list(body.ids or [])
        done = runtime.desk.bulk(principal, ids, body.action, username=body.username)
        return BulkDone(
            matched=len(ids),
            done=done.done,
            skipped=[Skipped(id=i, reason=r) for i, r in done.skipped],
        )

    return await run_in_threadpool(apply)
