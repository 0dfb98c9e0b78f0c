"""Read API: what happened before a client connected (responses, barometers)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from pydantic import AwareDatetime, BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.api.deps import RuntimeDep
from app.core.barometer import BarometerBook
from app.core.events import BarometerSnapshot, Channel, ResponseView, ScoreKind, Window
from app.db import store

router = APIRouter(prefix="/api/v1", tags=["read"])


OrgUnits = Annotated[
    Sequence[str], Query(description="Repeatable; none: every org unit.", max_length=200)
]
Touchpoints = Annotated[
    Sequence[str], Query(description="Repeatable; none: every touchpoint.", max_length=50)
]


def _normalised(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted({v.strip().lower() for v in values if v.strip()}))


def _single(values: tuple[str, ...]) -> str | None:
    return values[0] if len(values) == 1 else None


class ResponsePage(BaseModel):
    items: list[ResponseView]
    next_cursor: str | None


@router.get("/responses")
async def list_responses(
    runtime: RuntimeDep,
    org_unit: OrgUnits = (),
    touchpoint: Touchpoints = (),
    channel: Channel | None = None,
    score_kind: ScoreKind | None = None,
    flagged: bool | None = None,
    since: Annotated[AwareDatetime | None, Query(description="Submitted at or after.")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ResponsePage:
    """Newest first."""
    before = None
    if cursor is not None:
        try:
            before = store.decode_cursor(cursor)
        except ValueError as exc:
            raise HTTPException(400, "cursor: not a cursor this API handed out") from exc
    where = store.ResponseFilter(
        org_units=_normalised(org_unit),
        touchpoints=_normalised(touchpoint),
        channel=channel,
        flagged=flagged,
        since=since,
        score_kind=score_kind,
    )

    def page() -> ResponsePage:
        with Session(runtime.engine) as session:
            rows, next_cursor = store.list_responses(
                session=session, where=where, before=before, limit=limit
            )
            return ResponsePage(items=[r.view() for r in rows], next_cursor=next_cursor)

    return await run_in_threadpool(page)


@router.get("/barometers")
async def get_barometers(
    runtime: RuntimeDep,
    org_unit: OrgUnits = (),
    touchpoint: Touchpoints = (),
    window: Window | None = None,
) -> BarometerSnapshot:
    """NPS, CSAT, CES and sentiment of the responses of the org units and touchpoints given.

    Several values are combined from their responses (never by averaging figures); `org_unit`
    or `touchpoint` in the answer is null when it covers several or all of them.
    """
    org_units, touchpoints = _normalised(org_unit), _normalised(touchpoint)

    def compute() -> BarometerSnapshot:
        now = datetime.now(UTC)
        book = BarometerBook(ZoneInfo(runtime.settings.timezone))
        for tally in store.tallies(
            runtime.engine,
            since=now - timedelta(days=7),
            org_units=org_units,
            touchpoints=touchpoints,
        ):
            book.add(tally)
        # The book holds only the requested responses, so a (None, None) scope is their union.
        snapshot = book.snapshot(_single(org_units), _single(touchpoints), now)
        if window is not None:
            snapshot.windows = {window: snapshot.windows[window]}
        return snapshot

    return await run_in_threadpool(compute)
