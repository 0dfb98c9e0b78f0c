"""PostgreSQL persistence: migrations, idempotent inserts and the app's reads on a real server."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel, select

from app.core.events import Assessment, Severity, SurveyResponse
from app.core.writes import Scored, Writes
from app.db import aggregates, batches, directory, store
from app.db.models import ResponseRow
from app.orgfile import read_units
from ingest.pipeline import counted_of
from tests.harness import ORG_TREE, App, make_app, response, wait_until
from tests.pg import create_database

pytestmark = pytest.mark.integration

METADATA: dict[str, Any] = {
    "campaign": "q4",
    "tags": ["delivery", "late"],
    "attempt": 3,
    "nested": {"ratio": 0.25, "vip": True, "note": None},
    "text": "Grüße, 東京 ✓",
}


@pytest.fixture
def pg_url(postgres: str) -> str:
    """A new empty database for one test."""
    return create_database(postgres)


@pytest.fixture
def engine(pg_url: str) -> Iterator[sa.Engine]:
    engine = store.make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_app(broker: str, tmp_path: Path, pg_url: str) -> Iterator[App]:
    # App.rows() reads App.database_url (the default SQLite file), so tests read through `engine`.
    instance = make_app(broker, tmp_path, database_url=pg_url)
    instance.start()
    yield instance
    instance.stop()


def _count(engine: sa.Engine, response_id: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(sa.table("responses"))
    if response_id is not None:
        query = query.where(sa.column("response_id") == response_id)
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def _scored(response_id: str, score: int = 9) -> Scored:
    survey = SurveyResponse.model_validate(
        response(response_id=response_id, score=score, metadata=METADATA)
    )
    assessment = Assessment(polarity=0.4, dissatisfied=False, severity=Severity.NONE)
    return Scored(survey, assessment, datetime.now(UTC))


def _commit(engine: sa.Engine, items: list[Scored]) -> frozenset[str]:
    """Stored with their aggregates, as a worker stores a batch; the ids newly stored."""
    tree = directory.load_tree(engine)
    counted = [counted_of(i, tree) for i in items]
    return batches.commit(engine, Writes(items, [], counted, tree.version)).stored


def _new_unit(app: App) -> str:
    """A unit of its own, so tests sharing the database do not see each other's responses."""
    unit = f"store-{uuid.uuid4().hex[:8]}"
    with app.as_user("admin") as admin:
        created = admin.post(
            "/api/v1/admin/units", json={"id": unit, "name": unit, "parent": "north"}
        )
    assert created.status_code == 201, created.text
    return unit


def test_migrations_build_the_schema_on_an_empty_database_and_rerun_as_a_noop(
    engine: sa.Engine,
) -> None:
    assert sa.inspect(engine).get_table_names() == []

    store.migrate(engine)

    assert set(sa.inspect(engine).get_table_names()) == {
        "alembic_version",
        "responses",
        "org_units",
        "users",
        "sessions",
        "api_keys",
        "audit_events",
        "alerts",
        "alert_events",
        "unit_hours",
        "unit_minutes",
        "rollup_hours",
        "rollup_minutes",
        "org_tree_state",
        "digests_sent",
        "praise",
        "loop_hours",
        "response_themes",
        "theme_hours",
        "rollup_theme_hours",
        "phrase_days",
        "comment_days",
        "taxonomies",
    }
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    store.migrate(engine)
    sa.event.remove(engine, "before_cursor_execute", record)

    writes = re.compile(r"^\s*(CREATE|ALTER|DROP|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
    assert statements, "the second run did not even read the schema version"
    assert [s for s in statements if writes.match(s)] == []
    with engine.connect() as connection:
        again = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    assert again == version


REFUSE_POISON = """
CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.survey_id = 'poison' THEN RAISE EXCEPTION 'refused by test trigger'; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER refuse_poison BEFORE INSERT ON responses
  FOR EACH ROW EXECUTE FUNCTION refuse_poison();
"""


def test_a_row_postgresql_refuses_costs_only_itself_and_an_outage_is_not_its_fault(
    engine: sa.Engine,
) -> None:
    store.migrate(engine)
    directory.save_units(engine, read_units(ORG_TREE))
    with engine.begin() as connection:
        connection.exec_driver_sql(REFUSE_POISON)
    good, poison = _scored(f"r-{uuid.uuid4().hex}"), _scored(f"r-{uuid.uuid4().hex}")
    poison = Scored(
        poison.response.model_copy(update={"survey_id": "poison"}),
        poison.assessment,
        poison.received_at,
    )
    done = batches.commit(engine, Writes([good, poison], [], [], 0))
    assert done.stored == {good.response.response_id}
    assert list(done.refused) == [poison.response.response_id]
    assert done.refused[poison.response.response_id].startswith("refused by test trigger")

    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE responses RENAME TO responses_away")
    with pytest.raises(sa.exc.ProgrammingError) as caught:
        batches.commit(engine, Writes([_scored(f"r-{uuid.uuid4().hex}")], [], [], 0))
    assert not store.refuses_row(caught.value)


def test_a_batch_says_which_responses_it_stored_and_counts_only_those(engine: sa.Engine) -> None:
    store.migrate(engine)
    directory.save_units(engine, read_units(ORG_TREE))
    stored, new, twice = (f"r-{uuid.uuid4().hex}" for _ in range(3))
    assert _commit(engine, [_scored(stored)]) == {stored}

    batch = [_scored(twice, score=10), _scored(stored), _scored(new), _scored(twice, score=0)]
    assert _commit(engine, batch) == {twice, new}

    assert _commit(engine, []) == set()
    assert _count(engine) == 3
    with engine.connect() as connection:
        hours = aggregates.rows_of(connection, aggregates.HOURS)
        rolled = aggregates.rows_of(connection, aggregates.ROLLUP_HOURS)
    assert sum(c.responses for c in hours.values()) == 3
    assert sum(c.promoters for c in hours.values()) == 3  # 9, 10 and 9: the 0 lost to the 10
    per_unit: dict[str, int] = {}
    for bucket, counts in rolled.items():
        per_unit[bucket.org_unit] = per_unit.get(bucket.org_unit, 0) + counts.responses
    # store-12 has a team below it: it rolls up too, as do its region and the company.
    assert per_unit == {"store-12": 3, "north": 3, "acme": 3}
    with Session(engine) as session:
        rows = {r.response_id: r for r in session.exec(select(ResponseRow))}
    # The first of two copies in one batch wins, as with copies in consecutive batches.
    assert rows[twice].score == 10
    assert all(r.metadata_ == METADATA for r in rows.values())


def test_response_posted_three_times_is_stored_once_and_read_back_as_the_utc_instant(
    pg_app: App, engine: sa.Engine
) -> None:
    org_unit = _new_unit(pg_app)
    posted = (datetime.now(UTC) - timedelta(minutes=5)).astimezone(timezone(timedelta(hours=-7)))
    body = response(org_unit=org_unit, submitted_at=posted.isoformat(), metadata=METADATA)
    marker = response(org_unit=org_unit)
    with pg_app.client() as client:
        for _ in range(3):
            assert client.post("/api/v1/responses", json=body).status_code == 202
        # Same org unit, so the same partition: once the marker is stored, so are the copies.
        assert client.post("/api/v1/responses", json=marker).status_code == 202
    wait_until(lambda: _count(engine, marker["response_id"]) == 1, message="marker stored")

    assert _count(engine, body["response_id"]) == 1
    with engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT submitted_at, metadata FROM responses WHERE response_id = :id"),
            {"id": body["response_id"]},
        ).one()
    assert row.submitted_at == posted
    assert row.metadata == METADATA

    page = httpx.get(
        headers=pg_app.auth("admin"),
        url=pg_app.url + "/api/v1/responses",
        params={"org_unit": org_unit},
    ).json()
    assert [i["response_id"] for i in page["items"]] == [
        marker["response_id"],
        body["response_id"],
    ]
    submitted_at = datetime.fromisoformat(page["items"][1]["submitted_at"])
    assert submitted_at == posted
    assert submitted_at.utcoffset() == timedelta(0)


def test_barometers_give_the_nps_of_stored_scores(pg_app: App, engine: sa.Engine) -> None:
    org_unit = _new_unit(pg_app)
    scores = [10, 9, 9, 10, 9, 7, 8, 7, 3, 6]  # 5 promoters, 3 passives, 2 detractors: NPS 30
    bodies = [response(score=s, org_unit=org_unit) for s in scores]
    with pg_app.client() as client:
        answer = client.post("/api/v1/responses:batch", json={"responses": bodies})
    assert answer.status_code == 202
    wait_until(lambda: _count(engine) == len(bodies), message=f"{len(bodies)} rows")

    snapshot = httpx.get(
        headers=pg_app.auth("admin"),
        url=pg_app.url + "/api/v1/barometers",
        params={"org_unit": org_unit},
    ).json()
    week = snapshot["windows"]["7d"]
    assert (week["nps"], week["nps_responses"], week["responses"]) == (30.0, 10, 10)


def test_text_postgresql_cannot_store_is_refused_with_422_and_nothing_stored(
    pg_app: App, engine: sa.Engine
) -> None:
    with pg_app.client() as client:
        comment = client.post("/api/v1/responses", json=response(comment="late\u0000again"))
        assert comment.status_code == 422
        assert comment.json()["message"] == (
            "comment: contains a NUL character (\\u0000), which cannot be stored"
        )
        unit = {"id": "store-51", "name": "Store\u000051", "parent": "south"}
        added = client.post("/api/v1/admin/units", json=unit)
    assert added.status_code == 422
    assert added.json()["message"].startswith("not stored: ")
    assert "NUL" in added.json()["message"]
    with engine.connect() as connection:
        units = connection.execute(sa.text("SELECT id FROM org_units WHERE id = 'store-51'"))
        assert units.all() == []
