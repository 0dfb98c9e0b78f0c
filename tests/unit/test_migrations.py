"""Migrations that backfill what they add from what was stored before them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from alerts.figures import LoopCounts, LoopSums
from app.core.aggregates import epoch_minute
from app.db import alerting, store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _alert(n: int, **values: object) -> dict[str, object]:
    return {
        "dedup_key": f"response:r-{n}",
        "org_unit": "store-1",
        "touchpoint": "delivery",
        "response_id": f"r-{n}",
        "rules": '["detractor-negative-comment"]',
        "rules_version": 2,
        "severity": "high",
        "reasons": "{}",
        "state": "open",
        "created_at": NOW.replace(tzinfo=None),
        "escalations": 0,
        **values,
    }


def test_the_hot_listening_migration_counts_the_loop_of_the_alerts_stored_before(
    tmp_path: Path,
) -> None:
    from alembic import command
    from alembic.config import Config

    engine = store.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(Path(store.__file__).parent / "migrations"))
    naive = NOW.replace(tzinfo=None)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0008")
        rows = [
            _alert(1, detractor=True, response_submitted_at=naive - 2 * H),
            _alert(
                2,
                state="resolved",
                acknowledged_at=naive + 0.5 * H,
                resolved_at=naive + 3 * H,
                detractor=True,
                response_submitted_at=naive - H,
            ),
            _alert(3, state="acknowledged", acknowledged_at=naive + H, detractor=False),
        ]
        for row in rows:
            table = sa.table("alerts", *(sa.column(name) for name in row))
            connection.execute(sa.insert(table).values(**row))
    store.migrate(engine)
    with engine.connect() as connection:
        counts = alerting.loop_counts(connection, org_units=["store-1"], since_hour=0)
    hour = epoch_minute(NOW) // 60
    sums = LoopSums.of(counts, since=0, until=hour - 100)
    assert sums.raised == LoopCounts(
        alerts=3,
        acknowledged=2,
        ack_minutes=90.0,
        # A resolution before calls were recorded is the first contact.
        contacted=1,
        contact_minutes=180.0,
        resolved=1,
        resolve_minutes=180.0,
        detractor_alerts=2,
        detractors_contacted=1,
        detractors_contacted_48h=1,
    )
    engine.dispose()
