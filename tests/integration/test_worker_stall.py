"""A worker that cannot store a batch says so (/readyz, the stall gauge, the lag) and recovers."""

from __future__ import annotations

import json
import re

import httpx
import pytest
import sqlalchemy as sa

from app.db import store
from ingest.stall import DEGRADED_AFTER_S
from tests.harness import App, produce, response, wait_until

pytestmark = pytest.mark.integration

# Real failures of the app's own database on every write, while it answers reads: SQLite
# fails the statement as it runs (SQLITE_ERROR, an OperationalError like a disk I/O error),
# PostgreSQL reports a full disk (SQLSTATE 53100). Neither is the row's fault.
BREAK_WRITES = {
    "sqlite": [
        "CREATE TABLE write_gate (closed INTEGER)",
        "INSERT INTO write_gate VALUES (1)",
        "CREATE TRIGGER write_gate BEFORE INSERT ON responses"
        " WHEN (SELECT closed FROM write_gate) BEGIN SELECT json('disk full'); END",
    ],
    "postgresql": [
        """
        CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'could not extend file: No space left on device'
            USING ERRCODE = 'disk_full';
        END $$
        """,
        "CREATE TRIGGER disk_full BEFORE INSERT ON responses"
        " FOR EACH ROW EXECUTE FUNCTION disk_full()",
    ],
}
RESTORE_WRITES = {
    # Data, not schema: a connection that failed to prepare against a dropped table keeps
    # failing after it is back, until something else makes it reload the schema.
    "sqlite": ["UPDATE write_gate SET closed = 0"],
    "postgresql": ["DROP TRIGGER disk_full ON responses"],
}


def execute(database_url: str, statements: dict[str, list[str]]) -> None:
    engine = store.make_engine(database_url)
    try:
        with engine.begin() as connection:
            for statement in statements[connection.dialect.name]:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def samples(app: App, name: str) -> list[float]:
    text = httpx.get(app.url + "/metrics", timeout=5).text
    return [float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE)]


def readiness(app: App) -> tuple[int, dict[str, str]]:
    answer = httpx.get(app.url + "/readyz", timeout=10)
    checks: dict[str, str] = answer.json()["checks"]
    return answer.status_code, checks


def log_lines(app: App, message: str) -> int:
    return sum(
        json.loads(line).get("msg") == message
        for line in app.log.read_text().splitlines()
        if line.startswith("{")
    )


def test_a_worker_stuck_on_a_batch_says_so_and_recovers(app: App, broker: str) -> None:
    assert readiness(app)[1]["worker"] == "ok"
    execute(app.database_url, BREAK_WRITES)
    body = response()
    produce(broker, app.topic, [json.dumps(body).encode()], key=b"store-12")

    wait_until(
        lambda: max(samples(app, "voc_worker_stalled_seconds")) > 0,
        message="the stall gauge",
    )
    assert sum(samples(app, "voc_ingest_lag")) == 1
    wait_until(
        lambda: readiness(app)[0] == 503,
        timeout_s=DEGRADED_AFTER_S + 20,
        message="/readyz to report the stuck worker",
    )
    checks = readiness(app)[1]
    assert checks["worker"].startswith("degraded: embedded-1 stuck for ")
    assert checks["database"] == "ok"
    assert max(samples(app, "voc_worker_stalled_seconds")) >= DEGRADED_AFTER_S
    # A dozen retries so far, and one log line for them.
    assert log_lines(app, "infrastructure failure, retrying") == 1

    execute(app.database_url, RESTORE_WRITES)
    wait_until(lambda: len(app.rows()) == 1, message="the batch to be stored")
    wait_until(lambda: readiness(app)[0] == 200, message="/readyz to recover")
    assert samples(app, "voc_worker_stalled_seconds") == [0]
    wait_until(lambda: sum(samples(app, "voc_ingest_lag")) == 0, message="no lag")
    assert log_lines(app, "worker recovered") == 1
