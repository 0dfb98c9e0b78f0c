"""alerts: when their response was answered, and whether it is an NPS detractor

The closed-loop figures count detractors from the aggregates and those called back from the
alerts alone, so no figure reads the responses table. Backfilled from the stored responses.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db.models import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("response_submitted_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("detractor", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(
        """
        UPDATE alerts SET
          response_submitted_at = (
            SELECT r.submitted_at FROM responses r WHERE r.response_id = alerts.response_id),
          detractor = EXISTS (
            SELECT 1 FROM responses r WHERE r.response_id = alerts.response_id
            AND r.score_kind = 'nps' AND r.score <= 6)
        WHERE response_id IS NOT NULL
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("detractor")
        batch.drop_column("response_submitted_at")
