"""users.email, where alert e-mails go; responses by customer_ref, for the repeat rule

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    op.create_index("ix_responses_customer_ref", "responses", ["customer_ref"])


def downgrade() -> None:
    op.drop_index("ix_responses_customer_ref", table_name="responses")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email")
