"""themes: what each response's comment talks about, counts per unit, touchpoint, theme and
hour (with roll-ups), the daily phrase counts emerging topics are found in, and the taxonomies
admins store

Responses stored before have no themes: the taxonomy is applied at ingest, once.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ("mentions", "promoters", "passives", "detractors", "negative", "neutral", "positive")


def _counts_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("org_unit", sa.String(length=64), nullable=False),
        sa.Column("touchpoint", sa.String(length=64), nullable=False),
        sa.Column("theme", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        *(sa.Column(column, sa.Integer(), nullable=False) for column in COUNTS),
        sa.PrimaryKeyConstraint("org_unit", "touchpoint", "theme", "hour"),
    )
    op.create_index(f"ix_{name}_unit_hour", name, ["org_unit", "hour"])


def upgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("themes", sa.JSON(), nullable=True))
    op.create_table(
        "response_themes",
        sa.Column("theme", sa.String(length=64), nullable=False),
        sa.Column("response_row", sa.Integer(), nullable=False),
        sa.Column("org_unit", sa.String(length=64), nullable=False),
        sa.Column("tone", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint("theme", "response_row"),
    )
    op.create_index(
        "ix_response_themes_unit", "response_themes", ["theme", "org_unit", "response_row"]
    )
    _counts_table("theme_hours")
    _counts_table("rollup_theme_hours")
    op.create_table(
        "phrase_days",
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("phrase", sa.String(length=80), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "language", "phrase"),
    )
    op.create_table(
        "comment_days",
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "language"),
    )
    op.create_table(
        "taxonomies",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )


def downgrade() -> None:
    op.drop_table("taxonomies")
    op.drop_table("comment_days")
    op.drop_table("phrase_days")
    op.drop_table("rollup_theme_hours")
    op.drop_table("theme_hours")
    op.drop_table("response_themes")
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("themes")
