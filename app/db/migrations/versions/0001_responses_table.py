"""responses table

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db.models import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.String(length=128), nullable=False),
        sa.Column("survey_id", sa.String(length=128), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("score_kind", sa.String(length=8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("touchpoint", sa.String(length=64), nullable=False),
        sa.Column("org_unit", sa.String(length=64), nullable=False),
        sa.Column("customer_type", sa.String(length=16), nullable=False),
        sa.Column("customer_ref", sa.String(length=128), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=True),
        sa.Column("polarity", sa.Float(), nullable=True),
        sa.Column("dissatisfied", sa.Boolean(), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("response_id"),
    )
    op.create_index("ix_responses_org_unit_id", "responses", ["org_unit", "id"])
    op.create_index("ix_responses_submitted_at", "responses", ["submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_responses_submitted_at", table_name="responses")
    op.drop_index("ix_responses_org_unit_id", table_name="responses")
    op.drop_table("responses")
