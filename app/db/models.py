"""Database tables, mapped to and from the wire schemas in `app.core.events`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from app.core.events import AlertState, Assessment, ResponseView, SurveyResponse
from app.core.writes import NewAlert


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and gives them back aware, also on SQLite (which has no tz)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ResponseRow(SQLModel, table=True):
    """A stored response and its assessment; the unique `response_id` is the idempotency key."""

    __tablename__ = "responses"
    __table_args__ = (
        sa.Index("ix_responses_org_unit_id", "org_unit", "id"),
        sa.Index("ix_responses_submitted_at", "submitted_at"),
        # The repeat rule looks up each dissatisfied customer's earlier responses.
        sa.Index("ix_responses_customer_ref", "customer_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    response_id: str = Field(max_length=128, sa_column_kwargs={"unique": True}, nullable=False)
    survey_id: str = Field(max_length=128)
    submitted_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime)
    score: int
    score_kind: str = Field(max_length=8)
    comment: str | None = Field(default=None, sa_type=sa.Text)
    language: str | None = Field(default=None, max_length=35)
    channel: str = Field(max_length=16)
    touchpoint: str = Field(max_length=64)
    org_unit: str = Field(max_length=64)
    customer_type: str = Field(max_length=16)
    customer_ref: str | None = Field(default=None, max_length=128)
    contact: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    metadata_: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column("metadata", sa.JSON)
    )
    polarity: float | None = None
    dissatisfied: bool = False
    severity: str = Field(max_length=8)
    comment_language: str | None = Field(default=None, max_length=35)
    negative_comment: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    negative_probability: float | None = None
    # NULL on rows stored before reasons were kept: read back as no reasons.
    reasons: list[dict[str, Any]] | None = Field(default=None, sa_type=sa.JSON)
    # The staff members the response names (its `staff` field); NULL: none named.
    staff: list[str] | None = Field(default=None, sa_type=sa.JSON)
    # The themes its comment names, with their tone ([{"theme", "tone"}]); NULL on rows stored
    # before themes were assigned: read back as none.
    themes: list[dict[str, Any]] | None = Field(default=None, sa_type=sa.JSON)

    @classmethod
    def values(
        cls, response: SurveyResponse, assessment: Assessment, received_at: datetime
    ) -> dict[str, Any]:
        """Column values for an insert."""
        data = response.model_dump(mode="json", exclude={"metadata", "submitted_at", "staff"})
        return {
            **data,
            "staff": response.staff or None,
            "submitted_at": response.submitted_at,
            "received_at": received_at,
            "metadata": response.metadata,
            **assessment.model_dump(mode="json", exclude={"themes"}),
            "themes": [m.model_dump(mode="json") for m in assessment.themes] or None,
        }

    def view(self, *, reveal_contact: bool = False) -> ResponseView:
        view = ResponseView.model_validate(
            {
                **self.model_dump(),
                "reasons": self.reasons or [],
                "staff": self.staff or [],
                "themes": self.themes or [],
            }
        )
        view.contact_masked = False
        return view if reveal_contact else view.masked()


def _now() -> datetime:
    return datetime.now(UTC)


class _Counts(SQLModel):
    """The count columns of an aggregate row: the fields of `app.core.barometer.Counts`."""

    org_unit: str = Field(primary_key=True, max_length=64)
    touchpoint: str = Field(primary_key=True, max_length=64)
    score_kind: str = Field(primary_key=True, max_length=8)
    responses: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    csat_responses: int = 0
    csat_satisfied: int = 0
    csat_total: int = Field(default=0, sa_type=sa.BigInteger)
    ces_responses: int = 0
    ces_total: int = Field(default=0, sa_type=sa.BigInteger)
    ces_high_effort: int = 0
    sentiment_responses: int = 0
    sentiment_total: float = 0.0
    flagged: int = 0
    negative_comments: int = 0


class UnitHourRow(_Counts, table=True):
    """A unit's own responses of one epoch hour, per touchpoint and score kind."""

    __tablename__ = "unit_hours"
    # Reads ask for a unit's last days: a range of this index, however long the history.
    __table_args__ = (sa.Index("ix_unit_hours_unit_hour", "org_unit", "hour"),)

    hour: int = Field(primary_key=True)


class UnitMinuteRow(_Counts, table=True):
    """A unit's own responses of one epoch minute; kept for the last few hours only."""

    __tablename__ = "unit_minutes"
    __table_args__ = (sa.Index("ix_unit_minutes_minute", "minute"),)

    minute: int = Field(primary_key=True)


class RollupHourRow(_Counts, table=True):
    """A unit with units below it: its own and its whole subtree's responses of one hour."""

    __tablename__ = "rollup_hours"
    __table_args__ = (sa.Index("ix_rollup_hours_unit_hour", "org_unit", "hour"),)

    hour: int = Field(primary_key=True)


class RollupMinuteRow(_Counts, table=True):
    """The same roll-up per epoch minute; kept for the last few hours only."""

    __tablename__ = "rollup_minutes"
    __table_args__ = (sa.Index("ix_rollup_minutes_minute", "minute"),)

    minute: int = Field(primary_key=True)


class ResponseThemeRow(SQLModel, table=True):
    """A theme a stored response names: what the feed filtered by a theme reads, newest first."""

    __tablename__ = "response_themes"
    __table_args__ = (sa.Index("ix_response_themes_unit", "theme", "org_unit", "response_row"),)

    theme: str = Field(primary_key=True, max_length=64)
    # The response's row id (responses.id): the feed's order and cursor.
    response_row: int = Field(primary_key=True)
    org_unit: str = Field(max_length=64)
    tone: str | None = Field(default=None, max_length=8)


class _ThemeCounts(SQLModel):
    """The count columns of a theme row: the fields of `app.core.aggregates.ThemeCounts`."""

    org_unit: str = Field(primary_key=True, max_length=64)
    touchpoint: str = Field(primary_key=True, max_length=64)
    theme: str = Field(primary_key=True, max_length=64)
    hour: int = Field(primary_key=True)
    mentions: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0


class ThemeHourRow(_ThemeCounts, table=True):
    """A unit's own responses of one epoch hour naming a theme, per touchpoint."""

    __tablename__ = "theme_hours"
    __table_args__ = (sa.Index("ix_theme_hours_unit_hour", "org_unit", "hour"),)


class RollupThemeHourRow(_ThemeCounts, table=True):
    """A unit with units below it: its own and its subtree's responses naming a theme."""

    __tablename__ = "rollup_theme_hours"
    __table_args__ = (sa.Index("ix_rollup_theme_hours_unit_hour", "org_unit", "hour"),)


class PhraseDayRow(SQLModel, table=True):
    """How many comments of one UTC day and language said a phrase, company-wide: what emerging
    topics are found in. Kept DAYS_KEPT days (app/core/emerging.py)."""

    __tablename__ = "phrase_days"

    day: int = Field(primary_key=True)
    language: str = Field(primary_key=True, max_length=8)
    phrase: str = Field(primary_key=True, max_length=80)
    comments: int = 0


class CommentDayRow(SQLModel, table=True):
    """How many comments of one UTC day a language's phrases were read from."""

    __tablename__ = "comment_days"

    day: int = Field(primary_key=True)
    language: str = Field(primary_key=True, max_length=8)
    comments: int = 0


class TaxonomyRow(SQLModel, table=True):
    """A taxonomy of themes an admin stored; the latest is the organisation's (none stored:
    VOC_THEMES_FILE's). Kept, not replaced, so the audit log's versions can be read back."""

    __tablename__ = "taxonomies"

    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    document: dict[str, Any] = Field(sa_type=sa.JSON)
    saved_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    saved_by: str = Field(max_length=80)


class OrgTreeStateRow(SQLModel, table=True):
    """The stored tree's version (one row): it grows with every change of units or parents, and
    a batch's roll-ups are written only for the version they were counted for."""

    __tablename__ = "org_tree_state"

    id: int = Field(default=1, primary_key=True)
    version: int = Field(sa_type=sa.BigInteger)


class OrgUnitRow(SQLModel, table=True):
    __tablename__ = "org_units"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    parent: str | None = Field(default=None, max_length=64)


class UserRow(SQLModel, table=True):
    """A person who signs in; `units` are the org units they are given (and see below)."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    display_name: str = Field(max_length=200)
    # Where alert e-mails go (managers); optional.
    email: str | None = Field(default=None, max_length=254)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    units: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    disabled: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    # The daily digest: None takes the role's default (managers get it, frontline staff opt in);
    # sent at `digest_hour` in `timezone` (None: VOC_TIMEZONE).
    digest: bool | None = None
    digest_hour: int = Field(default=7, ge=0, le=23, sa_column_kwargs={"server_default": "7"})
    timezone: str | None = Field(default=None, max_length=64)
    # The language they read the cockpit and their e-mails in; None: their browser's, else
    # VOC_DEFAULT_LANGUAGE.
    language: str | None = Field(default=None, max_length=8)
    # The shipped language their browser asked for when they last signed in: what their e-mails
    # are written in while they have chosen none (a mail is sent with no browser to ask).
    browser_language: str | None = Field(default=None, max_length=8)


class SessionRow(SQLModel, table=True):
    """A sign-in: only the SHA-256 of its token is stored, so a database dump opens nothing."""

    __tablename__ = "sessions"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(index=True)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked: bool = False


class ApiKeyRow(SQLModel, table=True):
    """An integrator key: shown once, stored as the SHA-256 of its secret, looked up by prefix."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16, sa_column_kwargs={"unique": True})
    secret_hash: str = Field(max_length=64)
    name: str = Field(max_length=200)
    org_units: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    surveys: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    created_by: str = Field(max_length=64)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditRow(SQLModel, table=True):
    """Who did what, when, from where. Never a password, token or key secret."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    actor: str = Field(max_length=80)
    action: str = Field(max_length=40)
    target: str | None = Field(default=None, max_length=200)
    client: str | None = Field(default=None, max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


INBOX_COLUMNS = [
    "id",
    "case_key",
    "created_at",
    "due_ack_at",
    "due_resolve_at",
    "severity",
    "touchpoint",
    "assignee",
    "rules",
    "response_id",
]


class AlertRow(SQLModel, table=True):
    """A customer (or a unit) someone must act on; `dedup_key` keeps one alert per thing."""

    __tablename__ = "alerts"
    __table_args__ = (
        sa.Index("ix_alerts_org_unit_id", "org_unit", "id"),
        sa.Index("ix_alerts_state_due_ack", "state", "due_ack_at"),
        # The inbox reads its page and its counts from this index alone on PostgreSQL (an
        # index-only scan, a sixth of the table): it carries every column they filter, group
        # or sort by. SQLite has no INCLUDE and ignores it.
        sa.Index("ix_alerts_inbox", "org_unit", "state", postgresql_include=INBOX_COLUMNS),
        sa.Index("ix_alerts_case_key", "case_key"),
        # The inbox finds the units raising a burst among the last hour's alerts.
        sa.Index("ix_alerts_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    org_unit: str = Field(max_length=64)
    touchpoint: str | None = Field(default=None, max_length=64)
    response_id: str | None = Field(default=None, max_length=128, index=True)
    rules: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    rules_version: int
    severity: str = Field(max_length=8)
    reasons: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    state: str = Field(max_length=16)
    assignee: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    due_ack_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    due_resolve_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    root_cause: str | None = Field(default=None, max_length=64)
    resolution_note: str | None = Field(default=None, sa_type=sa.Text)
    # How many levels up the tree it was escalated for a missed deadline.
    escalations: int = 0
    # Of its response: when it was answered, and whether it is an NPS detractor.
    response_submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    detractor: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # Of its customer: alerts of one customer inside the repeat window share a case, keyed by
    # the first one's dedup key; an alert without earlier ones is a case of its own.
    customer_ref: str | None = Field(default=None, max_length=128)
    case_key: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    # The first time someone reached the customer (or resolved it on the call), and the
    # outcome of the last call recorded.
    first_contact_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    contact_outcome: str | None = Field(default=None, max_length=16)

    @classmethod
    def values(cls, alert: NewAlert) -> dict[str, Any]:
        """Column values for an insert: open, unassigned, never escalated."""
        return {
            "dedup_key": alert.dedup_key,
            "org_unit": alert.org_unit,
            "touchpoint": alert.touchpoint,
            "response_id": alert.response_id,
            "rules": list(alert.rules),
            "rules_version": alert.rules_version,
            "severity": alert.severity.value,
            "reasons": {k: dict(v) for k, v in alert.reasons.items()},
            "state": AlertState.OPEN.value,
            "assignee": None,
            "created_at": alert.created_at,
            "due_ack_at": alert.due_ack_at,
            "due_resolve_at": alert.due_resolve_at,
            "acknowledged_at": None,
            "resolved_at": None,
            "closed_at": None,
            "root_cause": None,
            "resolution_note": None,
            "escalations": 0,
            "response_submitted_at": alert.submitted_at,
            "detractor": alert.detractor,
            "customer_ref": alert.customer_ref,
            "case_key": alert.case_key or alert.dedup_key,
            "first_contact_at": None,
            "contact_outcome": None,
        }


class AlertEventRow(SQLModel, table=True):
    """One step of an alert's history: who did what, when."""

    __tablename__ = "alert_events"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(index=True)
    at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    actor: str = Field(max_length=80)
    action: str = Field(max_length=32)
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str | None = Field(default=None, max_length=16)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class LoopHourRow(SQLModel, table=True):
    """A unit's closed-loop counts of one epoch hour (`alerts.figures.LoopCounts`): of alerts
    raised in that hour, and of detractors' alerts answered in it. Written with every step of
    an alert, in its transaction; the loop figures of any scope are their sum."""

    __tablename__ = "loop_hours"

    org_unit: str = Field(primary_key=True, max_length=64)
    hour: int = Field(primary_key=True)
    alerts: int = 0
    acknowledged: int = 0
    ack_minutes: float = 0.0
    contacted: int = 0
    contact_minutes: float = 0.0
    resolved: int = 0
    resolve_minutes: float = 0.0
    detractor_alerts: int = 0
    detractors_contacted: int = 0
    detractors_contacted_48h: int = 0


class DigestSentRow(SQLModel, table=True):
    """A user's digest of one local day: inserted before sending, so of two instances due at
    the same minute only one sends."""

    __tablename__ = "digests_sent"

    user_id: int = Field(primary_key=True)
    day: str = Field(primary_key=True, max_length=10)
    sent_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)


class PraiseRow(SQLModel, table=True):
    """A promoter's response that praises the service: on its unit's praise wall for 30 days,
    on top of the feed while pinned."""

    __tablename__ = "praise"
    __table_args__ = (sa.Index("ix_praise_org_unit_submitted_at", "org_unit", "submitted_at"),)

    response_id: str = Field(primary_key=True, max_length=128)
    org_unit: str = Field(max_length=64)
    touchpoint: str = Field(max_length=64)
    submitted_at: datetime = Field(sa_type=UTCDateTime)
    staff: list[str] | None = Field(default=None, sa_type=sa.JSON)
    pinned_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    pinned_by: str | None = Field(default=None, max_length=64)

    @classmethod
    def values(cls, response: SurveyResponse) -> dict[str, Any]:
        return {
            "response_id": response.response_id,
            "org_unit": response.org_unit,
            "touchpoint": response.touchpoint,
            "submitted_at": response.submitted_at,
            "staff": list(response.staff) or None,
            "pinned_until": None,
            "pinned_by": None,
        }
