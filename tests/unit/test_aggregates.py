"""Barometers summed from aggregate rows equal barometers counted response by response, at every
level of the tree, after a backfill, and after the tree changes shape."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.core.aggregates import Counted, increments
from app.core.barometer import BarometerBook, Tally
from app.core.errors import TreeChanged
from app.core.events import Assessment, BarometerSnapshot, Severity, SurveyResponse, Window
from app.core.org import OrgTree, OrgUnit, UnitKind
from app.core.writes import Scored, Writes
from app.db import aggregates, batches, directory, rollups, store
from app.db.models import ResponseRow
from tests.unit.test_events import body

TZ = ZoneInfo("Europe/Paris")
NOW = datetime.now(UTC).replace(second=30, microsecond=0)
UNITS = [
    OrgUnit(id="acme", name="Acme", kind=UnitKind.COMPANY),
    OrgUnit(id="north", name="North", kind=UnitKind.REGION, parent="acme"),
    OrgUnit(id="south", name="South", kind=UnitKind.REGION, parent="acme"),
    *(OrgUnit(id=f"store-{i}", name=f"Store {i}", parent="north") for i in range(3)),
    *(OrgUnit(id=f"store-{i}", name=f"Store {i}", parent="south") for i in range(3, 5)),
]
TOUCHPOINTS = ["delivery", "billing", "support"]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = store.make_engine(f"sqlite:///{tmp_path / 'voc.db'}")
    store.migrate(engine)
    directory.save_units(engine, UNITS)
    yield engine
    engine.dispose()


def responses(count: int, seed: int = 7) -> list[tuple[Scored, Tally]]:
    """Rows and tallies of responses over the last 8 days, a good share in the last two hours,
    some answered to a region itself."""
    rng = random.Random(seed)
    made = []
    for i in range(count):
        unit = rng.choice([*(f"store-{n}" for n in range(5)), "north"])
        recent = rng.random() < 0.4
        age = (
            timedelta(minutes=rng.uniform(0, 150))
            if recent
            else timedelta(hours=rng.uniform(0, 190))
        )
        kind, score = rng.choice(
            [("nps", rng.randint(0, 10))] * 4
            + [("csat", rng.randint(1, 5)), ("ces", rng.randint(1, 7))]
        )
        response = SurveyResponse.model_validate(
            body(
                response_id=f"r-{i}",
                org_unit=unit,
                touchpoint=rng.choice(TOUCHPOINTS),
                score_kind=kind,
                score=score,
                submitted_at=(NOW - age).isoformat(),
            )
        )
        # Binary fractions: their sums are exact in any order, as the aggregates sum them.
        polarity = rng.choice([None, -0.625, 0.125, 0.75])
        assessment = Assessment(
            polarity=polarity,
            dissatisfied=polarity == -0.625,
            severity=Severity("none"),
            negative_comment=polarity == -0.625,
        )
        tally = Tally(
            org_unit=unit,
            touchpoint=response.touchpoint,
            submitted_at=response.submitted_at,
            score_kind=response.score_kind,
            score=response.score,
            polarity=polarity,
            dissatisfied=assessment.dissatisfied,
            negative_comment=assessment.negative_comment,
        )
        made.append((Scored(response, assessment, NOW), tally))
    return made


def store_all(engine: sa.Engine, made: list[tuple[Scored, Tally]]) -> OrgTree:
    tree = directory.load_tree(engine)
    for start in range(0, len(made), 50):
        part = made[start : start + 50]
        counted = [
            Counted(i.response.response_id, t, tree.rolled_into(t.org_unit)) for i, t in part
        ]
        batches.commit(engine, Writes([i for i, _ in part], [], counted, tree.version))
    return tree


def counted_one_by_one(
    tree: OrgTree, tallies: list[Tally], units: frozenset[str] | None
) -> BarometerBook:
    book = BarometerBook(TZ)
    for tally in sorted(tallies, key=lambda t: t.submitted_at):
        if units is None or tally.org_unit in units:
            book.add(tally)
    return book


def summed(
    engine: sa.Engine, tree: OrgTree, covered: list[str], touchpoints: tuple[str, ...] = ()
) -> BarometerSnapshot:
    return rollups.barometer(
        engine,
        tree,
        TZ,
        covered=covered,
        touchpoints=touchpoints,
        label=None,
        windows=list(Window),
        now=NOW,
    )


@pytest.mark.parametrize("scope", [None, "acme", "north", "south", "store-1", "store-3"])
def test_every_level_sums_to_what_counting_each_response_gives(
    engine: sa.Engine, scope: str | None
) -> None:
    made = responses(600)
    tree = store_all(engine, made)
    covered = sorted(tree.subtree(scope)) if scope else []
    expected = counted_one_by_one(tree, [t for _, t in made], frozenset(covered) if scope else None)
    got = summed(engine, tree, covered)
    want = expected.snapshot(None, None, NOW, hourly=True)
    assert got.windows == want.windows
    assert got.trend == want.trend
    assert got.hourly == want.hourly
    assert got.windows[Window.WEEK].responses > 0


def test_stores_sharing_their_parents_figures_get_what_each_computed_alone_gets(
    engine: sa.Engine,
) -> None:
    tree = store_all(engine, responses(300))
    stores = tree.children("north")

    def barometer(store: str, parents: rollups.Parents | None) -> BarometerSnapshot:
        return rollups.barometer(
            engine,
            tree,
            TZ,
            covered=[store],
            touchpoints=(),
            label=store,
            windows=list(Window),
            now=NOW,
            parents=parents,
        )

    shared: rollups.Parents = {}
    together = [barometer(store, shared) for store in stores]
    assert len(stores) > 1 and list(shared) == [("north", (), tuple(Window))]
    assert together == [barometer(store, None) for store in stores]
    assert all(b.parent is not None and b.parent.org_unit == "north" for b in together)


def test_a_touchpoint_filter_sums_only_that_touchpoint(engine: sa.Engine) -> None:
    made = responses(300)
    tree = store_all(engine, made)
    got = summed(engine, tree, sorted(tree.subtree("north")), ["billing"])
    book = counted_one_by_one(tree, [t for _, t in made], tree.subtree("north"))
    assert got.windows == book.snapshot(None, "billing", NOW).windows


def test_a_redelivered_batch_counts_once(engine: sa.Engine) -> None:
    made = responses(100)
    store_all(engine, made)
    tree = store_all(engine, made)
    book = counted_one_by_one(tree, [t for _, t in made], None)
    assert summed(engine, tree, []).windows == book.snapshot(None, None, NOW).windows


def test_the_backfill_of_stored_responses_gives_the_rows_counting_them_gave(
    engine: sa.Engine,
) -> None:
    tree = store_all(engine, responses(400))
    tables = [
        aggregates.HOURS,
        aggregates.MINUTES,
        aggregates.ROLLUP_HOURS,
        aggregates.ROLLUP_MINUTES,
    ]
    with engine.begin() as connection:
        counted = [aggregates.rows_of(connection, t) for t in tables]
        for table in tables:
            connection.execute(sa.delete(table))
        aggregates.backfill(connection, tree, NOW)
        backfilled = [aggregates.rows_of(connection, t) for t in tables]
    for before, after in zip(counted, backfilled, strict=True):
        assert after.keys() == before.keys()
        for key, counts in before.items():
            assert after[key].sentiment_total == pytest.approx(counts.sentiment_total)
            counts.sentiment_total = after[key].sentiment_total
            assert after[key] == counts


def test_moving_a_store_to_another_region_moves_its_counts(engine: sa.Engine) -> None:
    made = responses(300)
    tree = store_all(engine, made)
    moved = tree.get("store-0")
    assert moved is not None
    after = directory.save_units(engine, [moved.model_copy(update={"parent": "south"})])
    assert after.version == tree.version + 1
    tallies = [t for _, t in made]
    for region in ("north", "south"):
        book = counted_one_by_one(after, tallies, after.subtree(region))
        got = summed(engine, after, sorted(after.subtree(region)))
        assert got.windows == book.snapshot(None, None, NOW).windows


def test_renaming_a_unit_keeps_the_tree_version(engine: sa.Engine) -> None:
    tree = directory.load_tree(engine)
    unit = tree.get("north")
    assert unit is not None
    assert (
        directory.save_units(engine, [unit.model_copy(update={"name": "Nord"})]).version
        == tree.version
    )


def test_a_batch_counted_for_an_older_tree_writes_nothing(engine: sa.Engine) -> None:
    tree = directory.load_tree(engine)
    unit = tree.get("store-4")
    assert unit is not None
    directory.save_units(engine, [unit.model_copy(update={"parent": "north"})])
    ((item, tally),) = responses(1)
    counted = [Counted(item.response.response_id, tally, tree.rolled_into(tally.org_unit))]
    with pytest.raises(TreeChanged):
        batches.commit(engine, Writes([item], [], counted, tree.version))
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM responses")).scalar() == 0
        assert not aggregates.rows_of(connection, aggregates.HOURS)


def test_minutes_older_than_kept_count_in_hours_only() -> None:
    tree = OrgTree(UNITS)
    old = Tally("store-1", "billing", NOW - timedelta(hours=5), *_nps(9))
    new = Tally("store-1", "billing", NOW - timedelta(minutes=5), *_nps(3))
    made = increments(
        [
            Counted("a", old, tree.rolled_into("store-1")),
            Counted("b", new, tree.rolled_into("store-1")),
        ],
        now=NOW,
    )
    assert sum(c.responses for c in made.hours.values()) == 2
    assert sum(c.responses for c in made.minutes.values()) == 1
    assert {b.org_unit for b in made.rollup_hours} == {"north", "acme"}
    assert {b.org_unit for b in made.rollup_minutes} == {"north", "acme"}


def test_a_unit_with_units_below_rolls_into_itself_and_a_leaf_does_not() -> None:
    tree = OrgTree(UNITS)
    assert tree.rolled_into("store-1") == ("north", "acme")
    assert tree.rolled_into("north") == ("north", "acme")
    assert tree.tops(["north", "store-1", "store-3"]) == ["north", "store-3"]
    assert tree.tops(None) == ["acme"]


def _nps(score: int) -> tuple[object, int, None, bool]:
    from app.core.events import ScoreKind

    return (ScoreKind.NPS, score, None, score <= 6)


def test_the_migration_backfills_what_was_stored_before_it(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    engine = store.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(Path(store.__file__).parent / "migrations"))
    made = responses(200)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        rows = [ResponseRow.values(i.response, i.assessment, i.received_at) for i, _ in made]
        for row in rows:
            del row["staff"], row["themes"]  # added by 0009 and 0014
        connection.execute(sa.insert(ResponseRow.__table__), rows)  # type: ignore[attr-defined]
        for unit in UNITS:
            connection.execute(
                sa.text("INSERT INTO org_units (id, name, kind, parent) VALUES (:i, :n, :k, :p)"),
                {"i": unit.id, "n": unit.name, "k": unit.kind.value, "p": unit.parent},
            )
    store.migrate(engine)
    tree = directory.load_tree(engine)
    for scope in ("acme", "south", "store-2"):
        book = counted_one_by_one(tree, [t for _, t in made], tree.subtree(scope))
        got = summed(engine, tree, sorted(tree.subtree(scope)))
        assert got.windows == book.snapshot(None, None, NOW).windows
        assert got.trend == book.snapshot(None, None, NOW).trend
    engine.dispose()
