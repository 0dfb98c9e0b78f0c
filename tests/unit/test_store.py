"""Storing a batch whose rows the database refuses: each refused row alone, the rest stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.core.errors import StoreUnavailable
from app.core.events import Assessment, Severity, SurveyResponse
from app.core.writes import NewAlert, Scored, Writes
from app.db import batches, store
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


def scored(response_id: str, **overrides: Any) -> Scored:
    response = SurveyResponse.model_validate(body(response_id=response_id, **overrides))
    assessment = Assessment(polarity=None, dissatisfied=False, severity=Severity("none"))
    return Scored(response, assessment, NOW)


def unit_alert(org_unit: str) -> NewAlert:
    return NewAlert(
        dedup_key=f"drop:test:{org_unit}",
        org_unit=org_unit,
        touchpoint=None,
        response_id=None,
        rules=("test",),
        rules_version=1,
        severity=Severity.HIGH,
        reasons={"test": {}},
        created_at=NOW,
        due_ack_at=None,
        due_resolve_at=None,
    )


def writes(items: list[Scored], alerts: list[NewAlert] = []) -> Writes:  # noqa: B006
    return Writes(responses=items, alerts=alerts, counted=[], tree_version=0)


def stored_ids(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        query = sa.text("SELECT response_id FROM responses ORDER BY id")
        return list(connection.execute(query).scalars())


def test_row_by_row_stores_all_but_the_refused_row_and_says_why(engine: sa.Engine) -> None:
    items = [scored("r-1"), scored("r-2", survey_id="poison"), scored("r-3", org_unit="store-7")]
    done = batches.commit(engine, writes(items, [unit_alert("store-7")]))
    assert stored_ids(engine) == ["r-1", "r-3"]
    assert done.stored == {"r-1", "r-3"}
    assert done.refused == {"r-2": "refused by test trigger"}
    # The units' alerts are written too, once the rows are.
    assert list(done.alerts) == ["drop:test:store-7"]


def test_a_redelivered_row_is_not_stored_again_nor_said_to_be_new(engine: sa.Engine) -> None:
    batches.commit(engine, writes([scored("r-0")]))
    items = [scored("r-1"), scored("r-2", survey_id="poison"), scored("r-0")]
    done = batches.commit(engine, writes(items))
    assert done.stored == {"r-1"}
    assert list(done.refused) == ["r-2"]
    assert stored_ids(engine) == ["r-0", "r-1"]


def test_what_is_not_the_rows_fault_is_raised_and_nothing_is_stored(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE responses RENAME TO responses_away"))
    with pytest.raises(sa.exc.OperationalError) as caught:
        batches.commit(engine, writes([scored("r-1")]))
    assert not store.refuses_row(caught.value)


def test_an_unreachable_database_is_unavailable_to_the_worker(tmp_path: Path) -> None:
    gone = batches.BatchStore(store.make_engine(f"sqlite:///{tmp_path / 'no' / 'such.db'}"))
    with pytest.raises(StoreUnavailable):
        gone.commit(writes([scored("r-1")]))


def test_an_integer_sqlite_cannot_bind_is_the_rows_fault() -> None:
    assert store.refuses_row(OverflowError("Python int too large to convert to SQLite INTEGER"))


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


def test_unit_counts_are_read_once_a_minute_and_what_the_store_wrote_is_added() -> None:
    from app.core.aggregates import Counted, epoch_minute
    from app.core.barometer import Counts, Tally
    from app.core.events import ScoreKind, ThemeMention, Tone
    from app.core.writes import FactsQuery

    now = [1000.0]
    counts = batches.UnitCounts(lambda: now[0])
    assert counts.stale(["store-1", "store-2"]) == ["store-1", "store-2"]
    stored = Counts()
    stored.record(ScoreKind.NPS, 10, None, False)
    query = FactsQuery(
        units=frozenset({"store-1"}),
        since_minute=epoch_minute(NOW) - 59,
        since_hour=epoch_minute(NOW) // 60 - 167,
        recent_hour=epoch_minute(NOW) // 60 - 1,
    )
    counts.read(["store-1"], {"store-1": stored}, {}, {}, query)
    assert counts.stale(["store-1", "store-2"]) == ["store-2"]

    def counted(minutes_ago: int, score: int) -> Counted:
        at = NOW - timedelta(minutes=minutes_ago)
        tally = Tally("store-1", "delivery", at, ScoreKind.NPS, score, None, score <= 6)
        late = ThemeMention(theme="delivery", tone=Tone.NEGATIVE)
        return Counted(f"r-{minutes_ago}", tally, (), (late,))

    # Written in the hour, and three hours ago: the week counts both, the hour only the first;
    # the recent hours (from the previous clock hour on) only the first's theme.
    counts.wrote([counted(5, 0), counted(180, 0)])
    hours, weeks, themes = counts.of(["store-1", "store-2"])
    assert (hours["store-1"].promoters, hours["store-1"].detractors) == (1, 1)
    assert weeks["store-1"].detractors == 2 and "store-2" not in hours
    assert (themes["store-1"].recent, themes["store-1"].week) == ({"delivery": 1}, {"delivery": 2})
    now[0] += batches.UnitCounts.READ_EVERY_S
    assert counts.stale(["store-1"]) == ["store-1"]
