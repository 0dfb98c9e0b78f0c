"""unit_revisions: a per-unit count of stored responses, so concurrent workers keep barometers true

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Starts empty: a worker reloads a unit it has no revision for, so older rows still count.
    op.create_table(
        "unit_revisions",
        sa.Column("org_unit", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("org_unit"),
    )


def downgrade() -> None:
    op.drop_table("unit_revisions")
