"""Read API: what happened before a client connected (responses, barometers)."""

from __future__ import annotations

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


class ResponsePage(BaseModel):
    items: list[ResponseView]
    next_cursor: str | None


@router.get("/responses")
async def list_responses(
    runtime: RuntimeDep,
    org_unit: str | None = None,
    touchpoint: str | None = None,
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
        org_unit=org_unit,
        touchpoint=touchpoint,
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
    org_unit: str | None = None,
    touchpoint: str | None = None,
    window: Window | None = None,
) -> BarometerSnapshot:
    """NPS, CSAT, CES and sentiment of one scope (no org_unit: all of them), from its responses."""

    def compute() -> BarometerSnapshot:
        now = datetime.now(UTC)
        book = BarometerBook(ZoneInfo(runtime.settings.timezone))
        for t in store.tallies(
            runtime.engine,
            since=now - timedelta(days=7),
            org_units=[org_unit] if org_unit else None,
            touchpoint=touchpoint,
        ):
            book.add(
                org_unit=t.org_unit,
                touchpoint=t.touchpoint,
                submitted_at=t.submitted_at,
                score_kind=t.score_kind,
                score=t.score,
                polarity=t.polarity,
                dissatisfied=t.dissatisfied,
            )
        snapshot = book.snapshot(org_unit, touchpoint, now)
        if window is not None:
            snapshot.windows = {window: snapshot.windows[window]}
        return snapshot

    return await run_in_threadpool(compute)
