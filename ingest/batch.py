"""What one polled batch turns into: rows to store and, for the newly stored ones, hub events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.core.barometer import BarometerBook, Tally
from app.core.events import (
    Assessment,
    BarometerEvent,
    CommentEvent,
    FlagEvent,
    ResponseView,
    SurveyResponse,
)
from app.core.ports import Scorer


@dataclass(frozen=True)
class Scored:
    response: SurveyResponse
    assessment: Assessment
    received_at: datetime


def score_all(scorer: Scorer, decoded: Iterable[tuple[SurveyResponse, datetime]]) -> list[Scored]:
    """Score each response once; a response id seen twice in one batch keeps its first copy."""
    seen: set[str] = set()
    scored = []
    for response, received_at in decoded:
        if response.response_id in seen:
            continue
        seen.add(response.response_id)
        scored.append(Scored(response, scorer.assess(response), received_at))
    return scored


def tally(item: Scored) -> Tally:
    """What the barometers count of a stored response."""
    r, a = item.response, item.assessment
    return Tally(
        org_unit=r.org_unit,
        touchpoint=r.touchpoint,
        submitted_at=r.submitted_at,
        score_kind=r.score_kind,
        score=r.score,
        polarity=a.polarity,
        dissatisfied=a.dissatisfied,
    )


def hub_payloads(
    stored: Sequence[Scored],
    book: BarometerBook,
    now: datetime,
    revisions: Mapping[str, int],
) -> list[bytes]:
    """Serialize the events to publish for newly stored responses, already counted in `book`.

    Order: each comment (followed by its flag when dissatisfied), then one barometer snapshot per
    scope the batch touched, so a cockpit sees the comment before the figures it moved. Snapshots
    carry their unit's revision.
    """
    payloads: list[bytes] = []
    touched: dict[tuple[str, str | None], None] = {}
    for item in stored:
        r, a = item.response, item.assessment
        view = ResponseView.of(r, a, item.received_at)
        payloads.append(
            _dump(CommentEvent(org_unit=r.org_unit, touchpoint=r.touchpoint, data=view))
        )
        if a.dissatisfied:
            payloads.append(
                _dump(FlagEvent(org_unit=r.org_unit, touchpoint=r.touchpoint, data=view))
            )
        touched[(r.org_unit, None)] = None
        touched[(r.org_unit, r.touchpoint)] = None
    for org_unit, touchpoint in touched:
        snapshot = book.snapshot(org_unit, touchpoint, now)
        revision = revisions.get(org_unit)
        event = BarometerEvent(
            org_unit=org_unit, touchpoint=touchpoint, data=snapshot, revision=revision
        )
        payloads.append(_dump(event))
    return payloads


def _dump(event: CommentEvent | FlagEvent | BarometerEvent) -> bytes:
    return event.model_dump_json().encode()
