"""responses: the language a comment was read as, whether it reads negative, and why it was flagged

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows stored before keep NULL reasons (read back as none) and a comment not called negative.
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("comment_language", sa.String(length=35), nullable=True))
        batch.add_column(
            sa.Column("negative_comment", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("negative_probability", sa.Float(), nullable=True))
        batch.add_column(sa.Column("reasons", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("reasons")
        batch.drop_column("negative_probability")
        batch.drop_column("negative_comment")
        batch.drop_column("comment_language")
