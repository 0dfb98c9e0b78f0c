"""aggregates: counts per unit, touchpoint, score kind and hour (and minute), with roll-ups

Every barometer is summed from these rows from now on; they are backfilled from the stored
responses. unit_revisions goes: no process keeps barometers of its own any more, so there is
nothing to keep in step.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = [
    ("responses", sa.Integer()),
    ("promoters", sa.Integer()),
    ("passives", sa.Integer()),
    ("detractors", sa.Integer()),
    ("csat_responses", sa.Integer()),
    ("csat_satisfied", sa.Integer()),
    ("csat_total", sa.BigInteger()),
    ("ces_responses", sa.Integer()),
    ("ces_total", sa.BigInteger()),
    ("ces_high_effort", sa.Integer()),
    ("sentiment_responses", sa.Integer()),
    ("sentiment_total", sa.Float()),
    ("flagged", sa.Integer()),
    ("negative_comments", sa.Integer()),
]


def _counts_table(name: str, grain: str) -> None:
    op.create_table(
        name,
        sa.Column("org_unit", sa.String(length=64), nullable=False),
        sa.Column("touchpoint", sa.String(length=64), nullable=False),
        sa.Column("score_kind", sa.String(length=8), nullable=False),
        *(sa.Column(column, kind, nullable=False) for column, kind in COUNTS),
        sa.Column(grain, sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("org_unit", "touchpoint", "score_kind", grain),
    )


def upgrade() -> None:
    from app.core.org import OrgTree, OrgUnit, UnitKind
    from app.db import aggregates

    _counts_table("unit_hours", "hour")
    op.create_index("ix_unit_hours_unit_hour", "unit_hours", ["org_unit", "hour"])
    _counts_table("unit_minutes", "minute")
    op.create_index("ix_unit_minutes_minute", "unit_minutes", ["minute"])
    _counts_table("rollup_hours", "hour")
    op.create_index("ix_rollup_hours_unit_hour", "rollup_hours", ["org_unit", "hour"])
    _counts_table("rollup_minutes", "minute")
    op.create_index("ix_rollup_minutes_minute", "rollup_minutes", ["minute"])
    state = op.create_table(
        "org_tree_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(state, [{"id": 1, "version": 1}])
    connection = op.get_bind()
    units = connection.execute(sa.text("SELECT id, name, kind, parent FROM org_units"))
    tree = OrgTree(
        (OrgUnit(id=i, name=n, kind=UnitKind(k), parent=p) for i, n, k, p in units), version=1
    )
    aggregates.backfill(connection, tree, datetime.now(UTC))
    op.drop_table("unit_revisions")


def downgrade() -> None:
    op.create_table(
        "unit_revisions",
        sa.Column("org_unit", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("org_unit"),
    )
    for name in ("rollup_minutes", "rollup_hours", "unit_minutes", "unit_hours", "org_tree_state"):
        op.drop_table(name)
