"""Database tables, mapped to and from the wire schemas in `app.core.events`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from app.core.events import Assessment, ResponseView, SurveyResponse


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
    metadata_: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column("metadata", sa.JSON)
    )
    polarity: float | None = None
    dissatisfied: bool = False
    severity: str = Field(max_length=8)

    @classmethod
    def values(
        cls, response: SurveyResponse, assessment: Assessment, received_at: datetime
    ) -> dict[str, Any]:
        """Column values for an insert."""
        data = response.model_dump(mode="json", exclude={"metadata", "submitted_at"})
        return {
            **data,
            "submitted_at": response.submitted_at,
            "received_at": received_at,
            "metadata": response.metadata,
            **assessment.model_dump(mode="json"),
        }

    def view(self) -> ResponseView:
        return ResponseView.model_validate(self, from_attributes=True)
