"""Exports of the feed and of the alerts as CSV or JSON lines: streamed page by page, scoped and
masked as the API reads them, each recorded in the audit log."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.api import filters
from app.api.alerts import Filters, FiltersDep, inbox_query
from app.api.deps import PrincipalDep, Runtime, RuntimeDep, client_address
from app.api.errors import SIGNED_IN, documented
from app.core.access import Principal
from app.core.events import AlertView, ResponseView
from app.db import directory, store
from app.db.inbox import InboxQuery, Order

router = APIRouter(
    prefix="/api/v1",
    tags=["export"],
    responses={**SIGNED_IN, **documented(_404="Unknown units (admins).")},
)

# Rows read per database session: memory stays bounded by a page, whatever the export's size.
PAGE = 1000
# Excel reads a UTF-8 CSV without it as the machine's ANSI code page (accents garbled); other
# readers (Python's utf-8-sig, pandas, LibreOffice, Google Sheets) skip it.
BOM = "\ufeff"
# A cell starting with one of these is a formula to a spreadsheet (CSV injection): written with a
# leading apostrophe, which spreadsheets read as "this is text".
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Format(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


_MEDIA_TYPES = {Format.CSV: "text/csv", Format.JSONL: "application/x-ndjson"}
FormatParam = Annotated[
    Format,
    Query(
        alias="format",
        description="`csv` (UTF-8 with a BOM, a header line) or `jsonl` (JSON lines).",
    ),
]
_STREAMED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file, streamed (`Content-Disposition: attachment`).",
        "content": {media: {"schema": {"type": "string"}} for media in _MEDIA_TYPES.values()},
    }
}

RESPONSE_COLUMNS = (
    "response_id",
    "submitted_at",
    "received_at",
    "org_unit",
    "touchpoint",
    "channel",
    "survey_id",
    "score_kind",
    "score",
    "comment",
    "language",
    "comment_language",
    "polarity",
    "negative_probability",
    "dissatisfied",
    "severity",
    "themes",
    "staff",
    "customer_type",
    "customer_ref",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_masked",
)
ALERT_COLUMNS = (
    "id",
    "created_at",
    "org_unit",
    "touchpoint",
    "severity",
    "state",
    "rules",
    "assignee",
    "assignee_name",
    "due_ack_at",
    "due_resolve_at",
    "acknowledged_at",
    "first_contact_at",
    "contact_outcome",
    "resolved_at",
    "closed_at",
    "root_cause",
    "resolution_note",
    "escalations",
    "response_id",
    "score_kind",
    "score",
    "comment",
    "customer_ref",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_masked",
)


def cell(value: object) -> str | int | float:
    """A value as a CSV cell: text that a spreadsheet would run as a formula is escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _contact(view: ResponseView | None) -> list[object]:
    contact = view.contact if view is not None else None
    if contact is None:
        return [None, None, None]
    return [contact.name, contact.email, contact.phone]


def response_row(v: ResponseView) -> list[object]:
    themes = ";".join(f"{m.theme}:{m.tone}" if m.tone else m.theme for m in v.themes)
    return [
        *(v.response_id, v.submitted_at, v.received_at, v.org_unit, v.touchpoint, v.channel),
        *(v.survey_id, v.score_kind, v.score, v.comment, v.language, v.comment_language),
        *(v.polarity, v.negative_probability, v.dissatisfied, v.severity, themes),
        *(";".join(v.staff), v.customer_type, v.customer_ref, *_contact(v), v.contact_masked),
    ]


def alert_row(a: AlertView) -> list[object]:
    r = a.response
    return [
        *(a.id, a.created_at, a.org_unit, a.touchpoint, a.severity, a.state, ";".join(a.rules)),
        *(a.assignee, a.assignee_name, a.due_ack_at, a.due_resolve_at, a.acknowledged_at),
        *(a.first_contact_at, a.contact_outcome, a.resolved_at, a.closed_at, a.root_cause),
        *(a.resolution_note, a.escalations, a.response_id),
        *((r.score_kind, r.score, r.comment, r.customer_ref) if r else (None,) * 4),
        *_contact(r),
        r.contact_masked if r else None,
    ]


def _csv(rows: Iterable[Sequence[object]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([cell(c) for c in row] for row in rows)
    return out.getvalue().encode()


class _Encoder:
    """Views to the bytes of one format."""

    def __init__(
        self, fmt: Format, columns: Sequence[str], row: Callable[[Any], list[object]]
    ) -> None:
        self.fmt, self._columns, self._row = fmt, columns, row

    def head(self) -> bytes:
        return (BOM.encode() + _csv([self._columns])) if self.fmt is Format.CSV else b""

    def body(self, views: Sequence[ResponseView] | Sequence[AlertView]) -> bytes:
        if self.fmt is Format.CSV:
            return _csv(self._row(v) for v in views)
        return b"".join(v.model_dump_json().encode() + b"\n" for v in views)


def _asked(request: Request, names: Iterable[str], repeated: set[str]) -> dict[str, Any]:
    """The filters as the request gave them (already validated), for the audit log."""
    params = request.query_params
    return {
        n: params.getlist(n) if n in repeated else params[n] for n in names if params.getlist(n)
    }


def _download(
    runtime: Runtime, what: str, fmt: Format, chunks: AsyncIterator[bytes]
) -> StreamingResponse:
    today = datetime.now(ZoneInfo(runtime.settings.timezone)).date().isoformat()
    return StreamingResponse(
        chunks,
        media_type=_MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{what}-{today}.{fmt.value}"',
            # Personal data: no copy in a shared cache or the browser's.
            "Cache-Control": "no-store",
        },
    )


def _audit(
    runtime: Runtime, principal: Principal, request: Request, action: str, fmt: Format, **asked: Any
) -> None:
    directory.audit(
        runtime.engine,
        actor=principal.username,
        action=action,
        client=client_address(request),
        format=fmt.value,
        **asked,
    )


@router.get(
    "/responses/export",
    response_class=StreamingResponse,
    responses={**_STREAMED, **documented(_422="A search without a word, or a bad filter.")},
)
async def export_responses(
    request: Request,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    where: filters.ResponseFilterDep,
    fmt: FormatParam = Format.CSV,
) -> StreamingResponse:
    """Every response GET /responses would list for the same filters, newest first, masked as
    it masks them, in one file. Read 1,000 at a time, without a cap: the file is as long as the
    filters make it. Recorded in the audit log (`responses.exported`) with the filters asked."""
    asked = _asked(request, filters.NAMES, {"org_unit", "touchpoint"})
    await run_in_threadpool(
        _audit, runtime, principal, request, "responses.exported", fmt, filters=asked
    )
    encoder = _Encoder(fmt, RESPONSE_COLUMNS, response_row)

    def read(before: int | None) -> tuple[bytes, int | None]:
        with Session(runtime.engine) as session:
            rows, more = store.list_responses(
                session=session, where=where, before=before, limit=PAGE
            )
            views = [
                r.view(reveal_contact=principal.may_reveal_contact(r.dissatisfied)) for r in rows
            ]
        return encoder.body(views), rows[-1].id if more and rows else None

    async def chunks() -> AsyncIterator[bytes]:
        yield encoder.head()
        before: int | None = None
        while True:
            # Keyset on the id: rows stored meanwhile are newer and left out, none is repeated.
            chunk, before = await run_in_threadpool(read, before)
            yield chunk
            if before is None:
                return

    return _download(runtime, "responses", fmt, chunks())


@router.get(
    "/alerts/export",
    response_class=StreamingResponse,
    responses={**_STREAMED, **documented(_422="A bad filter.")},
)
async def export_alerts(
    request: Request,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    wanted: FiltersDep,
    fmt: FormatParam = Format.CSV,
) -> StreamingResponse:
    """Every alert the inbox holds for the same filters, ungrouped, newest first, as the inbox
    shows them (contacts masked: a contact is shown alert by alert, to whoever handles it).
    Recorded in the audit log (`alerts.exported`) with the filters asked."""

    def scoped() -> InboxQuery:
        query = inbox_query(runtime, principal, wanted)
        # Refused here (403) rather than once the file has begun.
        runtime.desk.scope(principal, query)
        return replace(query, order=Order.NEWEST, cases=False, incident_over=0)

    query = await run_in_threadpool(scoped)
    names = tuple(Filters.model_fields)
    repeated = {"org_unit", "state", "severity", "rule", "touchpoint"}
    await run_in_threadpool(
        _audit,
        runtime,
        principal,
        request,
        "alerts.exported",
        fmt,
        filters=_asked(request, names, repeated),
    )
    encoder = _Encoder(fmt, ALERT_COLUMNS, alert_row)

    def read(offset: int, before: set[int]) -> tuple[bytes, list[int], bool]:
        found, views, _ = runtime.desk.page(
            principal, query, offset=offset, limit=PAGE, with_counts=False
        )
        ids = [i.alert_id for i in found.items]
        # An alert raised meanwhile moves the rest one place down: the previous page's last
        # alerts come again at the top of this one.
        shown = [views[i] for i in ids if i in views and i not in before]
        return encoder.body(shown), ids, len(ids) == PAGE

    async def chunks() -> AsyncIterator[bytes]:
        yield encoder.head()
        offset, before, more = 0, set[int](), True
        while more:
            chunk, ids, more = await run_in_threadpool(read, offset, before)
            yield chunk
            offset, before = offset + PAGE, set(ids)

    return _download(runtime, "alerts", fmt, chunks())
