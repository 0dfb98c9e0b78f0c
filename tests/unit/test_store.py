"""Storing a batch whose rows the database refuses: each refused row alone, the rest stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.core.events import Assessment, Severity, SurveyResponse
from app.db import store
from app.db.models import ResponseRow
from tests.unit.test_events import body

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
# A real refusal by SQLite itself, as a check constraint or a stricter schema would refuse.
POISON_TRIGGER = """
CREATE TRIGGER refuse_poison BEFORE INSERT ON responses WHEN NEW.survey_id = 'poison'
BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END
"""


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = store.make_engine(f"sqlite:///{tmp_path / 'voc.db'}")
    store.migrate(engine)
    with engine.begin() as connection:
        connection.execute(sa.text(POISON_TRIGGER))
    yield engine
    engine.dispose()


def row(response_id: str, **overrides: Any) -> dict[str, Any]:
    response = SurveyResponse.model_validate(body(response_id=response_id, **overrides))
    assessment = Assessment(polarity=None, dissatisfied=False, severity=Severity("none"))
    return ResponseRow.values(response, assessment, NOW)


def stored_ids(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        query = sa.text("SELECT response_id FROM responses ORDER BY id")
        return list(connection.execute(query).scalars())


def test_a_refused_row_fails_the_whole_batch_insert(engine: sa.Engine) -> None:
    rows = [row("r-1"), row("r-2", survey_id="poison"), row("r-3")]
    with pytest.raises(sa.exc.IntegrityError) as caught:
        store.insert_new(engine, rows)
    assert store.refuses_row(caught.value)
    assert stored_ids(engine) == []


def test_row_by_row_stores_all_but_the_refused_row_and_says_why(engine: sa.Engine) -> None:
    rows = [row("r-1"), row("r-2", survey_id="poison"), row("r-3", org_unit="store-7")]
    inserted, refused = store.insert_each(engine, rows)
    assert stored_ids(engine) == ["r-1", "r-3"]
    assert inserted.response_ids == {"r-1", "r-3"}
    assert refused == {"r-2": "refused by test trigger"}
    assert inserted.revisions == {
        "store-12": store.Revision(1, 1),
        "store-7": store.Revision(1, 1),
    }


def test_row_by_row_revisions_count_every_row_a_unit_gained(engine: sa.Engine) -> None:
    store.insert_new(engine, [row("r-0")])
    rows = [row("r-1"), row("r-2", survey_id="poison"), row("r-3"), row("r-0")]
    inserted, refused = store.insert_each(engine, rows)
    assert inserted.response_ids == {"r-1", "r-3"}
    assert list(refused) == ["r-2"]
    # Revision 3, of which 2 rows are this batch's: the unit stood at 1 before it.
    assert inserted.revisions == {"store-12": store.Revision(3, 2)}


def test_row_by_row_raises_what_is_not_the_rows_fault(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE responses RENAME TO responses_away"))
    with pytest.raises(sa.exc.OperationalError) as caught:
        store.insert_each(engine, [row("r-1")])
    assert not store.refuses_row(caught.value)


def test_row_by_row_runs_each_insert_through_attempt(engine: sa.Engine) -> None:
    attempts: list[str] = []

    def attempt(insert: Any) -> store.Inserted:
        attempts.append("try")
        result: store.Inserted = insert()
        return result

    store.insert_each(engine, [row("r-1"), row("r-2", survey_id="poison")], attempt=attempt)
    assert attempts == ["try", "try"]


def test_an_integer_sqlite_cannot_bind_is_the_rows_fault(engine: sa.Engine) -> None:
    too_big = row("r-1")
    too_big["score"] = 10**30
    with pytest.raises(OverflowError) as caught:
        store.insert_new(engine, [too_big])
    assert store.refuses_row(caught.value)
    inserted, refused = store.insert_each(engine, [too_big, row("r-2")])
    assert inserted.response_ids == {"r-2"}
    assert "too large" in refused["r-1"]


def test_bind_conversion_failures_are_the_rows_fault() -> None:
    failure = sa.exc.StatementError("bind failed", "INSERT", {}, OverflowError("out of range"))
    assert store.refuses_row(failure)
    assert store.error_text(failure) == "out of range"


def test_postgres_blames_the_row_by_sqlstate_not_by_class() -> None:
    import psycopg.errors

    def wrapped(sqlstate: str) -> sa.exc.DBAPIError:
        error = psycopg.errors.lookup(sqlstate)("message")
        return sa.exc.DBAPIError.instance("INSERT", {}, error, psycopg.Error)

    assert store.refuses_row(wrapped("22P02"))  # invalid text representation
    assert store.refuses_row(wrapped("23514"))  # check violation
    assert store.refuses_row(wrapped("P0001"))  # RAISE EXCEPTION in a trigger
    assert not store.refuses_row(wrapped("42P01"))  # undefined table: every row fails
    assert not store.refuses_row(wrapped("53100"))  # disk full
    assert not store.refuses_row(wrapped("57P01"))  # admin shutdown
