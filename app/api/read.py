"""Read API: what happened before a client connected (responses, barometers, the journey)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.api.deps import PrincipalDep, RuntimeDep
from app.api.errors import SIGNED_IN, Code, Refused, documented
from app.api.filters import ResponseFilterDep
from app.api.live import label_of, named_units
from app.api.scope import OrgUnits, Touchpoints, normalised, scope_of
from app.core.events import BarometerSnapshot, ResponseView, Window
from app.core.i18n import N_
from app.core.journey import Journey
from app.core.org import OrgUnit
from app.db import rollups, store

router = APIRouter(
    prefix="/api/v1",
    tags=["read"],
    responses={
        **SIGNED_IN,
        **documented(_400="A cursor this API did not hand out.", _404="Unknown units (admins)."),
    },
)


class ResponsePage(BaseModel):
    items: list[ResponseView]
    next_cursor: str | None


@router.get("/responses")
async def list_responses(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    where: ResponseFilterDep,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ResponsePage:
    """Newest first, within the caller's units. Contact details are masked, except for managers
    on dissatisfied responses (the customers they call back). `q` searches the comments, with
    every other filter and page after page alike."""
    before = None
    if cursor is not None:
        try:
            before = store.decode_cursor(cursor)
        except ValueError as exc:
            raise Refused(
                400, Code.INVALID_CURSOR, N_("cursor: not a cursor this API handed out")
            ) from exc

    def page() -> ResponsePage:
        with Session(runtime.engine) as session:
            rows, next_cursor = store.list_responses(
                session=session, where=where, before=before, limit=limit
            )
            items = [
                r.view(reveal_contact=principal.may_reveal_contact(r.dissatisfied)) for r in rows
            ]
            return ResponsePage(items=items, next_cursor=next_cursor)

    return await run_in_threadpool(page)


@router.get("/responses/{response_id}", responses=documented(_404="Not in your units."))
async def get_response(
    response_id: Annotated[str, Path(min_length=1, max_length=128)],
    runtime: RuntimeDep,
    principal: PrincipalDep,
) -> ResponseView:
    """One response, as the list shows it: what a link in a digest or a notification opens."""
    tree = await run_in_threadpool(runtime.units.get)
    visible = principal.visible(tree)

    def read() -> ResponseView:
        with Session(runtime.engine) as session:
            row = store.get_response(session, response_id)
            if row is None or (visible is not None and row.org_unit not in visible):
                raise Refused(
                    404,
                    Code.NOT_FOUND,
                    N_("response {response_id}: not found in your units"),
                    response_id=repr(response_id),
                )
            return row.view(reveal_contact=principal.may_reveal_contact(row.dissatisfied))

    return await run_in_threadpool(read)


@router.get("/barometers")
async def get_barometers(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    org_unit: OrgUnits = (),
    touchpoint: Touchpoints = (),
    window: Window | None = None,
) -> BarometerSnapshot:
    """NPS, CSAT, CES and sentiment of the responses of the org units and touchpoints given,
    with the per-minute trend of the last hour and the per-hour trend of the last 7 days.

    A unit covers every unit below it: a region's NPS comes from its stores' responses, never
    from averaging their figures. `org_unit` or `touchpoint` in the answer is null when it covers
    several units or touchpoints.

    `parent` compares the unit with the one above it (a store with its region): given when the
    answer names one unit that has a parent, with the same touchpoints and windows, computed
    from the responses of the parent's whole subtree. It is given even when the parent is
    outside the caller's units, so frontline staff see how their store compares: it holds only
    aggregate figures and their counts, never a comment or a customer.
    """
    org_units, touchpoints = await scope_of(runtime, principal, org_unit), normalised(touchpoint)
    label = label_of(named_units(principal, normalised(org_unit)))
    windows = [window] if window is not None else list(Window)

    def compute() -> BarometerSnapshot:
        return rollups.barometer(
            runtime.engine,
            runtime.units.get(),
            ZoneInfo(runtime.settings.timezone),
            covered=org_units,
            touchpoints=touchpoints,
            label=label,
            windows=windows,
            now=datetime.now(UTC),
        )

    return await run_in_threadpool(compute)


@router.get("/journey")
async def get_journey(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    org_unit: OrgUnits = (),
    window: Window = Window.TODAY,
) -> Journey:
    """The journey: each touchpoint's NPS, sentiment and flagged responses over one window, in
    the order customers meet them (VOC_JOURNEY), so the cockpit shows where the corridor breaks.

    Every touchpoint of the journey is listed, with empty figures when nobody answered about it;
    touchpoints outside the journey follow, alphabetically, when they have responses. Units
    cover the units below them, as for the barometers.
    """
    org_units = await scope_of(runtime, principal, org_unit)
    label = label_of(named_units(principal, normalised(org_unit)))

    def compute() -> Journey:
        return rollups.journey(
            runtime.engine,
            runtime.units.get(),
            ZoneInfo(runtime.settings.timezone),
            covered=org_units,
            steps=runtime.settings.journey,
            label=label,
            window=window,
            now=datetime.now(UTC),
        )

    return await run_in_threadpool(compute)


class UnitList(BaseModel):
    units: list[OrgUnit] = Field(description="Parents before children.")


@router.get("/units")
async def list_units(runtime: RuntimeDep, principal: PrincipalDep) -> UnitList:
    """The org units the caller may watch: theirs and everything below them."""
    tree = await run_in_threadpool(runtime.units.get)
    visible = principal.visible(tree)
    return UnitList(units=[u for u in tree if visible is None or u.id in visible])
