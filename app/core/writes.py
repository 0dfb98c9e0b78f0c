"""The contract between the ingest pipeline and the store: what a batch asks to know, what it
writes in one transaction, and what the store answers it wrote."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.core.aggregates import Counted
from app.core.barometer import Counts
from app.core.events import (
    AlertState,
    AlertView,
    Assessment,
    ResponseView,
    Severity,
    SurveyResponse,
)


@dataclass(frozen=True, slots=True)
class Scored:
    """A valid response of a known unit, with its assessment and when the broker took it."""

    response: SurveyResponse
    assessment: Assessment
    received_at: datetime

    def view(self) -> ResponseView:
        """As live events show it: contact details masked."""
        return ResponseView.of(self.response, self.assessment, self.received_at)


@dataclass(frozen=True, slots=True)
class NewAlert:
    """An alert to raise. One about a response is written only if that response is new; a
    known `dedup_key` writes nothing (the same customer, or the same unit and hour)."""

    dedup_key: str
    org_unit: str
    touchpoint: str | None
    response_id: str | None
    rules: tuple[str, ...]
    rules_version: int
    severity: Severity
    reasons: Mapping[str, Mapping[str, Any]]
    created_at: datetime
    due_ack_at: datetime | None
    due_resolve_at: datetime | None
    # Of the response it is about: when it was answered, and whether it is an NPS detractor
    # (the closed-loop figures count detractors called back within 48 h of answering).
    submitted_at: datetime | None = None
    detractor: bool = False
    customer_ref: str | None = None
    # The case it joins: the dedup key of its customer's first alert inside the repeat window;
    # None: a case of its own.
    case_key: str | None = None

    def view(self, alert_id: int, response: ResponseView | None) -> AlertView:
        """The alert as just raised: open, unassigned, never escalated."""
        return AlertView(
            id=alert_id,
            org_unit=self.org_unit,
            touchpoint=self.touchpoint,
            response_id=self.response_id,
            rules=list(self.rules),
            rules_version=self.rules_version,
            severity=self.severity,
            reasons={k: dict(v) for k, v in self.reasons.items()},
            state=AlertState.OPEN,
            assignee=None,
            created_at=self.created_at,
            due_ack_at=self.due_ack_at,
            due_resolve_at=self.due_resolve_at,
            acknowledged_at=None,
            resolved_at=None,
            closed_at=None,
            root_cause=None,
            resolution_note=None,
            escalations=0,
            case_key=self.case_key or self.dedup_key,
            response=response,
        )


@dataclass(frozen=True)
class FactsQuery:
    """What a batch needs to know of what is stored, asked in one go.

    `customers`: the repeat rule's customers, whose dissatisfied answers since `customers_since`
    it needs. `units`: the drop rule's units, whose own counts since `since_minute` (the HOUR
    window) and `since_hour` (the WEEK window) it needs.
    """

    customers: frozenset[str] = frozenset()
    customers_since: datetime | None = None
    units: frozenset[str] = frozenset()
    since_minute: int = 0
    since_hour: int = 0
    # The first epoch hour whose theme mentions count as recent (a drop names the themes that
    # grew in them against the WEEK window).
    recent_hour: int = 0


@dataclass(frozen=True)
class Facts:
    # Each customer's stored dissatisfied answers: (response id, submitted at, its alert's case).
    earlier: Mapping[str, Sequence[tuple[str, datetime, str | None]]] = field(default_factory=dict)
    unit_minutes: Mapping[str, Counts] = field(default_factory=dict)
    unit_hours: Mapping[str, Counts] = field(default_factory=dict)
    # Each unit's theme mentions since `recent_hour` and over the WEEK window, by theme.
    unit_themes: Mapping[str, ThemeTally] = field(default_factory=dict)


@dataclass
class ThemeTally:
    """A unit's theme mentions, lately and over the week: what a drop alert's themes are
    named from."""

    recent: dict[str, int] = field(default_factory=dict)
    week: dict[str, int] = field(default_factory=dict)

    def add(self, theme: str, *, recent: bool) -> None:
        self.week[theme] = self.week.get(theme, 0) + 1
        if recent:
            self.recent[theme] = self.recent.get(theme, 0) + 1


@dataclass(frozen=True, slots=True)
class Said:
    """The phrases of a response's comment (sentiment/phrases.py), counted once it is stored:
    what emerging topics are found in."""

    language: str
    # The epoch day it was answered (UTC).
    day: int
    phrases: frozenset[str]


@dataclass(frozen=True)
class Writes:
    """Everything a batch writes, in one transaction: responses (a known response id is
    skipped), their alerts and the units' alerts, and the aggregates of the new responses,
    counted for the tree at `tree_version`."""

    responses: Sequence[Scored]
    alerts: Sequence[NewAlert]
    counted: Sequence[Counted]
    tree_version: int
    # The responses that are praise, by response id: on their unit's praise wall if stored.
    praise: frozenset[str] = frozenset()
    # The phrases of each response's comment, by response id, counted if it is stored.
    said: Mapping[str, Said] = field(default_factory=dict)


@dataclass(frozen=True)
class Committed:
    """What the store wrote, so nothing has to be read back to publish it."""

    stored: frozenset[str]
    # The id of each alert newly raised, by dedup key.
    alerts: Mapping[str, int]
    # Responses the database refused, with its reason; the others were written.
    refused: Mapping[str, str] = field(default_factory=dict)
