"""hot listening: alerts carry their customer, case and first contact; the loop is counted per
unit and hour; users choose their digest, sent once a day; praise and its pins; responses name
their staff

Backfilled: each alert's case is itself, its customer that of its response, a resolved customer
alert's first contact its resolution (no call was recorded before), and the loop counts of every
alert stored.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db.models import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("customer_ref", sa.String(length=128), nullable=True))
        batch.add_column(
            sa.Column("case_key", sa.String(length=200), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("first_contact_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("contact_outcome", sa.String(length=16), nullable=True))
    op.execute(
        """
        UPDATE alerts SET
          case_key = dedup_key,
          customer_ref = (
            SELECT r.customer_ref FROM responses r WHERE r.response_id = alerts.response_id),
          first_contact_at = CASE WHEN response_id IS NOT NULL THEN resolved_at END
        """
    )
    op.create_index("ix_alerts_case_key", "alerts", ["case_key"])
    op.create_index("ix_alerts_org_unit_state", "alerts", ["org_unit", "state"])
    op.create_index("ix_alerts_created_at", "alerts", ["created_at"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("digest", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("digest_hour", sa.Integer(), server_default="7", nullable=False))
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
    op.create_table(
        "digests_sent",
        sa.Column("user_id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.String(length=10), primary_key=True),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
    )
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("staff", sa.JSON(), nullable=True))
    op.create_table(
        "praise",
        sa.Column("response_id", sa.String(length=128), primary_key=True),
        sa.Column("org_unit", sa.String(length=64), nullable=False),
        sa.Column("touchpoint", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("staff", sa.JSON(), nullable=True),
        sa.Column("pinned_until", UTCDateTime(), nullable=True),
        sa.Column("pinned_by", sa.String(length=64), nullable=True),
    )
    op.create_index("ix_praise_org_unit_submitted_at", "praise", ["org_unit", "submitted_at"])
    op.create_table(
        "loop_hours",
        sa.Column("org_unit", sa.String(length=64), primary_key=True),
        sa.Column("hour", sa.Integer(), primary_key=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        *(sa.Column(name, sa.Float(), nullable=False) for name in _MINUTES),
    )
    _count_the_loop(op.get_bind())


_COUNTS = (
    "alerts",
    "acknowledged",
    "contacted",
    "resolved",
    "detractor_alerts",
    "detractors_contacted",
    "detractors_contacted_48h",
)
_MINUTES = ("ack_minutes", "contact_minutes", "resolve_minutes")


def _count_the_loop(connection: sa.Connection) -> None:
    """The loop counts of the alerts stored so far, as their steps would have added them."""
    from alerts.figures import AlertClock, loop_of

    times = ("created_at", "response_submitted_at", "acknowledged_at", "first_contact_at")
    alerts = sa.table(
        "alerts",
        *(sa.column(name, UTCDateTime()) for name in (*times, "resolved_at")),
        sa.column("detractor", sa.Boolean()),
        sa.column("org_unit", sa.String()),
    )
    query = sa.select(
        alerts.c.org_unit,
        alerts.c.created_at,
        alerts.c.response_submitted_at,
        alerts.c.detractor,
        alerts.c.acknowledged_at,
        alerts.c.first_contact_at,
        alerts.c.resolved_at,
    )
    totals = loop_of((unit, AlertClock(*clock)) for unit, *clock in connection.execute(query))
    rows = [
        {"org_unit": unit, "hour": hour, **{n: counts.get(n, 0) for n in _COUNTS + _MINUTES}}
        for unit, by_hour in totals.items()
        for hour, counts in by_hour.items()
    ]
    if rows:
        table = sa.table(
            "loop_hours",
            *(sa.column(n) for n in ("org_unit", "hour", *_COUNTS, *_MINUTES)),
        )
        connection.execute(sa.insert(table), rows)


def downgrade() -> None:
    op.drop_table("loop_hours")
    op.drop_index("ix_praise_org_unit_submitted_at", table_name="praise")
    op.drop_table("praise")
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("staff")
    op.drop_table("digests_sent")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("timezone")
        batch.drop_column("digest_hour")
        batch.drop_column("digest")
    op.drop_index("ix_alerts_created_at", table_name="alerts")
    op.drop_index("ix_alerts_org_unit_state", table_name="alerts")
    op.drop_index("ix_alerts_case_key", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("contact_outcome")
        batch.drop_column("first_contact_at")
        batch.drop_column("case_key")
        batch.drop_column("customer_ref")
