"""the inbox's index carries the columns its page and counts read (PostgreSQL)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As they were on the day: app.db.models.INBOX_COLUMNS may change with a later revision.
_INCLUDED = [
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


def upgrade() -> None:
    op.create_index(
        "ix_alerts_inbox", "alerts", ["org_unit", "state"], postgresql_include=_INCLUDED
    )
    op.drop_index("ix_alerts_org_unit_state", table_name="alerts")


def downgrade() -> None:
    op.create_index("ix_alerts_org_unit_state", "alerts", ["org_unit", "state"])
    op.drop_index("ix_alerts_inbox", table_name="alerts")
