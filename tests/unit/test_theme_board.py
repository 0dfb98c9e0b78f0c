"""The Themes screen's figures: a theme's weight on the NPS, its share and change, and the same
figures summed from theme rows at every level of the tree as counting each response gives."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.core.aggregates import Counted, ThemeCounts
from app.core.barometer import Counts, Tally
from app.core.events import Assessment, ScoreKind, Severity, SurveyResponse, ThemeMention, Tone
from app.core.theme_board import Period, board, impact, period_hours
from app.core.writes import Scored, Writes
from app.db import batches, directory, rollups, store
from tests.unit.test_aggregates import UNITS
from tests.unit.test_events import body

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
THEMES = ["delivery", "billing", "staff"]


def nps_counts(promoters: int, passives: int, detractors: int) -> Counts:
    return Counts(promoters=promoters, passives=passives, detractors=detractors)


def theme(promoters: int, passives: int, detractors: int, **more: int) -> ThemeCounts:
    mentions = more.pop("mentions", promoters + passives + detractors)
    return ThemeCounts(mentions, promoters, passives, detractors, **more)


def test_a_theme_of_detractors_costs_the_points_its_answers_take_away() -> None:
    total = nps_counts(5, 1, 4)  # NPS 10
    # Its 4 detractors and 1 passive gone, the 5 promoters would make 100: it costs 90 points.
    assert impact(total, theme(0, 1, 4)) == -90.0
    assert impact(total, theme(5, 0, 0)) == 90.0  # and praise is worth what it adds
    assert impact(total, theme(0, 0, 0, mentions=3)) == 0.0  # no NPS answers: no weight
    # Every NPS answer names it: there is no NPS without it to compare with.
    assert impact(total, theme(5, 1, 4)) is None
    assert impact(Counts(), theme(0, 0, 0, mentions=2)) is None


def test_the_board_gives_share_of_comments_and_change_against_the_period_before() -> None:
    total = nps_counts(5, 1, 4)
    total.sentiment_responses = 10
    before = nps_counts(2, 0, 2)
    before.sentiment_responses = 20
    hours = period_hours(Period.WEEK, NOW, PARIS)
    got = board(
        org_unit="store-1",
        period=Period.WEEK,
        as_of=NOW,
        hours=hours,
        total=total,
        previous_total=before,
        themes={"delivery": theme(0, 1, 4, negative=5), "staff": theme(1, 0, 0, positive=1)},
        previous={"delivery": theme(0, 0, 2), "billing": theme(0, 0, 1)},
    )
    by_id = {row.theme: row for row in got.themes}
    assert [row.theme for row in got.themes] == ["delivery", "staff", "billing"]
    delivery = by_id["delivery"]
    assert (delivery.mentions, delivery.share, delivery.negative) == (5, 50.0, 5)
    assert (delivery.previous_mentions, delivery.previous_share, delivery.share_change) == (
        2,
        10.0,
        40.0,
    )
    assert (delivery.nps, delivery.nps_responses) == (-80.0, 5)
    billing = by_id["billing"]  # named only before: listed, at nothing now
    assert (billing.mentions, billing.share, billing.share_change) == (0, 0.0, -5.0)
    assert (got.comments, got.nps, got.nps_responses) == (10, 10.0, 10)
    assert got.since == NOW.replace(minute=0) - timedelta(days=7) + timedelta(hours=1)
    assert got.previous_since == got.since - timedelta(days=7)


def test_today_is_the_local_day_against_the_whole_day_before() -> None:
    previous, start, end = period_hours(Period.TODAY, NOW, PARIS)
    midnight = datetime(2026, 12, 1, tzinfo=PARIS)
    assert start * 3600 == midnight.timestamp()
    assert previous * 3600 == (midnight - timedelta(days=1)).timestamp()
    assert end * 3600 == NOW.replace(minute=0).timestamp() + 3600
    previous, start, end = period_hours(Period.FOUR_WEEKS, NOW, PARIS)
    assert (end - start, start - previous) == (28 * 24, 28 * 24)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = store.make_engine(f"sqlite:///{tmp_path / 'voc.db'}")
    store.migrate(engine)
    directory.save_units(engine, UNITS)
    yield engine
    engine.dispose()


def themed(count: int, seed: int = 11) -> list[tuple[Scored, Tally]]:
    """Responses over the last 20 days naming none to three themes, each in some tone."""
    rng = random.Random(seed)
    made = []
    for i in range(count):
        unit = rng.choice([*(f"store-{n}" for n in range(5)), "north"])
        kind = rng.choice([ScoreKind.NPS, ScoreKind.NPS, ScoreKind.CSAT])
        score = rng.randint(0, 10) if kind is ScoreKind.NPS else rng.randint(1, 5)
        at = NOW - timedelta(hours=rng.uniform(0, 20 * 24))
        response = SurveyResponse.model_validate(
            body(
                response_id=f"r-{i}",
                org_unit=unit,
                touchpoint=rng.choice(["delivery", "billing"]),
                score_kind=kind.value,
                score=score,
                submitted_at=at.isoformat(),
            )
        )
        mentions = [
            ThemeMention(theme=t, tone=rng.choice([*Tone, None]))
            for t in rng.sample(THEMES, rng.randint(0, 3))
        ]
        assessment = Assessment(
            polarity=0.5, dissatisfied=False, severity=Severity.NONE, themes=mentions
        )
        tally = Tally(unit, response.touchpoint, at, kind, score, 0.5, False)
        made.append((Scored(response, assessment, NOW), tally))
    return made


def store_all(engine: sa.Engine, made: list[tuple[Scored, Tally]]) -> None:
    tree = directory.load_tree(engine)
    for start in range(0, len(made), 50):
        part = made[start : start + 50]
        counted = [
            Counted(
                s.response.response_id, t, tree.rolled_into(t.org_unit), tuple(s.assessment.themes)
            )
            for s, t in part
        ]
        batches.commit(engine, Writes([s for s, _ in part], [], counted, tree.version))


def counted_one_by_one(
    made: list[tuple[Scored, Tally]], units: frozenset[str], since: int, until: int
) -> dict[str, ThemeCounts]:
    found: dict[str, ThemeCounts] = {}
    for scored, tally in made:
        hour = int(tally.submitted_at.timestamp() // 3600)
        if tally.org_unit in units and since <= hour < until:
            for mention in scored.assessment.themes:
                counts = found.setdefault(mention.theme, ThemeCounts())
                counts.record(tally.score_kind, tally.score, mention.tone)
    return found


@pytest.mark.parametrize("scope", ["acme", "north", "south", "store-1"])
def test_every_level_sums_the_themes_counting_each_response_gives(
    engine: sa.Engine, scope: str
) -> None:
    made = themed(400)
    store_all(engine, made)
    tree = directory.load_tree(engine)
    for period in Period:
        previous, start, end = period_hours(period, NOW, PARIS)
        got = rollups.theme_board(
            engine,
            tree,
            PARIS,
            covered=[scope],
            touchpoints=(),
            label=scope,
            period=period,
            now=NOW,
        )
        for rows, since, until in ((got.themes, start, end), (got.themes, previous, start)):
            want = counted_one_by_one(made, tree.subtree(scope), since, until)
            now = since == start
            for row in rows:
                counts = want.get(row.theme, ThemeCounts())
                mentions = row.mentions if now else row.previous_mentions
                assert mentions == counts.mentions, (period, row.theme, now)
                if now:
                    assert (row.negative, row.neutral, row.positive) == (
                        counts.negative,
                        counts.neutral,
                        counts.positive,
                    )
                    assert row.nps_responses == counts.nps_responses
            assert {r.theme for r in rows if (r.mentions if now else r.previous_mentions)} == set(
                want
            )


def test_moving_a_store_moves_its_themes_to_the_other_region(engine: sa.Engine) -> None:
    made = themed(300)
    store_all(engine, made)
    moved = directory.load_tree(engine).get("store-0")
    assert moved is not None
    after = directory.save_units(engine, [moved.model_copy(update={"parent": "south"})])
    _, start, end = period_hours(Period.FOUR_WEEKS, NOW, PARIS)
    for region in ("north", "south"):
        got = rollups.theme_board(
            engine,
            after,
            PARIS,
            covered=[region],
            touchpoints=(),
            label=region,
            period=Period.FOUR_WEEKS,
            now=NOW,
        )
        want = counted_one_by_one(made, after.subtree(region), start, end)
        assert {r.theme: r.mentions for r in got.themes if r.mentions} == {
            t: c.mentions for t, c in want.items()
        }
