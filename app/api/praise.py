"""Praise API: a scope's praise wall, what is pinned on top of its feeds, and pinning."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.api.deps import PrincipalDep, RuntimeDep
from app.api.errors import SIGNED_IN, Code, Refused, documented
from app.core.access import Principal, Role, resolve_units
from app.core.events import PraiseEvent, PraiseView
from app.core.i18n import N_
from app.db import directory, praise
from app.hub.base import publish_saved

router = APIRouter(
    prefix="/api/v1/praise",
    tags=["praise"],
    responses={**SIGNED_IN, **documented(_404="No such praise in your units.")},
)

# A pin holds a praise on top of its unit's feed for a day.
PIN_FOR = timedelta(hours=24)
ResponseId = Annotated[str, Path(min_length=1, max_length=128)]


class Wall(BaseModel):
    pinned: list[PraiseView] = Field(description="On top of the feed now: one per unit at most.")
    items: list[PraiseView] = Field(description="Newest first.")


@router.get("")
async def wall(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    org_unit: Annotated[Sequence[str], Query(max_length=200)] = (),
    days: Annotated[int, Query(ge=1, le=90)] = 30,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Wall:
    """The praise wall of these units (and those below): what promoters said in praise of the
    service, naming the staff they dealt with. Every role reads it."""
    tree = await run_in_threadpool(runtime.units.get)
    requested = [u.strip().lower() for u in org_unit]
    covered = resolve_units(requested, tree=tree, visible=principal.visible(tree))
    units = sorted(covered) if covered is not None else None
    now = datetime.now(UTC)

    def read() -> Wall:
        return Wall(
            pinned=praise.pinned(runtime.engine, units=units, now=now),
            items=praise.wall(
                runtime.engine, units=units, since=now - timedelta(days=days), limit=limit
            ),
        )

    return await run_in_threadpool(read)


def _pin(runtime: RuntimeDep, principal: Principal, response_id: str, *, on: bool) -> PraiseView:
    if principal.role is Role.FRONTLINE:
        raise Refused(403, Code.FORBIDDEN_ROLE, N_("role: managers and admins pin praise"))
    found = praise.get(runtime.engine, response_id)
    visible = principal.visible(runtime.units.get())
    if found is None or (visible is not None and found.response.org_unit not in visible):
        raise Refused(
            404,
            Code.NOT_FOUND,
            N_("praise {response_id}: not found in your units"),
            response_id=repr(response_id),
        )
    now = datetime.now(UTC)
    changed = praise.pin(
        runtime.engine,
        response_id,
        by=principal.username if on else None,
        until=now + PIN_FOR if on else None,
        now=now,
    )
    directory.audit(
        runtime.engine,
        actor=principal.username,
        action="praise.pinned" if on else "praise.unpinned",
        target=f"response/{response_id}",
        org_unit=found.response.org_unit,
    )
    views = [v for v in (praise.get(runtime.engine, r) for r in changed) if v is not None]
    publish_saved(runtime.hub.sink().publish, [PraiseEvent.payload(v) for v in views])
    return views[0]


@router.post("/{response_id}/pin")
async def pin(response_id: ResponseId, runtime: RuntimeDep, principal: PrincipalDep) -> PraiseView:
    """Pin this praise on top of its unit's feed for a day (managers and admins of the unit);
    the unit's praise pinned before is unpinned. Pushed live."""
    return await run_in_threadpool(lambda: _pin(runtime, principal, response_id, on=True))


@router.delete("/{response_id}/pin")
async def unpin(
    response_id: ResponseId, runtime: RuntimeDep, principal: PrincipalDep
) -> PraiseView:
    """Take the pin off. Pushed live."""
    return await run_in_threadpool(lambda: _pin(runtime, principal, response_id, on=False))
